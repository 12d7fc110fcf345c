"""What cutover, failback and finalize rely on: Route 53 changes that go PENDING -> INSYNC,
renames with the old name free afterwards, security-group changes, StopDBInstance with a
``stopping`` phase, and CDC-only tasks that start (and restart) from a CdcStartPosition.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from client import EmulatorClient
from emu_support import create_instance, create_task, distinct_in_order, replication_setup, task_of, wait_for


@pytest.fixture()
def route53(emu: EmulatorClient) -> Any:
    """boto3 Route 53 client against the emulator."""
    return boto3.client(
        "route53",
        region_name="us-east-1",
        endpoint_url=emu.url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def _upsert(route53: Any, zone: str, value: str) -> dict[str, Any]:
    return route53.change_resource_record_sets(
        HostedZoneId=zone,
        ChangeBatch={
            "Changes": [
                {
                    "Action": "UPSERT",
                    "ResourceRecordSet": {
                        "Name": "db.example.internal",
                        "Type": "CNAME",
                        "TTL": 30,
                        "ResourceRecords": [{"Value": value}],
                    },
                }
            ]
        },
    )["ChangeInfo"]


def test_route53_changes_are_pending_then_insync_with_their_own_ids(emu: EmulatorClient, route53: Any) -> None:
    emu.set_durations(route53_change=1000)  # 1 s real at 1000x
    zone = route53.create_hosted_zone(Name="example.internal", CallerReference="r1")["HostedZone"]["Id"]
    first = _upsert(route53, zone, "orders-encrypted.abc.us-east-1.rds.amazonaws.com")
    second = _upsert(route53, zone, "orders.abc.us-east-1.rds.amazonaws.com")
    assert first["Status"] == "PENDING"
    assert first["Id"] != second["Id"]
    seen = wait_for(
        lambda: route53.get_change(Id=first["Id"])["ChangeInfo"]["Status"],
        lambda s: s == "INSYNC",
    )
    assert distinct_in_order(seen) == ["PENDING", "INSYNC"]
    records = route53.list_resource_record_sets(HostedZoneId=zone)["ResourceRecordSets"]
    cname = [r for r in records if r["Type"] == "CNAME"]
    assert cname[0]["ResourceRecords"] == [{"Value": "orders.abc.us-east-1.rds.amazonaws.com"}]


def test_route53_get_change_of_an_unknown_id_is_no_such_change(route53: Any) -> None:
    with pytest.raises(ClientError) as err:
        route53.get_change(Id="/change/CNOTACHANGE")
    assert err.value.response["Error"]["Code"] == "NoSuchChange"
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_stop_db_instance_goes_through_stopping_to_stopped(emu: EmulatorClient, rds: Any) -> None:
    emu.set_durations(db_stop=1000)
    create_instance(rds, "orders")
    out = rds.stop_db_instance(DBInstanceIdentifier="orders")["DBInstance"]
    assert out["DBInstanceStatus"] == "stopping"
    seen = wait_for(
        lambda: rds.describe_db_instances(DBInstanceIdentifier="orders")["DBInstances"][0]["DBInstanceStatus"],
        lambda s: s == "stopped",
    )
    assert distinct_in_order(seen) == ["stopping", "stopped"]
    with pytest.raises(ClientError) as err:
        rds.stop_db_instance(DBInstanceIdentifier="orders")
    assert err.value.response["Error"]["Code"] == "InvalidDBInstanceState"


def test_security_groups_change_in_place_and_the_instance_settles(rds: Any) -> None:
    create_instance(rds, "orders", VpcSecurityGroupIds=["sg-app"])
    out = rds.modify_db_instance(DBInstanceIdentifier="orders", VpcSecurityGroupIds=["sg-fence"], ApplyImmediately=True)
    assert out["DBInstance"]["DBInstanceStatus"] == "modifying"
    db = wait_for(
        lambda: rds.describe_db_instances(DBInstanceIdentifier="orders")["DBInstances"][0],
        lambda d: d["DBInstanceStatus"] == "available",
    )[-1]
    assert [g["VpcSecurityGroupId"] for g in db["VpcSecurityGroups"]] == ["sg-fence"]


def test_a_swap_of_identifiers_renames_one_then_the_other(rds: Any) -> None:
    create_instance(rds, "orders")
    create_instance(rds, "orders-encrypted")
    with pytest.raises(ClientError) as err:
        rds.modify_db_instance(
            DBInstanceIdentifier="orders-encrypted", NewDBInstanceIdentifier="orders", ApplyImmediately=True
        )
    assert err.value.response["Error"]["Code"] == "DBInstanceAlreadyExists"
    rds.modify_db_instance(
        DBInstanceIdentifier="orders", NewDBInstanceIdentifier="orders-unencrypted", ApplyImmediately=True
    )
    wait_for(
        lambda: rds.describe_db_instances(DBInstanceIdentifier="orders-unencrypted")["DBInstances"][0][
            "DBInstanceStatus"
        ],
        lambda s: s == "available",
    )
    rds.modify_db_instance(
        DBInstanceIdentifier="orders-encrypted", NewDBInstanceIdentifier="orders", ApplyImmediately=True
    )
    db = wait_for(
        lambda: rds.describe_db_instances(DBInstanceIdentifier="orders")["DBInstances"][0],
        lambda d: d["DBInstanceStatus"] == "available",
    )[-1]
    assert db["Endpoint"]["Address"].startswith("orders.")
    ids = sorted(d["DBInstanceIdentifier"] for d in rds.describe_db_instances()["DBInstances"])
    assert ids == ["orders", "orders-unencrypted"]


def test_a_cdc_task_starts_and_restarts_from_a_cdc_start_position(dms: Any) -> None:
    setup = replication_setup(dms, prefix="rev")
    task = create_task(
        dms, setup, "rdsenc-orders-reverse", migration_type="cdc", CdcStartPosition="2026-11-28T10:00:00"
    )
    arn = task["ReplicationTaskArn"]
    assert task_of(dms, arn)["CdcStartPosition"] == "2026-11-28T10:00:00"
    dms.start_replication_task(
        ReplicationTaskArn=arn, StartReplicationTaskType="start-replication", CdcStartPosition="2026-11-28T10:00:00"
    )
    wait_for(lambda: task_of(dms, arn)["Status"], lambda s: s == "running")
    dms.stop_replication_task(ReplicationTaskArn=arn)
    wait_for(lambda: task_of(dms, arn)["Status"], lambda s: s == "stopped")
    dms.start_replication_task(
        ReplicationTaskArn=arn, StartReplicationTaskType="resume-processing", CdcStartPosition="2026-11-28T11:30:00"
    )
    wait_for(lambda: task_of(dms, arn)["Status"], lambda s: s == "running")
    assert task_of(dms, arn)["CdcStartPosition"] == "2026-11-28T11:30:00"


def test_hosted_zone_ids_start_with_z_as_on_aws(route53: Any) -> None:
    r53 = route53
    ids = [
        r53.create_hosted_zone(Name=f"z{i}.example.com", CallerReference=f"z{i}")["HostedZone"]["Id"] for i in range(8)
    ]
    assert all(i.split("/")[-1].startswith("Z") for i in ids), ids


def test_a_cdc_task_accepts_a_cdc_start_time(dms: Any) -> None:
    setup = replication_setup(dms, prefix="revt")
    when = datetime(2026, 11, 28, 10, 0, 0, tzinfo=UTC)
    task = create_task(dms, setup, "rdsenc-orders-reverse-t", migration_type="cdc", CdcStartTime=when)
    arn = task["ReplicationTaskArn"]
    dms.start_replication_task(ReplicationTaskArn=arn, StartReplicationTaskType="start-replication", CdcStartTime=when)
    seen = wait_for(lambda: task_of(dms, arn)["Status"], lambda s: s == "running")
    assert distinct_in_order(seen)[-1] == "running"
    assert task_of(dms, arn)["MigrationType"] == "cdc"
