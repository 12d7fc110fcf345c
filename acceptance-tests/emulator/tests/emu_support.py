"""Polling helpers and builders shared by the emulator tests (kept out of conftest.py so
that importing them never depends on which ``conftest`` module pytest loaded first).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

#: Real seconds per AWS second for the emulator under test (1000x faster than AWS).
TIME_SCALE = 0.001
T = TypeVar("T")


def wait_for(
    probe: Callable[[], T], accept: Callable[[T], bool], timeout: float = 15.0, interval: float = 0.01
) -> list[T]:
    """Poll ``probe`` until ``accept`` holds; return every observation (for ordering checks)."""
    seen: list[T] = []
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        seen.append(value)
        if accept(value):
            return seen
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out; last observations: {seen[-5:]!r}")
        time.sleep(interval)


def distinct_in_order(values: list[Any]) -> list[Any]:
    """Collapse consecutive repeats: [a, a, b, b, c] -> [a, b, c]."""
    out: list[Any] = []
    for value in values:
        if not out or out[-1] != value:
            out.append(value)
    return out


def request_instance(rds: Any, ident: str, engine: str = "mysql", storage: int = 20, **extra: Any) -> dict[str, Any]:
    """CreateDBInstance (db.t3.micro, master user ``admin``, password ``not-a-secret-1`` unless
    ``extra`` names another or None for none); returns the new DBInstance without waiting.
    """
    params = {"MasterUserPassword": "not-a-secret-1", **extra}
    return dict(
        rds.create_db_instance(
            DBInstanceIdentifier=ident,
            DBInstanceClass="db.t3.micro",
            Engine=engine,
            AllocatedStorage=storage,
            MasterUsername="admin",
            **{k: v for k, v in params.items() if v is not None},
        )["DBInstance"]
    )


def create_instance(
    rds: Any,
    ident: str,
    engine: str = "mysql",
    storage: int = 20,
    timeout: float = 15.0,
    interval: float = 0.01,
    **extra: Any,
) -> dict[str, Any]:
    """Create an RDS instance (see ``request_instance``) and wait until it is available."""
    request_instance(rds, ident, engine, storage, **extra)
    return wait_for(
        lambda: rds.describe_db_instances(DBInstanceIdentifier=ident)["DBInstances"][0],
        lambda db: db["DBInstanceStatus"] == "available",
        timeout,
        interval,
    )[-1]


def snapshot_status(rds: Any, ident: str) -> dict[str, Any]:
    """One snapshot's description."""
    return rds.describe_db_snapshots(DBSnapshotIdentifier=ident)["DBSnapshots"][0]


def replication_setup(dms: Any, prefix: str = "m") -> dict[str, str]:
    """A replication instance (available) plus source and target endpoints; returns ARNs."""
    ri = dms.create_replication_instance(
        ReplicationInstanceIdentifier=f"{prefix}-ri", ReplicationInstanceClass="dms.t3.medium"
    )["ReplicationInstance"]
    wait_for(
        lambda: dms.describe_replication_instances(
            Filters=[{"Name": "replication-instance-id", "Values": [f"{prefix}-ri"]}]
        )["ReplicationInstances"][0]["ReplicationInstanceStatus"],
        lambda s: s == "available",
    )
    src = create_endpoint(dms, f"{prefix}-src", "source", "src.example")
    tgt = create_endpoint(dms, f"{prefix}-tgt", "target", "tgt.example")
    return {"ri": ri["ReplicationInstanceArn"], "src": src["EndpointArn"], "tgt": tgt["EndpointArn"]}


def create_endpoint(dms: Any, ident: str, kind: str, server: str, port: int = 3306) -> dict[str, Any]:
    """A MySQL DMS endpoint (``kind``: source or target) with throwaway credentials."""
    return dict(
        dms.create_endpoint(
            EndpointIdentifier=ident,
            EndpointType=kind,
            EngineName="mysql",
            Username="u",
            Password="p",
            ServerName=server,
            Port=port,
        )["Endpoint"]
    )


#: Table mappings selecting every table of every schema.
ALL_TABLES = (
    '{"rules":[{"rule-type":"selection","rule-id":"1","rule-name":"1",'
    '"object-locator":{"schema-name":"%","table-name":"%"},"rule-action":"include"}]}'
)


def task_params(
    arns: dict[str, str], ident: str, migration_type: str = "full-load-and-cdc", mappings: str = ALL_TABLES
) -> dict[str, str]:
    """CreateReplicationTask's parameters over ``replication_setup``'s ARNs."""
    return {
        "ReplicationTaskIdentifier": ident,
        "SourceEndpointArn": arns["src"],
        "TargetEndpointArn": arns["tgt"],
        "ReplicationInstanceArn": arns["ri"],
        "MigrationType": migration_type,
        "TableMappings": mappings,
    }


def create_task(
    dms: Any, arns: dict[str, str], ident: str = "m-task", migration_type: str = "full-load-and-cdc", **extra: Any
) -> dict[str, Any]:
    """A replication task, waited to ``ready``."""
    task = dms.create_replication_task(**task_params(arns, ident, migration_type), **extra)["ReplicationTask"]
    wait_for(lambda: task_of(dms, task["ReplicationTaskArn"])["Status"], lambda s: s == "ready")
    return task


def task_of(dms: Any, arn: str) -> dict[str, Any]:
    """One task's description."""
    return dms.describe_replication_tasks(Filters=[{"Name": "replication-task-arn", "Values": [arn]}])[
        "ReplicationTasks"
    ][0]
