"""Security-group helpers for data-plane tests and seeds.

An RDS instance created without ``VpcSecurityGroupIds`` is in the VPC's default security
group, which admits only its own members (as on AWS): a test client connecting from
127.0.0.1 is refused until a group admits ``127.0.0.1/32`` on the instance's port.
"""

from __future__ import annotations

import time
from typing import Any

import boto3
import pytest
from botocore.config import Config

#: The address tests' and applications' clients connect from.
CLIENT_IP = "127.0.0.1"


def allow_client(ec2: Any, group_id: str, port: int, cidr: str = f"{CLIENT_IP}/32") -> None:
    """Add an inbound TCP rule admitting ``cidr`` on ``port`` to ``group_id``."""
    ec2.authorize_security_group_ingress(
        GroupId=group_id,
        IpPermissions=[{"IpProtocol": "tcp", "FromPort": port, "ToPort": port, "IpRanges": [{"CidrIp": cidr}]}],
    )


def client_security_group(ec2: Any, name: str, ports: tuple[int, ...] = (3306, 5432)) -> str:
    """A new group in the default VPC admitting 127.0.0.1/32 on ``ports``; returns its id
    (pass it as ``VpcSecurityGroupIds=[id]`` to CreateDBInstance / RestoreDBInstance...).
    """
    vpc_id = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
    group_id = str(
        ec2.create_security_group(GroupName=name, Description=f"{name}: test clients", VpcId=vpc_id)["GroupId"]
    )
    for port in ports:
        allow_client(ec2, group_id, port)
    return group_id


def aws_client(service: str, url: str, config: Config | None = None) -> Any:
    """A boto3 client for ``service`` against the emulator at ``url`` (``config``: e.g. retries)."""
    return boto3.client(
        service,
        region_name="us-east-1",
        endpoint_url=url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=config,
    )


def assert_own_front(emu: Any, identifier: str) -> dict[str, Any]:
    """The emulator's front for ``identifier``; fails clearly when it could not listen (e.g.
    another ``--data-plane`` emulator on this host holds the same 127.10.x.y address).
    """
    network = emu.network()
    fronts = [f for f in network["fronts"] if f["identifier"] == identifier]
    assert fronts, f"no front for {identifier}: bind errors {network['bind_errors']}"
    return dict(fronts[0])


def assert_session_dropped(session: Any, within: float = 60) -> None:
    """A query on ``session`` (a PyMySQL connection) fails within ``within`` seconds: its
    connection was dropped.
    """
    import pymysql  # only the data-plane tests need it; conftest imports this module for all

    with pytest.raises((pymysql.err.OperationalError, pymysql.err.InterfaceError)):
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            with session.cursor() as cur:
                cur.execute("SELECT 1")
            time.sleep(0.05)
