"""Real database servers for emulated RDS instances: MariaDB (engines mysql, mariadb) and
PostgreSQL 15 (engine postgres).

Each ``DbServer`` owns ``ROOT/db-NNNN/`` (data directory, socket, log, ``server.pid`` for the
reaper) and one server process, a direct child of the emulator in its process group. Start-up
is fast because each engine's data directory is initialised once per emulator (a template)
and copied per instance.

Behaviours follow RDS where RDS documents them:
- binary log file names ``mysql-bin-changelog.NNNNNN`` (RDS User Guide, "Configuring MySQL
  binary logging": https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_LogAccess.MySQL.BinaryFormat.html);
- the replication user ``rdsrepladmin`` RDS creates on a MySQL/MariaDB read replica's primary
  (RDS User Guide, "Working with MySQL read replicas");
- ``rds.logical_replication = 1`` sets ``wal_level = logical`` (static) (RDS User Guide,
  "Performing logical replication for Amazon RDS for PostgreSQL":
  https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/PostgreSQL.Concepts.General.FeatureSupport.LogicalReplication.html).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import DATAPLANE

LOG = logging.getLogger("rdsemu.dataplane.servers")

PG_BIN = Path("/usr/lib/postgresql/15/bin")
MARIADBD = shutil.which("mariadbd") or "/usr/sbin/mariadbd"
MARIADB_INSTALL_DB = shutil.which("mariadb-install-db") or "/usr/bin/mariadb-install-db"
MARIADB_CLIENT = shutil.which("mariadb") or "/usr/bin/mariadb"
MARIADB_DUMP = shutil.which("mariadb-dump") or "/usr/bin/mariadb-dump"
#: RDS's binary log base name.
BINLOG_BASENAME = "mysql-bin-changelog"
#: The MySQL/MariaDB master user's privileges on RDS (RDS User Guide, "Master user account
#: privileges": https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/UsingWithRDS.MasterAccounts.html).
#: No SUPER: ``read_only`` applies to the master user as it does on RDS.
MASTER_PRIVILEGES = (
    "SELECT, INSERT, UPDATE, DELETE, CREATE, DROP, RELOAD, PROCESS, REFERENCES, INDEX, ALTER, SHOW DATABASES, "
    "CREATE TEMPORARY TABLES, LOCK TABLES, EXECUTE, REPLICATION SLAVE, REPLICATION CLIENT, CREATE VIEW, "
    "SHOW VIEW, CREATE ROUTINE, ALTER ROUTINE, CREATE USER, EVENT, TRIGGER"
)
#: Replication user RDS creates on a MySQL/MariaDB primary for its read replicas.
REPL_USER = "rdsrepladmin"
START_TIMEOUT = 60.0
STOP_TIMEOUT = 30.0

#: Parameter-group names that reach the server, per engine, and whether each is dynamic
#: (RDS "Parameter groups": dynamic ones apply at once with ApplyMethod immediate, static
#: ones at the next reboot).
MYSQL_PARAMETERS = {"binlog_format": True, "binlog_row_image": True, "read_only": True}
POSTGRES_PARAMETERS = {"rds.logical_replication": False, "default_transaction_read_only": True}


def server_engine(rds_engine: str) -> str:
    """'mysql' for MySQL and MariaDB engines, 'postgres' for PostgreSQL ones."""
    return "postgres" if "postgres" in rds_engine else "mysql"


def relevant_parameters(engine: str) -> dict[str, bool]:
    """Parameter-group names the server honours, mapped to whether they are dynamic."""
    return POSTGRES_PARAMETERS if engine == "postgres" else MYSQL_PARAMETERS


def _bool_text(value: str) -> bool:
    return value.strip().lower() in {"1", "on", "true", "yes"}


def _free_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _address_of(seq: int) -> str:
    return f"127.10.{seq // 250}.{seq % 250 + 1}"


def _address_free(address: str, port: int) -> bool:
    """Whether (address, port) can be bound (another emulator on this machine may hold it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((address, port))
        except OSError:
            return False
    return True


def _allocate_address(port: int) -> tuple[int, str]:
    """The next sequence number and its loopback address ``127.10.x.y``, in order, skipping
    addresses whose ``port`` is already taken on this machine (bounded: 250 x 250 addresses).
    """
    for _ in range(250 * 250):
        seq = DATAPLANE.servers.allocate()
        if _address_free(_address_of(seq), port):
            return seq, _address_of(seq)
    raise RuntimeError("no free 127.10.x.y address")


def _run(cmd: list[str], *, user: str | None = None, timeout: float = 120, stdin: Any = None) -> str:
    """Run a helper command to completion; raise with its output on failure."""
    proc = subprocess.run(
        cmd,
        user=user,
        group=user,
        extra_groups=[] if user else None,
        stdin=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{cmd[0]} failed ({proc.returncode}): {proc.stderr.strip()[-2000:]}")
    return proc.stdout


def _dump_to(target: Path, cmd: list[str], timeout: float, what: str) -> None:
    """Run a dump command with its standard output written to ``target``; raise on failure."""
    with target.open("w") as out:
        proc = subprocess.run(cmd, stdout=out, stderr=subprocess.PIPE, text=True, timeout=timeout, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"{what} failed: {proc.stderr[-2000:]}")


def _chown_tree(path: Path, user: str) -> None:
    shutil.chown(path, user, user)
    for dirpath, dirnames, filenames in os.walk(path):
        for name in dirnames + filenames:
            with contextlib.suppress(FileNotFoundError):
                os.chown(os.path.join(dirpath, name), *_ids(user), follow_symlinks=False)


def _ids(user: str) -> tuple[int, int]:
    import pwd

    entry = pwd.getpwnam(user)
    return entry.pw_uid, entry.pw_gid


# --------------------------------------------------------------------------- templates


class _Templates:
    """One initialised data directory per engine, created on first use."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        # Keyed by the data plane's root too: an in-process data plane enabled again (tests)
        # has a new root, and the old one's templates are gone with it.
        self._done: dict[tuple[Path, str], Path] = {}

    def get(self, engine: str) -> Path:
        with self._lock:
            assert DATAPLANE.root is not None
            key = (DATAPLANE.root, engine)
            if key not in self._done:
                path = DATAPLANE.root / f"template-{engine}"
                if engine == "postgres":
                    self._postgres(path)
                else:
                    self._mariadb(path)
                self._done[key] = path
            return self._done[key]

    @staticmethod
    def _mariadb(path: Path) -> None:
        path.mkdir()
        _chown_tree(path, "mysql")
        # A private tmpdir: bootstraps elsewhere on the machine share /tmp (temp-table name clashes).
        tmp = path.parent / "template-mysql-tmp"
        tmp.mkdir(exist_ok=True)
        _chown_tree(tmp, "mysql")
        _run(
            [
                MARIADB_INSTALL_DB,
                "--no-defaults",
                f"--datadir={path}",
                f"--tmpdir={tmp}",
                "--user=mysql",
                "--auth-root-authentication-method=normal",
                "--skip-test-db",
                "--skip-name-resolve",
            ]
        )

    @staticmethod
    def _postgres(path: Path) -> None:
        path.mkdir(mode=0o700)
        _chown_tree(path, "postgres")
        _run(
            [str(PG_BIN / "initdb"), "-D", str(path), "-U", "postgres", "-E", "UTF8", "--no-locale", "--no-sync"],
            user="postgres",
        )
        # The emulator administers through the Unix socket as ``postgres``; clients use TCP
        # with passwords (SCRAM, PostgreSQL 15's default password_encryption).
        (path / "pg_hba.conf").write_text(
            "local all postgres trust\n"
            "local replication postgres trust\n"
            "host all all 127.0.0.0/8 scram-sha-256\n"
            "host replication all 127.0.0.0/8 scram-sha-256\n"
        )
        with (path / "postgresql.conf").open("a") as conf:
            conf.write("\ninclude_if_exists = 'rdsemu.conf'\n")


TEMPLATES = _Templates()


# --------------------------------------------------------------------------- snapshots


@dataclass
class SnapshotData:
    """A consistent copy of a server's data and the log position it corresponds to."""

    engine: str
    path: Path
    master_user: str
    master_password: str
    db_name: str | None
    #: MySQL/MariaDB: binlog file and position, GTID position. PostgreSQL: LSN.
    binlog_file: str | None = None
    binlog_position: int | None = None
    gtid: str | None = None
    lsn: str | None = None
    refs: set[str] = field(default_factory=set)

    def position(self) -> dict[str, Any]:
        """The recorded position as a JSON-able dict."""
        if self.engine == "postgres":
            return {"lsn": self.lsn}
        return {"file": self.binlog_file, "position": self.binlog_position, "gtid": self.gtid}


class SnapshotStore:
    """Snapshot data by snapshot identifier; CopyDBSnapshot shares the data of its source."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_id: dict[str, SnapshotData] = {}

    def put(self, snapshot_id: str, data: SnapshotData) -> None:
        """Record the data of a new snapshot."""
        with self._lock:
            data.refs.add(snapshot_id)
            self._by_id[snapshot_id] = data

    def get(self, snapshot_id: str) -> SnapshotData | None:
        """The data of a snapshot, if it has any."""
        with self._lock:
            return self._by_id.get(snapshot_id)

    def copy(self, source_id: str, target_id: str) -> None:
        """CopyDBSnapshot: the copy shares the source's data."""
        with self._lock:
            data = self._by_id.get(source_id)
            if data is not None:
                data.refs.add(target_id)
                self._by_id[target_id] = data

    def delete(self, snapshot_id: str) -> None:
        """DeleteDBSnapshot: drop the reference; remove the data once unreferenced."""
        with self._lock:
            data = self._by_id.pop(snapshot_id, None)
            if data is None:
                return
            data.refs.discard(snapshot_id)
            if not data.refs:
                shutil.rmtree(data.path, ignore_errors=True)

    def positions(self) -> dict[str, dict[str, Any]]:
        """Snapshot identifier -> recorded log position."""
        with self._lock:
            return {sid: data.position() for sid, data in self._by_id.items()}

    def clear(self) -> None:
        """Remove every snapshot's data."""
        with self._lock:
            for data in self._by_id.values():
                shutil.rmtree(data.path, ignore_errors=True)
            self._by_id.clear()


# --------------------------------------------------------------------------- registry


class Registry:
    """Every live server, by DbiResourceId, current identifier and endpoint hostname."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._servers: dict[str, DbServer] = {}
        self._next = 0

    def allocate(self) -> int:
        """A new sequence number (address, directory and server_id derive from it)."""
        with self._lock:
            self._next += 1
            return self._next

    def add(self, server: DbServer) -> None:
        """Register a server."""
        with self._lock:
            self._servers[server.resource_id] = server

    def remove(self, server: DbServer) -> None:
        """Forget a server (deleted)."""
        with self._lock:
            if self._servers.get(server.resource_id) is server:
                del self._servers[server.resource_id]

    def by_resource_id(self, resource_id: str) -> DbServer | None:
        """The server of a DbiResourceId."""
        with self._lock:
            return self._servers.get(resource_id)

    def by_identifier(self, identifier: str) -> DbServer | None:
        """The server of a current DB instance identifier."""
        with self._lock:
            for server in self._servers.values():
                if server.identifier == identifier:
                    return server
        return None

    def by_hostname(self, hostname: str) -> DbServer | None:
        """The server whose RDS endpoint address is ``hostname`` (case-insensitive)."""
        wanted = hostname.rstrip(".").lower()
        with self._lock:
            # The newest holder of the name wins: an endpoint name belongs to one live instance,
            # and an older server still registered under it is one being torn down.
            for server in reversed(list(self._servers.values())):
                if server.hostname and server.hostname.lower() == wanted:
                    return server
        return None

    def all(self) -> list[DbServer]:
        """Every registered server."""
        with self._lock:
            return list(self._servers.values())


# --------------------------------------------------------------------------- servers


class DbServer:
    """One real server process behind one RDS DB instance."""

    def __init__(
        self,
        *,
        rds_engine: str,
        identifier: str,
        resource_id: str,
        port: int,
        master_user: str,
        master_password: str,
        db_name: str | None = None,
        parameters: dict[str, str] | None = None,
        hostname: str | None = None,
    ) -> None:
        """Allocate address and directory; nothing runs until ``provision``."""
        assert DATAPLANE.enabled and DATAPLANE.root is not None, "data plane is not enabled"
        self.engine = server_engine(rds_engine)
        self.rds_engine = rds_engine
        self.identifier = identifier
        self.resource_id = resource_id
        self.port = port
        self.hostname = hostname
        self.master_user = master_user
        self.master_password = master_password
        self.db_name = db_name
        self.seq, self.address = _allocate_address(port)
        self.internal_host = "127.0.0.1"
        self.internal_port = _free_port(self.internal_host)
        self.server_id = 1000 + self.seq
        self.dir = DATAPLANE.root / f"db-{self.seq:04d}"
        self.datadir = self.dir / "data"
        #: Parameter-group values (RDS names) currently applied to the process.
        self.parameters: dict[str, str] = dict(parameters or {})
        #: Values set in the group but waiting for a reboot (static parameters).
        self.pending: dict[str, str] = {}
        #: A newly associated group's values: at the next restart they replace ``parameters``.
        self.pending_group: dict[str, str] | None = None
        self.is_replica = False
        self.source: DbServer | None = None
        self._root_password = secrets.token_hex(16)
        self._proc: subprocess.Popen[bytes] | None = None
        self._lock = threading.RLock()
        self.ready = threading.Event()
        self._started_once = False
        self.error: str | None = None
        self.destroyed = False
        DATAPLANE.servers.add(self)

    # ------------------------------------------------------------------ status

    @property
    def running(self) -> bool:
        """Whether the server process is alive."""
        return self._proc is not None and self._proc.poll() is None

    @property
    def pid(self) -> int | None:
        """The server process's pid while it runs."""
        return self._proc.pid if self.running and self._proc is not None else None

    def __repr__(self) -> str:
        return f"DbServer({self.engine} {self.identifier} {self.internal_host}:{self.internal_port})"

    # ------------------------------------------------------------------ provisioning

    def provision(self, *, snapshot: SnapshotData | None = None, source: DbServer | None = None) -> None:
        """Create the data directory (empty, from a snapshot, or as a replica of ``source``) and start.

        Sets ``ready`` (and ``error`` on failure). Runs in the caller's thread.
        """
        try:
            with self._lock:
                if self.destroyed:
                    raise RuntimeError(f"{self} was deleted before it was provisioned")
                self.dir.mkdir()
                if source is not None:
                    self._provision_replica(source)
                elif snapshot is not None:
                    self._provision_from_snapshot(snapshot)
                else:
                    self._provision_empty()
                # Under the lock, so that a destroy() racing this (a reset while the instance is
                # still being created) either stops the front opening or closes it afterwards.
                if not self.destroyed:
                    DATAPLANE.notify("server_up", self)
        except Exception as exc:
            LOG.exception("provisioning %s failed", self)
            self.error = str(exc)
        finally:
            self.ready.set()

    def _copy_template(self) -> None:
        template = TEMPLATES.get(self.engine)
        owner = "postgres" if self.engine == "postgres" else "mysql"
        shutil.chown(self.dir, owner, owner)
        subprocess.run(["cp", "-a", str(template), str(self.datadir)], check=True, timeout=120)

    def _provision_empty(self) -> None:
        self._copy_template()
        self._start_process()
        if self.engine == "postgres":
            self._pg_bootstrap_users()
        else:
            self._my_bootstrap_users()

    def _my_bootstrap_users(self, root_password: str = "") -> None:
        """Create the master user (all privileges, as RDS grants them) and lock root."""
        conn = self._admin(root_password=root_password)
        try:
            with conn.cursor() as cur:
                cur.execute("SET sql_log_bin = 0")
                cur.execute("DELETE FROM mysql.global_priv WHERE User = ''")
                cur.execute("FLUSH PRIVILEGES")
                cur.execute("CREATE USER %s@'%%' IDENTIFIED BY %s", (self.master_user, self.master_password))
                cur.execute(f"GRANT {MASTER_PRIVILEGES} ON *.* TO `{self.master_user}`@'%' WITH GRANT OPTION")
                cur.execute("CREATE USER %s@'%%' IDENTIFIED BY %s", (REPL_USER, self._root_password))
                cur.execute(f"GRANT REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO `{REPL_USER}`@'%'")
                if self.db_name:
                    cur.execute(f"CREATE DATABASE IF NOT EXISTS `{self.db_name}`")
                cur.execute("ALTER USER root@localhost IDENTIFIED BY %s", (self._root_password,))
        finally:
            conn.close()

    def _pg_bootstrap_users(self) -> None:
        """Create the master role (as RDS: login, createdb, createrole, member of rds_superuser)."""
        from psycopg import sql

        master = sql.Identifier(self.master_user)
        with self._admin_cursor() as cur:
            cur.execute("CREATE ROLE rds_superuser NOLOGIN")
            cur.execute("CREATE ROLE rds_replication NOLOGIN")
            cur.execute("GRANT pg_read_all_data, pg_write_all_data, pg_signal_backend TO rds_superuser")
            # The emulated master user may create replication slots (RDS: rds_replication
            # role once rds.logical_replication is on); REPLICATION is the closest native grant.
            cur.execute(
                sql.SQL("CREATE ROLE {} LOGIN CREATEDB CREATEROLE REPLICATION PASSWORD {}").format(
                    master, sql.Literal(self.master_password)
                )
            )
            cur.execute(sql.SQL("GRANT rds_superuser, rds_replication TO {} WITH ADMIN OPTION").format(master))
            cur.execute(sql.SQL("ALTER DATABASE postgres OWNER TO {}").format(master))
            if self.db_name and self.db_name != "postgres":
                cur.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(self.db_name), master))
        for database in {"postgres", self.db_name or "postgres"}:
            conn = self._admin(database=database)
            try:
                with conn.cursor() as cur:
                    cur.execute(sql.SQL("ALTER SCHEMA public OWNER TO {}").format(master))
            finally:
                conn.close()

    def _provision_from_snapshot(self, snap: SnapshotData) -> None:
        if snap.engine == "postgres":
            owner = "postgres"
            shutil.chown(self.dir, owner, owner)
            subprocess.run(["cp", "-a", str(snap.path / "data"), str(self.datadir)], check=True, timeout=300)
            for leftover in ("postmaster.pid", "standby.signal", "recovery.signal"):
                with contextlib.suppress(FileNotFoundError):
                    (self.datadir / leftover).unlink()
            self._start_process()
            return
        self._my_restore(snap.path)

    def _my_restore(self, path: Path) -> None:
        """A new MariaDB server holding the snapshot at ``path`` (data, users, root password)."""
        self._copy_template()
        self._start_process()
        self._my_load(path / "dump.sql")
        # The snapshot's grant tables carry its users (the master user's password included).
        self._my_load(path / "users.sql", root_password="", database="mysql")
        conn = self._admin(root_password="")
        try:
            with conn.cursor() as cur:
                cur.execute("FLUSH PRIVILEGES")
        finally:
            conn.close()
        self._root_password = (path / "root.pw").read_text().strip()

    def _provision_replica(self, source: DbServer) -> None:
        self.is_replica = True
        self.source = source
        if self.engine == "postgres":
            shutil.chown(self.dir, "postgres", "postgres")
            self.datadir.mkdir(mode=0o700)
            shutil.chown(self.datadir, "postgres", "postgres")
            # -R writes primary_conninfo and standby.signal: native streaming replication.
            _run(
                [
                    str(PG_BIN / "pg_basebackup"),
                    "-h",
                    str(source.dir),
                    "-p",
                    str(source.internal_port),
                    "-U",
                    "postgres",
                    "-D",
                    str(self.datadir),
                    "-X",
                    "stream",
                    "-c",
                    "fast",
                    "-R",
                    "--no-sync",
                ],
                user="postgres",
                timeout=300,
            )
            with contextlib.suppress(FileNotFoundError):
                (self.datadir / "postmaster.pid").unlink()
            self._start_process()
            return
        snap = source.snapshot(self.dir / "seed")
        self._my_restore(snap.path)
        shutil.rmtree(snap.path, ignore_errors=True)
        with self._admin_cursor() as cur:
            cur.execute("SET GLOBAL gtid_slave_pos = %s", (snap.gtid or "",))
            cur.execute(
                "CHANGE MASTER TO MASTER_HOST=%s, MASTER_PORT=%s, MASTER_USER=%s, MASTER_PASSWORD=%s,"
                " MASTER_USE_GTID=slave_pos, MASTER_CONNECT_RETRY=1",
                (source.internal_host, source.internal_port, REPL_USER, source._root_password),
            )
            cur.execute("START SLAVE")

    # ------------------------------------------------------------------ process

    def _write_pidfile(self) -> None:
        assert self._proc is not None
        (self.dir / "server.pid").write_text(f"{self._proc.pid}\n{self.datadir}\n")

    def _mysql_args(self) -> list[str]:
        args = [
            MARIADBD,
            "--no-defaults",
            f"--datadir={self.datadir}",
            f"--socket={self.dir / 'mysql.sock'}",
            f"--pid-file={self.dir / 'mariadbd.pid'}",
            f"--log-error={self.dir / 'error.log'}",
            f"--tmpdir={self._tmpdir()}",
            f"--bind-address={self.internal_host}",
            f"--port={self.internal_port}",
            "--user=mysql",
            "--skip-name-resolve",
            f"--server-id={self.server_id}",
            f"--log-bin={BINLOG_BASENAME}",
            "--log-slave-updates=ON",
            "--binlog-format=MIXED",
            "--innodb-buffer-pool-size=16M",
            "--innodb-log-file-size=8M",
            "--performance-schema=OFF",
            "--max-connections=200",
        ]
        settings = self._mysql_settings(self.parameters)
        for name, value in settings.items():
            args.append(f"--{name.replace('_', '-')}={value}")
        return args

    def _tmpdir(self) -> Path:
        """The server's own temporary directory (not the machine's shared /tmp)."""
        tmp = self.dir / "tmp"
        if not tmp.exists():
            tmp.mkdir()
            shutil.chown(tmp, "mysql", "mysql")
        return tmp

    def _mysql_settings(self, params: dict[str, str]) -> dict[str, str]:
        """Engine settings from RDS parameter values (read_only defaults on for replicas, as
        RDS's ``{TrueIfReplica}`` default does).
        """
        out: dict[str, str] = {}
        for name in ("binlog_format", "binlog_row_image"):
            if params.get(name):
                out[name] = params[name].upper()
        ro = params.get("read_only", "{TrueIfReplica}")
        if ro.startswith("{"):
            out["read_only"] = "1" if self.is_replica else "0"
        else:
            out["read_only"] = "1" if _bool_text(ro) else "0"
        return out

    def _pg_settings(self, params: dict[str, str]) -> dict[str, str]:
        logical = _bool_text(params.get("rds.logical_replication", "0"))
        ro = params.get("default_transaction_read_only")
        return {
            "listen_addresses": f"'{self.internal_host}'",
            "port": str(self.internal_port),
            "unix_socket_directories": f"'{self.dir}'",
            "wal_level": "logical" if logical else "replica",
            "max_wal_senders": "20",
            "max_replication_slots": "20",
            "hot_standby": "on",
            "shared_buffers": "16MB",
            "max_connections": "100",
            "fsync": "off",
            "logging_collector": "off",
            "default_transaction_read_only": "on" if ro is not None and _bool_text(ro) else "off",
        }

    def _write_pg_conf(self) -> None:
        lines = [f"{k} = {v}\n" for k, v in self._pg_settings(self.parameters).items()]
        conf = self.datadir / "rdsemu.conf"
        conf.write_text("".join(lines))
        shutil.chown(conf, "postgres", "postgres")

    def _start_process(self) -> None:
        with self._lock:
            if self.running:
                return
            if self.destroyed:
                raise RuntimeError(f"{self} is deleted")
            for attempt in range(3):
                offsets = self._log_sizes()
                try:
                    self._spawn()
                    self._wait_up()
                    self._started_once = True
                    return
                except RuntimeError:
                    # The free port chosen at creation can be taken by another process on the
                    # machine before the first start: pick another (never later: replicas use it).
                    if self._started_once or attempt == 2 or "Address already in use" not in self._new_log(offsets):
                        raise
                    self.internal_port = _free_port(self.internal_host)

    def _spawn(self) -> None:
        log = (self.dir / "server.log").open("ab")
        try:
            if self.engine == "postgres":
                self._write_pg_conf()
                self._proc = subprocess.Popen(
                    [str(PG_BIN / "postgres"), "-D", str(self.datadir)],
                    user="postgres",
                    group="postgres",
                    extra_groups=[],
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=log,
                )
            else:
                self._proc = subprocess.Popen(self._mysql_args(), stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        finally:
            log.close()
        self._write_pidfile()

    def _log_sizes(self) -> dict[str, int]:
        sizes: dict[str, int] = {}
        for name in ("server.log", "error.log"):
            with contextlib.suppress(OSError):
                sizes[name] = (self.dir / name).stat().st_size
        return sizes

    def _new_log(self, offsets: dict[str, int]) -> str:
        """What the logs gained since ``offsets`` (one start attempt's messages)."""
        text = ""
        for name in ("server.log", "error.log"):
            with contextlib.suppress(OSError), (self.dir / name).open("rb") as f:
                f.seek(offsets.get(name, 0))
                text += f.read().decode(errors="replace")
        return text

    def _wait_up(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        last: Exception | None = None
        while time.monotonic() < deadline:
            if not self.running:
                raise RuntimeError(f"{self} exited during start-up: {self._log_tail()}")
            try:
                conn = self._admin(root_password=None)
                conn.close()
                return
            except Exception as exc:  # the server is still starting
                last = exc
                time.sleep(0.05)
        raise RuntimeError(f"{self} did not start within {START_TIMEOUT}s: {last}")

    def _log_tail(self) -> str:
        text = ""
        for name in ("server.log", "error.log"):
            with contextlib.suppress(OSError):
                text += (self.dir / name).read_text(errors="replace")[-1500:]
        return text

    def _stop_process(self) -> None:
        with self._lock:
            proc = self._proc
            if proc is None or proc.poll() is not None:
                self._proc = None
                return
            # PostgreSQL: SIGINT = fast shutdown (sessions ended). MariaDB: SIGTERM = shutdown.
            proc.send_signal(signal.SIGINT if self.engine == "postgres" else signal.SIGTERM)
            try:
                proc.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
            self._proc = None
            with contextlib.suppress(FileNotFoundError):
                (self.dir / "server.pid").unlink()

    # ------------------------------------------------------------------ lifecycle (RDS actions)

    def stop(self) -> None:
        """StopDBInstance: shut the server down (connections drop)."""
        DATAPLANE.notify("server_down", self)
        self._stop_process()

    def start(self) -> None:
        """StartDBInstance: start the server again on the same data, pending parameters applied."""
        with self._lock:
            if self.pending_group is not None:
                self.parameters = dict(self.pending_group)
                self.pending_group = None
            self.parameters.update(self.pending)
            self.pending.clear()
            self._start_process()
        DATAPLANE.notify("server_up", self)

    def reboot(self) -> None:
        """RebootDBInstance: restart the process; static (pending-reboot) parameters take effect."""
        self.stop()
        self.start()

    def destroy(self) -> None:
        """DeleteDBInstance: stop the server and remove its directory."""
        if self.destroyed:
            return
        self.destroyed = True
        DATAPLANE.notify("server_down", self)
        self._stop_process()
        # Again once the lock was free: a provision() under way may have opened a front meanwhile.
        DATAPLANE.notify("server_down", self)
        shutil.rmtree(self.dir, ignore_errors=True)
        DATAPLANE.servers.remove(self)

    def rename(self, new_identifier: str, new_hostname: str | None) -> None:
        """ModifyDBInstance NewDBInstanceIdentifier, the quick part: the identifier and endpoint
        change at once (as the API shows them), connections drop and listeners hear of it.
        ``restart`` (a rename reboots the instance on RDS) follows in the background.
        """
        old = self.identifier
        self.identifier = new_identifier
        self.hostname = new_hostname
        DATAPLANE.notify("server_down", self)
        DATAPLANE.notify("server_renamed", self, old)

    def restart(self) -> None:
        """Stop and start the process (sessions drop); pending parameter values take effect."""
        self._stop_process()
        self.start()

    def promote(self) -> None:
        """PromoteReadReplica: stop replicating and accept writes."""
        with self._lock:
            if self.engine == "postgres":
                with self._admin_cursor() as cur:
                    cur.execute("SELECT pg_promote(true, 60)")
            else:
                with self._admin_cursor() as cur:
                    cur.execute("STOP SLAVE")
                    cur.execute("RESET SLAVE ALL")
                    self.is_replica = False
                    settings = self._mysql_settings(self.parameters)
                    cur.execute(f"SET GLOBAL read_only = {settings['read_only']}")
            self.is_replica = False
            self.source = None

    # ------------------------------------------------------------------ parameters

    @property
    def pending_reboot(self) -> bool:
        """Whether parameter values wait for a reboot."""
        return bool(self.pending) or self.pending_group is not None

    def associate_group(self, values: dict[str, str]) -> None:
        """A new parameter group: all its values apply at the next reboot (RDS User Guide,
        "Rebooting a DB instance").
        """
        known = relevant_parameters(self.engine)
        with self._lock:
            self.pending_group = {k: v for k, v in values.items() if k in known}
            self.pending.clear()

    def apply_parameters(self, values: dict[str, str], immediate: bool) -> None:
        """Apply parameter-group values: dynamic ones with ``immediate`` at once, others at reboot."""
        known = relevant_parameters(self.engine)
        with self._lock:
            now: dict[str, str] = {}
            for name, value in values.items():
                if name not in known:
                    continue
                if immediate and known[name]:
                    now[name] = value
                else:
                    self.pending[name] = value
            if not now:
                return
            self.parameters.update(now)
            if not self.running:
                return
            if self.engine == "postgres":
                self._write_pg_conf()
                with self._admin_cursor() as cur:
                    cur.execute("SELECT pg_reload_conf()")
            else:
                with self._admin_cursor() as cur:
                    for name, value in self._mysql_settings(self.parameters).items():
                        if name in now:
                            # Numbers as numbers: ``SET GLOBAL read_only = '1'`` is refused.
                            cur.execute(f"SET GLOBAL {name} = %s", (int(value) if value.isdigit() else value,))

    # ------------------------------------------------------------------ connections

    def connect(self, database: str | None = None, user: str | None = None, password: str | None = None) -> Any:
        """A DB-API connection straight to the server (TCP to internal_host:internal_port)."""
        user = user or self.master_user
        password = self.master_password if password is None else password
        if self.engine == "postgres":
            import psycopg

            return psycopg.connect(
                host=self.internal_host,
                port=self.internal_port,
                user=user,
                password=password,
                dbname=database or self.db_name or "postgres",
                connect_timeout=10,
            )
        import pymysql

        return pymysql.connect(
            host=self.internal_host,
            port=self.internal_port,
            user=user,
            password=password,
            database=database or self.db_name,
            connect_timeout=10,
            autocommit=True,
        )

    @contextlib.contextmanager
    def _admin_cursor(self) -> Iterator[Any]:
        """A cursor on a fresh administrative connection, closed afterwards."""
        conn = self._admin()
        try:
            with conn.cursor() as cur:
                yield cur
        finally:
            conn.close()

    def _admin(self, database: str | None = None, root_password: str | None = None) -> Any:
        """Superuser connection over the Unix socket (emulator internals only)."""
        if self.engine == "postgres":
            import psycopg

            return psycopg.connect(
                host=str(self.dir),
                port=self.internal_port,
                user="postgres",
                dbname=database or "postgres",
                connect_timeout=5,
                autocommit=True,
            )
        import pymysql

        pw = self._root_password if root_password is None else root_password
        try:
            return pymysql.connect(
                unix_socket=str(self.dir / "mysql.sock"), user="root", password=pw, connect_timeout=5, autocommit=True
            )
        except pymysql.err.OperationalError as exc:
            # During first start-up root still has the template's empty password.
            if root_password is None and exc.args and exc.args[0] == 1045:
                return pymysql.connect(
                    unix_socket=str(self.dir / "mysql.sock"),
                    user="root",
                    password="",
                    connect_timeout=5,
                    autocommit=True,
                )
            raise

    # ------------------------------------------------------------------ snapshots

    def snapshot(self, path: Path) -> SnapshotData:
        """Take a consistent copy now and record the log position it corresponds to."""
        with self._lock:
            if not self.running:
                raise RuntimeError(f"{self} is not running")
            path.mkdir(parents=True)
            if self.engine == "postgres":
                return self._pg_snapshot(path)
            return self._my_snapshot(path)

    def _my_snapshot(self, path: Path) -> SnapshotData:
        sock = str(self.dir / "mysql.sock")
        user_dbs = self._my_user_databases()
        dump = path / "dump.sql"
        base = [MARIADB_DUMP, f"--socket={sock}", "-uroot", f"--password={self._root_password}"]
        # --single-transaction + --master-data: one consistent read view and the binlog
        # coordinates of exactly that view; --gtid adds the GTID position.
        _dump_to(
            dump,
            [
                *base,
                "--single-transaction",
                "--master-data=2",
                "--gtid",
                "--routines",
                "--triggers",
                "--events",
                "--databases",
                *user_dbs,
            ]
            if user_dbs
            else [*base, "--single-transaction", "--master-data=2", "--gtid", "--no-data", "mysql", "db"],
            600,
            "mariadb-dump",
        )
        if not user_dbs:
            # No user database: keep the position header, drop the placeholder table.
            header = [
                line
                for line in dump.read_text().splitlines()
                if line.startswith("-- CHANGE MASTER") or line.startswith("-- SET GLOBAL gtid_slave_pos")
            ]
            dump.write_text("\n".join(header) + "\n")
        _dump_to(
            path / "users.sql",
            [
                *base,
                "--skip-lock-tables",
                "--no-create-info",
                "--replace",
                "mysql",
                "global_priv",
                "db",
                "tables_priv",
                "columns_priv",
                "procs_priv",
                "proxies_priv",
                "roles_mapping",
            ],
            120,
            "mariadb-dump (users)",
        )
        (path / "root.pw").write_text(self._root_password)
        head = dump.read_text()[:20000]
        file_match = re.search(r"MASTER_LOG_FILE='([^']+)', MASTER_LOG_POS=(\d+)", head)
        gtid_match = re.search(r"gtid_slave_pos='([^']*)'", head)
        return self._snapshot_data(
            path,
            binlog_file=file_match.group(1) if file_match else None,
            binlog_position=int(file_match.group(2)) if file_match else None,
            gtid=gtid_match.group(1) if gtid_match else None,
        )

    def _snapshot_data(self, path: Path, **position: Any) -> SnapshotData:
        """A snapshot of this server at ``path``, taken at ``position`` (SnapshotData's log fields)."""
        return SnapshotData(
            engine=self.engine,
            path=path,
            master_user=self.master_user,
            master_password=self.master_password,
            db_name=self.db_name,
            **position,
        )

    def _my_user_databases(self) -> list[str]:
        with self._admin_cursor() as cur:
            cur.execute("SHOW DATABASES")
            names = [row[0] for row in cur.fetchall()]
        system = {"mysql", "information_schema", "performance_schema", "sys"}
        return [name for name in names if name not in system]

    def _my_load(self, dump: Path, root_password: str | None = None, database: str | None = None) -> None:
        pw = self._root_password if root_password is None else root_password
        if root_password is None and not self._root_works(pw):
            pw = ""
        with dump.open() as source:
            _run(
                [
                    MARIADB_CLIENT,
                    f"--socket={self.dir / 'mysql.sock'}",
                    "-uroot",
                    f"--password={pw}",
                    "--init-command=SET sql_log_bin=0",
                    *([database] if database else []),
                ],
                stdin=source,
                timeout=600,
            )

    def _root_works(self, pw: str) -> bool:
        import pymysql

        try:
            pymysql.connect(unix_socket=str(self.dir / "mysql.sock"), user="root", password=pw).close()
            return True
        except pymysql.err.OperationalError:
            return False

    def _pg_snapshot(self, path: Path) -> SnapshotData:
        shutil.chown(path, "postgres", "postgres")
        data = path / "data"
        # A base backup with its WAL is consistent at its end LSN (backup_manifest "WAL-Ranges").
        _run(
            [
                str(PG_BIN / "pg_basebackup"),
                "-h",
                str(self.dir),
                "-p",
                str(self.internal_port),
                "-U",
                "postgres",
                "-D",
                str(data),
                "-X",
                "stream",
                "-c",
                "fast",
                "--no-sync",
            ],
            user="postgres",
            timeout=600,
        )
        manifest = json.loads((data / "backup_manifest").read_text())
        lsn = manifest["WAL-Ranges"][-1]["End-LSN"]
        return self._snapshot_data(path, lsn=lsn)
