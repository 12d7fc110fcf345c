"""RDS behaviour the provider relies on, through boto3 against a launched emulator."""

from __future__ import annotations

import re
import time
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from emu_support import TIME_SCALE, create_instance, distinct_in_order, request_instance, snapshot_status, wait_for


def _error_code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


def test_new_instance_goes_creating_then_backing_up_then_available(emu: Any, rds: Any) -> None:
    emu.set_durations(db_create=3000, db_create_per_gb=0)
    request_instance(rds, "src")
    seen = wait_for(
        lambda: rds.describe_db_instances(DBInstanceIdentifier="src")["DBInstances"][0]["DBInstanceStatus"],
        lambda s: s == "available",
    )
    assert distinct_in_order(seen) == ["creating", "backing-up", "available"]


def test_each_instance_gets_a_unique_dbi_resource_id_and_an_aws_shaped_endpoint(rds: Any) -> None:
    a = create_instance(rds, "alpha")
    b = create_instance(rds, "beta")
    assert a["DbiResourceId"] != b["DbiResourceId"]
    assert re.fullmatch(r"db-[A-Z2-7]{26}", a["DbiResourceId"])
    assert re.fullmatch(r"alpha\.[a-z0-9]{12}\.us-east-1\.rds\.amazonaws\.com", a["Endpoint"]["Address"])
    assert a["DBInstanceArn"] == "arn:aws:rds:us-east-1:123456789012:db:alpha"


@pytest.mark.parametrize(
    ("engine", "prefix", "port"), [("mysql", "8.0.", 3306), ("postgres", "16.", 5432), ("mariadb", "10.11.", 3306)]
)
def test_default_engine_versions_are_current_and_mariadb_without_version_works(
    rds: Any, engine: str, prefix: str, port: int
) -> None:
    db = create_instance(rds, f"db-{engine}", engine=engine)
    assert db["EngineVersion"].startswith(prefix)
    assert db["Endpoint"]["Port"] == port


def test_snapshot_reports_creating_with_rising_percent_progress_then_available(rds: Any) -> None:
    create_instance(rds, "src", storage=50)
    first = rds.create_db_snapshot(DBInstanceIdentifier="src", DBSnapshotIdentifier="snap")["DBSnapshot"]
    assert first["Status"] == "creating"
    seen = wait_for(lambda: snapshot_status(rds, "snap"), lambda s: s["Status"] == "available")
    progress = [s["PercentProgress"] for s in seen]
    assert progress == sorted(progress)
    assert progress[-1] == 100
    assert all(s["Status"] == "creating" for s in seen[:-1])


def test_hundred_gb_snapshot_copy_takes_scaled_time_with_rising_percent_progress(emu: Any, rds: Any) -> None:
    kms = boto3.client(
        "kms", region_name="us-east-1", endpoint_url=emu.url, aws_access_key_id="t", aws_secret_access_key="t"
    )
    key = kms.create_key()["KeyMetadata"]["Arn"]
    create_instance(rds, "big", storage=100)
    rds.create_db_snapshot(DBInstanceIdentifier="big", DBSnapshotIdentifier="plain")
    wait_for(lambda: snapshot_status(rds, "plain")["Status"], lambda s: s == "available")
    # 780 AWS seconds; at 0.003 real s per AWS s the copy takes ~2.3 s, enough to watch it rise.
    scale = emu.set_time_scale(3 * TIME_SCALE)
    d = emu.durations()["durations"]
    expected_real = (d["db_snapshot_copy"] + 100 * d["db_snapshot_copy_per_gb"]) * scale

    started = time.monotonic()
    copy = rds.copy_db_snapshot(SourceDBSnapshotIdentifier="plain", TargetDBSnapshotIdentifier="enc", KmsKeyId=key)[
        "DBSnapshot"
    ]
    seen = wait_for(lambda: snapshot_status(rds, "enc"), lambda s: s["Status"] == "available", interval=0.02)
    took = time.monotonic() - started

    assert copy["Status"] != "available", "a 100 GB copy must not be instant"
    assert took >= 0.8 * expected_real
    progress = [s["PercentProgress"] for s in seen]
    assert progress == sorted(progress), "PercentProgress must never go down"
    assert len(set(progress)) >= 5, f"progress should rise in steps: {progress}"
    assert progress[-1] == 100
    assert seen[-1]["Encrypted"] is True and seen[-1]["KmsKeyId"] == key
    assert "copying" in {s["Status"] for s in seen}


