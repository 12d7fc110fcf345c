"""RDS blue/green deployments with TargetResourceConfigurations, through boto3 against a launched
emulator: what the provider's ``blue_green`` strategy will read.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode
from urllib.request import Request, urlopen

import boto3
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from emu_support import create_instance, distinct_in_order, request_instance, wait_for

ACCOUNT_ARN = "arn:aws:rds:us-east-1:123456789012"


def deploy_with_target_key(rds: Any, name: str, source_arn: str, key: str) -> dict[str, Any]:
    """CreateBlueGreenDeployment of ``source_arn`` whose green primary is encrypted with ``key``."""
    return dict(
        rds.create_blue_green_deployment(
            BlueGreenDeploymentName=name,
            Source=source_arn,
            TargetResourceConfigurations=[{"SourceArn": source_arn, "TargetKmsKeyId": key}],
        )["BlueGreenDeployment"]
    )


def _error_code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


@pytest.fixture()
def kms(emu: Any) -> Any:
    """boto3 KMS client against the emulator."""
    return boto3.client(
        "kms", region_name="us-east-1", endpoint_url=emu.url, aws_access_key_id="t", aws_secret_access_key="t"
    )


def db(rds: Any, ident: str) -> dict[str, Any]:
    """One instance's description."""
    return dict(rds.describe_db_instances(DBInstanceIdentifier=ident)["DBInstances"][0])


def bgd_of(rds: Any, ident: str) -> dict[str, Any]:
    """One deployment's description."""
    return dict(rds.describe_blue_green_deployments(BlueGreenDeploymentIdentifier=ident)["BlueGreenDeployments"][0])


def source_with_replica(rds: Any, ident: str = "src", replica: bool = True, **extra: Any) -> dict[str, str]:
    """An unencrypted MySQL source (backups on, custom parameter group) with one read replica."""
    rds.create_db_parameter_group(
        DBParameterGroupName=f"{ident}-pg", DBParameterGroupFamily="mysql8.0", Description="binlog"
    )
    rds.modify_db_parameter_group(
        DBParameterGroupName=f"{ident}-pg",
        Parameters=[{"ParameterName": "binlog_format", "ParameterValue": "ROW", "ApplyMethod": "immediate"}],
    )
    src = create_instance(
        rds,
        ident,
        EngineVersion="8.0.36",
        BackupRetentionPeriod=7,
        DBParameterGroupName=f"{ident}-pg",
        Tags=[{"Key": "team", "Value": "payments"}],
        **extra,
    )
    out = {"source": ident, "source_arn": src["DBInstanceArn"]}
    if replica:
        rds.create_db_instance_read_replica(DBInstanceIdentifier=f"{ident}-r1", SourceDBInstanceIdentifier=ident)
        rep = wait_for(lambda: db(rds, f"{ident}-r1"), lambda d: d["DBInstanceStatus"] == "available")[-1]
        out.update(replica=f"{ident}-r1", replica_arn=rep["DBInstanceArn"])
    return out


def encrypted_deployment(rds: Any, kms: Any, name: str = "enc", replica: bool = True) -> dict[str, Any]:
    """Source (+ replica) and a deployment whose green members are encrypted with one new key."""
    blue = source_with_replica(rds, replica=replica)
    key = kms.create_key(Description="green")["KeyMetadata"]
    kms.create_alias(AliasName="alias/green", TargetKeyId=key["KeyId"])
    configs = [{"SourceArn": blue["source_arn"], "TargetKmsKeyId": "alias/green"}]
    if replica:
        configs.append({"SourceArn": blue["replica_arn"], "TargetKmsKeyId": key["Arn"]})
    created = rds.create_blue_green_deployment(
        BlueGreenDeploymentName=name,
        Source=blue["source_arn"],
        TargetResourceConfigurations=configs,
        Tags=[{"Key": "owner", "Value": "rdsenc"}],
    )["BlueGreenDeployment"]
    return {**blue, "key_arn": key["Arn"], "created": created, "id": created["BlueGreenDeploymentIdentifier"]}


