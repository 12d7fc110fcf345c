"""Data plane: a real MariaDB / PostgreSQL server behind every emulated DB instance.

These tests run against a second emulator started with ``--data-plane`` (fixture
``dataplane_url``) and talk to the servers straight at their internal address (the
fronts and DNS of the contract's other modules are not needed here).
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psycopg
import pymysql
import pytest
from conftest import launch_emulator, stop_emulator

from client import EmulatorClient
from emu_support import request_instance, wait_for
from net_support import aws_client

pytestmark = pytest.mark.dataplane

PASSWORD = "not-a-secret-1"


# --------------------------------------------------------------------------- helpers


def server_of(emu: EmulatorClient, ident: str) -> dict[str, Any]:
    """The data-plane view of the server behind instance ``ident``."""
    for server in emu.dataplane()["servers"]:
        if server["identifier"] == ident:
            return dict(server)
    raise AssertionError(f"no server for {ident}: {emu.dataplane()['servers']!r}")


def connect(server: dict[str, Any], password: str | None = None, database: str | None = None) -> Any:
    """A client session as the master user, straight to the server."""
    pw = server["master_password"] if password is None else password
    if server["engine"] == "postgres":
        return psycopg.connect(
            host=server["internal_host"],
            port=server["internal_port"],
            user=server["master_user"],
            password=pw,
            dbname=database or server["db_name"] or "postgres",
            connect_timeout=5,
            autocommit=True,
        )
    return pymysql.connect(
        host=server["internal_host"],
        port=server["internal_port"],
        user=server["master_user"],
        password=pw,
        database=database or server["db_name"],
        connect_timeout=5,
        autocommit=True,
    )


def rows(conn: Any, sql: str) -> list[tuple[Any, ...]]:
    """All rows of a query."""
    with conn.cursor() as cur:
        cur.execute(sql)
        return [tuple(r) for r in cur.fetchall()]


def execute(conn: Any, sql: str) -> None:
    """One statement (autocommit)."""
    with conn.cursor() as cur:
        cur.execute(sql)


def status(rds: Any, ident: str) -> str:
    """DBInstanceStatus."""
    return str(rds.describe_db_instances(DBInstanceIdentifier=ident)["DBInstances"][0]["DBInstanceStatus"])


def wait_status(rds: Any, ident: str, wanted: str, timeout: float = 90) -> list[str]:
    """Poll until the instance shows ``wanted``; return the statuses seen (``failed`` ends the wait)."""
    seen = wait_for(lambda: status(rds, ident), lambda s: s in (wanted, "failed"), timeout=timeout, interval=0.05)
    if seen[-1] != wanted:
        emu = EmulatorClient(rds.meta.endpoint_url)
        errors = {s["identifier"]: s["error"] for s in emu.dataplane()["servers"]}
        raise AssertionError(f"{ident} is {seen[-1]}: {errors}")
    return seen


def create(rds: Any, ident: str, engine: str = "mysql", **extra: Any) -> None:
    """CreateDBInstance with the test's master credentials; wait for ``available``."""
    request_instance(rds, ident, engine, MasterUserPassword=PASSWORD, BackupRetentionPeriod=1, **extra)
    wait_status(rds, ident, "available")


def table_t(conn: Any, *ids: int) -> None:
    """CREATE TABLE t (id int primary key) holding ``ids``."""
    execute(conn, "CREATE TABLE t (id int primary key)")
    if ids:
        execute(conn, "INSERT INTO t VALUES " + ", ".join(f"({i})" for i in ids))


def assert_applied_at_reboot(
    dp_emu: EmulatorClient, dp_rds: Any, ident: str, query: str, before: str, after: str
) -> None:
    """A parameter change pending a reboot: ``query`` answers ``before`` until RebootDBInstance,
    ``after`` once the instance is available again.
    """
    assert _apply_status(dp_rds, ident) == "pending-reboot"
    assert rows(connect(server_of(dp_emu, ident)), query) == [(before,)]
    dp_rds.reboot_db_instance(DBInstanceIdentifier=ident)
    wait_status(dp_rds, ident, "available")
    assert _apply_status(dp_rds, ident) == "in-sync"
    assert rows(connect(server_of(dp_emu, ident)), query) == [(after,)]