def test_restore_goes_creating_backing_up_available_and_keeps_encryption(emu: Any, rds: Any) -> None:
    kms = boto3.client(
        "kms", region_name="us-east-1", endpoint_url=emu.url, aws_access_key_id="t", aws_secret_access_key="t"
    )
    key = kms.create_key()["KeyMetadata"]["Arn"]
    create_instance(rds, "src")
    rds.create_db_snapshot(DBInstanceIdentifier="src", DBSnapshotIdentifier="plain")
    wait_for(lambda: snapshot_status(rds, "plain")["Status"], lambda s: s == "available")
    rds.copy_db_snapshot(SourceDBSnapshotIdentifier="plain", TargetDBSnapshotIdentifier="enc", KmsKeyId=key)
    wait_for(lambda: snapshot_status(rds, "enc")["Status"], lambda s: s == "available")
    emu.set_durations(db_restore=3000, db_restore_per_gb=0)
    rds.restore_db_instance_from_db_snapshot(DBInstanceIdentifier="dst", DBSnapshotIdentifier="enc")
    seen = wait_for(
        lambda: rds.describe_db_instances(DBInstanceIdentifier="dst")["DBInstances"][0],
        lambda db: db["DBInstanceStatus"] == "available",
    )
    assert distinct_in_order([db["DBInstanceStatus"] for db in seen]) == ["creating", "backing-up", "available"]
    assert seen[-1]["StorageEncrypted"] is True
    src = rds.describe_db_instances(DBInstanceIdentifier="src")["DBInstances"][0]
    assert seen[-1]["DbiResourceId"] != src["DbiResourceId"]


def test_snapshot_of_an_instance_that_is_not_available_is_refused(emu: Any, rds: Any) -> None:
    emu.set_durations(db_create=100000)
    request_instance(rds, "slow")
    with pytest.raises(ClientError) as exc:
        rds.create_db_snapshot(DBInstanceIdentifier="slow", DBSnapshotIdentifier="s")
    assert _error_code(exc) == "InvalidDBInstanceState"


def test_copy_and_restore_from_a_snapshot_still_creating_are_refused(emu: Any, rds: Any) -> None:
    create_instance(rds, "src")
    emu.set_durations(db_snapshot=100000)
    rds.create_db_snapshot(DBInstanceIdentifier="src", DBSnapshotIdentifier="pending")
    with pytest.raises(ClientError) as exc:
        rds.copy_db_snapshot(SourceDBSnapshotIdentifier="pending", TargetDBSnapshotIdentifier="c")
    assert _error_code(exc) == "InvalidDBSnapshotState"
    with pytest.raises(ClientError) as exc:
        rds.restore_db_instance_from_db_snapshot(DBInstanceIdentifier="dst", DBSnapshotIdentifier="pending")
    assert _error_code(exc) == "InvalidDBSnapshotState"


def test_rename_onto_an_existing_identifier_fails_and_keeps_both_instances(emu: Any, rds: Any) -> None:
    a = create_instance(rds, "old")
    b = create_instance(rds, "new")
    with pytest.raises(ClientError) as exc:
        rds.modify_db_instance(DBInstanceIdentifier="new", NewDBInstanceIdentifier="old", ApplyImmediately=True)
    assert _error_code(exc) == "DBInstanceAlreadyExists"
    ids = {db["DBInstanceIdentifier"]: db["DbiResourceId"] for db in rds.describe_db_instances()["DBInstances"]}
    assert ids == {"old": a["DbiResourceId"], "new": b["DbiResourceId"]}


def test_rename_shows_renaming_then_available_under_the_new_name(emu: Any, rds: Any) -> None:
    before = create_instance(rds, "app")
    emu.set_durations(rename=1500)
    rds.modify_db_instance(DBInstanceIdentifier="app", NewDBInstanceIdentifier="app-old", ApplyImmediately=True)
    seen = wait_for(
        lambda: rds.describe_db_instances(DBInstanceIdentifier="app-old")["DBInstances"][0]["DBInstanceStatus"],
        lambda s: s == "available",
    )
    assert distinct_in_order(seen) == ["renaming", "available"]
    after = rds.describe_db_instances(DBInstanceIdentifier="app-old")["DBInstances"][0]
    assert after["DbiResourceId"] == before["DbiResourceId"]
    assert after["Endpoint"]["Address"].startswith("app-old.")
    with pytest.raises(ClientError) as exc:
        rds.describe_db_instances(DBInstanceIdentifier="app")
    assert _error_code(exc) == "DBInstanceNotFound"


def test_delete_without_a_final_snapshot_choice_is_invalid_parameter_combination(rds: Any) -> None:
    create_instance(rds, "keep")
    with pytest.raises(ClientError) as exc:
        rds.delete_db_instance(DBInstanceIdentifier="keep")
    assert _error_code(exc) == "InvalidParameterCombination"
    with pytest.raises(ClientError) as exc:
        rds.delete_db_instance(DBInstanceIdentifier="keep", SkipFinalSnapshot=True, FinalDBSnapshotIdentifier="f")
    assert _error_code(exc) == "InvalidParameterCombination"
    assert rds.describe_db_instances(DBInstanceIdentifier="keep")["DBInstances"][0]["DBInstanceStatus"] == "available"