def wait_available(rds: Any, ident: str) -> list[dict[str, Any]]:
    """Poll until the deployment is AVAILABLE; every observation."""
    return wait_for(lambda: bgd_of(rds, ident), lambda d: d["Status"] == "AVAILABLE")


def green_ids(bgd: dict[str, Any]) -> list[str]:
    """Green instance identifiers, source first."""
    return [d["TargetMember"].rsplit(":", 1)[1] for d in bgd["SwitchoverDetails"]]


# --- create ----------------------------------------------------------------------------------------


def test_each_blue_member_gets_a_green_instance_encrypted_with_its_target_key(rds: Any, kms: Any) -> None:
    dep = encrypted_deployment(rds, kms)
    bgd = wait_available(rds, dep["id"])[-1]
    primary, replica = green_ids(bgd)
    assert re.fullmatch(r"src-green-[a-z0-9]{6}", primary)
    assert re.fullmatch(r"src-r1-green-[a-z0-9]{6}", replica)
    assert [d["SourceMember"] for d in bgd["SwitchoverDetails"]] == [dep["source_arn"], dep["replica_arn"]]
    assert bgd["Source"] == dep["source_arn"] and bgd["Target"] == f"{ACCOUNT_ARN}:db:{primary}"
    blue, green = db(rds, "src"), db(rds, primary)
    # The alias resolves to the key ARN, and the ARN given for the replica is kept as is.
    assert green["StorageEncrypted"] is True and green["KmsKeyId"] == dep["key_arn"]
    assert db(rds, replica)["StorageEncrypted"] is True and db(rds, replica)["KmsKeyId"] == dep["key_arn"]
    assert blue["StorageEncrypted"] is False and db(rds, "src-r1")["StorageEncrypted"] is False
    for attr in (
        "Engine",
        "EngineVersion",
        "DBInstanceClass",
        "AllocatedStorage",
        "BackupRetentionPeriod",
        "MasterUsername",
    ):
        assert green[attr] == blue[attr], attr
    assert green["DBParameterGroups"][0]["DBParameterGroupName"] == "src-pg"
    assert green["DbiResourceId"] != blue["DbiResourceId"]
    # Inside the deployment the green primary replicates from blue, the green replica from the green primary.
    assert green["ReadReplicaSourceDBInstanceIdentifier"] == "src"
    assert db(rds, replica)["ReadReplicaSourceDBInstanceIdentifier"] == primary
    assert primary in blue["ReadReplicaDBInstanceIdentifiers"]


def test_deployment_goes_provisioning_then_available_while_green_members_go_creating_then_available(
    emu: Any, rds: Any, kms: Any
) -> None:
    emu.set_durations(blue_green_provisioning=4000, blue_green_provisioning_per_gb=0)
    dep = encrypted_deployment(rds, kms)
    assert dep["created"]["Status"] == "PROVISIONING"
    assert {d["Status"] for d in dep["created"]["SwitchoverDetails"]} == {"PROVISIONING"}
    primary = green_ids(dep["created"])[0]
    seen = wait_for(
        lambda: (bgd_of(rds, dep["id"]), db(rds, primary)["DBInstanceStatus"]),
        lambda pair: pair[0]["Status"] == "AVAILABLE",
    )
    assert distinct_in_order([b["Status"] for b, _ in seen]) == ["PROVISIONING", "AVAILABLE"]
    assert distinct_in_order([s for _, s in seen]) == ["creating", "backing-up", "available"]
    first, last = seen[0][0], seen[-1][0]
    assert first["Tasks"][0] == {"Name": "CREATING_READ_REPLICA_OF_SOURCE", "Status": "IN_PROGRESS"}
    assert [t["Name"] for t in last["Tasks"]] == [
        "CREATING_READ_REPLICA_OF_SOURCE",
        "CREATING_TOPOLOGY_OF_SOURCE",
        "CONFIGURE_BACKUPS",
    ]
    assert {t["Status"] for t in last["Tasks"]} == {"COMPLETED"}
    assert {d["Status"] for d in last["SwitchoverDetails"]} == {"AVAILABLE"}


