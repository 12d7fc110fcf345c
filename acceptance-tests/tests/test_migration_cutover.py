"""Cutover on `cutover = true`, lossless failback on `cutover = false`, finalize, and a destroy that
never deletes the serving database, for each `cutover_strategy`; then the refusals, which leave
state and AWS untouched and say why.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from rig import Step, Terraform, attr, run_case
from rig.aws import Aws
from rig.case import with_required_providers
from rig.configs import DMS_PASSWORD, RECORD, M, cutover_config
from rig.emulator import Emulator
from rig.seeds import address, cname, replicating_migration, seed_cutover, tasks_by_status, validated


def serving(strategy: str, aws: Aws, zone_id: str, encrypted: bool) -> Callable[[Terraform], None]:
    """The application's way in names the encrypted instance (or the source, after failback)."""

    def check(tf: Terraform) -> None:
        st = tf.resources()[M]
        if strategy == "identifier_swap":
            db = aws.rds.describe_db_instances(DBInstanceIdentifier="orders")["DBInstances"][0]
            assert db["StorageEncrypted"] is encrypted, f"'orders' should {'' if encrypted else 'not '}be encrypted now"
            assert st["active_db_instance_identifier"] == "orders"
            other = "orders-unencrypted" if encrypted else "orders-encrypted"
            assert aws.rds.describe_db_instances(DBInstanceIdentifier=other)["DBInstances"]
        else:
            want = "orders-encrypted" if encrypted else "orders"
            assert st["active_db_instance_identifier"] == want
            assert st["active_endpoint"].split(":")[0] == address(aws, want)
            if strategy == "route53":
                assert cname(aws, zone_id) == address(aws, want), "the CNAME points at the active instance"

    return check


def replication_direction(aws: Aws, forward_running: bool) -> Callable[[Terraform], None]:
    def check(tf: Terraform) -> None:
        st = tf.resources()[M]
        tasks = tasks_by_status(aws)
        forward = [s for n, s in tasks.items() if not n.endswith("-reverse")]
        reverse = [s for n, s in tasks.items() if n.endswith("-reverse")]
        if forward_running:
            assert forward == ["running"], f"forward CDC runs after failback: {tasks}"
            assert all(s != "running" for s in reverse), f"reverse stopped after failback: {tasks}"
        else:
            assert reverse == ["running"], f"the reverse task keeps failback lossless: {tasks}"
            assert st["reverse_replication_task_status"] == "running"
            assert all(s != "running" for s in forward), f"forward stopped while cut over: {tasks}"

    return check


def finalized(aws: Aws, strategy: str) -> Callable[[Terraform], None]:
    def check(tf: Terraform) -> None:
        assert aws.dms.describe_replication_tasks()["ReplicationTasks"] == []
        assert aws.dms.describe_endpoints()["Endpoints"] == []
        assert aws.dms.describe_replication_instances()["ReplicationInstances"] == []
        old = "orders-unencrypted" if strategy == "identifier_swap" else "orders"
        db = aws.rds.describe_db_instances(DBInstanceIdentifier=old)["DBInstances"][0]
        status = db["DBInstanceStatus"]
        assert status in ("stopping", "stopped"), f"retire_source = stop: the old source is {status}"
        # The default write fence leaves the retired source read-only in its own group.
        group = db["DBParameterGroups"][0]["DBParameterGroupName"]
        values = {
            p["ParameterName"]: p.get("ParameterValue")
            for p in aws.rds.describe_db_parameters(DBParameterGroupName=group)["Parameters"]
        }
        assert values.get("read_only") == "1", f"{old}'s group {group}: read_only {values.get('read_only')!r}"

    return check


def serving_db_survives_destroy(aws: Aws, strategy: str) -> Callable[[Terraform], None]:
    def check(_tf: Terraform) -> None:
        serving_id = "orders" if strategy == "identifier_swap" else "orders-encrypted"
        db = aws.rds.describe_db_instances(DBInstanceIdentifier=serving_id)["DBInstances"][0]
        assert db["StorageEncrypted"] is True, "destroy never deletes the instance serving traffic"

    return check


@pytest.mark.parametrize("strategy", ["route53", "identifier_swap", "none"])
def test_cutover_failback_cutover_finalize_then_destroy_keeps_the_serving_database(
    tf: Terraform, aws: Aws, emulator: Emulator, strategy: str
) -> None:
    key, zone_id = seed_cutover(aws)
    k = key["Arn"]

    def switch(cutover: bool) -> Step:
        """Set ``cutover`` after validation: who serves and which way DMS replicates follow it."""
        return Step(
            config=cutover_config(strategy, k, zone_id, cutover=cutover),
            pre_config=validated(emulator, aws),
            checks=[
                attr(M, "phase", "cut_over" if cutover else "replicating"),
                serving(strategy, aws, zone_id, cutover),
                replication_direction(aws, forward_running=not cutover),
            ],
        )

    run_case(
        tf,
        [
            Step(
                config=cutover_config(strategy, k, zone_id, cutover=False),
                checks=[attr(M, "phase", "replicating"), attr(M, "write_fence", "read_only")],
            ),
            switch(True),
            switch(False),
            Step(
                config=cutover_config(strategy, k, zone_id, cutover=True),
                pre_config=validated(emulator, aws),
                checks=[attr(M, "phase", "cut_over"), serving(strategy, aws, zone_id, True)],
            ),
            Step(
                config=cutover_config(strategy, k, zone_id, cutover=True, finalize=True),
                checks=[attr(M, "phase", "finalized"), finalized(aws, strategy)],
            ),
        ],
        check_destroy=serving_db_survives_destroy(aws, strategy),
        secrets=[DMS_PASSWORD],
    )


