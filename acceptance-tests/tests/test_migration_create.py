"""`rdsenc_migration` create path against the emulator: snapshot -> encrypted copy -> restore ->
DMS replicating, for MySQL and PostgreSQL sources; refresh shows lag; import; destroy keeps both
databases and removes the DMS objects.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from rig import Step, Terraform, attr, attr_matches, run_case
from rig.aws import Aws
from rig.configs import DMS_PASSWORD, M, config
from rig.emulator import Emulator
from rig.seeds import seed_source


def target_inherits_source(aws: Aws, source_id: str, target_id: str, key_arn: str) -> Callable[[Terraform], None]:
    def check(_tf: Terraform) -> None:
        src = aws.rds.describe_db_instances(DBInstanceIdentifier=source_id)["DBInstances"][0]
        tgt = aws.rds.describe_db_instances(DBInstanceIdentifier=target_id)["DBInstances"][0]
        assert tgt["StorageEncrypted"] is True
        assert tgt["KmsKeyId"] == key_arn
        assert src["StorageEncrypted"] is False, "the source must never change"
        for k in (
            "DBInstanceClass",
            "AllocatedStorage",
            "Engine",
            "MultiAZ",
            "BackupRetentionPeriod",
            "DeletionProtection",
        ):
            assert tgt[k] == src[k], f"target {k} {tgt[k]!r} != source {src[k]!r}"
        assert tgt["Endpoint"]["Port"] == src["Endpoint"]["Port"]
        assert tgt["DBSubnetGroup"]["DBSubnetGroupName"] == src["DBSubnetGroup"]["DBSubnetGroupName"]
        assert [g["VpcSecurityGroupId"] for g in tgt["VpcSecurityGroups"]] == [
            g["VpcSecurityGroupId"] for g in src["VpcSecurityGroups"]
        ]
        # The target's own copy of the source's group: the read_only write fence changes one.
        own = f"rdsenc-{target_id}"
        assert [g["DBParameterGroupName"] for g in tgt["DBParameterGroups"]] == [own]
        families = {
            name: aws.rds.describe_db_parameter_groups(DBParameterGroupName=name)["DBParameterGroups"][0][
                "DBParameterGroupFamily"
            ]
            for name in (own, src["DBParameterGroups"][0]["DBParameterGroupName"])
        }
        assert len(set(families.values())) == 1, families
        tags = {t["Key"]: t["Value"] for t in tgt["TagList"]}
        assert tags.get("team") == "payments", "the source's tags are inherited"
        assert tags.get("rdsenc:migration") == source_id

    return check


def dms_replicating(aws: Aws, engine: str) -> Callable[[Terraform], None]:
    def check(tf: Terraform) -> None:
        state = tf.resources()[M]
        task = aws.dms.describe_replication_tasks(
            Filters=[{"Name": "replication-task-arn", "Values": [state["replication_task_arn"]]}]
        )["ReplicationTasks"][0]
        assert task["Status"] == "running"
        assert task["MigrationType"] == "full-load-and-cdc"
        assert task["ReplicationTaskStats"]["FullLoadProgressPercent"] == 100
        settings = json.loads(task["ReplicationTaskSettings"])
        assert settings["FullLoadSettings"]["TargetTablePrepMode"] == "TRUNCATE_BEFORE_LOAD"
        assert settings["ValidationSettings"]["EnableValidation"] is True
        eps = {e["EndpointArn"]: e for e in aws.dms.describe_endpoints()["Endpoints"]}
        src, tgt = eps[state["source_endpoint_arn"]], eps[state["target_endpoint_arn"]]
        assert src["EndpointType"].lower() == "source" and tgt["EndpointType"].lower() == "target"
        assert tgt["ServerName"] == state["target_endpoint"].split(":")[0]
        settings_key = "MySQLSettings" if engine == "mysql" else "PostgreSQLSettings"
        script = tgt.get(settings_key, {}).get("AfterConnectScript", "")
        want = "FOREIGN_KEY_CHECKS=0" if engine == "mysql" else "session_replication_role=replica"
        assert want in script, f"target endpoint after-connect script {script!r} lacks {want}"

    return check


def dms_gone_databases_kept(aws: Aws, source_id: str, target_id: str) -> Callable[[Terraform], None]:
    def check(_tf: Terraform) -> None:
        assert aws.dms.describe_replication_tasks()["ReplicationTasks"] == []
        assert aws.dms.describe_endpoints()["Endpoints"] == []
        assert aws.dms.describe_replication_instances()["ReplicationInstances"] == []
        ids = {d["DBInstanceIdentifier"] for d in aws.rds.describe_db_instances()["DBInstances"]}
        assert {source_id, target_id} <= ids, f"destroy must keep both databases, found {ids}"

    return check


def settings_changed_in_place(aws: Aws, task_arn_before: dict[str, str]) -> Callable[[Terraform], None]:
    def check(tf: Terraform) -> None:
        state = tf.resources()[M]
        assert state["replication_task_arn"] == task_arn_before["arn"], "the task was updated in place, not replaced"
        task = aws.dms.describe_replication_tasks(
            Filters=[{"Name": "replication-task-arn", "Values": [state["replication_task_arn"]]}]
        )["ReplicationTasks"][0]
        assert json.loads(task["ReplicationTaskSettings"])["ValidationSettings"]["EnableValidation"] is False
        assert task["Status"] == "running", "the task resumes after the change"

    return check


def remember_task(store: dict[str, str]) -> Callable[[Terraform], None]:
    def check(tf: Terraform) -> None:
        store["arn"] = tf.resources()[M]["replication_task_arn"]

    return check


def lag_injected(emulator: Emulator, aws: Aws, seconds: float) -> Callable[[], None]:
    def inject() -> None:
        task = aws.dms.describe_replication_tasks()["ReplicationTasks"][0]
        emulator.client.set_lag(task["ReplicationTaskIdentifier"], source_seconds=seconds / 2, target_seconds=seconds)

    return inject


@pytest.mark.parametrize("engine", ["mysql", "postgres"])
def test_migration_reaches_replicating_with_an_encrypted_twin_then_destroy_keeps_both_databases(
    tf: Terraform, aws: Aws, emulator: Emulator, engine: str
) -> None:
    source_id = f"orders-{engine}"
    target_id = f"{source_id}-encrypted"
    _source, key = seed_source(aws, engine, source_id)
    cfg = config(source_id, key["Arn"])
    task: dict[str, str] = {}
    run_case(
        tf,
        [
            Step(
                config=cfg,
                checks=[
                    attr(M, "phase", "replicating"),
                    attr(M, "id", source_id),
                    attr(M, "target_db_instance_identifier", target_id),
                    attr(M, "kms_key_arn", key["Arn"]),
                    attr(M, "replication_task_status", "running"),
                    attr(M, "full_load_progress_percent", 100),
                    attr(M, "active_db_instance_identifier", source_id),
                    attr(M, "dms.target_table_prep_mode", "TRUNCATE_BEFORE_LOAD"),
                    attr(M, "dms.migration_type", "full-load-and-cdc"),
                    attr_matches(M, "target_db_instance_arn", rf"^arn:aws:rds:us-east-1:\d{{12}}:db:{target_id}$"),
                    attr_matches(M, "replication_task_arn", r"^arn:aws:dms:"),
                    target_inherits_source(aws, source_id, target_id, key["Arn"]),
                    dms_replicating(aws, engine),
                    remember_task(task),
                ],
            ),
            # Refresh shows the lag DMS reports (injected through CloudWatch in the emulator).
            Step(
                config=cfg, pre_config=lag_injected(emulator, aws, 4.0), checks=[attr(M, "replication_lag_seconds", 4)]
            ),
            Step(
                config=cfg,
                import_state=True,
                resource_name=M,
                import_state_id=source_id,
                import_state_verify_ignore=["timeouts", "replication_lag_seconds", "kms_key_id"],
            ),
            # DMS settings and a password rotation change in place: stop, modify, resume.
            Step(
                config=config(
                    source_id, key["Arn"], dms_extra="validation = false\n    source_password_wo_version = 2"
                ),
                checks=[
                    attr(M, "phase", "replicating"),
                    attr(M, "dms.validation", False),
                    settings_changed_in_place(aws, task),
                ],
            ),
        ],
        check_destroy=dms_gone_databases_kept(aws, source_id, target_id),
        secrets=[DMS_PASSWORD],
    )