def test_a_member_without_a_target_key_keeps_blue_encryption(rds: Any) -> None:
    blue = source_with_replica(rds, replica=False)
    created = rds.create_blue_green_deployment(
        BlueGreenDeploymentName="plain",
        Source=blue["source_arn"],
        TargetResourceConfigurations=[{"SourceArn": blue["source_arn"]}],
    )["BlueGreenDeployment"]
    green = db(rds, green_ids(created)[0])
    assert green["StorageEncrypted"] is False and "KmsKeyId" not in green


def test_target_engine_version_and_parameter_group_apply_to_the_green_members(rds: Any) -> None:
    blue = source_with_replica(rds, replica=False)
    rds.create_db_parameter_group(DBParameterGroupName="v84", DBParameterGroupFamily="mysql8.4", Description="x")
    for version, group in (("5.7.44", None), ("8.4.3", "src-pg")):  # a downgrade; an 8.0 group for 8.4
        with pytest.raises(ClientError) as exc:
            rds.create_blue_green_deployment(
                BlueGreenDeploymentName="bad",
                Source=blue["source_arn"],
                TargetEngineVersion=version,
                **({"TargetDBParameterGroupName": group} if group else {}),
            )
        assert _error_code(exc) == "InvalidParameterCombination"
    created = rds.create_blue_green_deployment(
        BlueGreenDeploymentName="upgrade",
        Source=blue["source_arn"],
        TargetEngineVersion="8.4.3",
        TargetDBParameterGroupName="v84",
    )["BlueGreenDeployment"]
    green = db(rds, green_ids(created)[0])
    assert green["EngineVersion"] == "8.4.3"
    assert green["DBParameterGroups"][0]["DBParameterGroupName"] == "v84"
    assert "DB_ENGINE_VERSION_UPGRADE" in [t["Name"] for t in created["Tasks"]]


@pytest.mark.parametrize("which", ["unknown alias", "unknown key id", "disabled key", "key in another region"])
def test_an_unknown_or_disabled_target_key_is_refused_and_nothing_is_created(
    emu: Any, rds: Any, kms: Any, which: str
) -> None:
    blue = source_with_replica(rds, replica=False)
    key = kms.create_key()["KeyMetadata"]
    ref = {
        "unknown alias": "alias/nope",
        "unknown key id": "1234abcd-12ab-34cd-56ef-1234567890ab",
        "disabled key": key["Arn"],
        "key in another region": key["Arn"].replace("us-east-1", "eu-west-1"),
    }[which]
    if which == "disabled key":
        kms.disable_key(KeyId=key["KeyId"])
    with pytest.raises(ClientError) as exc:
        deploy_with_target_key(rds, "bad", blue["source_arn"], ref)
    assert _error_code(exc) == "KMSKeyNotAccessibleFault"
    inv = emu.inventory()
    assert inv["db_instances"]["ids"] == ["src"] and inv["blue_green_deployments"]["count"] == 0


def test_a_read_replica_without_its_own_key_entry_is_refused_when_the_source_gets_one(
    emu: Any, rds: Any, kms: Any
) -> None:
    blue = source_with_replica(rds)
    key = kms.create_key()["KeyMetadata"]["Arn"]
    with pytest.raises(ClientError) as exc:
        deploy_with_target_key(rds, "half", blue["source_arn"], key)
    assert _error_code(exc) == "InvalidParameterCombination"
    assert blue["replica_arn"] in str(exc.value)
    assert emu.inventory()["db_instances"]["ids"] == ["src", "src-r1"]


