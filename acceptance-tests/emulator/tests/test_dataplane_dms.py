"""DMS on the data plane: tasks that move real rows between real MariaDB / PostgreSQL servers.

The emulator runs in this process (the launcher's ``--data-plane`` set-up: data plane,
patches, network fronts; served over HTTP on loopback) so that the tests can reach the
servers behind the instances directly (``DbServer.connect``) to write and check rows. Every
RDS, EC2, DMS and CloudWatch call goes through boto3 and the emulator's HTTP front, as the
provider's do; DMS reaches the servers through the fronts from its replication instance's
address, so the instances' security groups (``dms_group``) judge it.
"""

from __future__ import annotations

import itertools
import json
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest

EMULATOR_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(EMULATOR_DIR))

pytestmark = pytest.mark.dataplane

TIME_SCALE = 0.001
_SEQ = itertools.count(1)


@pytest.fixture(scope="module")
def emulator() -> Iterator[str]:
    """The emulator app with the data plane on, on a free 127.0.0.1 port, in this process."""
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
    from werkzeug.serving import make_server

    import rdsemu
    from rdsemu.control import EmulatorApp
    from rdsemu.dataplane import DATAPLANE, net
    from rdsemu.state import STATE

    DATAPLANE.enable()
    # Instance addresses are allocated from 127.10.0.1 on in every emulator: start this one's
    # elsewhere so that another data-plane emulator on the same host (a colleague's demo)
    # does not hold our fronts' addresses.
    DATAPLANE.servers._next = 1000 + os.getpid() % 20_000
    rdsemu.install()
    net.start()  # fronts with security-group admission, and the relays DMS dials through
    STATE.launch_time_scale = TIME_SCALE
    STATE.set_time_scale(TIME_SCALE)
    server = make_server("127.0.0.1", 0, EmulatorApp(DomainDispatcherApplication(create_backend_app)), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.port}"
    finally:
        from rdsemu.dataplane.dms import wiring

        wiring.reset()
        server.shutdown()
        if net.NETWORK is not None:
            net.NETWORK.close()
        DATAPLANE.shutdown()


