"""`strategy = "blue_green"`: an RDS blue/green deployment whose green instances (the source and its
read replica) are encrypted with the configured keys; `cutover = true` is the RDS switchover, after
which the original identifiers name the encrypted instances; failback is refused at plan time;
destroy never deletes the serving instances. And the application sees the same end state under
either strategy.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from rig import Step, Terraform, attr, run_case
from rig.aws import Aws
from rig.case import with_required_providers
from rig.configs import BG_REPLICA as REPLICA
from rig.configs import BG_SOURCE as SOURCE
from rig.configs import DMS_PASSWORD, M, blue_green_config, identifier_swap_config
from rig.emulator import Emulator
from rig.seeds import seed_blue_green, validated


def replicating_blue_green(tf: Terraform, aws: Aws) -> tuple[str, str]:
    """A blue/green migration of the seeded source and replica, applied to `replicating`."""
    key, replica_key = seed_blue_green(aws)
    tf.write(with_required_providers(blue_green_config(key, replica_key, cutover=False)))
    tf.init()
    tf.apply()
    return key, replica_key


def db(aws: Aws, ident: str) -> dict[str, Any]:
    return aws.rds.describe_db_instances(DBInstanceIdentifier=ident)["DBInstances"][0]


def exists(aws: Aws, ident: str) -> bool:
    return any(i["DBInstanceIdentifier"] == ident for i in aws.rds.describe_db_instances()["DBInstances"])


def deployment(aws: Aws, ident: str) -> dict[str, Any]:
    return aws.rds.describe_blue_green_deployments(BlueGreenDeploymentIdentifier=ident)["BlueGreenDeployments"][0]


def green_encrypted(aws: Aws, key: str, replica_key: str) -> Callable[[Terraform], None]:
    """Every green member is encrypted, the primary with kms_key_id, the replica with its own key."""

    def check(tf: Terraform) -> None:
        st = tf.resources()[M]
        assert st["blue_green_deployment_id"], st
        d = deployment(aws, st["blue_green_deployment_id"])
        assert d["Status"] == "AVAILABLE", d
        members = {m["SourceMember"].split(":")[-1]: m["TargetMember"].split(":")[-1] for m in d["SwitchoverDetails"]}
        assert set(members) == {SOURCE, REPLICA}, members
        for blue, want_key in ((SOURCE, key), (REPLICA, replica_key)):
            green = db(aws, members[blue])
            assert green["StorageEncrypted"] is True, f"green twin of {blue} is encrypted"
            assert green["KmsKeyId"] == want_key, f"green twin of {blue} uses {want_key}: {green['KmsKeyId']}"
            assert db(aws, blue)["StorageEncrypted"] is False, f"blue {blue} is untouched"
        assert st["active_db_instance_identifier"] == SOURCE

    return check


def originals_encrypted(aws: Aws, key: str, replica_key: str) -> Callable[[Terraform], None]:
    """After the switchover the original identifiers name the encrypted instances."""

    def check(tf: Terraform) -> None:
        st = tf.resources()[M]
        assert db(aws, SOURCE)["StorageEncrypted"] is True and db(aws, SOURCE)["KmsKeyId"] == key
        assert db(aws, REPLICA)["StorageEncrypted"] is True and db(aws, REPLICA)["KmsKeyId"] == replica_key
        assert db(aws, f"{SOURCE}-old1")["StorageEncrypted"] is False, "the old primary is kept, renamed"
        assert db(aws, f"{REPLICA}-old1")["StorageEncrypted"] is False, "the old replica is kept, renamed"
        assert st["active_db_instance_identifier"] == SOURCE
        assert st["active_endpoint"].split(":")[0] == db(aws, SOURCE)["Endpoint"]["Address"]
        assert st["cutover_completed_at"], st

    return check


def encrypted_instances_survive(aws: Aws, key: str, replica_key: str) -> Callable[[Terraform], None]:
    def check(_tf: Terraform) -> None:
        assert db(aws, SOURCE)["StorageEncrypted"] is True, "destroy never deletes the serving instance"
        assert db(aws, REPLICA)["StorageEncrypted"] is True, "nor its replica"
        assert exists(aws, f"{SOURCE}-old1"), "retire_source = keep: the old primary stays"

    return check


def test_blue_green_encrypts_the_source_and_its_replica_switches_over_and_destroy_keeps_them(
    tf: Terraform, aws: Aws, emulator: Emulator
) -> None:
    key, replica_key = seed_blue_green(aws)
    run_case(
        tf,
        [
            Step(
                config=blue_green_config(key, replica_key, cutover=False),
                checks=[
                    attr(M, "phase", "replicating"),
                    attr(M, "strategy", "blue_green"),
                    green_encrypted(aws, key, replica_key),
                ],
            ),
            # Import finds the deployment and reads the strategy and the replica keys back.
            Step(
                import_state=True,
                resource_name=M,
                import_state_id=SOURCE,
                import_state_verify_ignore=["timeouts", "switchover_timeout"],
            ),
            Step(
                config=blue_green_config(key, replica_key, cutover=True),
                checks=[attr(M, "phase", "cut_over"), originals_encrypted(aws, key, replica_key)],
            ),
            Step(
                import_state=True,
                resource_name=M,
                import_state_id=SOURCE,
                import_state_verify_ignore=["timeouts", "switchover_timeout"],
            ),
        ],
        check_destroy=encrypted_instances_survive(aws, key, replica_key),
    )


def test_failback_after_a_switchover_is_refused_at_plan_time_and_nothing_changes(
    tf: Terraform, aws: Aws, emulator: Emulator
) -> None:
    key, replica_key = replicating_blue_green(tf, aws)
    tf.write(with_required_providers(blue_green_config(key, replica_key, cutover=True)))
    review = tf.plan(check=False)
    # The reviewed change says what the switchover does, not the DMS runbook.
    text = " ".join(review.stdout.split())
    assert "Switchover of orders to its encrypted green twin" in text, review.stdout
    assert "orders-old1" in text and "reverse" not in text.lower(), review.stdout
    tf.apply()
    tf.write(with_required_providers(blue_green_config(key, replica_key, cutover=False)))
    plan = tf.plan(check=False)
    assert plan.returncode == 1, plan.stdout
    assert "Failback Not Available With Blue/Green" in plan.stderr and "cutover" in plan.stderr, plan.stderr
    assert tf.resources()[M]["phase"] == "cut_over"
    assert db(aws, SOURCE)["StorageEncrypted"] is True


def test_finalize_deletes_the_deployment_and_keeps_every_instance(tf: Terraform, aws: Aws, emulator: Emulator) -> None:
    key, replica_key = replicating_blue_green(tf, aws)
    dep = tf.resources()[M]["blue_green_deployment_id"]
    tf.write(with_required_providers(blue_green_config(key, replica_key, cutover=True, finalize=True)))
    tf.apply()
    st = tf.resources()[M]
    assert st["phase"] == "finalized", st
    assert st["blue_green_deployment_id"] is None, st
    assert not [
        d
        for d in aws.rds.describe_blue_green_deployments()["BlueGreenDeployments"]
        if d["BlueGreenDeploymentIdentifier"] == dep
    ], "finalize deletes the deployment"
    assert db(aws, SOURCE)["StorageEncrypted"] is True
    assert exists(aws, f"{SOURCE}-old1"), "retire_source = keep"
    plan = tf.plan(check=False)
    assert plan.returncode == 0 and "No changes" in plan.stdout, plan.stdout


def test_destroy_before_the_switchover_removes_the_deployment_and_keeps_green_and_the_source(
    tf: Terraform, aws: Aws, emulator: Emulator
) -> None:
    replicating_blue_green(tf, aws)
    dep = tf.resources()[M]["blue_green_deployment_id"]
    greens = [m["TargetMember"].split(":")[-1] for m in deployment(aws, dep)["SwitchoverDetails"]]
    tf.destroy()
    assert aws.rds.describe_blue_green_deployments()["BlueGreenDeployments"] == []
    assert db(aws, SOURCE)["StorageEncrypted"] is False, "the source is never touched"
    for g in greens:
        assert exists(aws, g), f"green {g} kept: delete_target_on_destroy is false"


def test_bad_blue_green_settings_are_refused_at_plan_time_on_their_attribute(
    tf: Terraform, aws: Aws, emulator: Emulator
) -> None:
    key, replica_key = seed_blue_green(aws)
    aws.create_mysql_instance("unrelated")
    config = blue_green_config(key, replica_key, cutover=False).replace(
        f'"{REPLICA}" = "{replica_key}"', f'"unrelated" = "{replica_key}"'
    )
    tf.write(with_required_providers(config))
    tf.init()
    plan = tf.plan(check=False)
    assert plan.returncode == 1, plan.stdout
    assert "replica_kms_key_ids" in plan.stderr and "unrelated" in plan.stderr, plan.stderr
    both = blue_green_config(
        key,
        replica_key,
        cutover=False,
        extra=f'dms {{\n source_username = "dms"\n source_password_wo = "{DMS_PASSWORD}"\n }}',
    )
    tf.write(with_required_providers(both))
    plan = tf.plan(check=False)
    assert plan.returncode == 1 and "Not Used With Blue/Green" in plan.stderr, plan.stderr
    assert aws.rds.describe_blue_green_deployments()["BlueGreenDeployments"] == [], "nothing created"


def application_view(aws: Aws, key: str) -> Callable[[Terraform], None]:
    """What the application sees: the original name reaches an instance encrypted with the key."""

    def check(tf: Terraform) -> None:
        st = tf.resources()[M]
        serving = db(aws, SOURCE)
        assert serving["StorageEncrypted"] is True and serving["KmsKeyId"] == key, serving
        assert st["active_db_instance_identifier"] == SOURCE
        assert st["active_endpoint"].split(":")[0] == serving["Endpoint"]["Address"]
        assert st["phase"] == "cut_over"

    return check


@pytest.mark.parametrize("strategy", ["dms", "blue_green"])
def test_both_strategies_leave_the_application_on_an_encrypted_instance_behind_the_original_name(
    tf: Terraform, aws: Aws, emulator: Emulator, strategy: str
) -> None:
    key, replica_key = seed_blue_green(aws)
    if strategy == "dms":
        steps = [
            Step(config=identifier_swap_config(key, cutover=False), checks=[attr(M, "phase", "replicating")]),
            Step(
                config=identifier_swap_config(key, cutover=True),
                pre_config=validated(emulator, aws),
                checks=[application_view(aws, key)],
            ),
        ]
    else:
        steps = [
            Step(config=blue_green_config(key, replica_key, cutover=False), checks=[attr(M, "phase", "replicating")]),
            Step(config=blue_green_config(key, replica_key, cutover=True), checks=[application_view(aws, key)]),
        ]

    def serving_survives(_tf: Terraform) -> None:
        assert db(aws, SOURCE)["StorageEncrypted"] is True, "destroy keeps the encrypted instance behind the name"

    run_case(tf, steps, check_destroy=serving_survives)


def test_a_source_whose_master_password_secrets_manager_manages_is_refused_at_plan_time_on_strategy(
    tf: Terraform, aws: Aws, emulator: Emulator
) -> None:
    aws.create_mysql_instance(SOURCE, MasterUserPassword=None, ManageMasterUserPassword=True)
    assert aws.rds.describe_db_instances(DBInstanceIdentifier=SOURCE)["DBInstances"][0].get("MasterUserSecret")
    key = aws.create_kms_key(alias="orders-at-rest")["Arn"]
    tf.write(with_required_providers(blue_green_config(key, key, cutover=False).replace(f'"{REPLICA}" = "{key}"', "")))
    tf.init()
    plan = tf.plan(check=False)
    assert plan.returncode == 1, plan.stdout
    text = " ".join(plan.stderr.split())
    assert "strategy" in text and "Secrets Manager" in text, plan.stderr
    # preflight's finding only: the engine's blue/green checks no longer repeat it.
    assert text.count("Master Password Managed in Secrets Manager") == 1, plan.stderr
    assert aws.rds.describe_blue_green_deployments()["BlueGreenDeployments"] == [], "nothing created"


def test_naming_a_replica_key_by_its_alias_instead_of_its_arn_is_not_a_change_of_settings(
    tf: Terraform, aws: Aws, emulator: Emulator
) -> None:
    # After import, state holds key ARNs; a configuration that names the same keys by alias
    # must not be refused as a change of the deployment's settings.
    key, _ = replicating_blue_green(tf, aws)
    dep = tf.resources()[M]["blue_green_deployment_id"]
    tf.write(with_required_providers(blue_green_config(key, "alias/orders-replica-at-rest", cutover=False)))
    tf.apply()
    st = tf.resources()[M]
    assert st["blue_green"]["replica_kms_key_ids"] == {REPLICA: "alias/orders-replica-at-rest"}, st
    assert st["blue_green_deployment_id"] == dep, "the same deployment, nothing recreated"
    plan = tf.plan(check=False)
    assert plan.returncode == 0, plan.stdout
    other = aws.create_kms_key(alias="someone-elses")["Arn"]
    tf.write(with_required_providers(blue_green_config(key, other, cutover=False)))
    plan = tf.plan(check=False)
    assert plan.returncode == 1 and "Setting Cannot Change After Creation" in plan.stderr, plan.stderr