def refused(tf: Terraform, config: str, *needles: str) -> str:
    tf.write(with_required_providers(config))
    result = tf.apply(check=False)
    assert result.returncode != 0, "the switch should be refused"
    for n in needles:
        assert n in result.stderr, f"{n!r} not in:\n{result.stderr}"
    return result.stderr


def untouched(tf: Terraform, aws: Aws) -> None:
    st = tf.resources()[M]
    assert st["phase"] == "replicating" and st["cutover"] is False, st
    assert st["active_db_instance_identifier"] == "orders"
    assert aws.rds.describe_db_instances(DBInstanceIdentifier="orders")["DBInstances"][0]["StorageEncrypted"] is False
    assert [n for n in tasks_by_status(aws) if n.endswith("-reverse")] == [], "no reverse task was started"


def test_cutover_is_refused_while_lag_is_above_the_bound_and_says_the_measured_lag(
    tf: Terraform, aws: Aws, emulator: Emulator
) -> None:
    k, z = replicating_migration(tf, aws, emulator, extra="max_cutover_lag_seconds = 5")
    task = tf.resources()[M]["replication_task_arn"]
    ident = next(
        t["ReplicationTaskIdentifier"]
        for t in aws.dms.describe_replication_tasks()["ReplicationTasks"]
        if t["ReplicationTaskArn"] == task
    )
    emulator.client.set_lag(ident, source_seconds=40, target_seconds=42)
    cfg_text = cutover_config("none", k, z, cutover=True, extra="max_cutover_lag_seconds = 5").replace(
        'update = "10m"', 'update = "20s"'
    )
    err = refused(tf, cfg_text, "42")
    assert "lag" in err.lower()
    untouched(tf, aws)


def test_cutover_is_refused_on_a_validation_mismatch(tf: Terraform, aws: Aws, emulator: Emulator) -> None:
    k, z = replicating_migration(tf, aws, emulator)
    for t in aws.dms.describe_replication_tasks()["ReplicationTasks"]:
        emulator.client.set_table_statistics(
            t["ReplicationTaskIdentifier"],
            [
                {"schema": "app", "table": "orders", "rows": 1000, "validation_state": "Mismatched records"},
            ],
        )
    err = refused(tf, cutover_config("none", k, z, cutover=True), "mismatched")
    assert "validation" in err.lower()
    untouched(tf, aws)


def test_an_identifier_swap_is_refused_when_the_name_is_taken(tf: Terraform, aws: Aws, emulator: Emulator) -> None:
    k, z = replicating_migration(tf, aws, emulator, strategy="identifier_swap")
    aws.create_mysql_instance("orders-unencrypted")
    refused(tf, cutover_config("identifier_swap", k, z, cutover=True), "orders-unencrypted")
    untouched(tf, aws)


def test_finalize_before_cutover_and_failback_after_finalize_are_refused_at_plan_time(
    tf: Terraform, aws: Aws, emulator: Emulator
) -> None:
    k, z = replicating_migration(tf, aws, emulator)
    tf.write(with_required_providers(cutover_config("none", k, z, cutover=False, finalize=True)))
    plan = tf.plan(check=False)
    assert plan.returncode == 1 and "finalize" in plan.stderr and "Finalize Without Cutover" in plan.stderr
    untouched(tf, aws)
    tf.write(with_required_providers(cutover_config("none", k, z, cutover=True)))
    tf.apply()
    tf.write(with_required_providers(cutover_config("none", k, z, cutover=True, finalize=True)))
    tf.apply()
    tf.write(with_required_providers(cutover_config("none", k, z, cutover=False, finalize=False)))
    plan = tf.plan(check=False)
    assert plan.returncode == 1 and "Failback Impossible After Finalize" in plan.stderr, plan.stderr
    assert "Finalize Cannot Be Undone" in plan.stderr
    assert tf.resources()[M]["phase"] == "finalized"


def test_the_cutover_plan_says_what_will_switch_from_what_to_what(tf: Terraform, aws: Aws, emulator: Emulator) -> None:
    k, z = replicating_migration(tf, aws, emulator, strategy="route53")
    src = address(aws, "orders")
    tgt = address(aws, "orders-encrypted")
    tf.write(with_required_providers(cutover_config("route53", k, z, cutover=True)))
    plan = tf.plan(check=False)
    assert plan.returncode == 2, plan.stderr  # a change, no error
    text = plan.stdout + plan.stderr
    assert "Cutover: Traffic Moves To The Encrypted Instance" in text
    assert RECORD in text and tgt in text, "the plan names the record and the new target"
    assert "lag" in text and "validat" in text, "the plan shows the current lag and validation"
    assert '"cut_over"' in text or "cut_over" in text
    # Planning changed nothing.
    assert cname(aws, z) == src
    untouched(tf, aws)