@pytest.mark.parametrize(
    "case", ["duplicate source arn", "instance outside the blue environment", "not a db instance arn"]
)
def test_bad_target_resource_configurations_are_invalid_parameter_value(rds: Any, kms: Any, case: str) -> None:
    blue = source_with_replica(rds, replica=False)
    other = create_instance(rds, "other")["DBInstanceArn"]
    key = kms.create_key()["KeyMetadata"]["Arn"]
    configs = {
        "duplicate source arn": [{"SourceArn": blue["source_arn"], "TargetKmsKeyId": key}] * 2,
        "instance outside the blue environment": [{"SourceArn": other, "TargetKmsKeyId": key}],
        "not a db instance arn": [{"SourceArn": f"{ACCOUNT_ARN}:snapshot:src-final", "TargetKmsKeyId": key}],
    }[case]
    with pytest.raises(ClientError) as exc:
        rds.create_blue_green_deployment(
            BlueGreenDeploymentName="bad", Source=blue["source_arn"], TargetResourceConfigurations=configs
        )
    assert _error_code(exc) == "InvalidParameterValue"


def test_a_source_with_a_secrets_manager_managed_password_is_not_supported(rds: Any) -> None:
    request_instance(rds, "managed", MasterUserPassword=None, ManageMasterUserPassword=True, BackupRetentionPeriod=7)
    arn = wait_for(lambda: db(rds, "managed"), lambda d: d["DBInstanceStatus"] == "available")[-1]["DBInstanceArn"]
    with pytest.raises(ClientError) as exc:
        rds.create_blue_green_deployment(BlueGreenDeploymentName="m", Source=arn)
    assert _error_code(exc) == "SourceDatabaseNotSupportedFault"
    assert "Secrets Manager" in str(exc.value)


def test_a_source_without_backups_or_already_in_a_deployment_is_refused(rds: Any, kms: Any) -> None:
    nobackup = create_instance(rds, "nobackup", BackupRetentionPeriod=0)["DBInstanceArn"]
    with pytest.raises(ClientError) as exc:
        rds.create_blue_green_deployment(BlueGreenDeploymentName="nb", Source=nobackup)
    assert _error_code(exc) == "InvalidDBInstanceState"
    dep = encrypted_deployment(rds, kms, name="first")
    with pytest.raises(ClientError) as exc:
        rds.create_blue_green_deployment(BlueGreenDeploymentName="second", Source=dep["source_arn"])
    assert _error_code(exc) == "InvalidDBInstanceState"
    with pytest.raises(ClientError) as exc:
        rds.create_blue_green_deployment(BlueGreenDeploymentName="first", Source=nobackup)
    assert _error_code(exc) == "BlueGreenDeploymentAlreadyExistsFault"


# --- switchover --------------------------------------------------------------------------------------