def alive(pid: int) -> bool:
    """Whether a process exists (zombies count as gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


def refused(server: dict[str, Any]) -> bool:
    """Whether a new connection to the server fails."""
    try:
        connect(server).close()
    except (pymysql.err.OperationalError, psycopg.OperationalError):
        return True
    return False


# --------------------------------------------------------------------------- tests


@pytest.mark.parametrize(("engine", "probe"), [("mysql", "SELECT VERSION()"), ("postgres", "SELECT version()")])
def test_instance_answers_sql_with_its_master_credentials(
    dp_emu: EmulatorClient, dp_rds: Any, engine: str, probe: str
) -> None:
    create(dp_rds, "sql1", engine, DBName="app")
    server = server_of(dp_emu, "sql1")
    assert server["running"] and server["master_user"] == "admin"
    assert re.fullmatch(r"127\.10\.\d+\.\d+", server["address"])
    assert (
        server["hostname"]
        == dp_rds.describe_db_instances(DBInstanceIdentifier="sql1")["DBInstances"][0]["Endpoint"]["Address"]
    )
    conn = connect(server)
    version = rows(conn, probe)[0][0]
    assert ("MariaDB" in version) if engine == "mysql" else version.startswith("PostgreSQL 15")
    table_t(conn, 1)
    assert rows(conn, "SELECT id FROM t") == [(1,)]
    conn.close()
    with pytest.raises((pymysql.err.OperationalError, psycopg.OperationalError)):
        connect(server, password="wrong-password")


def test_stop_start_reboot_and_delete_act_on_the_process(dp_emu: EmulatorClient, dp_rds: Any) -> None:
    create(dp_rds, "life")
    first = server_of(dp_emu, "life")
    pid = first["pid"]
    assert pid and alive(pid)
    session = connect(first)

    dp_rds.stop_db_instance(DBInstanceIdentifier="life")
    wait_status(dp_rds, "life", "stopped")
    assert not alive(pid) and refused(first)
    with pytest.raises(pymysql.err.OperationalError):
        rows(session, "SELECT 1")

    dp_rds.start_db_instance(DBInstanceIdentifier="life")
    seen = wait_status(dp_rds, "life", "available")
    assert "starting" in seen
    started = server_of(dp_emu, "life")
    assert started["pid"] and started["pid"] != pid and alive(started["pid"])
    session = connect(started)
    assert rows(session, "SELECT 1") == [(1,)]

    dp_rds.reboot_db_instance(DBInstanceIdentifier="life")
    seen = wait_status(dp_rds, "life", "available")
    assert seen[0] == "rebooting"
    rebooted = server_of(dp_emu, "life")
    assert rebooted["pid"] != started["pid"] and not alive(started["pid"])
    with pytest.raises(pymysql.err.OperationalError):
        rows(session, "SELECT 1")  # a reboot drops the sessions
    assert rows(connect(rebooted), "SELECT 1") == [(1,)]

    data_dir = Path(rebooted["data_dir"])
    assert data_dir.is_dir()
    dp_rds.delete_db_instance(DBInstanceIdentifier="life", SkipFinalSnapshot=True)
    wait_for(lambda: alive(rebooted["pid"]) or data_dir.exists(), lambda present: not present, timeout=30)
    assert refused(rebooted)
    assert all(s["identifier"] != "life" for s in dp_emu.dataplane()["servers"])


def test_rename_keeps_the_address_moves_the_endpoint_and_drops_sessions(dp_emu: EmulatorClient, dp_rds: Any) -> None:
    create(dp_rds, "before")
    server = server_of(dp_emu, "before")
    session = connect(server)
    dp_rds.modify_db_instance(DBInstanceIdentifier="before", NewDBInstanceIdentifier="after", ApplyImmediately=True)
    wait_status(dp_rds, "after", "available")
    renamed = server_of(dp_emu, "after")
    assert renamed["resource_id"] == server["resource_id"] and renamed["address"] == server["address"]
    assert renamed["hostname"].startswith("after.")
    with pytest.raises(pymysql.err.OperationalError):
        rows(session, "SELECT 1")  # RDS reboots an instance it renames
    assert rows(connect(renamed), "SELECT 1") == [(1,)]


def _param_group(rds: Any, name: str, family: str) -> None:
    rds.create_db_parameter_group(DBParameterGroupName=name, DBParameterGroupFamily=family, Description=name)


def _apply_status(rds: Any, ident: str) -> str:
    db = rds.describe_db_instances(DBInstanceIdentifier=ident)["DBInstances"][0]
    return str(db["DBParameterGroups"][0]["ParameterApplyStatus"])


def test_mariadb_dynamic_parameters_apply_to_open_sessions(dp_emu: EmulatorClient, dp_rds: Any) -> None:
    _param_group(dp_rds, "ro", "mysql8.0")
    dp_rds.modify_db_parameter_group(
        DBParameterGroupName="ro",
        Parameters=[{"ParameterName": "binlog_format", "ParameterValue": "ROW", "ApplyMethod": "immediate"}],
    )
    create(dp_rds, "dyn", DBParameterGroupName="ro", DBName="app")
    server = server_of(dp_emu, "dyn")
    session = connect(server)
    assert rows(session, "SELECT @@GLOBAL.binlog_format, @@GLOBAL.read_only") == [("ROW", 0)]
    table_t(session, 1)

    dp_rds.modify_db_parameter_group(
        DBParameterGroupName="ro",
        Parameters=[
            {"ParameterName": "read_only", "ParameterValue": "1", "ApplyMethod": "immediate"},
            {"ParameterName": "binlog_row_image", "ParameterValue": "MINIMAL", "ApplyMethod": "immediate"},
        ],
    )
    # The session opened before the change is read-only now (no SUPER for the master user, as on RDS).
    with pytest.raises(pymysql.err.OperationalError) as refused_write:
        execute(session, "INSERT INTO t VALUES (2)")
    assert refused_write.value.args[0] == 1290  # ER_OPTION_PREVENTS_STATEMENT (--read-only)
    assert rows(session, "SELECT @@GLOBAL.binlog_row_image") == [("MINIMAL",)]
    assert _apply_status(dp_rds, "dyn") == "in-sync"


def test_postgres_dynamic_parameter_reaches_an_open_session_after_reload(dp_emu: EmulatorClient, dp_rds: Any) -> None:
    _param_group(dp_rds, "pgro", "postgres16")
    create(dp_rds, "pgdyn", "postgres", DBParameterGroupName="pgro")
    session = connect(server_of(dp_emu, "pgdyn"))
    table_t(session, 1)
    dp_rds.modify_db_parameter_group(
        DBParameterGroupName="pgro",
        Parameters=[
            {"ParameterName": "default_transaction_read_only", "ParameterValue": "1", "ApplyMethod": "immediate"}
        ],
    )
    # A backend processes SIGHUP between commands: the open session's next transaction is read-only.
    seen = wait_for(lambda: rows(session, "SHOW default_transaction_read_only")[0][0], lambda v: v == "on", timeout=10)
    assert seen[-1] == "on"
    with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
        execute(session, "INSERT INTO t VALUES (2)")
    assert _apply_status(dp_rds, "pgdyn") == "in-sync"


def test_static_parameter_is_pending_reboot_until_the_instance_reboots(dp_emu: EmulatorClient, dp_rds: Any) -> None:
    _param_group(dp_rds, "logical", "postgres16")
    create(dp_rds, "pgstatic", "postgres", DBParameterGroupName="logical")
    with pytest.raises(dp_rds.exceptions.ClientError, match="static parameter"):
        dp_rds.modify_db_parameter_group(
            DBParameterGroupName="logical",
            Parameters=[
                {"ParameterName": "rds.logical_replication", "ParameterValue": "1", "ApplyMethod": "immediate"}
            ],
        )
    dp_rds.modify_db_parameter_group(
        DBParameterGroupName="logical",
        Parameters=[
            {"ParameterName": "rds.logical_replication", "ParameterValue": "1", "ApplyMethod": "pending-reboot"}
        ],
    )
    assert_applied_at_reboot(dp_emu, dp_rds, "pgstatic", "SHOW wal_level", "replica", "logical")


def _restore(rds: Any, snapshot: str, ident: str) -> None:
    wait_for(
        lambda: rds.describe_db_snapshots(DBSnapshotIdentifier=snapshot)["DBSnapshots"][0]["Status"],
        lambda s: s == "available",
        timeout=60,
    )
    rds.restore_db_instance_from_db_snapshot(DBInstanceIdentifier=ident, DBSnapshotIdentifier=snapshot)
    wait_status(rds, ident, "available")


def _events(rds: Any, ident: str) -> list[str]:
    return [e["Message"] for e in rds.describe_events(SourceIdentifier=ident, SourceType="db-instance")["Events"]]


def test_mariadb_snapshot_holds_the_rows_before_the_call_and_reports_its_binlog_position(
    dp_emu: EmulatorClient, dp_rds: Any
) -> None:
    create(dp_rds, "src", DBName="app")
    conn = connect(server_of(dp_emu, "src"))
    table_t(conn, 1, 2, 3)
    binlog_file, binlog_pos = rows(conn, "SHOW MASTER STATUS")[0][:2]
    gtid = rows(conn, "SELECT @@GLOBAL.gtid_binlog_pos")[0][0]
    dp_rds.create_db_snapshot(DBInstanceIdentifier="src", DBSnapshotIdentifier="snap")
    execute(conn, "INSERT INTO t VALUES (4), (5)")  # after the snapshot call: not in the snapshot
    assert dp_emu.dataplane()["snapshots"]["snap"] == {"file": binlog_file, "position": binlog_pos, "gtid": gtid}

    # AWS copies only an available snapshot (a loaded machine can still show it creating here).
    deadline = time.monotonic() + 120
    while dp_rds.describe_db_snapshots(DBSnapshotIdentifier="snap")["DBSnapshots"][0]["Status"] != "available":
        assert time.monotonic() < deadline, "snapshot snap never became available"
        time.sleep(0.1)
    dp_rds.copy_db_snapshot(SourceDBSnapshotIdentifier="snap", TargetDBSnapshotIdentifier="snap-copy")
    for snapshot, ident in (("snap", "restored"), ("snap-copy", "restored-copy")):
        _restore(dp_rds, snapshot, ident)
        restored = server_of(dp_emu, ident)
        # RDS keeps the snapshot's master user and password on a restored instance.
        assert (restored["master_user"], restored["master_password"]) == ("admin", PASSWORD)
        assert rows(connect(restored), "SELECT id FROM t ORDER BY id") == [(1,), (2,), (3,)]
        assert f"Binlog position from crash recovery is {binlog_file} {binlog_pos}" in _events(dp_rds, ident)
    assert _events(dp_rds, "src") == [] or all("Binlog position" not in m for m in _events(dp_rds, "src"))


def test_postgres_snapshot_holds_the_rows_before_the_call_and_records_its_lsn(
    dp_emu: EmulatorClient, dp_rds: Any
) -> None:
    create(dp_rds, "pgsrc", "postgres")
    conn = connect(server_of(dp_emu, "pgsrc"))
    table_t(conn, 1, 2, 3)
    before = rows(conn, "SELECT pg_current_wal_lsn()::text")[0][0]
    dp_rds.create_db_snapshot(DBInstanceIdentifier="pgsrc", DBSnapshotIdentifier="pgsnap")
    execute(conn, "INSERT INTO t VALUES (4), (5)")
    lsn = dp_emu.dataplane()["snapshots"]["pgsnap"]["lsn"]
    in_order = rows(conn, f"SELECT '{lsn}'::pg_lsn >= '{before}'::pg_lsn")[0][0]
    assert in_order, (lsn, before)
    _restore(dp_rds, "pgsnap", "pgrestored")
    assert rows(connect(server_of(dp_emu, "pgrestored")), "SELECT id FROM t ORDER BY id") == [(1,), (2,), (3,)]


@pytest.mark.parametrize("engine", ["mysql", "postgres"])
def test_read_replica_receives_rows_from_its_primary_and_promotes(
    dp_emu: EmulatorClient, dp_rds: Any, engine: str
) -> None:
    create(dp_rds, "prim", engine, DBName="app")
    primary = connect(server_of(dp_emu, "prim"))
    table_t(primary, 1)
    dp_rds.create_db_instance_read_replica(DBInstanceIdentifier="repl", SourceDBInstanceIdentifier="prim")
    wait_status(dp_rds, "repl", "available")
    execute(primary, "INSERT INTO t VALUES (2)")
    replica = connect(server_of(dp_emu, "repl"))
    seen = wait_for(lambda: rows(replica, "SELECT id FROM t ORDER BY id"), lambda r: r == [(1,), (2,)], timeout=20)
    assert seen[-1] == [(1,), (2,)]
    with pytest.raises((pymysql.err.OperationalError, psycopg.errors.ReadOnlySqlTransaction)):
        execute(replica, "INSERT INTO t VALUES (3)")  # replicas are read-only

    dp_rds.promote_read_replica(DBInstanceIdentifier="repl")
    wait_for(lambda: server_of(dp_emu, "repl")["ready"], lambda ready: ready, timeout=60)
    promoted = connect(server_of(dp_emu, "repl"))
    wait_for(lambda: _writable(promoted), lambda ok: ok, timeout=30)
    assert rows(promoted, "SELECT id FROM t ORDER BY id") == [(1,), (2,), (3,)]


def _writable(conn: Any) -> bool:
    try:
        execute(conn, "INSERT INTO t VALUES (3)")
        return True
    except (pymysql.err.OperationalError, psycopg.errors.ReadOnlySqlTransaction):
        return False


@pytest.mark.parametrize("how", ["SIGTERM", "SIGKILL", "SIGKILL-group"])
def test_no_server_or_data_dir_survives_the_emulator(how: str) -> None:
    proc, url = launch_emulator("--data-plane", new_session=True)
    try:
        emu = EmulatorClient(url, timeout=60)
        rds = aws_client("rds", url)
        create(rds, "orphan-my")
        create(rds, "orphan-pg", "postgres")
        view = emu.dataplane()
        pids = [s["pid"] for s in view["servers"]]
        root = Path(view["root"])
        assert len(pids) == 2 and all(alive(p) for p in pids) and root.is_dir()
        if how == "SIGKILL":
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        elif how == "SIGKILL-group":
            os.killpg(proc.pid, signal.SIGKILL)  # the emulator and its servers at once
            proc.wait(timeout=10)
        else:
            stop_emulator(proc)
        deadline = time.monotonic() + 30
        while (any(alive(p) for p in pids) or root.exists()) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not any(alive(p) for p in pids), f"servers left after {how}"
        assert not root.exists(), f"{root} left after {how}"
        reaper = view["reaper_pid"]
        wait_for(lambda: alive(reaper), lambda present: not present, timeout=15)
    finally:
        if proc.poll() is None:
            stop_emulator(proc)


def test_blue_green_green_replicates_and_becomes_the_writable_primary_at_switchover(
    dp_emu: EmulatorClient, dp_rds: Any
) -> None:
    create(dp_rds, "bg", DBName="app")
    blue = server_of(dp_emu, "bg")
    conn = connect(blue)
    table_t(conn, 1)
    arn = dp_rds.describe_db_instances(DBInstanceIdentifier="bg")["DBInstances"][0]["DBInstanceArn"]
    bgd = dp_rds.create_blue_green_deployment(BlueGreenDeploymentName="dp", Source=arn)["BlueGreenDeployment"]
    ident = bgd["BlueGreenDeploymentIdentifier"]
    wait_for(
        lambda: dp_rds.describe_blue_green_deployments(BlueGreenDeploymentIdentifier=ident)["BlueGreenDeployments"][0][
            "Status"
        ],
        lambda s: s == "AVAILABLE",
        timeout=60,
    )
    green_id = next(s["identifier"] for s in dp_emu.dataplane()["servers"] if s["identifier"].startswith("bg-green-"))
    wait_status(dp_rds, green_id, "available")
    green = server_of(dp_emu, green_id)
    execute(conn, "INSERT INTO t VALUES (2)")
    green_conn = connect(green)
    seen = wait_for(lambda: rows(green_conn, "SELECT id FROM t ORDER BY id"), lambda r: r == [(1,), (2,)], timeout=20)
    assert seen[-1] == [(1,), (2,)]
    assert not _writable(green_conn)  # the green primary is a replica until switchover

    dp_rds.switchover_blue_green_deployment(BlueGreenDeploymentIdentifier=ident)
    wait_for(
        lambda: dp_rds.describe_blue_green_deployments(BlueGreenDeploymentIdentifier=ident)["BlueGreenDeployments"][0][
            "Status"
        ],
        lambda s: s == "SWITCHOVER_COMPLETED",
        timeout=60,
    )
    wait_status(dp_rds, "bg", "available")
    new_primary = server_of(dp_emu, "bg")
    assert new_primary["resource_id"] == green["resource_id"] and new_primary["address"] == green["address"]
    assert server_of(dp_emu, "bg-old1")["resource_id"] == blue["resource_id"]
    with pytest.raises(pymysql.err.OperationalError):
        rows(green_conn, "SELECT 1")  # the switchover's rename dropped the green's sessions
    promoted = connect(new_primary)
    wait_for(lambda: _writable(promoted), lambda ok: ok, timeout=30)
    assert rows(promoted, "SELECT id FROM t ORDER BY id") == [(1,), (2,), (3,)]


def test_a_newly_associated_parameter_group_applies_at_the_next_reboot(dp_emu: EmulatorClient, dp_rds: Any) -> None:
    create(dp_rds, "assoc")
    _param_group(dp_rds, "rowfmt", "mysql8.0")
    dp_rds.modify_db_parameter_group(
        DBParameterGroupName="rowfmt",
        Parameters=[{"ParameterName": "binlog_format", "ParameterValue": "ROW", "ApplyMethod": "immediate"}],
    )
    dp_rds.modify_db_instance(DBInstanceIdentifier="assoc", DBParameterGroupName="rowfmt", ApplyImmediately=True)
    wait_status(dp_rds, "assoc", "available")
    assert_applied_at_reboot(dp_emu, dp_rds, "assoc", "SELECT @@GLOBAL.binlog_format", "MIXED", "ROW")


def test_deleting_a_primary_promotes_its_replica_server(dp_emu: EmulatorClient, dp_rds: Any) -> None:
    create(dp_rds, "gone", DBName="app")
    table_t(connect(server_of(dp_emu, "gone")))
    dp_rds.create_db_instance_read_replica(DBInstanceIdentifier="kept", SourceDBInstanceIdentifier="gone")
    wait_status(dp_rds, "kept", "available")
    dp_rds.delete_db_instance(DBInstanceIdentifier="gone", SkipFinalSnapshot=True)
    kept = connect(server_of(dp_emu, "kept"))
    seen = wait_for(lambda: _writable(kept), lambda ok: ok, timeout=30)
    assert seen[-1] is True
    assert server_of(dp_emu, "kept")["is_replica"] is False


PORT_TAKEN_SCRIPT = """
import json, socket, sys
sys.path.insert(0, sys.argv[1])
from rdsemu.dataplane import DATAPLANE
DATAPLANE.enable()
from rdsemu.dataplane.servers import DbServer
out = {}
try:
    for engine in ("mysql", "postgres"):
        server = DbServer(rds_engine=engine, identifier="p-" + engine, resource_id="db-P" + engine, port=3306,
                          master_user="admin", master_password="pw-secret-1")
        blocker = socket.socket()
        blocker.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        blocker.bind((server.internal_host, server.internal_port))
        blocker.listen()
        taken = server.internal_port
        server.provision()
        out[engine] = {"error": server.error, "moved": server.internal_port != taken, "running": server.running}
        blocker.close()
finally:
    DATAPLANE.shutdown()
print(json.dumps(out))
"""


def test_a_server_whose_internal_port_was_taken_starts_on_another() -> None:
    emulator_dir = str(Path(__file__).resolve().parent.parent)
    done = subprocess.run(
        [sys.executable, "-c", PORT_TAKEN_SCRIPT, emulator_dir], capture_output=True, text=True, timeout=240, check=True
    )
    result = json.loads(done.stdout.strip().splitlines()[-1])
    for engine in ("mysql", "postgres"):
        assert result[engine] == {"error": None, "moved": True, "running": True}, result
