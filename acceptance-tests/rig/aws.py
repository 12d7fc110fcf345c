"""boto3 clients bound to the emulator, plus small helpers to seed and inspect AWS objects."""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import cached_property
from typing import Any, TypeVar

import boto3
from botocore.config import Config

from rig.emulator import ACCESS_KEY, REGION, SECRET_KEY

T = TypeVar("T")


def _client(service: str) -> cached_property[Any]:
    """A cached `Aws` attribute holding the boto3 client of `service`."""
    prop: cached_property[Any] = cached_property(lambda self: self.client(service))
    prop.__doc__ = f"The {service} client."
    return prop


class Aws:
    """boto3 clients for every service the provider uses, pointed at the emulator: `aws.rds`, `aws.kms`..."""

    def __init__(self, endpoint_url: str) -> None:
        self.endpoint_url = endpoint_url
        self._session = boto3.session.Session(
            aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY, region_name=REGION
        )

    def client(self, service: str) -> Any:
        """A boto3 client for `service` (no retries: a failing emulator call should fail the test now)."""
        return self._session.client(
            service,
            endpoint_url=self.endpoint_url,
            config=Config(retries={"max_attempts": 1, "mode": "standard"}, connect_timeout=5, read_timeout=60),
        )

    # The services the provider calls, one client each, made on first use.
    rds = _client("rds")
    dms = _client("dms")
    kms = _client("kms")
    cloudwatch = _client("cloudwatch")
    route53 = _client("route53")
    secretsmanager = _client("secretsmanager")
    ec2 = _client("ec2")
    sts = _client("sts")

    # -- seeding -----------------------------------------------------------------------------------
    def create_mysql_instance(self, identifier: str, **overrides: Any) -> dict[str, Any]:
        """Create an unencrypted MySQL 8.0 instance and wait until it is `available`; return it."""
        params: dict[str, Any] = {
            "DBInstanceIdentifier": identifier,
            "Engine": "mysql",
            "EngineVersion": "8.0.35",
            "DBInstanceClass": "db.t3.micro",
            "AllocatedStorage": 20,
            "MasterUsername": "admin",
            # A test-only password; it exists so the rig can check it never reaches state or logs.
            "MasterUserPassword": "rig-Secret-Pa55word",
            "StorageEncrypted": False,
            "BackupRetentionPeriod": 7,
            "MultiAZ": False,
            "Port": 3306,
            "Tags": [{"Key": "team", "Value": "payments"}, {"Key": "env", "Value": "test"}],
        }
        params.update(overrides)
        # An override of None removes the parameter (e.g. the password when RDS manages it).
        self.rds.create_db_instance(**{k: v for k, v in params.items() if v is not None})
        return self.wait_db_instance_available(identifier)

    def wait_db_instance_available(self, identifier: str, timeout: float = 120) -> dict[str, Any]:
        """Poll describe_db_instances until the instance is `available`."""

        def probe() -> dict[str, Any] | None:
            inst = self.rds.describe_db_instances(DBInstanceIdentifier=identifier)["DBInstances"][0]
            return inst if inst["DBInstanceStatus"] == "available" else None

        return wait_for(probe, timeout, f"RDS DB instance {identifier} to become available")

    def create_network(self, name: str) -> dict[str, Any]:
        """A VPC with two subnets, a DB subnet group `<name>-subnets` and a security group.

        Returns `{"vpc_id", "subnet_ids", "db_subnet_group", "security_group_id"}`: what a source
        instance needs so a managed DMS replication instance can default to its network.
        """
        vpc = self.ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
        subnets = [
            self.ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.20.{i}.0/24", AvailabilityZone=f"us-east-1{az}")["Subnet"][
                "SubnetId"
            ]
            for i, az in ((1, "a"), (2, "b"))
        ]
        group = f"{name}-subnets"
        self.rds.create_db_subnet_group(
            DBSubnetGroupName=group, DBSubnetGroupDescription=f"{name} test subnets", SubnetIds=subnets
        )
        sg = self.ec2.create_security_group(GroupName=f"{name}-db", Description="db", VpcId=vpc)["GroupId"]
        return {"vpc_id": vpc, "subnet_ids": subnets, "db_subnet_group": group, "security_group_id": sg}

    def create_cname_zone(self, zone: str, record: str, value: str, caller_reference: str = "rdsenc-test") -> str:
        """A hosted zone `zone` whose CNAME `record` (TTL 30) points at `value`; returns the zone's id."""
        zone_id = self.route53.create_hosted_zone(Name=zone, CallerReference=caller_reference)["HostedZone"]["Id"]
        zone_id = zone_id.split("/")[-1]
        cname = {"Name": record, "Type": "CNAME", "TTL": 30, "ResourceRecords": [{"Value": value}]}
        self.route53.change_resource_record_sets(
            HostedZoneId=zone_id, ChangeBatch={"Changes": [{"Action": "UPSERT", "ResourceRecordSet": cname}]}
        )
        return zone_id

    def create_parameter_group(self, name: str, family: str, params: dict[str, str]) -> str:
        """A custom DB parameter group with `params` set; returns its name."""
        self.rds.create_db_parameter_group(
            DBParameterGroupName=name, DBParameterGroupFamily=family, Description="rdsenc test"
        )
        self.rds.modify_db_parameter_group(
            DBParameterGroupName=name,
            Parameters=[
                {"ParameterName": k, "ParameterValue": v, "ApplyMethod": "pending-reboot"} for k, v in params.items()
            ],
        )
        return name

    def create_replication_ready_source(
        self, identifier: str, engine: str = "mysql", **overrides: Any
    ) -> dict[str, Any]:
        """An unencrypted source that passes preflight: in its own network, backups on, and a custom
        parameter group with what DMS CDC needs (MySQL: ROW/FULL binlogs; PostgreSQL: logical
        replication).
        """
        net = self.create_network(identifier)
        params: dict[str, Any] = {
            "DBSubnetGroupName": net["db_subnet_group"],
            "VpcSecurityGroupIds": [net["security_group_id"]],
        }
        if engine == "mysql":
            params["DBParameterGroupName"] = self.create_parameter_group(
                f"{identifier}-cdc", "mysql8.0", {"binlog_format": "ROW", "binlog_row_image": "FULL"}
            )
            params.update(overrides)
            return self.create_mysql_instance(identifier, **params)
        params["DBParameterGroupName"] = self.create_parameter_group(
            f"{identifier}-cdc", "postgres16", {"rds.logical_replication": "1"}
        )
        params.update(overrides)
        return self.create_postgres_instance(identifier, **params)

    def create_postgres_instance(self, identifier: str, **overrides: Any) -> dict[str, Any]:
        """Create an unencrypted PostgreSQL 16 instance and wait until it is `available`."""
        params: dict[str, Any] = {
            "Engine": "postgres",
            "EngineVersion": "16.3",
            "Port": 5432,
            "MasterUsername": "postgres",
        }
        params.update(overrides)
        return self.create_mysql_instance(identifier, **params)

    def create_source_with_replica(
        self, identifier: str, replica_identifier: str | None = None, **overrides: Any
    ) -> dict[str, Any]:
        """An unencrypted MySQL 8.0 source ready for a blue/green migration, plus one read replica.

        The source is `create_replication_ready_source(identifier, "mysql")`: its own network,
        automated backups (7 days), a custom parameter group with ROW/FULL binlogs, and a password
        RDS does not manage (blue/green refuses Secrets-Manager-managed ones). The replica
        (`<identifier>-r1` unless named) is created from it and waited to `available`.

        Returns `{"source", "source_arn", "replica", "replica_arn", "parameter_group", "network"}`.
        """
        source = self.create_replication_ready_source(identifier, "mysql", **overrides)
        replica_id = replica_identifier or f"{identifier}-r1"
        self.rds.create_db_instance_read_replica(DBInstanceIdentifier=replica_id, SourceDBInstanceIdentifier=identifier)
        replica = self.wait_db_instance_available(replica_id)
        return {
            "source": identifier,
            "source_arn": source["DBInstanceArn"],
            "replica": replica_id,
            "replica_arn": replica["DBInstanceArn"],
            "parameter_group": source["DBParameterGroups"][0]["DBParameterGroupName"],
            "network": {
                "db_subnet_group": source["DBSubnetGroup"]["DBSubnetGroupName"],
                "security_group_ids": [g["VpcSecurityGroupId"] for g in source.get("VpcSecurityGroups", [])],
            },
        }

    def blue_green_deployment(self, identifier: str) -> dict[str, Any]:
        """One blue/green deployment's description (BlueGreenDeploymentNotFoundFault if gone)."""
        found = self.rds.describe_blue_green_deployments(BlueGreenDeploymentIdentifier=identifier)
        return dict(found["BlueGreenDeployments"][0])

    def blue_green_deployments_of(self, source_arn: str) -> list[dict[str, Any]]:
        """Every blue/green deployment whose source (blue primary) is `source_arn`."""
        found = self.rds.describe_blue_green_deployments(Filters=[{"Name": "source", "Values": [source_arn]}])
        return list(found["BlueGreenDeployments"])

    def wait_blue_green_status(self, identifier: str, status: str, timeout: float = 120) -> dict[str, Any]:
        """Poll a blue/green deployment until its `Status` is `status`; return it."""

        def probe() -> dict[str, Any] | None:
            bgd = self.blue_green_deployment(identifier)
            return bgd if bgd["Status"] == status else None

        return wait_for(probe, timeout, f"blue/green deployment {identifier} to reach {status}")

    def create_kms_key(self, alias: str | None = None) -> dict[str, Any]:
        """Create a symmetric KMS key (and alias `alias/<alias>`); return its metadata."""
        meta = self.kms.create_key(Description="rdsenc test key")["KeyMetadata"]
        if alias:
            self.kms.create_alias(AliasName=f"alias/{alias}", TargetKeyId=meta["KeyId"])
        return meta


def wait_for(probe: Callable[[], T | None], timeout: float, what: str, interval: float = 0.1) -> T:
    """Call `probe` until it returns something other than None; fail with `what` after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value is not None:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)