def test_switchover_renames_blue_to_old1_and_green_to_the_original_identifiers(emu: Any, rds: Any, kms: Any) -> None:
    # Within the timeout, and long enough (3 s real at 0.001) to watch on a loaded machine.
    emu.set_durations(blue_green_switchover=3000)
    dep = encrypted_deployment(rds, kms)
    primary, replica = green_ids(wait_available(rds, dep["id"])[-1])
    green_before = db(rds, primary)
    answer = rds.switchover_blue_green_deployment(BlueGreenDeploymentIdentifier=dep["id"], SwitchoverTimeout=3600)
    assert answer["BlueGreenDeployment"]["Status"] == "SWITCHOVER_IN_PROGRESS"
    # Until the switchover completes, the original identifier still names the unencrypted blue instance.
    assert db(rds, "src")["StorageEncrypted"] is False
    seen = wait_for(lambda: bgd_of(rds, dep["id"]), lambda d: d["Status"] == "SWITCHOVER_COMPLETED")
    assert distinct_in_order([d["Status"] for d in seen]) == ["SWITCHOVER_IN_PROGRESS", "SWITCHOVER_COMPLETED"]
    assert {d["Status"] for d in seen[0]["SwitchoverDetails"]} == {"SWITCHOVER_IN_PROGRESS"}
    done = seen[-1]
    assert {d["Status"] for d in done["SwitchoverDetails"]} == {"SWITCHOVER_COMPLETED"}
    # The deployment's ARNs follow the names: source = the old blue, target = the new production.
    assert done["Source"] == f"{ACCOUNT_ARN}:db:src-old1" and done["Target"] == f"{ACCOUNT_ARN}:db:src"
    assert [(d["SourceMember"], d["TargetMember"]) for d in done["SwitchoverDetails"]] == [
        (f"{ACCOUNT_ARN}:db:src-old1", f"{ACCOUNT_ARN}:db:src"),
        (f"{ACCOUNT_ARN}:db:src-r1-old1", f"{ACCOUNT_ARN}:db:src-r1"),
    ]
    new, new_replica, old, old_replica = (db(rds, i) for i in ("src", "src-r1", "src-old1", "src-r1-old1"))
    assert new["StorageEncrypted"] is True and new["KmsKeyId"] == dep["key_arn"]
    assert new_replica["StorageEncrypted"] is True
    assert old["StorageEncrypted"] is False and old_replica["StorageEncrypted"] is False
    assert new["DbiResourceId"] == green_before["DbiResourceId"]  # the instance moved, not a copy
    assert new["DBInstanceArn"] == f"{ACCOUNT_ARN}:db:src"
    assert new["Endpoint"]["Address"].startswith("src.") and old["Endpoint"]["Address"].startswith("src-old1.")
    assert new["DBInstanceStatus"] == "available" and old["DBInstanceStatus"] == "available"
    # The new primary is promoted; each replica pair keeps replicating from its own primary.
    assert "ReadReplicaSourceDBInstanceIdentifier" not in new
    assert new["ReadReplicaDBInstanceIdentifiers"] == ["src-r1"]
    assert new_replica["ReadReplicaSourceDBInstanceIdentifier"] == "src"
    assert old["ReadReplicaDBInstanceIdentifiers"] == ["src-r1-old1"]
    assert old_replica["ReadReplicaSourceDBInstanceIdentifier"] == "src-old1"
    ids = emu.inventory()["db_instances"]["ids"]
    assert ids == ["src", "src-old1", "src-r1", "src-r1-old1"] and primary not in ids and replica not in ids


def test_switchover_of_a_deployment_that_is_not_available_is_refused(emu: Any, rds: Any, kms: Any) -> None:
    emu.set_durations(blue_green_provisioning=10**6)
    dep = encrypted_deployment(rds, kms)
    with pytest.raises(ClientError) as exc:
        rds.switchover_blue_green_deployment(BlueGreenDeploymentIdentifier=dep["id"])
    assert _error_code(exc) == "InvalidBlueGreenDeploymentStateFault"
    with pytest.raises(ClientError) as exc:
        rds.switchover_blue_green_deployment(BlueGreenDeploymentIdentifier="bgd-doesnotexist")
    assert _error_code(exc) == "BlueGreenDeploymentNotFoundFault"


def test_switchover_longer_than_its_timeout_fails_renames_nothing_and_can_be_retried(
    emu: Any, rds: Any, kms: Any
) -> None:
    dep = encrypted_deployment(rds, kms)
    wait_available(rds, dep["id"])
    with pytest.raises(ClientError) as exc:
        rds.switchover_blue_green_deployment(BlueGreenDeploymentIdentifier=dep["id"], SwitchoverTimeout=3601)
    assert _error_code(exc) == "InvalidParameterValue"  # documented range 30..3600 (boto3 checks the minimum)
    emu.set_durations(blue_green_switchover=400)
    rds.switchover_blue_green_deployment(BlueGreenDeploymentIdentifier=dep["id"], SwitchoverTimeout=30)
    failed = wait_for(lambda: bgd_of(rds, dep["id"]), lambda d: d["Status"] != "SWITCHOVER_IN_PROGRESS")[-1]
    assert failed["Status"] == "SWITCHOVER_FAILED" and "rolled back" in failed["StatusDetails"]
    assert db(rds, "src")["StorageEncrypted"] is False
    emu.set_durations(blue_green_switchover=10)
    rds.switchover_blue_green_deployment(BlueGreenDeploymentIdentifier=dep["id"], SwitchoverTimeout=30)
    wait_for(lambda: bgd_of(rds, dep["id"])["Status"], lambda s: s == "SWITCHOVER_COMPLETED")
    assert db(rds, "src")["StorageEncrypted"] is True