def test_delete_shows_deleting_then_the_instance_is_gone(emu: Any, rds: Any) -> None:
    create_instance(rds, "doomed")
    emu.set_durations(db_delete=1500)
    rds.delete_db_instance(DBInstanceIdentifier="doomed", SkipFinalSnapshot=True)

    def status() -> str:
        try:
            return str(rds.describe_db_instances(DBInstanceIdentifier="doomed")["DBInstances"][0]["DBInstanceStatus"])
        except ClientError as err:
            return str(err.response["Error"]["Code"])

    seen = wait_for(status, lambda s: s == "DBInstanceNotFound")
    assert distinct_in_order(seen) == ["deleting", "DBInstanceNotFound"]


def test_delete_with_a_final_snapshot_creates_that_snapshot(rds: Any) -> None:
    create_instance(rds, "with-final")
    rds.delete_db_instance(DBInstanceIdentifier="with-final", FinalDBSnapshotIdentifier="with-final-last")
    seen = wait_for(lambda: snapshot_status(rds, "with-final-last")["Status"], lambda s: s == "available")
    assert seen[-1] == "available"


@pytest.mark.parametrize(
    ("group", "expected"),
    [
        ("default.mysql8.0", {"binlog_format": "MIXED", "binlog_row_image": "full"}),
        ("default.mariadb10.11", {"binlog_format": "MIXED", "binlog_row_image": "FULL"}),
        (
            "default.postgres16",
            {"rds.logical_replication": "0", "max_replication_slots": "20", "max_wal_senders": "20"},
        ),
    ],
)
def test_default_parameter_groups_answer_engine_defaults(rds: Any, group: str, expected: dict[str, str]) -> None:
    params = {p["ParameterName"]: p for p in rds.describe_db_parameters(DBParameterGroupName=group)["Parameters"]}
    for name, value in expected.items():
        assert params[name]["ParameterValue"] == value
        assert params[name]["Source"] == "engine-default"
    groups = rds.describe_db_parameter_groups(DBParameterGroupName=group)["DBParameterGroups"]
    assert groups[0]["DBParameterGroupFamily"] == group.split(".", 1)[1]


def test_custom_parameter_group_merges_user_values_over_engine_defaults(rds: Any) -> None:
    rds.create_db_parameter_group(DBParameterGroupName="cdc", DBParameterGroupFamily="mysql8.0", Description="cdc")
    rds.modify_db_parameter_group(
        DBParameterGroupName="cdc",
        Parameters=[{"ParameterName": "binlog_format", "ParameterValue": "ROW", "ApplyMethod": "immediate"}],
    )
    params = {p["ParameterName"]: p for p in rds.describe_db_parameters(DBParameterGroupName="cdc")["Parameters"]}
    assert params["binlog_format"]["ParameterValue"] == "ROW"
    assert params["binlog_format"]["Source"] == "user"
    assert params["binlog_row_image"]["ParameterValue"] == "full"
    user_only = rds.describe_db_parameters(DBParameterGroupName="cdc", Source="user")["Parameters"]
    assert [p["ParameterName"] for p in user_only] == ["binlog_format"]


def test_engine_default_parameters_are_described_per_family(rds: Any) -> None:
    defaults = rds.describe_engine_default_parameters(DBParameterGroupFamily="postgres16")["EngineDefaults"]
    names = {p["ParameterName"] for p in defaults["Parameters"]}
    assert {"rds.logical_replication", "max_replication_slots", "max_wal_senders"} <= names


def test_read_replica_has_its_own_resource_id_and_is_listed_on_the_primary(rds: Any) -> None:
    primary = create_instance(rds, "primary")
    rds.create_db_instance_read_replica(DBInstanceIdentifier="replica", SourceDBInstanceIdentifier="primary")
    seen = wait_for(
        lambda: rds.describe_db_instances(DBInstanceIdentifier="replica")["DBInstances"][0],
        lambda db: db["DBInstanceStatus"] == "available",
    )
    replica = seen[-1]
    assert seen[0]["DBInstanceStatus"] == "creating"
    assert replica["DbiResourceId"] != primary["DbiResourceId"]
    assert replica["ReadReplicaSourceDBInstanceIdentifier"] == "primary"
    assert replica.get("ReadReplicaDBInstanceIdentifiers", []) == []
    primary_now = rds.describe_db_instances(DBInstanceIdentifier="primary")["DBInstances"][0]
    assert primary_now["ReadReplicaDBInstanceIdentifiers"] == ["replica"]
    # A replica is deleted without a final-snapshot choice, as on AWS.
    rds.delete_db_instance(DBInstanceIdentifier="replica")


