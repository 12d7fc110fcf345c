"""Plan-time preflight on `rdsenc_migration`: prerequisites that would stop the migration fail
`terraform plan` on the attribute they concern, with the remedy, and nothing is created; the fixed
configuration plans cleanly. And a compliance team's `for_each` over the discovery data source.
"""

from __future__ import annotations

from typing import Any

import pytest

from rig import Step, Terraform, attr, run_case
from rig.aws import Aws
from rig.case import with_required_providers
from rig.configs import DMS_PASSWORD, config, migration, q
from rig.emulator import Emulator


@pytest.fixture
def key(aws: Aws) -> dict[str, Any]:
    """The customer managed key the refused migrations name (alias orders-at-rest)."""
    return aws.create_kms_key(alias="orders-at-rest")


def nothing_created(emulator: Emulator) -> None:
    inv = emulator.client.inventory()
    kinds = ("db_snapshots", "replication_instances", "endpoints", "replication_tasks", "blue_green_deployments")
    made = {k: inv[k]["count"] for k in kinds}
    assert made == dict.fromkeys(made, 0), f"a refused plan created objects: {inv}"


def plan_fails(tf: Terraform, hcl: str, *needles: str) -> str:
    tf.write(with_required_providers(hcl))
    tf.init()
    result = tf.plan(check=False)
    assert result.returncode == 1, f"plan should fail:\n{result.stdout}\n{result.stderr}"
    for n in needles:
        assert n in result.stderr, f"{n!r} not in plan error:\n{result.stderr}"
    return result.stderr


def test_a_missing_kms_key_fails_the_plan_on_kms_key_id_and_the_fixed_key_plans_cleanly(
    tf: Terraform, aws: Aws, emulator: Emulator
) -> None:
    aws.create_replication_ready_source("orders")
    key = aws.create_kms_key(alias="orders-at-rest")
    err = plan_fails(tf, config("orders", "alias/no-such-key"), 'kms_key_id                    = "alias/no-such-key"')
    assert "KMS" in err
    nothing_created(emulator)
    tf.write(with_required_providers(config("orders", key["Arn"])))
    assert tf.plan().returncode == 2  # changes to apply, no error


def test_a_mysql_source_without_row_binlogs_fails_the_plan_with_the_remedy_until_it_is_fixed(
    tf: Terraform, aws: Aws, emulator: Emulator
) -> None:
    net = aws.create_network("orders")
    aws.create_mysql_instance(
        "orders", DBSubnetGroupName=net["db_subnet_group"], VpcSecurityGroupIds=[net["security_group_id"]]
    )
    key = aws.create_kms_key(alias="orders-at-rest")
    err = plan_fails(tf, config("orders", key["Arn"]), "source_db_instance_identifier", "binlog_format")
    assert "parameter group" in err.lower()
    nothing_created(emulator)
    # The remedy: a custom parameter group with ROW/FULL binlogs on the source.
    group = aws.create_parameter_group("orders-cdc", "mysql8.0", {"binlog_format": "ROW", "binlog_row_image": "FULL"})
    aws.rds.modify_db_instance(DBInstanceIdentifier="orders", DBParameterGroupName=group, ApplyImmediately=True)
    aws.wait_db_instance_available("orders")
    assert tf.plan().returncode == 2


def blue_green_config(source: str, key_arn: str) -> str:
    return migration(source, key_arn, {"strategy": q("blue_green")})


def strategy_config(strategy: str, source: str, key_arn: str) -> str:
    return config(source, key_arn) if strategy == "dms" else blue_green_config(source, key_arn)


@pytest.mark.parametrize("strategy", ["dms", "blue_green"])
def test_an_already_encrypted_source_is_refused_at_plan_time_once(
    tf: Terraform, aws: Aws, emulator: Emulator, key: dict[str, Any], strategy: str
) -> None:
    aws.create_replication_ready_source("orders", StorageEncrypted=True, KmsKeyId=key["Arn"])
    err = plan_fails(
        tf, strategy_config(strategy, "orders", key["Arn"]), "source_db_instance_identifier", "already encrypted"
    )
    # One finding per problem: the reviewer must not read the same refusal twice.
    assert err.count("already encrypted") == 1, err
    nothing_created(emulator)