# --- delete --------------------------------------------------------------------------------------------


def test_delete_with_delete_target_before_switchover_removes_only_the_green_instances(
    emu: Any, rds: Any, kms: Any
) -> None:
    dep = encrypted_deployment(rds, kms)
    greens = green_ids(wait_available(rds, dep["id"])[-1])
    answer = rds.delete_blue_green_deployment(BlueGreenDeploymentIdentifier=dep["id"], DeleteTarget=True)
    assert answer["BlueGreenDeployment"]["Status"] == "DELETING"
    with pytest.raises(ClientError) as exc:
        bgd_of(rds, dep["id"])
    assert _error_code(exc) == "BlueGreenDeploymentNotFoundFault"
    wait_for(lambda: emu.inventory()["db_instances"]["ids"], lambda ids: ids == ["src", "src-r1"])
    assert all(g not in emu.inventory()["db_instances"]["ids"] for g in greens)
    assert db(rds, "src")["ReadReplicaDBInstanceIdentifiers"] == ["src-r1"]


def test_delete_without_delete_target_keeps_the_green_instances_replicating_from_blue(rds: Any, kms: Any) -> None:
    dep = encrypted_deployment(rds, kms)
    primary, replica = green_ids(wait_available(rds, dep["id"])[-1])
    rds.delete_blue_green_deployment(BlueGreenDeploymentIdentifier=dep["id"], DeleteTarget=False)
    assert db(rds, primary)["StorageEncrypted"] is True and db(rds, replica)["DBInstanceStatus"] == "available"
    assert db(rds, primary)["ReadReplicaSourceDBInstanceIdentifier"] == "src"  # MySQL keeps replicating
    assert rds.describe_blue_green_deployments()["BlueGreenDeployments"] == []


def test_delete_without_delete_target_promotes_a_postgresql_green_primary(rds: Any, kms: Any) -> None:
    src = create_instance(rds, "pg", engine="postgres", BackupRetentionPeriod=7)
    key = kms.create_key()["KeyMetadata"]["Arn"]
    created = deploy_with_target_key(rds, "pg", src["DBInstanceArn"], key)
    green = green_ids(created)[0]
    assert db(rds, green)["ReadReplicaSourceDBInstanceIdentifier"] == "pg"
    rds.delete_blue_green_deployment(BlueGreenDeploymentIdentifier=created["BlueGreenDeploymentIdentifier"])
    kept = db(rds, green)
    assert "ReadReplicaSourceDBInstanceIdentifier" not in kept and kept["KmsKeyId"] == key
    assert db(rds, "pg").get("ReadReplicaDBInstanceIdentifiers", []) == []


def test_after_switchover_delete_target_is_refused_and_a_plain_delete_keeps_every_instance(
    emu: Any, rds: Any, kms: Any
) -> None:
    dep = encrypted_deployment(rds, kms)
    wait_available(rds, dep["id"])
    rds.switchover_blue_green_deployment(BlueGreenDeploymentIdentifier=dep["id"])
    wait_for(lambda: bgd_of(rds, dep["id"])["Status"], lambda s: s == "SWITCHOVER_COMPLETED")
    with pytest.raises(ClientError) as exc:
        rds.delete_blue_green_deployment(BlueGreenDeploymentIdentifier=dep["id"], DeleteTarget=True)
    assert _error_code(exc) == "InvalidParameterCombination"
    rds.delete_blue_green_deployment(BlueGreenDeploymentIdentifier=dep["id"])
    assert emu.inventory()["db_instances"]["ids"] == ["src", "src-old1", "src-r1", "src-r1-old1"]
    assert db(rds, "src")["StorageEncrypted"] is True