def _client(service: str, url: str) -> Any:
    return boto3.client(
        service,
        region_name="us-east-1",
        endpoint_url=url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


@pytest.fixture()
def dms(emulator: str) -> Any:
    """boto3 DMS client."""
    return _client("dms", emulator)


@pytest.fixture()
def rds(emulator: str) -> Any:
    """boto3 RDS client."""
    return _client("rds", emulator)


@pytest.fixture(scope="module")
def dms_group(emulator: str) -> str:
    """A VPC security group admitting the replication instances' addresses (127.20.0.0/16)
    on 3306 and 5432: the instances' fronts judge DMS's connections by it.
    """
    ec2 = _client("ec2", emulator)
    vpc = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
    group = str(ec2.create_security_group(GroupName="dms-access", Description="DMS", VpcId=vpc)["GroupId"])
    for port in (3306, 5432):
        ec2.authorize_security_group_ingress(
            GroupId=group,
            IpPermissions=[
                {"IpProtocol": "tcp", "FromPort": port, "ToPort": port, "IpRanges": [{"CidrIp": "127.20.0.0/16"}]}
            ],
        )
    return group


@pytest.fixture()
def cloudwatch(emulator: str) -> Any:
    """boto3 CloudWatch client."""
    return _client("cloudwatch", emulator)


def wait(probe: Callable[[], Any], accept: Callable[[Any], bool], timeout: float = 30.0) -> Any:
    """Poll until ``accept(probe())``; the last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if accept(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out; last value {value!r}")
        time.sleep(0.05)


_PARAM_GROUPS: set[str] = set()


def make_db(rds: Any, group: str, engine: str, snapshot: str | None = None) -> Any:
    """An RDS instance (created, or restored from ``snapshot``) in ``group`` with the
    parameters DMS needs (MariaDB binlog_format=ROW; PostgreSQL rds.logical_replication=1);
    the data-plane server behind it, once available.
    """
    from rdsemu.dataplane import DATAPLANE

    n = next(_SEQ)
    ident = f"dms-{engine}-{n}"
    pg_name = f"dms-{engine}-params"
    if pg_name not in _PARAM_GROUPS:
        family, values = (
            ("mariadb10.11", {"binlog_format": "ROW", "binlog_row_image": "FULL"})
            if engine == "mysql"
            else ("postgres16", {"rds.logical_replication": "1"})
        )
        rds.create_db_parameter_group(DBParameterGroupName=pg_name, DBParameterGroupFamily=family, Description="dms")
        rds.modify_db_parameter_group(
            DBParameterGroupName=pg_name,
            Parameters=[
                {"ParameterName": k, "ParameterValue": v, "ApplyMethod": "pending-reboot"} for k, v in values.items()
            ],
        )
        _PARAM_GROUPS.add(pg_name)
    common = {"DBInstanceIdentifier": ident, "DBParameterGroupName": pg_name, "VpcSecurityGroupIds": [group]}
    if snapshot is not None:
        rds.restore_db_instance_from_db_snapshot(DBSnapshotIdentifier=snapshot, DBInstanceClass="db.t3.micro", **common)
    else:
        if engine == "postgres":
            common["DBName"] = "app"
        rds.create_db_instance(
            Engine="mariadb" if engine == "mysql" else "postgres",
            DBInstanceClass="db.t3.micro",
            AllocatedStorage=20,
            MasterUsername="admin",
            MasterUserPassword="secret-pass-1",
            BackupRetentionPeriod=1,
            **common,
        )
    wait(
        lambda: rds.describe_db_instances(DBInstanceIdentifier=ident)["DBInstances"][0]["DBInstanceStatus"],
        lambda st: st == "available",
        timeout=60,
    )
    server = DATAPLANE.servers.by_identifier(ident)
    assert server is not None and server.running, f"no running server behind {ident}"
    return server


def drop(rds: Any, *servers: Any) -> None:
    """Delete the instances behind ``servers`` (their servers stop)."""
    for server in servers:
        if server is not None:
            rds.delete_db_instance(DBInstanceIdentifier=server.identifier, SkipFinalSnapshot=True)


def sql(server: Any, *statements: str, database: str | None = None) -> list[Any]:
    """Run statements (committed); the rows of the last one."""
    conn = server.connect(database=database)
    try:
        rows: list[Any] = []
        with conn.cursor() as cur:
            for stmt in statements:
                cur.execute(stmt)
                rows = list(cur.fetchall()) if cur.description else []
        conn.commit()
        return rows
    finally:
        conn.close()


class Dms:
    """A replication instance and endpoints for one source/target pair."""

    def __init__(self, dms: Any, source: Any, target: Any, target_eca: str | None = None) -> None:
        self.dms = dms
        n = next(_SEQ)
        self.ri = dms.create_replication_instance(
            ReplicationInstanceIdentifier=f"ri-{n}", ReplicationInstanceClass="dms.t3.medium"
        )["ReplicationInstance"]
        wait(
            lambda: dms.describe_replication_instances(
                Filters=[{"Name": "replication-instance-arn", "Values": [self.ri["ReplicationInstanceArn"]]}]
            )["ReplicationInstances"][0]["ReplicationInstanceStatus"],
            lambda s: s == "available",
        )
        self.arns = {}
        for kind, server, eca in (("source", source, None), ("target", target, target_eca)):
            kwargs: dict[str, Any] = {
                "EndpointIdentifier": f"{kind}-{n}",
                "EndpointType": kind,
                "EngineName": "mariadb" if server.engine == "mysql" else "postgres",
                "Username": server.master_user,
                "Password": server.master_password,
                "ServerName": server.hostname,
                "Port": server.port,
            }
            if server.engine == "postgres":
                kwargs["DatabaseName"] = "app"
            if eca:
                kwargs["ExtraConnectionAttributes"] = eca
            self.arns[kind] = dms.create_endpoint(**kwargs)["Endpoint"]["EndpointArn"]

    def task(
        self,
        migration: str,
        schema: str,
        settings: dict[str, Any] | None = None,
        exclude: str | None = None,
        **extra: Any,
    ) -> str:
        """Create a task on ``schema.%`` and wait until it is ready; its ARN."""
        rules: list[dict[str, Any]] = [
            {
                "rule-type": "selection",
                "rule-id": "1",
                "rule-name": "1",
                "object-locator": {"schema-name": schema, "table-name": "%"},
                "rule-action": "include",
            }
        ]
        if exclude:
            rules.append(
                {
                    "rule-type": "selection",
                    "rule-id": "2",
                    "rule-name": "2",
                    "object-locator": {"schema-name": schema, "table-name": exclude},
                    "rule-action": "exclude",
                }
            )
        arn = self.dms.create_replication_task(
            ReplicationTaskIdentifier=f"task-{next(_SEQ)}",
            SourceEndpointArn=self.arns["source"],
            TargetEndpointArn=self.arns["target"],
            ReplicationInstanceArn=self.ri["ReplicationInstanceArn"],
            MigrationType=migration,
            TableMappings=json.dumps({"rules": rules}),
            ReplicationTaskSettings=json.dumps(settings or {}),
            **extra,
        )["ReplicationTask"]["ReplicationTaskArn"]
        wait(lambda: self.describe(arn)["Status"], lambda s: s == "ready")
        return str(arn)

    def describe(self, arn: str) -> dict[str, Any]:
        """DescribeReplicationTasks for one task."""
        return dict(
            self.dms.describe_replication_tasks(Filters=[{"Name": "replication-task-arn", "Values": [arn]}])[
                "ReplicationTasks"
            ][0]
        )

    def tables(self, arn: str) -> dict[str, dict[str, Any]]:
        """DescribeTableStatistics by table name."""
        stats = self.dms.describe_table_statistics(ReplicationTaskArn=arn)["TableStatistics"]
        return {s["TableName"]: s for s in stats}

    def start(self, arn: str, start_type: str = "start-replication", **extra: Any) -> None:
        """StartReplicationTask and wait until it runs (or has stopped by itself)."""
        self.dms.start_replication_task(ReplicationTaskArn=arn, StartReplicationTaskType=start_type, **extra)
        wait(lambda: self.describe(arn)["Status"], lambda s: s in ("running", "stopped", "failed"))

    def stop(self, arn: str) -> dict[str, Any]:
        """StopReplicationTask and wait until stopped."""
        self.dms.stop_replication_task(ReplicationTaskArn=arn)
        return dict(wait(lambda: self.describe(arn), lambda d: d["Status"] == "stopped"))


PREP_SOURCE = (
    "CREATE DATABASE shop",
    "CREATE TABLE shop.items (id INT PRIMARY KEY, name VARCHAR(40) NOT NULL, parent INT NULL)",
    "INSERT INTO shop.items VALUES (1,'one',1),(2,'two',1),(3,'three',2),(4,'four',2),(5,'five',9)",
    "CREATE TABLE shop.secret (id INT PRIMARY KEY)",
    "INSERT INTO shop.secret VALUES (1)",
)
PREP_TARGET = (
    "CREATE DATABASE shop",
    "CREATE TABLE shop.parents (id INT PRIMARY KEY) ENGINE=InnoDB",
    # A child table whose foreign key no loaded row satisfies: only the endpoint's
    # initstmt (FOREIGN_KEY_CHECKS=0) lets the load in.
    "CREATE TABLE shop.items (id INT PRIMARY KEY, name VARCHAR(40) NOT NULL, parent INT NULL,"
    " note VARCHAR(10) DEFAULT 'kept', FOREIGN KEY (parent) REFERENCES shop.parents (id)) ENGINE=InnoDB",
    "INSERT INTO shop.parents VALUES (100)",
    "INSERT INTO shop.items (id, name, parent) VALUES (100,'old',100),(101,'older',100)",
)


@pytest.mark.parametrize(
    ("mode", "ids", "note_column"),
    [
        ("DROP_AND_CREATE", [1, 2, 3, 4, 5], False),
        ("TRUNCATE_BEFORE_LOAD", [1, 2, 3, 4, 5], True),
        ("DO_NOTHING", [1, 2, 3, 4, 5, 100, 101], True),
    ],
)
def test_full_load_copies_rows_per_target_table_prep_mode(
    rds: Any, dms_group: str, dms: Any, mode: str, ids: list[int], note_column: bool
) -> None:
    source, target = make_db(rds, dms_group, "mysql"), make_db(rds, dms_group, "mysql")
    try:
        sql(source, *PREP_SOURCE)
        sql(target, *PREP_TARGET)
        pair = Dms(dms, source, target, target_eca="initstmt=SET FOREIGN_KEY_CHECKS=0")
        arn = pair.task("full-load", "shop", {"FullLoadSettings": {"TargetTablePrepMode": mode}}, exclude="secret")
        pair.start(arn)
        done = wait(lambda: pair.describe(arn), lambda d: d["Status"] in ("stopped", "failed"))
        assert done["Status"] == "stopped", done.get("LastFailureMessage")
        assert done["StopReason"] == "Stop Reason FULL_LOAD_ONLY_FINISHED"
        assert done["ReplicationTaskStats"]["FullLoadProgressPercent"] == 100
        assert done["ReplicationTaskStats"]["TablesLoaded"] == 1
        assert [r[0] for r in sql(target, "SELECT id FROM shop.items ORDER BY id")] == ids
        columns = [
            r[0]
            for r in sql(
                target,
                "SELECT column_name FROM information_schema.columns WHERE table_schema='shop' AND table_name='items'",
            )
        ]
        assert ("note" in columns) is note_column
        # The exclude rule kept shop.secret out.
        assert (
            sql(
                target,
                "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema='shop' AND table_name='secret'",
            )[0][0]
            == 0
        )
        stats = pair.tables(arn)
        assert set(stats) == {"items"}
        assert stats["items"]["FullLoadRows"] == 5
        assert stats["items"]["TableState"] == "Table completed"
    finally:
        drop(rds, source, target)


def _rows(server: Any, table: str, database: str | None = None) -> list[tuple[Any, ...]]:
    return [tuple(r) for r in sql(server, f"SELECT * FROM {table} ORDER BY 1", database=database)]


def test_cdc_from_a_restored_snapshots_reported_position_makes_source_and_target_equal(
    rds: Any, dms_group: str, dms: Any
) -> None:
    source = make_db(rds, dms_group, "mysql")
    restored = None
    try:
        sql(
            source,
            "CREATE DATABASE shop",
            "CREATE TABLE shop.orders (id INT PRIMARY KEY, qty INT NOT NULL, state VARCHAR(10))",
            "INSERT INTO shop.orders VALUES (1,1,'new'),(2,2,'new'),(3,3,'new')",
        )
        snap_id = f"{source.identifier}-snap"
        rds.create_db_snapshot(DBInstanceIdentifier=source.identifier, DBSnapshotIdentifier=snap_id)
        wait(
            lambda: rds.describe_db_snapshots(DBSnapshotIdentifier=snap_id)["DBSnapshots"][0]["Status"],
            lambda st: st == "available",
            timeout=60,
        )
        # Committed after the snapshot: only CDC from its position brings these over.
        sql(source, "INSERT INTO shop.orders VALUES (4,4,'new')", "UPDATE shop.orders SET state='paid' WHERE id=1")
        sql(source, "DELETE FROM shop.orders WHERE id=2")
        restored = make_db(rds, dms_group, "mysql", snapshot=snap_id)
        assert _rows(restored, "shop.orders") == [(1, 1, "new"), (2, 2, "new"), (3, 3, "new")]
        # RDS reports the restored snapshot's binlog position as an event of the new instance.
        events = rds.describe_events(SourceIdentifier=restored.identifier, SourceType="db-instance")["Events"]
        message = next(e["Message"] for e in events if e["Message"].startswith("Binlog position from crash recovery"))
        file, pos = message.rsplit(" ", 2)[-2:]
        pair = Dms(dms, source, restored)
        position = f"{file}:{pos}"
        arn = pair.task(
            "cdc", "shop", {"FullLoadSettings": {"TargetTablePrepMode": "DO_NOTHING"}}, CdcStartPosition=position
        )
        pair.start(arn)
        for i in range(5, 25):
            sql(
                source,
                f"INSERT INTO shop.orders VALUES ({i},{i},'new')",
                f"UPDATE shop.orders SET qty=qty+1 WHERE id={i - 1}",
            )
        final = _rows(source, "shop.orders")
        wait(lambda: _rows(restored, "shop.orders"), lambda rows: rows == final)
        described = pair.describe(arn)
        assert described["Status"] == "running"
        assert described["CdcStartPosition"] == position
        assert described["RecoveryCheckpoint"].startswith("checkpoint:V1#")
        stats = pair.tables(arn)["orders"]
        assert (stats["Inserts"], stats["Updates"], stats["Deletes"]) == (21, 21, 1)
        pair.stop(arn)
    finally:
        drop(rds, source, restored)


def test_security_groups_judge_the_replication_instances_address(rds: Any, dms_group: str, dms: Any) -> None:
    ec2 = _client("ec2", dms.meta.endpoint_url)
    vpc = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
    closed = str(ec2.create_security_group(GroupName=f"closed-{next(_SEQ)}", Description="x", VpcId=vpc)["GroupId"])
    source, target = make_db(rds, dms_group, "mysql"), make_db(rds, dms_group, "mysql")
    try:
        sql(source, "CREATE DATABASE shop", "CREATE TABLE shop.t (id INT PRIMARY KEY)", "INSERT INTO shop.t VALUES (1)")
        pair = Dms(dms, source, target)
        address = pair.ri["ReplicationInstancePrivateIpAddress"]
        assert address.startswith("127.20.")
        rds.modify_db_instance(
            DBInstanceIdentifier=source.identifier, VpcSecurityGroupIds=[closed], ApplyImmediately=True
        )
        arn = pair.task("full-load", "shop")
        pair.start(arn)
        failed = wait(lambda: pair.describe(arn), lambda d: d["Status"] in ("failed", "stopped"))
        assert failed["Status"] == "failed", failed
        # The group admits the replication instance's address: the same task now loads.
        ec2.authorize_security_group_ingress(
            GroupId=closed,
            IpPermissions=[
                {"IpProtocol": "tcp", "FromPort": 3306, "ToPort": 3306, "IpRanges": [{"CidrIp": f"{address}/32"}]}
            ],
        )
        pair.start(arn, "reload-target")
        done = wait(lambda: pair.describe(arn), lambda d: d["Status"] in ("failed", "stopped"))
        assert done["Status"] == "stopped", done.get("LastFailureMessage")
        assert _rows(target, "shop.t") == [(1,)]
    finally:
        drop(rds, source, target)


def test_stop_and_resume_from_the_checkpoint_neither_loses_nor_repeats_a_change(
    rds: Any, dms_group: str, dms: Any
) -> None:
    source, target = make_db(rds, dms_group, "postgres"), make_db(rds, dms_group, "postgres")
    try:
        sql(source, "CREATE TABLE events (id SERIAL PRIMARY KEY, n INT NOT NULL)", database="app")
        # No primary key on the target: a change applied twice would show as a duplicate row.
        # The serial's sequence shows that DMS does not replicate sequences.
        sql(target, "CREATE TABLE events (id SERIAL, n INT NOT NULL)", database="app")
        pair = Dms(dms, source, target)
        arn = pair.task("full-load-and-cdc", "public", {"FullLoadSettings": {"TargetTablePrepMode": "DO_NOTHING"}})
        pair.start(arn)
        stop_writer = threading.Event()
        written = [0]

        def writer() -> None:
            conn = source.connect(database="app")
            try:
                while not stop_writer.is_set() and written[0] < 400:
                    with conn.cursor() as cur:
                        cur.execute("INSERT INTO events (n) VALUES (%s)", (written[0],))
                    conn.commit()
                    written[0] += 1
                    time.sleep(0.002)
            finally:
                conn.close()

        thread = threading.Thread(target=writer)
        thread.start()
        wait(lambda: written[0], lambda n: n >= 80)
        stopped = pair.stop(arn)
        checkpoint = stopped["RecoveryCheckpoint"]
        assert checkpoint.startswith("checkpoint:V1#")
        applied_at_stop = sql(target, "SELECT COUNT(*) FROM events", database="app")[0][0]
        time.sleep(0.3)
        # Stopped means stopped: nothing more is applied while the writer goes on.
        assert sql(target, "SELECT COUNT(*) FROM events", database="app")[0][0] == applied_at_stop
        assert written[0] > applied_at_stop
        pair.start(arn, "resume-processing")
        thread.join(timeout=60)
        assert not thread.is_alive()
        source_rows = _rows(source, "events", database="app")
        assert len(source_rows) == 400
        wait(lambda: _rows(target, "events", database="app"), lambda rows: rows == source_rows)
        assert sql(target, "SELECT COUNT(*), COUNT(DISTINCT id) FROM events", database="app")[0] == (400, 400)
        # Sequences are not replicated: the target's own sequence was never used.
        assert sql(target, "SELECT last_value, is_called FROM events_id_seq", database="app")[0] == (1, False)
        assert pair.describe(arn)["RecoveryCheckpoint"] != checkpoint
        pair.stop(arn)
    finally:
        drop(rds, source, target)


def test_postgresql_source_refuses_a_date_as_cdc_start_position(rds: Any, dms_group: str, dms: Any) -> None:
    source, target = make_db(rds, dms_group, "postgres"), make_db(rds, dms_group, "postgres")
    try:
        pair = Dms(dms, source, target)
        arn = pair.task("cdc", "public")
        with pytest.raises(dms.exceptions.ClientError) as err:
            dms.start_replication_task(
                ReplicationTaskArn=arn,
                StartReplicationTaskType="start-replication",
                CdcStartPosition="2026-01-01T00:00:00",
            )
        assert "InvalidParameterValue" in str(err.value)
        assert pair.describe(arn)["Status"] == "ready"
    finally:
        drop(rds, source, target)


def _latency(cloudwatch: Any, arn_id: str, metric: str, start: float, end: float) -> list[float]:
    points = cloudwatch.get_metric_statistics(
        Namespace="AWS/DMS",
        MetricName=metric,
        Dimensions=[{"Name": "ReplicationTaskIdentifier", "Value": arn_id}],
        StartTime=datetime.fromtimestamp(start, tz=UTC),
        EndTime=datetime.fromtimestamp(end, tz=UTC),
        Period=1,
        Statistics=["Maximum"],
    )["Datapoints"]
    return [float(p["Maximum"]) for p in points]


def test_cdc_latency_rises_when_apply_is_slowed(
    rds: Any, dms_group: str, dms: Any, cloudwatch: Any, emulator: str
) -> None:
    from client import EmulatorClient

    source, target = make_db(rds, dms_group, "mysql"), make_db(rds, dms_group, "mysql")
    try:
        sql(source, "CREATE DATABASE shop", "CREATE TABLE shop.t (id INT PRIMARY KEY)")
        pair = Dms(dms, source, target)
        arn = pair.task("full-load-and-cdc", "shop")
        pair.start(arn)
        wait(lambda: pair.describe(arn)["ReplicationTaskStats"].get("FullLoadProgressPercent"), lambda p: p == 100)
        task_id = arn.rsplit(":", 1)[-1]
        t0 = time.time()
        for i in range(5):
            sql(source, f"INSERT INTO shop.t VALUES ({i})")
        wait(lambda: sql(target, "SELECT COUNT(*) FROM shop.t")[0][0], lambda n: n == 5)
        time.sleep(1.2)
        t1 = time.time()
        # 1000 AWS seconds before each transaction = 1 s real at scale 0.001.
        emu = EmulatorClient(emulator)
        assert emu.set_apply_delay(arn, 1000)["seconds"] == 1000
        for i in range(5, 10):
            sql(source, f"INSERT INTO shop.t VALUES ({i})")
        wait(lambda: sql(target, "SELECT COUNT(*) FROM shop.t")[0][0], lambda n: n == 10, timeout=30)
        t2 = time.time()
        fast = _latency(cloudwatch, task_id, "CDCLatencyTarget", t0 - 1, t1)
        slow = _latency(cloudwatch, task_id, "CDCLatencyTarget", t1, t2 + 1)
        assert fast and slow
        # Emulated seconds: the last change waited ~5 x 1 s real = ~5000 AWS seconds on top of
        # whatever the emulator's own work costs (which a loaded machine stretches, so it is
        # compared side by side, not with a fixed bound).
        assert max(slow) > max(fast) + 3500
        # Capture kept up: the bottleneck shows on the target side only.
        assert max(_latency(cloudwatch, task_id, "CDCLatencySource", t1, t2 + 1)) < max(slow) / 2
        pair.stop(arn)
    finally:
        drop(rds, source, target)


def test_an_errored_table_is_suspended_and_counted(rds: Any, dms_group: str, dms: Any) -> None:
    source, target = make_db(rds, dms_group, "mysql"), make_db(rds, dms_group, "mysql")
    try:
        sql(
            source,
            "CREATE DATABASE shop",
            "CREATE TABLE shop.good (id INT PRIMARY KEY, v INT)",
            "CREATE TABLE shop.bad (id INT PRIMARY KEY, v INT)",
            "INSERT INTO shop.good VALUES (1,1)",
            "INSERT INTO shop.bad VALUES (1,1)",
        )
        # The target's shop.bad lacks a column: loading it is a table error.
        sql(target, "CREATE DATABASE shop", "CREATE TABLE shop.bad (id INT PRIMARY KEY)")
        pair = Dms(dms, source, target)
        arn = pair.task("full-load-and-cdc", "shop", {"FullLoadSettings": {"TargetTablePrepMode": "DO_NOTHING"}})
        pair.start(arn)
        tables = wait(
            lambda: pair.tables(arn),
            lambda t: (
                t.get("bad", {}).get("TableState") == "Table error"
                and t.get("good", {}).get("TableState") == "Table completed"
            ),
        )
        assert tables["good"]["FullLoadRows"] == 1
        sql(source, "INSERT INTO shop.good VALUES (2,2)", "INSERT INTO shop.bad VALUES (2,2)")
        wait(lambda: _rows(target, "shop.good"), lambda rows: rows == [(1, 1), (2, 2)])
        described = pair.describe(arn)
        # SUSPEND_TABLE (the default): the task runs on, the table is counted and left behind.
        assert described["Status"] == "running"
        assert described["ReplicationTaskStats"]["TablesErrored"] == 1
        assert _rows(target, "shop.bad") == []
        assert pair.tables(arn)["bad"]["Inserts"] == 0
        pair.stop(arn)

        # STOP_TASK: the same error fails the task.
        arn2 = pair.task(
            "full-load-and-cdc",
            "shop",
            {
                "FullLoadSettings": {"TargetTablePrepMode": "DO_NOTHING"},
                "ErrorBehavior": {"TableErrorPolicy": "STOP_TASK"},
            },
        )
        pair.start(arn2)
        failed = wait(lambda: pair.describe(arn2), lambda d: d["Status"] == "failed")
        assert "bad" in failed["LastFailureMessage"]
    finally:
        drop(rds, source, target)


# Task settings of the validation tests: the target's tables are the tests' own.
VALIDATING = {
    "FullLoadSettings": {"TargetTablePrepMode": "DO_NOTHING"},
    "ValidationSettings": {"EnableValidation": True},
}


def test_validation_reports_a_planted_mismatch(rds: Any, dms_group: str, dms: Any) -> None:
    source, target = make_db(rds, dms_group, "postgres"), make_db(rds, dms_group, "postgres")
    try:
        sql(
            source,
            "CREATE TABLE a (id INT PRIMARY KEY, v TEXT)",
            "CREATE TABLE b (id INT PRIMARY KEY, v TEXT)",
            "INSERT INTO a VALUES (1,'x'),(2,'y'),(3,'z')",
            "INSERT INTO b VALUES (1,'x'),(2,'y')",
            database="app",
        )
        # DMS applies rows as an ordinary client, so the target's trigger fires and plants
        # one wrong row.
        sql(
            target,
            "CREATE TABLE a (id INT PRIMARY KEY, v TEXT)",
            "CREATE TABLE b (id INT PRIMARY KEY, v TEXT)",
            "CREATE FUNCTION plant() RETURNS trigger LANGUAGE plpgsql AS"
            " $$ BEGIN IF NEW.id = 2 THEN NEW.v := 'planted'; END IF; RETURN NEW; END $$",
            "CREATE TRIGGER plant BEFORE INSERT ON a FOR EACH ROW EXECUTE FUNCTION plant()",
            database="app",
        )
        pair = Dms(dms, source, target)
        arn = pair.task("full-load", "public", VALIDATING)
        pair.start(arn)
        wait(lambda: pair.describe(arn)["Status"], lambda s: s == "stopped")
        tables = pair.tables(arn)
        assert tables["a"]["ValidationState"] == "Mismatched records"
        assert tables["a"]["ValidationFailedRecords"] == 1
        assert tables["b"]["ValidationState"] == "Validated"
        assert tables["b"]["ValidationFailedRecords"] == 0
        assert _rows(target, "a", database="app")[1] == (2, "planted")
    finally:
        drop(rds, source, target)


def test_validation_during_cdc_ignores_rows_in_flight_and_reports_a_persistent_mismatch(
    rds: Any, dms_group: str, dms: Any, emulator: str
) -> None:
    from client import EmulatorClient

    source, target = make_db(rds, dms_group, "mysql"), make_db(rds, dms_group, "mysql")
    stop = threading.Event()
    writer: threading.Thread | None = None
    try:
        sql(
            source,
            "CREATE DATABASE shop",
            "CREATE TABLE shop.a (id INT PRIMARY KEY, v VARCHAR(20))",
            "CREATE TABLE shop.b (id INT PRIMARY KEY, v INT)",
            "INSERT INTO shop.b VALUES (0, 0)",
        )
        # A row the target holds and the source does not: DMS's insert of id 2 then fails
        # (duplicate key, LOG_ERROR: skipped), a mismatch no amount of CDC resolves.
        sql(
            target,
            "CREATE DATABASE shop",
            "CREATE TABLE shop.a (id INT PRIMARY KEY, v VARCHAR(20))",
            "CREATE TABLE shop.b (id INT PRIMARY KEY, v INT)",
            "INSERT INTO shop.a VALUES (2, 'planted')",
        )
        pair = Dms(dms, source, target)
        arn = pair.task("full-load-and-cdc", "shop", VALIDATING)
        pair.start(arn)
        wait(lambda: pair.tables(arn).get("b", {}).get("ValidationState"), lambda s: s == "Validated")
        sql(source, "INSERT INTO shop.a VALUES (1, 'x'), (2, 'y'), (3, 'z')")
        wait(lambda: _rows(target, "shop.a"), lambda rows: len(rows) == 3)
        # A slow apply (200 AWS s = 0.2 s real per source transaction) while shop.b's row
        # changes about eight times a second: the target's shop.b stays behind the source's.
        assert EmulatorClient(emulator).set_apply_delay(arn, 200)["seconds"] == 200

        def write() -> None:
            i = 0
            while not stop.is_set():
                i += 1
                sql(source, f"UPDATE shop.b SET v = {i} WHERE id = 0")
                time.sleep(0.1)

        writer = threading.Thread(target=write, daemon=True)
        writer.start()
        in_flight = compared = 0
        pending = 0
        for _ in range(40):
            tables = pair.tables(arn)
            assert tables["a"]["ValidationState"] == "Mismatched records"
            assert tables["a"]["ValidationFailedRecords"] == 1
            # shop.b is compared at points CDC has reached, never against changes still queued.
            assert tables["b"]["ValidationState"] == "Validated"
            assert tables["b"]["ValidationFailedRecords"] == 0
            if _rows(source, "shop.b") != _rows(target, "shop.b"):
                in_flight += 1
            # Applied changes wait for the next comparison; a comparison clears them.
            if tables["b"]["ValidationPendingRecords"] < pending:
                compared += 1
            pending = tables["b"]["ValidationPendingRecords"]
            time.sleep(0.1)
        # The rows did differ while validation compared them: a comparison with the source as it
        # is now would have failed them.
        assert in_flight > 0
        assert compared > 0
        assert tables["b"]["Updates"] > 0
        assert _rows(target, "shop.a")[1] == (2, "planted")
        stop.set()
        writer.join(timeout=10)
        pair.stop(arn)
    finally:
        stop.set()
        if writer is not None:
            writer.join(timeout=10)
        drop(rds, source, target)


@pytest.mark.parametrize("kind", ["commit_time", "server_time"])
def test_cdc_stop_position_stops_the_task_with_the_documented_reason(
    rds: Any, dms_group: str, dms: Any, kind: str
) -> None:
    source, target = make_db(rds, dms_group, "mysql"), make_db(rds, dms_group, "mysql")
    try:
        sql(source, "CREATE DATABASE shop", "CREATE TABLE shop.t (id INT PRIMARY KEY)")
        sql(target, "CREATE DATABASE shop", "CREATE TABLE shop.t (id INT PRIMARY KEY)")
        conn = source.connect()
        with conn.cursor() as cur:
            cur.execute("SHOW MASTER STATUS")
            file, pos = cur.fetchone()[:2]
        conn.close()
        sql(source, "INSERT INTO shop.t VALUES (1)", "INSERT INTO shop.t VALUES (2)")
        time.sleep(1.1)  # binlog commit times are whole seconds
        commit_stop = datetime.fromtimestamp(time.time(), tz=UTC)
        time.sleep(1.1)
        sql(source, "INSERT INTO shop.t VALUES (3)")
        pair = Dms(dms, source, target)
        start = {"CdcStartPosition": f"{file}:{pos}"}
        if kind == "commit_time":
            arn = pair.task(
                "cdc",
                "shop",
                {"FullLoadSettings": {"TargetTablePrepMode": "DO_NOTHING"}},
                CdcStopPosition=f"commit_time:{commit_stop.strftime('%Y-%m-%dT%H:%M:%S')}",
            )
        else:
            arn = pair.task("cdc", "shop", {"FullLoadSettings": {"TargetTablePrepMode": "DO_NOTHING"}})
            # Given at start: the server time three seconds from now.
            server_stop = datetime.fromtimestamp(time.time() + 3, tz=UTC)
            start["CdcStopPosition"] = f"server_time:{server_stop.strftime('%Y-%m-%dT%H:%M:%S')}"
        pair.start(arn, **start)
        done = wait(lambda: pair.describe(arn), lambda d: d["Status"] in ("stopped", "failed"), timeout=20)
        assert done["Status"] == "stopped"
        expected = "STOPPED_AT_COMMIT_TIME" if kind == "commit_time" else "STOPPED_AT_SERVER_TIME"
        assert done["StopReason"] == f"Stop Reason {expected}"
        applied = [r[0] for r in sql(target, "SELECT id FROM shop.t ORDER BY id")]
        # commit_time: changes committed before the stop time only. server_time: everything
        # committed before the task stopped.
        assert applied == ([1, 2] if kind == "commit_time" else [1, 2, 3])
    finally:
        drop(rds, source, target)


def test_mysql_start_points_checkpoint_and_date(rds: Any, dms_group: str, dms: Any) -> None:
    source, target = make_db(rds, dms_group, "mysql"), make_db(rds, dms_group, "mysql")
    try:
        sql(source, "CREATE DATABASE shop", "CREATE TABLE shop.t (id INT PRIMARY KEY)")
        # No key on the target: a change applied twice would show as a duplicate row.
        sql(target, "CREATE DATABASE shop", "CREATE TABLE shop.t (id INT)")
        pair = Dms(dms, source, target)
        settings = {"FullLoadSettings": {"TargetTablePrepMode": "DO_NOTHING"}}
        first = pair.task("cdc", "shop", settings)
        pair.start(first)
        time.sleep(0.3)
        for i in range(1, 11):
            sql(source, f"INSERT INTO shop.t VALUES ({i})")
        wait(lambda: sql(target, "SELECT COUNT(*) FROM shop.t")[0][0], lambda n: n == 10)
        checkpoint = pair.stop(first)["RecoveryCheckpoint"]
        for i in range(11, 21):
            sql(source, f"INSERT INTO shop.t VALUES ({i})")
        # A new task from the first one's checkpoint continues exactly where it stopped.
        second = pair.task("cdc", "shop", settings, CdcStartPosition=checkpoint)
        pair.start(second)
        wait(lambda: sql(target, "SELECT COUNT(*) FROM shop.t")[0][0], lambda n: n >= 20)
        time.sleep(0.3)
        assert [r[0] for r in sql(target, "SELECT id FROM shop.t ORDER BY id")] == list(range(1, 21))
        assert pair.tables(second)["t"]["Inserts"] == 10
        pair.stop(second)

        # A date: the first transaction committed at or after it (binlog times are whole seconds).
        time.sleep(1.1)
        since = datetime.fromtimestamp(time.time(), tz=UTC).replace(microsecond=0) + timedelta(seconds=1)
        time.sleep(max(0.0, since.timestamp() - time.time()) + 0.1)
        for i in range(21, 26):
            sql(source, f"INSERT INTO shop.t VALUES ({i})")
        sql(target, "DELETE FROM shop.t")
        third = pair.task("cdc", "shop", settings, CdcStartTime=since)
        pair.start(third)
        wait(lambda: sql(target, "SELECT COUNT(*) FROM shop.t")[0][0], lambda n: n >= 5)
        time.sleep(0.3)
        assert [r[0] for r in sql(target, "SELECT id FROM shop.t ORDER BY id")] == list(range(21, 26))
        pair.stop(third)
    finally:
        drop(rds, source, target)


def test_postgresql_named_slot_and_native_lsn_start(rds: Any, dms_group: str, dms: Any) -> None:
    source, target = make_db(rds, dms_group, "postgres"), make_db(rds, dms_group, "postgres")
    try:
        sql(source, "CREATE TABLE t (id INT PRIMARY KEY)", database="app")
        sql(target, "CREATE TABLE t (id INT PRIMARY KEY)", database="app")
        sql(source, "SELECT pg_create_logical_replication_slot('rdsenc_slot', 'test_decoding')", database="app")
        sql(source, "INSERT INTO t VALUES (1)", database="app")
        lsn = sql(source, "SELECT pg_current_wal_lsn()::text", database="app")[0][0]
        sql(source, "INSERT INTO t VALUES (2)", "INSERT INTO t VALUES (3)", database="app")
        ep = dms.create_endpoint(
            EndpointIdentifier=f"slot-src-{next(_SEQ)}",
            EndpointType="source",
            EngineName="postgres",
            Username=source.master_user,
            Password=source.master_password,
            ServerName=source.hostname,
            Port=source.port,
            DatabaseName="app",
            ExtraConnectionAttributes="slotName=rdsenc_slot",
        )["Endpoint"]["EndpointArn"]
        pair = Dms(dms, source, target)
        pair.arns["source"] = ep
        arn = pair.task(
            "cdc", "public", {"FullLoadSettings": {"TargetTablePrepMode": "DO_NOTHING"}}, CdcStartPosition=lsn
        )
        pair.start(arn)
        # Row 1 committed before the LSN: only 2 and 3 (and later changes) are replicated.
        sql(source, "INSERT INTO t VALUES (4)", database="app")
        wait(lambda: _rows(target, "t", database="app"), lambda rows: rows == [(2,), (3,), (4,)])
        confirmed = sql(
            source, "SELECT confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name='rdsenc_slot'"
        )[0][0]
        # The checkpoint names the last applied commit: the slot was confirmed exactly there.
        assert pair.describe(arn)["RecoveryCheckpoint"].split("#")[2] == confirmed
        pair.stop(arn)
        # A named slot that does not exist fails the task.
        dms.modify_endpoint(EndpointArn=ep, ExtraConnectionAttributes="slotName=missing_slot")
        arn2 = pair.task("cdc", "public")
        pair.start(arn2)
        failed = wait(lambda: pair.describe(arn2), lambda d: d["Status"] == "failed")
        assert "missing_slot" in failed["LastFailureMessage"]
    finally:
        drop(rds, source, target)


# Statements that hold each DMS connection to the target for two seconds: the target endpoint's
# after-connect script (MySQL ``initstmt``, PostgreSQL ``afterConnectScript``).
HOLD_TARGET_CONNECT = {"mysql": "initstmt=SELECT SLEEP(2)", "postgres": "afterConnectScript=SELECT pg_sleep(2)"}


@pytest.mark.parametrize("engine", ["mysql", "postgres"])
@pytest.mark.parametrize("before_first_apply", [False, True], ids=["while-applying", "before-first-apply"])
def test_a_target_reboot_is_a_recoverable_error_and_cdc_resumes_from_its_checkpoint(
    rds: Any, dms_group: str, dms: Any, engine: str, before_first_apply: bool
) -> None:
    source, target = make_db(rds, dms_group, engine), make_db(rds, dms_group, engine)
    database, schema, table = (None, "shop", "shop.t") if engine == "mysql" else ("app", "public", "t")
    try:
        if engine == "mysql":
            sql(source, "CREATE DATABASE shop")
        sql(source, f"CREATE TABLE {table} (id INT PRIMARY KEY)", database=database)
        # before-first-apply: CDC's first connection to the target is still being set up when
        # the changes are committed and the target reboots, so no change has been applied
        # when the connection drops. The restart must resume from where CDC started, not
        # from the end of the source's log it then finds.
        pair = Dms(dms, source, target, target_eca=HOLD_TARGET_CONNECT[engine] if before_first_apply else None)
        arn = pair.task("full-load-and-cdc", schema, {"ErrorBehavior": {"RecoverableErrorInterval": 1}})
        pair.start(arn)
        wait(lambda: pair.describe(arn)["ReplicationTaskStats"].get("FullLoadProgressPercent"), lambda p: p == 100)
        for i in range(1, 11):
            sql(source, f"INSERT INTO {table} VALUES ({i})", database=database)
        # The reboot drops DMS's connections to the target while changes keep coming.
        rds.reboot_db_instance(DBInstanceIdentifier=target.identifier)
        for i in range(11, 31):
            sql(source, f"INSERT INTO {table} VALUES ({i})", database=database)
        wait(
            lambda: rds.describe_db_instances(DBInstanceIdentifier=target.identifier)["DBInstances"][0][
                "DBInstanceStatus"
            ],
            lambda st: st == "available",
            timeout=60,
        )
        wait(
            lambda: _rows(target, table, database=database) if target.running else [],
            lambda rows: len(rows) >= 30,
            timeout=60,
        )
        assert _rows(target, table, database=database) == [(i,) for i in range(1, 31)]
        assert pair.describe(arn)["Status"] == "running"
        from rdsemu.dataplane.dms import wiring

        assert wiring.RUNS[arn].recoveries >= 1  # the task did lose its connection and restart
        pair.stop(arn)
    finally:
        drop(rds, source, target)


@pytest.mark.parametrize("engine", ["mysql", "postgres"])
def test_a_cdc_task_started_without_a_position_captures_every_change_from_running_on_and_across_a_stop(
    rds: Any, dms_group: str, dms: Any, engine: str
) -> None:
    source, target = make_db(rds, dms_group, engine), make_db(rds, dms_group, engine)
    pg = engine == "postgres"
    db, schema = ("app", "public") if pg else (None, "cdcnow")
    table = "t" if pg else "cdcnow.t"
    try:
        for server in (source, target):
            if not pg:
                sql(server, "CREATE DATABASE cdcnow")
            sql(server, f"CREATE TABLE {table} (id INT PRIMARY KEY)", database=db)
        # Committed before the start: CDC without a position starts after it.
        sql(source, f"INSERT INTO {table} VALUES (1)", database=db)
        # Every DMS connection to the target takes two seconds, so the task is still connecting
        # long after its task_start duration: it must not report running before it has fixed
        # where CDC reads from.
        pair = Dms(dms, source, target, target_eca=HOLD_TARGET_CONNECT[engine])
        arn = pair.task("cdc", schema, {"FullLoadSettings": {"TargetTablePrepMode": "DO_NOTHING"}})
        pair.start(arn)
        assert pair.describe(arn)["Status"] == "running"
        sql(source, f"INSERT INTO {table} VALUES (2)", database=db)
        # Stopped at once (rdsenc's identifier swap holds the reverse task so): the checkpoint
        # keeps the start position, and what is committed meanwhile follows on resume.
        pair.stop(arn)
        sql(source, f"INSERT INTO {table} VALUES (3)", database=db)
        pair.start(arn, "resume-processing")
        sql(source, f"INSERT INTO {table} VALUES (4)", database=db)
        wait(
            lambda: _rows(target, table, database=db),
            lambda rows: rows == [(2,), (3,), (4,)],
            timeout=60.0,
        )
        pair.stop(arn)
    finally:
        drop(rds, source, target)