@pytest.mark.parametrize("problem", ["engine_version", "managed_master_password"])
def test_a_source_blue_green_cannot_take_is_refused_at_plan_time_on_strategy_once(
    tf: Terraform, aws: Aws, emulator: Emulator, key: dict[str, Any], problem: str
) -> None:
    if problem == "engine_version":
        # PostgreSQL 10: DMS supports it, RDS blue/green deployments start at 11.1.
        aws.create_replication_ready_source("orders", "postgres", EngineVersion="10.21")
        title, needle = "Engine Version Not Supported by RDS Blue/Green", "has no RDS blue/green deployments"
    else:
        aws.create_replication_ready_source("orders", MasterUserPassword=None, ManageMasterUserPassword=True)
        title, needle = "Master Password Managed in Secrets Manager", "managed in Secrets Manager"
    err = plan_fails(tf, blue_green_config("orders", key["Arn"]), title)
    text = " ".join(err.split())
    assert 'strategy = "blue_green"' in text, "the error points at the strategy line:\n" + err
    # preflight::run reports it; the engine's blue/green checks no longer do: once each.
    assert text.count(title) == 1, err
    assert text.count(needle) == 1, err
    assert 'use strategy = "dms"' in text, err
    # The one finding is the whole refusal: nothing else about this source fails the plan.
    assert text.count("Error: ") == 1, err
    nothing_created(emulator)


@pytest.mark.parametrize("strategy", ["dms", "blue_green"])
def test_a_missing_source_is_refused_at_plan_time_once(
    tf: Terraform, emulator: Emulator, key: dict[str, Any], strategy: str
) -> None:
    err = plan_fails(
        tf, strategy_config(strategy, "no-such-db", key["Arn"]), "Source DB Instance Not Found", "no-such-db"
    )
    assert err.count("Error: ") == 1, err
    nothing_created(emulator)


FOR_EACH = f"""
provider "rdsenc" {{}}

data "rdsenc_unencrypted_db_instances" "all" {{
  tags = {{ compliance = "pci" }}
}}

resource "rdsenc_migration" "each" {{
  for_each                      = toset(data.rdsenc_unencrypted_db_instances.all.db_instance_identifiers)
  source_db_instance_identifier = each.key
  kms_key_id                    = "alias/pci-at-rest"
  dms {{
    source_username    = "dms"
    source_password_wo = "{DMS_PASSWORD}"
  }}
}}

output "phases" {{
  value = {{ for k, m in rdsenc_migration.each : k => m.phase }}
}}
"""


def test_for_each_over_unencrypted_instances_migrates_each_one_in_a_single_apply(
    tf: Terraform, aws: Aws, emulator: Emulator
) -> None:
    pci = [{"Key": "compliance", "Value": "pci"}]
    for name in ("billing", "ledger"):
        aws.create_replication_ready_source(name, Tags=pci)
    aws.create_replication_ready_source("scratch")  # untagged: not selected
    aws.create_kms_key(alias="pci-at-rest")

    def both_replicating(tf: Terraform) -> None:
        assert tf.outputs()["phases"] == {"billing": "replicating", "ledger": "replicating"}
        targets = {
            d["DBInstanceIdentifier"]: d["StorageEncrypted"] for d in aws.rds.describe_db_instances()["DBInstances"]
        }
        assert targets.get("billing-encrypted") is True and targets.get("ledger-encrypted") is True
        assert "scratch-encrypted" not in targets

    run_case(
        tf,
        [
            Step(
                config=FOR_EACH,
                checks=[attr('rdsenc_migration.each["billing"]', "phase", "replicating"), both_replicating],
            )
        ],
        secrets=[DMS_PASSWORD],
    )