def test_a_deleted_green_instance_makes_the_deployment_invalid_configuration(rds: Any, kms: Any) -> None:
    dep = encrypted_deployment(rds, kms)
    primary, replica = green_ids(wait_available(rds, dep["id"])[-1])
    rds.delete_db_instance(DBInstanceIdentifier=replica)
    bgd = bgd_of(rds, dep["id"])
    assert bgd["Status"] == "INVALID_CONFIGURATION"
    assert [d["Status"] for d in bgd["SwitchoverDetails"]] == ["AVAILABLE", "MISSING_TARGET"]
    with pytest.raises(ClientError) as exc:
        rds.switchover_blue_green_deployment(BlueGreenDeploymentIdentifier=dep["id"])
    assert _error_code(exc) == "InvalidBlueGreenDeploymentStateFault"
    assert db(rds, primary)["DBInstanceStatus"] == "available"


# --- describe, tags, faults, control API ------------------------------------------------------------------


def test_describe_finds_deployments_by_identifier_and_by_each_filter(rds: Any, kms: Any) -> None:
    dep = encrypted_deployment(rds, kms, name="by-filter")
    target = dep["created"]["Target"]
    for name, value in (
        ("blue-green-deployment-name", "by-filter"),
        ("blue-green-deployment-identifier", dep["id"]),
        ("source", dep["source_arn"]),
        ("target", target),
    ):
        found = rds.describe_blue_green_deployments(Filters=[{"Name": name, "Values": [value]}])
        assert [d["BlueGreenDeploymentIdentifier"] for d in found["BlueGreenDeployments"]] == [dep["id"]], name
    none = rds.describe_blue_green_deployments(Filters=[{"Name": "source", "Values": [f"{ACCOUNT_ARN}:db:x"]}])
    assert none["BlueGreenDeployments"] == []
    with pytest.raises(ClientError) as exc:
        bgd_of(rds, "bgd-doesnotexist0000")
    assert _error_code(exc) == "BlueGreenDeploymentNotFoundFault"


def test_the_deployment_arn_lists_and_takes_tags(rds: Any, kms: Any) -> None:
    dep = encrypted_deployment(rds, kms)
    arn = f"{ACCOUNT_ARN}:deployment:{dep['id']}"
    assert rds.list_tags_for_resource(ResourceName=arn)["TagList"] == [{"Key": "owner", "Value": "rdsenc"}]
    rds.add_tags_to_resource(ResourceName=arn, Tags=[{"Key": "rdsenc:migration", "Value": "orders"}])
    tags = {t["Key"]: t["Value"] for t in rds.list_tags_for_resource(ResourceName=arn)["TagList"]}
    assert tags == {"owner": "rdsenc", "rdsenc:migration": "orders"}
    assert {t["Key"] for t in bgd_of(rds, dep["id"])["TagList"]} == {"owner", "rdsenc:migration"}
    with pytest.raises(ClientError) as exc:
        rds.list_tags_for_resource(ResourceName=f"{ACCOUNT_ARN}:deployment:bgd-doesnotexist0000")
    assert _error_code(exc) == "BlueGreenDeploymentNotFoundFault"


