"""DMS behaviour the provider relies on, through boto3 (and raw JSON) against the emulator."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from emu_support import (
    create_endpoint,
    create_task,
    distinct_in_order,
    replication_setup,
    task_of,
    task_params,
    wait_for,
)

# Unsigned is fine for moto; the credential scope tells the emulator the service and region.
AUTH = "AWS4-HMAC-SHA256 Credential=t/20260101/us-east-1/dms/aws4_request, SignedHeaders=host, Signature=0"


def _code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


def _raw_dms(url: str, operation: str, body: dict[str, Any]) -> dict[str, Any]:
    """A DMS call without boto3, to see the wire JSON exactly as the Rust SDK does."""
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        method="POST",
        headers={
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": f"AmazonDMSv20160101.{operation}",
            "Authorization": AUTH,
        },
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return dict(json.loads(response.read()))


def test_dms_timestamps_are_epoch_numbers_on_the_wire(emu: Any, dms: Any) -> None:
    arns = replication_setup(dms)
    task = create_task(dms, arns)
    dms.start_replication_task(
        ReplicationTaskArn=task["ReplicationTaskArn"], StartReplicationTaskType="start-replication"
    )
    wait_for(
        lambda: task_of(dms, task["ReplicationTaskArn"])["ReplicationTaskStats"]["FullLoadProgressPercent"],
        lambda p: p == 100,
    )
    instances = _raw_dms(emu.url, "DescribeReplicationInstances", {})["ReplicationInstances"]
    assert isinstance(instances[0]["InstanceCreateTime"], float)
    raw_task = _raw_dms(emu.url, "DescribeReplicationTasks", {})["ReplicationTasks"][0]
    assert isinstance(raw_task["ReplicationTaskCreationDate"], float)
    assert isinstance(raw_task["ReplicationTaskStartDate"], float)
    for key in ("FreshStartDate", "StartDate", "FullLoadStartDate", "FullLoadFinishDate"):
        assert isinstance(raw_task["ReplicationTaskStats"][key], float), key
    assert all(v is not None for v in raw_task.values()), "null members are dropped"


def test_replication_instance_goes_creating_then_available_with_an_aws_shaped_arn(emu: Any, dms: Any) -> None:
    emu.set_durations(replication_instance=1500)
    ri = dms.create_replication_instance(ReplicationInstanceIdentifier="ri", ReplicationInstanceClass="dms.t3.medium")[
        "ReplicationInstance"
    ]
    assert ri["ReplicationInstanceArn"].startswith("arn:aws:dms:us-east-1:123456789012:rep:")
    assert not ri["ReplicationInstanceArn"].endswith(":ri")
    seen = wait_for(
        lambda: dms.describe_replication_instances()["ReplicationInstances"][0]["ReplicationInstanceStatus"],
        lambda s: s == "available",
    )
    assert distinct_in_order(seen) == ["creating", "available"]


def test_endpoints_are_active_and_a_duplicate_identifier_is_resource_already_exists(dms: Any) -> None:
    arns = replication_setup(dms)
    endpoints = dms.describe_endpoints()["Endpoints"]
    assert {e["Status"] for e in endpoints} == {"active"}
    assert sorted(e["EndpointType"] for e in endpoints) == ["SOURCE", "TARGET"]  # as AWS answers
    with pytest.raises(ClientError) as exc:
        create_endpoint(dms, "m-src", "source", "x", port=1)
    assert _code(exc) == "ResourceAlreadyExistsFault"
    still = dms.describe_endpoints(Filters=[{"Name": "endpoint-id", "Values": ["m-src"]}])["Endpoints"][0]
    assert still["EndpointArn"] == arns["src"] and still["ServerName"] == "src.example"


def test_modify_endpoint_changes_connection_settings(dms: Any) -> None:
    arns = replication_setup(dms)
    out = dms.modify_endpoint(
        EndpointArn=arns["tgt"], ServerName="new.example", Port=3307, Password="rotated", SslMode="require"
    )["Endpoint"]
    assert (out["ServerName"], out["Port"], out["SslMode"]) == ("new.example", 3307, "require")
    assert "Password" not in out
    described = dms.describe_endpoints(Filters=[{"Name": "endpoint-arn", "Values": [arns["tgt"]]}])["Endpoints"][0]
    assert described["ServerName"] == "new.example"


def test_task_goes_creating_ready_starting_running_and_full_load_rises_to_100_then_cdc(emu: Any, dms: Any) -> None:
    emu.set_durations(task_create=1500, task_start=1500, full_load=3000, full_load_per_row=0)
    arns = replication_setup(dms)
    first = dms.create_replication_task(**task_params(arns, "t", mappings="{}"))["ReplicationTask"]
    assert first["Status"] == "creating"
    arn = first["ReplicationTaskArn"]
    created = wait_for(lambda: task_of(dms, arn)["Status"], lambda s: s == "ready")
    assert distinct_in_order(created) == ["creating", "ready"]
    dms.start_replication_task(ReplicationTaskArn=arn, StartReplicationTaskType="start-replication")
    seen = wait_for(
        lambda: task_of(dms, arn),
        lambda t: t["ReplicationTaskStats"].get("FullLoadProgressPercent") == 100,
        interval=0.05,
    )
    assert distinct_in_order([t["Status"] for t in seen]) == ["starting", "running"]
    progress = [t["ReplicationTaskStats"]["FullLoadProgressPercent"] for t in seen]
    assert progress == sorted(progress) and len(set(progress)) >= 3
    done = seen[-1]
    assert done["ReplicationTaskStats"]["TablesLoaded"] >= 1
    assert "FullLoadFinishDate" in done["ReplicationTaskStats"]
    # CDC: the task keeps running after the full load.
    assert task_of(dms, arn)["Status"] == "running"


def test_stop_goes_stopping_then_stopped_and_resume_skips_the_full_load(emu: Any, dms: Any) -> None:
    arns = replication_setup(dms)
    arn = create_task(dms, arns)["ReplicationTaskArn"]
    dms.start_replication_task(ReplicationTaskArn=arn, StartReplicationTaskType="start-replication")
    wait_for(lambda: task_of(dms, arn)["ReplicationTaskStats"]["FullLoadProgressPercent"], lambda p: p == 100)
    emu.set_durations(task_stop=1500)
    dms.stop_replication_task(ReplicationTaskArn=arn)
    seen = wait_for(lambda: task_of(dms, arn)["Status"], lambda s: s == "stopped")
    assert distinct_in_order(seen) == ["stopping", "stopped"]
    stopped = task_of(dms, arn)
    assert stopped["StopReason"] == "Stop Reason NORMAL"
    assert "StopDate" in stopped["ReplicationTaskStats"]
    dms.start_replication_task(ReplicationTaskArn=arn, StartReplicationTaskType="resume-processing")
    resumed = wait_for(lambda: task_of(dms, arn), lambda t: t["Status"] == "running")[-1]
    # No new full load on resume: the finished load is still reported, with its dates.
    assert resumed["ReplicationTaskStats"]["FullLoadProgressPercent"] == 100
    assert resumed["ReplicationTaskStats"]["FullLoadStartDate"] == stopped["ReplicationTaskStats"]["FullLoadStartDate"]
    assert (
        resumed["ReplicationTaskStats"]["FullLoadFinishDate"] == stopped["ReplicationTaskStats"]["FullLoadFinishDate"]
    )


def test_full_load_only_task_stops_by_itself_when_the_load_finishes(dms: Any) -> None:
    arns = replication_setup(dms)
    arn = create_task(dms, arns, migration_type="full-load")["ReplicationTaskArn"]
    dms.start_replication_task(ReplicationTaskArn=arn, StartReplicationTaskType="start-replication")
    seen = wait_for(lambda: task_of(dms, arn), lambda t: t["Status"] == "stopped")
    assert seen[-1]["StopReason"] == "Stop Reason FULL_LOAD_ONLY_FINISHED"
    assert seen[-1]["ReplicationTaskStats"]["FullLoadProgressPercent"] == 100
    assert seen[-1]["ReplicationTaskStats"]["StopDate"] == seen[-1]["ReplicationTaskStats"]["FullLoadFinishDate"]


def test_starting_twice_needs_resume_or_reload_and_a_running_task_cannot_start(dms: Any) -> None:
    arns = replication_setup(dms)
    arn = create_task(dms, arns)["ReplicationTaskArn"]
    dms.start_replication_task(ReplicationTaskArn=arn, StartReplicationTaskType="start-replication")
    with pytest.raises(ClientError) as exc:
        dms.start_replication_task(ReplicationTaskArn=arn, StartReplicationTaskType="resume-processing")
    assert _code(exc) == "InvalidResourceStateFault"
    wait_for(lambda: task_of(dms, arn)["Status"], lambda s: s == "running")
    dms.stop_replication_task(ReplicationTaskArn=arn)
    wait_for(lambda: task_of(dms, arn)["Status"], lambda s: s == "stopped")
    with pytest.raises(ClientError) as exc:
        dms.start_replication_task(ReplicationTaskArn=arn, StartReplicationTaskType="start-replication")
    assert _code(exc) == "InvalidParameterCombinationException"
    dms.start_replication_task(ReplicationTaskArn=arn, StartReplicationTaskType="reload-target")
    reloaded = wait_for(
        lambda: task_of(dms, arn), lambda t: t["ReplicationTaskStats"]["FullLoadProgressPercent"] == 100
    )
    assert reloaded[-1]["Status"] == "running"


def test_stopping_a_task_that_is_not_running_is_invalid_resource_state(dms: Any) -> None:
    arns = replication_setup(dms)
    arn = create_task(dms, arns)["ReplicationTaskArn"]
    with pytest.raises(ClientError) as exc:
        dms.stop_replication_task(ReplicationTaskArn=arn)
    assert _code(exc) == "InvalidResourceStateFault"


def test_modify_replication_task_works_when_stopped_and_is_refused_while_running(emu: Any, dms: Any) -> None:
    arns = replication_setup(dms)
    arn = create_task(dms, arns)["ReplicationTaskArn"]
    emu.set_durations(task_modify=1500)
    out = dms.modify_replication_task(
        ReplicationTaskArn=arn, TableMappings='{"rules":[]}', ReplicationTaskSettings='{"Logging":{}}'
    )["ReplicationTask"]
    assert out["Status"] == "modifying"
    seen = wait_for(lambda: task_of(dms, arn)["Status"], lambda s: s == "ready")
    assert distinct_in_order(seen)[-1] == "ready"
    assert task_of(dms, arn)["TableMappings"] == '{"rules":[]}'
    dms.start_replication_task(ReplicationTaskArn=arn, StartReplicationTaskType="start-replication")
    wait_for(lambda: task_of(dms, arn)["Status"], lambda s: s == "running")
    with pytest.raises(ClientError) as exc:
        dms.modify_replication_task(ReplicationTaskArn=arn, TableMappings="{}")
    assert _code(exc) == "InvalidResourceStateFault"
    with pytest.raises(ClientError):
        dms.modify_replication_task(ReplicationTaskArn=arn + "x", TableMappings="{}")


def test_describe_table_statistics_reports_injected_tables_and_validation_states(emu: Any, dms: Any) -> None:
    arns = replication_setup(dms)
    task = create_task(dms, arns)
    arn = task["ReplicationTaskArn"]
    emu.set_table_statistics(
        "m-task",
        [
            {
                "schema": "shop",
                "table": "orders",
                "rows": 1000,
                "inserts": 5,
                "updates": 2,
                "validation_state": "Validated",
            },
            {
                "schema": "shop",
                "table": "items",
                "rows": 50,
                "validation_state": "Pending records",
                "validation_pending": 7,
            },
            {
                "schema": "shop",
                "table": "audit",
                "rows": 10,
                "validation_state": "Mismatched records",
                "validation_failed": 3,
            },
        ],
    )
    before = dms.describe_table_statistics(ReplicationTaskArn=arn)["TableStatistics"]
    assert {t["TableState"] for t in before} == {"Before load"}
    dms.start_replication_task(ReplicationTaskArn=arn, StartReplicationTaskType="start-replication")
    wait_for(lambda: task_of(dms, arn)["ReplicationTaskStats"]["FullLoadProgressPercent"], lambda p: p == 100)
    rows = {t["TableName"]: t for t in dms.describe_table_statistics(ReplicationTaskArn=arn)["TableStatistics"]}
    assert set(rows) == {"orders", "items", "audit"}
    assert rows["orders"]["FullLoadRows"] == 1000 and rows["orders"]["Inserts"] == 5 and rows["orders"]["Updates"] == 2
    assert rows["orders"]["TableState"] == "Table completed"
    assert rows["orders"]["ValidationState"] == "Validated"
    assert rows["items"]["ValidationPendingRecords"] == 7
    assert rows["audit"]["ValidationState"] == "Mismatched records" and rows["audit"]["ValidationFailedRecords"] == 3
    assert task_of(dms, arn)["ReplicationTaskStats"]["TablesLoaded"] == 3
    only = dms.describe_table_statistics(ReplicationTaskArn=arn, Filters=[{"Name": "table-name", "Values": ["items"]}])
    assert [t["TableName"] for t in only["TableStatistics"]] == ["items"]


def test_tags_given_at_create_are_kept_and_can_be_added_and_removed(dms: Any) -> None:
    arns = replication_setup(dms)
    task = create_task(dms, arns, Tags=[{"Key": "owner", "Value": "rdsenc"}])
    arn = task["ReplicationTaskArn"]

    def tags(resource: str) -> dict[str, str]:
        return {t["Key"]: t["Value"] for t in dms.list_tags_for_resource(ResourceArn=resource)["TagList"]}

    assert tags(arn) == {"owner": "rdsenc"}
    dms.add_tags_to_resource(ResourceArn=arn, Tags=[{"Key": "phase", "Value": "cdc"}])
    assert tags(arn) == {"owner": "rdsenc", "phase": "cdc"}
    dms.remove_tags_from_resource(ResourceArn=arn, TagKeys=["owner"])
    assert tags(arn) == {"phase": "cdc"}
    dms.add_tags_to_resource(ResourceArn=arns["src"], Tags=[{"Key": "side", "Value": "source"}])
    assert tags(arns["src"]) == {"side": "source"}
    with pytest.raises(ClientError) as exc:
        dms.add_tags_to_resource(
            ResourceArn="arn:aws:dms:us-east-1:123456789012:task:NOPE", Tags=[{"Key": "a", "Value": "b"}]
        )
    assert _code(exc) == "ResourceNotFoundFault"


def test_replication_instance_tags_given_at_create_are_kept(dms: Any) -> None:
    ri = dms.create_replication_instance(
        ReplicationInstanceIdentifier="tagged",
        ReplicationInstanceClass="dms.t3.medium",
        Tags=[{"Key": "k", "Value": "v"}],
    )["ReplicationInstance"]
    tags = dms.list_tags_for_resource(ResourceArn=ri["ReplicationInstanceArn"])["TagList"]
    assert [(t["Key"], t["Value"]) for t in tags] == [("k", "v")]


def test_deleting_endpoints_or_a_replication_instance_in_use_is_invalid_resource_state(dms: Any) -> None:
    arns = replication_setup(dms)
    arn = create_task(dms, arns)["ReplicationTaskArn"]
    for call, kwargs in (
        (dms.delete_endpoint, {"EndpointArn": arns["src"]}),
        (dms.delete_endpoint, {"EndpointArn": arns["tgt"]}),
        (dms.delete_replication_instance, {"ReplicationInstanceArn": arns["ri"]}),
    ):
        with pytest.raises(ClientError) as exc:
            call(**kwargs)
        assert _code(exc) == "InvalidResourceStateFault"
    dms.delete_replication_task(ReplicationTaskArn=arn)
    dms.delete_endpoint(EndpointArn=arns["src"])
    dms.delete_endpoint(EndpointArn=arns["tgt"])
    dms.delete_replication_instance(ReplicationInstanceArn=arns["ri"])


def test_deleting_a_running_task_is_refused(dms: Any) -> None:
    arns = replication_setup(dms)
    arn = create_task(dms, arns)["ReplicationTaskArn"]
    dms.start_replication_task(ReplicationTaskArn=arn, StartReplicationTaskType="start-replication")
    with pytest.raises(ClientError) as exc:
        dms.delete_replication_task(ReplicationTaskArn=arn)
    assert _code(exc) == "InvalidResourceStateFault"


def test_describe_with_filters_matching_nothing_is_resource_not_found(dms: Any) -> None:
    for call, key, name in (
        (dms.describe_replication_tasks, "ReplicationTasks", "replication-task-id"),
        (dms.describe_endpoints, "Endpoints", "endpoint-id"),
        (dms.describe_replication_instances, "ReplicationInstances", "replication-instance-id"),
    ):
        with pytest.raises(ClientError) as exc:
            call(Filters=[{"Name": name, "Values": ["missing"]}])
        assert _code(exc) == "ResourceNotFoundFault"
        assert call()[key] == []


def test_creating_a_task_validates_its_references_and_inputs(emu: Any, dms: Any) -> None:
    arns = replication_setup(dms)
    base = task_params(arns, "bad", mappings="{}")
    cases = [
        ({"ReplicationInstanceArn": arns["ri"] + "X"}, "ResourceNotFoundFault"),
        ({"SourceEndpointArn": arns["tgt"]}, "InvalidParameterValueException"),
        ({"MigrationType": "everything"}, "InvalidParameterValueException"),
        ({"TableMappings": "{not json"}, "InvalidParameterValueException"),
    ]
    for override, code in cases:
        with pytest.raises(ClientError) as exc:
            dms.create_replication_task(**{**base, **override})
        assert _code(exc) == code, override
    create_task(dms, arns, ident="dup")
    with pytest.raises(ClientError) as exc:
        dms.create_replication_task(**{**base, "ReplicationTaskIdentifier": "dup"})
    assert _code(exc) == "ResourceAlreadyExistsFault"


def test_retesting_a_connection_restarts_the_test_instead_of_failing(dms: Any) -> None:
    arns = replication_setup(dms)
    first = dms.test_connection(ReplicationInstanceArn=arns["ri"], EndpointArn=arns["src"])["Connection"]
    assert first["Status"] == "testing"
    wait_for(lambda: dms.describe_connections()["Connections"][0]["Status"], lambda s: s == "successful")
    again = dms.test_connection(ReplicationInstanceArn=arns["ri"], EndpointArn=arns["src"])["Connection"]
    assert again["Status"] == "testing"


def test_deleting_a_replication_instance_shows_deleting_then_it_is_gone(emu: Any, dms: Any) -> None:
    arns = replication_setup(dms)
    emu.set_durations(replication_instance_delete=1500)
    dms.delete_replication_instance(ReplicationInstanceArn=arns["ri"])

    def status() -> str:
        try:
            found = dms.describe_replication_instances(
                Filters=[{"Name": "replication-instance-arn", "Values": [arns["ri"]]}]
            )
            return str(found["ReplicationInstances"][0]["ReplicationInstanceStatus"])
        except ClientError as err:
            return str(err.response["Error"]["Code"])

    seen = wait_for(status, lambda s: s == "ResourceNotFoundFault")
    assert distinct_in_order(seen) == ["deleting", "ResourceNotFoundFault"]
    assert emu.inventory()["replication_instances"]["count"] == 0


def test_deleting_a_subnet_group_in_use_by_a_replication_instance_is_invalid_resource_state(emu: Any, dms: Any) -> None:
    ec2 = boto3.client(
        "ec2", region_name="us-east-1", endpoint_url=emu.url, aws_access_key_id="t", aws_secret_access_key="t"
    )
    vpc = ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.1.{i}.0/24", AvailabilityZone=f"us-east-1{az}")["Subnet"][
            "SubnetId"
        ]
        for i, az in ((1, "a"), (2, "b"))
    ]
    dms.create_replication_subnet_group(
        ReplicationSubnetGroupIdentifier="grp", ReplicationSubnetGroupDescription="g", SubnetIds=subnets
    )
    ri = dms.create_replication_instance(
        ReplicationInstanceIdentifier="ri",
        ReplicationInstanceClass="dms.t3.medium",
        ReplicationSubnetGroupIdentifier="grp",
    )["ReplicationInstance"]
    with pytest.raises(ClientError) as exc:
        dms.delete_replication_subnet_group(ReplicationSubnetGroupIdentifier="grp")
    assert _code(exc) == "InvalidResourceStateFault"
    emu.set_durations(replication_instance_delete=0)
    dms.delete_replication_instance(ReplicationInstanceArn=ri["ReplicationInstanceArn"])
    dms.delete_replication_subnet_group(ReplicationSubnetGroupIdentifier="grp")


def test_a_forced_connection_failure_makes_connection_tests_of_that_endpoint_fail(emu: Any, dms: Any) -> None:
    arns = replication_setup(dms)
    emu.force_status("connection", "m-src", "failed", message="Can't connect to MySQL server")
    dms.test_connection(ReplicationInstanceArn=arns["ri"], EndpointArn=arns["src"])
    dms.test_connection(ReplicationInstanceArn=arns["ri"], EndpointArn=arns["tgt"])

    def statuses() -> dict[str, tuple[str, str]]:
        return {
            c["EndpointIdentifier"]: (c["Status"], c.get("LastFailureMessage", ""))
            for c in dms.describe_connections()["Connections"]
        }

    final = wait_for(statuses, lambda s: all(v[0] != "testing" for v in s.values()))[-1]
    assert final == {"m-src": ("failed", "Can't connect to MySQL server"), "m-tgt": ("successful", "")}
    emu.force_status("connection", arns["src"], "successful")
    dms.test_connection(ReplicationInstanceArn=arns["ri"], EndpointArn=arns["src"])
    final = wait_for(statuses, lambda s: all(v[0] != "testing" for v in s.values()))[-1]
    assert final["m-src"][0] == "successful"