def test_default_durations_scale_with_allocated_storage(emu: Any) -> None:
    d = emu.durations()["durations"]
    snapshot_500 = d["db_snapshot"] + 500 * d["db_snapshot_per_gb"]
    copy_500 = d["db_snapshot_copy"] + 500 * d["db_snapshot_copy_per_gb"]
    restore_500 = d["db_restore"] + 500 * d["db_restore_per_gb"]
    assert 35 * 60 <= snapshot_500 <= 45 * 60
    assert 55 * 60 <= copy_500 <= 65 * 60
    assert 20 * 60 <= restore_500 <= 30 * 60
    assert d["replication_instance"] == 600


def test_stop_and_start_go_through_stopping_and_starting(emu: Any, rds: Any) -> None:
    create_instance(rds, "idle")
    emu.set_durations(db_stop=1500, db_start=1500)
    rds.stop_db_instance(DBInstanceIdentifier="idle")

    def status() -> str:
        return str(rds.describe_db_instances(DBInstanceIdentifier="idle")["DBInstances"][0]["DBInstanceStatus"])

    assert distinct_in_order(wait_for(status, lambda s: s == "stopped")) == ["stopping", "stopped"]
    rds.start_db_instance(DBInstanceIdentifier="idle")
    assert distinct_in_order(wait_for(status, lambda s: s == "available")) == ["starting", "available"]


def test_the_old_identifier_stays_taken_until_the_rename_completes(emu: Any, rds: Any) -> None:
    create_instance(rds, "orders")
    create_instance(rds, "orders-encrypted")
    emu.set_durations(rename=3000)
    rds.modify_db_instance(DBInstanceIdentifier="orders", NewDBInstanceIdentifier="orders-old", ApplyImmediately=True)
    with pytest.raises(ClientError) as exc:
        rds.modify_db_instance(
            DBInstanceIdentifier="orders-encrypted", NewDBInstanceIdentifier="orders", ApplyImmediately=True
        )
    assert _error_code(exc) == "DBInstanceAlreadyExists"
    wait_for(
        lambda: rds.describe_db_instances(DBInstanceIdentifier="orders-old")["DBInstances"][0]["DBInstanceStatus"],
        lambda s: s == "available",
    )
    rds.modify_db_instance(
        DBInstanceIdentifier="orders-encrypted", NewDBInstanceIdentifier="orders", ApplyImmediately=True
    )
    swapped = rds.describe_db_instances(DBInstanceIdentifier="orders")["DBInstances"][0]
    assert swapped["DBInstanceStatus"] == "renaming"


def test_engine_versions_are_described_with_their_parameter_group_family(rds: Any) -> None:
    rows = rds.describe_db_engine_versions(Engine="postgres", EngineVersion="16.3")["DBEngineVersions"]
    assert [(r["EngineVersion"], r["DBParameterGroupFamily"]) for r in rows] == [("16.3", "postgres16")]
    default = rds.describe_db_engine_versions(Engine="mysql", DefaultOnly=True)["DBEngineVersions"]
    assert [(r["EngineVersion"], r["DBParameterGroupFamily"]) for r in default] == [("8.0.40", "mysql8.0")]
    maria = rds.describe_db_engine_versions(Engine="mariadb", EngineVersion="10.11")["DBEngineVersions"]
    assert {r["DBParameterGroupFamily"] for r in maria} == {"mariadb10.11"}


def test_a_read_replica_needs_automated_backups_on_its_source(rds: Any) -> None:
    create_instance(rds, "nobackup", BackupRetentionPeriod=0)
    with pytest.raises(ClientError) as exc:
        rds.create_db_instance_read_replica(DBInstanceIdentifier="r", SourceDBInstanceIdentifier="nobackup")
    assert _error_code(exc) == "InvalidDBInstanceState"
    assert "backups" in exc.value.response["Error"]["Message"]


def test_an_instance_can_be_restored_with_its_sources_default_option_group(rds: Any) -> None:
    request_instance(rds, "og-src", EngineVersion="8.0.35", MasterUserPassword="Passw0rd-test")
    src = rds.describe_db_instances(DBInstanceIdentifier="og-src")["DBInstances"][0]
    group = src["OptionGroupMemberships"][0]["OptionGroupName"]
    assert group.startswith("default:mysql-8")
    request_instance(rds, "og-twin", EngineVersion="8.0.35", MasterUserPassword="Passw0rd-test", OptionGroupName=group)
    twin = rds.describe_db_instances(DBInstanceIdentifier="og-twin")["DBInstances"][0]
    assert twin["OptionGroupMemberships"][0]["OptionGroupName"] == group