def test_fault_injection_and_the_call_log_cover_the_blue_green_calls(emu: Any, rds: Any, kms: Any) -> None:
    blue = source_with_replica(rds, replica=False)
    emu.set_faults([{"service": "rds", "operation": "CreateBlueGreenDeployment", "throttle_rate": 1, "times": 1}])
    once = boto3.client(
        "rds",
        region_name="us-east-1",
        endpoint_url=emu.url,
        aws_access_key_id="t",
        aws_secret_access_key="t",
        config=Config(retries={"total_max_attempts": 1, "mode": "standard"}),
    )
    with pytest.raises(ClientError) as exc:
        once.create_blue_green_deployment(BlueGreenDeploymentName="f", Source=blue["source_arn"])
    assert _error_code(exc) == "Throttling"
    assert emu.inventory()["blue_green_deployments"]["count"] == 0  # an injected fault never reaches moto
    ident = rds.create_blue_green_deployment(BlueGreenDeploymentName="f", Source=blue["source_arn"])[
        "BlueGreenDeployment"
    ]["BlueGreenDeploymentIdentifier"]
    bgd_of(rds, ident)
    rds.delete_blue_green_deployment(BlueGreenDeploymentIdentifier=ident, DeleteTarget=True)
    calls = [(c["operation"], c["status"], bool(c.get("injected_fault"))) for c in emu.calls(service="rds")]
    assert ("CreateBlueGreenDeployment", 400, True) in calls
    assert ("CreateBlueGreenDeployment", 200, False) in calls
    assert ("DescribeBlueGreenDeployments", 200, False) in calls
    assert ("DeleteBlueGreenDeployment", 200, False) in calls


def test_the_control_api_lists_deployments_and_can_pin_a_deployment_status(emu: Any, rds: Any, kms: Any) -> None:
    dep = encrypted_deployment(rds, kms)
    wait_available(rds, dep["id"])
    inv = emu.inventory()["blue_green_deployments"]
    assert inv == {"count": 1, "ids": [dep["id"]], "status": {dep["id"]: "AVAILABLE"}}
    emu.force_status("blue_green_deployment", dep["id"], "INVALID_CONFIGURATION", message="replication broke")
    bgd = bgd_of(rds, dep["id"])
    assert bgd["Status"] == "INVALID_CONFIGURATION" and bgd["StatusDetails"] == "replication broke"
    emu.force_status("blue_green_deployment", f"{ACCOUNT_ARN}:deployment:{dep['id']}", "auto")
    assert bgd_of(rds, dep["id"])["Status"] == "AVAILABLE"


def test_the_query_wire_format_of_the_rust_sdk_reaches_the_target_resource_configurations(
    emu: Any, rds: Any, kms: Any
) -> None:
    """aws-sdk-rds 1.159 serializes the list as ``TargetResourceConfigurations.TargetResourceConfiguration.N``."""
    blue = source_with_replica(rds)
    key = kms.create_key()["KeyMetadata"]["Arn"]
    body = urlencode(
        {
            "Action": "CreateBlueGreenDeployment",
            "Version": "2014-10-31",
            "BlueGreenDeploymentName": "from-rust",
            "Source": blue["source_arn"],
            "TargetResourceConfigurations.TargetResourceConfiguration.1.SourceArn": blue["source_arn"],
            "TargetResourceConfigurations.TargetResourceConfiguration.1.TargetKmsKeyId": key,
            "TargetResourceConfigurations.TargetResourceConfiguration.2.SourceArn": blue["replica_arn"],
            "TargetResourceConfigurations.TargetResourceConfiguration.2.TargetKmsKeyId": key,
        }
    )
    request = AWSRequest(
        method="POST",
        url=emu.url + "/",
        data=body,
        headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
    )
    SigV4Auth(Credentials("t", "t"), "rds", "us-east-1").add_auth(request)
    with urlopen(Request(emu.url + "/", data=body.encode(), headers=dict(request.headers), method="POST")) as resp:
        xml = resp.read().decode()
    assert resp.status == 200 and "<Status>PROVISIONING</Status>" in xml
    ident = re.search(r"<BlueGreenDeploymentIdentifier>(bgd-[a-z0-9]+)<", xml)
    assert ident is not None
    greens = green_ids(bgd_of(rds, ident.group(1)))
    assert [db(rds, g)["KmsKeyId"] for g in greens] == [key, key]
