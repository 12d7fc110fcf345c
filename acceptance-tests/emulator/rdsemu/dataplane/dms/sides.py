"""SQL the emulated DMS speaks to each engine: catalogue reads, DDL for DROP_AND_CREATE,
row apply, log positions, and change capture (MySQL/MariaDB binlog, PostgreSQL logical
decoding with ``test_decoding``).

DMS is an ordinary SQL client of the target: every change is an INSERT/UPDATE/DELETE in a
transaction, so target triggers fire and sequences are not touched.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pymysql

# pymysqlreplication warns on every stream without binlog_row_metadata=FULL; names are
# resolved from the catalogue instead (mysql_read's ``names``).
logging.getLogger("pymysqlreplication").setLevel(logging.ERROR)

MYSQL_SYSTEM = ("mysql", "information_schema", "performance_schema", "sys")
PG_SYSTEM = ("pg_catalog", "information_schema", "pg_toast")


@dataclass
class Dsn:
    """Where and as whom DMS connects (after ``_dial``)."""

    host: str
    port: int
    user: str
    password: str
    database: str | None


@dataclass
class Change:
    """One row change of a committed transaction."""

    op: str  # "insert" | "update" | "delete"
    schema: str
    table: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None


@dataclass
class Txn:
    """A committed source transaction, in commit order."""

    position: Any  # MySQL ("file", end_pos); PostgreSQL commit end LSN (str)
    commit_time: float  # epoch seconds (source clock)
    captured: float  # epoch seconds when DMS read it
    changes: list[Change] = field(default_factory=list)


def lsn_int(lsn: str) -> int:
    """``X/Y`` -> integer."""
    hi, lo = lsn.split("/")
    return (int(hi, 16) << 32) + int(lo, 16)


def int_lsn(value: int) -> str:
    """Integer -> ``X/Y``."""
    return f"{value >> 32:X}/{value & 0xFFFFFFFF:X}"


def pos_key(engine: str, position: Any) -> Any:
    """A comparable key for a position of ``engine``."""
    if engine == "postgres":
        return lsn_int(position)
    file, pos = position
    return (int(file.rsplit(".", 1)[-1]), int(pos))


class Side:
    """Engine-specific SQL; subclassed per engine."""

    engine = ""

    def connect(self, dsn: Dsn, database: str | None = None, autocommit: bool = True) -> Any:
        """A DB-API connection."""
        raise NotImplementedError

    def quote(self, name: str) -> str:
        """Quote an identifier."""
        raise NotImplementedError

    def qualified(self, schema: str, table: str) -> str:
        """``schema.table`` quoted."""
        return f"{self.quote(schema)}.{self.quote(table)}"

    def tables(self, conn: Any) -> list[tuple[str, str]]:
        """User tables (schema, table)."""
        raise NotImplementedError

    def columns(self, conn: Any, schema: str, table: str) -> list[tuple[str, str, bool]]:
        """(name, SQL type, nullable) in ordinal order; [] when the table does not exist."""
        raise NotImplementedError

    def primary_key(self, conn: Any, schema: str, table: str) -> list[str]:
        """Primary-key column names in key order."""
        raise NotImplementedError

    def ensure_schema(self, conn: Any, schema: str) -> None:
        """Create the target schema/database if missing."""
        raise NotImplementedError

    def create_table(
        self, conn: Any, schema: str, table: str, cols: list[tuple[str, str, bool]], pk: list[str]
    ) -> None:
        """DROP_AND_CREATE's CREATE: columns, nullability and the primary key only (DMS
        creates no secondary indexes, defaults or foreign keys).
        """
        body = [f"{self.quote(n)} {t}{'' if nullable else ' NOT NULL'}" for n, t, nullable in cols]
        if pk:
            body.append("PRIMARY KEY (" + ", ".join(self.quote(c) for c in pk) + ")")
        with conn.cursor() as cur:
            cur.execute(f"CREATE TABLE {self.qualified(schema, table)} (" + ", ".join(body) + ")")

    def current_position(self, conn: Any) -> Any:
        """The source's current log position."""
        raise NotImplementedError


class MySQLSide(Side):
    """MySQL / MariaDB (the emulator runs MariaDB for both engines)."""

    engine = "mysql"

    def connect(self, dsn: Dsn, database: str | None = None, autocommit: bool = True) -> Any:
        """See :class:`Side`."""
        return pymysql.connect(
            host=dsn.host,
            port=dsn.port,
            user=dsn.user,
            password=dsn.password,
            database=database,
            autocommit=autocommit,
            connect_timeout=10,
            read_timeout=60,
            write_timeout=60,
            charset="utf8mb4",
        )

    def quote(self, name: str) -> str:
        """See :class:`Side`."""
        return "`" + name.replace("`", "``") + "`"

    def tables(self, conn: Any) -> list[tuple[str, str]]:
        """See :class:`Side`."""
        with conn.cursor() as cur:
            cur.execute(
                "SELECT table_schema, table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE'"
                " AND table_schema NOT IN %s ORDER BY 1, 2",
                (MYSQL_SYSTEM,),
            )
            return [(str(s), str(t)) for s, t in cur.fetchall()]

    def columns(self, conn: Any, schema: str, table: str) -> list[tuple[str, str, bool]]:
        """See :class:`Side`."""
        with conn.cursor() as cur:
            cur.execute(
                "SELECT column_name, column_type, is_nullable FROM information_schema.columns"
                " WHERE table_schema = %s AND table_name = %s ORDER BY ordinal_position",
                (schema, table),
            )
            return [(str(n), str(t), str(nl) == "YES") for n, t, nl in cur.fetchall()]

    def primary_key(self, conn: Any, schema: str, table: str) -> list[str]:
        """See :class:`Side`."""
        with conn.cursor() as cur:
            cur.execute(
                "SELECT column_name FROM information_schema.key_column_usage WHERE table_schema = %s"
                " AND table_name = %s AND constraint_name = 'PRIMARY' ORDER BY ordinal_position",
                (schema, table),
            )
            return [str(r[0]) for r in cur.fetchall()]

    def ensure_schema(self, conn: Any, schema: str) -> None:
        """See :class:`Side`."""
        with conn.cursor() as cur:
            cur.execute(f"CREATE DATABASE IF NOT EXISTS {self.quote(schema)}")

    def current_position(self, conn: Any) -> tuple[str, int]:
        """See :class:`Side`."""
        with conn.cursor() as cur:
            cur.execute("SHOW MASTER STATUS")
            row = cur.fetchone()
        if not row:
            raise RuntimeError("binary logging is not enabled on the source")
        return (str(row[0]), int(row[1]))

    def snapshot_position(self, conn: Any) -> tuple[str, int]:
        """Inside ``START TRANSACTION WITH CONSISTENT SNAPSHOT``: the binlog position that
        snapshot corresponds to (MariaDB's ``binlog_snapshot_file``/``_position``).
        """
        with conn.cursor() as cur:
            cur.execute("SHOW STATUS LIKE 'binlog_snapshot_%'")
            vals = {str(k).lower(): str(v) for k, v in cur.fetchall()}
        return (vals["binlog_snapshot_file"], int(vals["binlog_snapshot_position"]))


class PgSide(Side):
    """PostgreSQL."""

    engine = "postgres"

    def connect(self, dsn: Dsn, database: str | None = None, autocommit: bool = True) -> Any:
        """See :class:`Side`."""
        import psycopg

        return psycopg.connect(
            host=dsn.host,
            port=dsn.port,
            user=dsn.user,
            password=dsn.password,
            dbname=database or dsn.database or "postgres",
            autocommit=autocommit,
            connect_timeout=10,
        )

    def quote(self, name: str) -> str:
        """See :class:`Side`."""
        return '"' + name.replace('"', '""') + '"'

    def tables(self, conn: Any) -> list[tuple[str, str]]:
        """See :class:`Side`."""
        with conn.cursor() as cur:
            cur.execute(
                "SELECT schemaname, tablename FROM pg_tables WHERE schemaname <> ALL(%s) ORDER BY 1, 2",
                (list(PG_SYSTEM),),
            )
            return [(str(s), str(t)) for s, t in cur.fetchall()]

    def columns(self, conn: Any, schema: str, table: str) -> list[tuple[str, str, bool]]:
        """See :class:`Side`."""
        with conn.cursor() as cur:
            cur.execute(
                "SELECT a.attname, format_type(a.atttypid, a.atttypmod), NOT a.attnotnull FROM pg_attribute a"
                " JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace"
                " WHERE n.nspname = %s AND c.relname = %s AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
                (schema, table),
            )
            return [(str(n), str(t), bool(nl)) for n, t, nl in cur.fetchall()]

    def primary_key(self, conn: Any, schema: str, table: str) -> list[str]:
        """See :class:`Side`."""
        with conn.cursor() as cur:
            cur.execute(
                "SELECT a.attname FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid"
                " JOIN pg_namespace n ON n.oid = c.relnamespace"
                " JOIN LATERAL unnest(i.indkey) WITH ORDINALITY k(attnum, ord) ON true"
                " JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum"
                " WHERE n.nspname = %s AND c.relname = %s AND i.indisprimary ORDER BY k.ord",
                (schema, table),
            )
            return [str(r[0]) for r in cur.fetchall()]

    def ensure_schema(self, conn: Any, schema: str) -> None:
        """See :class:`Side`."""
        with conn.cursor() as cur:
            cur.execute(f"CREATE SCHEMA IF NOT EXISTS {self.quote(schema)}")

    def current_position(self, conn: Any) -> str:
        """See :class:`Side`."""
        with conn.cursor() as cur:
            cur.execute("SELECT pg_current_wal_lsn()::text")
            row = cur.fetchone()
        return str(row[0])


def side_for(engine_name: str) -> Side:
    """The Side for a DMS endpoint ``EngineName``."""
    name = (engine_name or "").lower()
    if name in ("postgres", "postgresql", "aurora-postgresql"):
        return PgSide()
    if name in ("mysql", "mariadb", "aurora"):
        return MySQLSide()
    raise ValueError(f"engine {engine_name} is not modelled by the data plane")


# --- capture: MySQL / MariaDB binlog ---------------------------------------------------------


class MySQLTail:
    """A persistent binlog stream (blocking, with a short master heartbeat) from a
    transaction boundary; :meth:`read` returns the committed transactions that arrived.
    ``names`` gives a table's column names in order: without ``binlog_row_metadata=FULL``
    the binlog carries none.
    """

    HEARTBEAT = 0.05  # seconds: the master sends one when it has nothing else

    def __init__(
        self, dsn: Dsn, start: tuple[str, int], server_id: int, names: Callable[[str, str], list[str]] | None = None
    ) -> None:
        from pymysqlreplication import BinLogStreamReader
        from pymysqlreplication.event import HeartbeatLogEvent, QueryEvent, RotateEvent, XidEvent
        from pymysqlreplication.row_event import DeleteRowsEvent, UpdateRowsEvent, WriteRowsEvent

        self.names = names
        self.position = start
        self._pending: list[Change] = []
        self.stream = BinLogStreamReader(
            connection_settings={"host": dsn.host, "port": dsn.port, "user": dsn.user, "passwd": dsn.password},
            server_id=server_id,
            blocking=True,
            resume_stream=True,
            log_file=start[0],
            log_pos=start[1],
            only_events=[
                WriteRowsEvent,
                UpdateRowsEvent,
                DeleteRowsEvent,
                XidEvent,
                QueryEvent,
                RotateEvent,
                HeartbeatLogEvent,
            ],
            is_mariadb=False,  # True would stream by GTID and ignore the file:pos start
            slave_heartbeat=self.HEARTBEAT,
            enable_logging=False,
        )

    def _named(self, schema: str, table: str, row: dict[str, Any]) -> dict[str, Any]:
        if self.names is None or not any(k.startswith("UNKNOWN_COL") for k in row):
            return dict(row)
        cols = self.names(schema, table)
        return {
            cols[int(k[11:])] if k.startswith("UNKNOWN_COL") and int(k[11:]) < len(cols) else k: v
            for k, v in row.items()
        }

    def read(self, limit: int = 500) -> list[Txn]:
        """Transactions committed since the last read, until the stream is idle (a
        heartbeat with no open transaction) or ``limit`` is reached.
        """
        from pymysqlreplication.event import HeartbeatLogEvent, QueryEvent, RotateEvent, XidEvent
        from pymysqlreplication.row_event import DeleteRowsEvent, UpdateRowsEvent, WriteRowsEvent

        out: list[Txn] = []
        stream = self.stream
        while len(out) < limit:
            ev = stream.fetchone()
            if ev is None or isinstance(ev, RotateEvent):
                continue
            if isinstance(ev, HeartbeatLogEvent):
                if not self._pending:
                    break
                continue
            if isinstance(ev, (WriteRowsEvent, UpdateRowsEvent, DeleteRowsEvent)):
                for row in ev.rows:
                    if isinstance(ev, WriteRowsEvent):
                        after = self._named(ev.schema, ev.table, row["values"])
                        self._pending.append(Change("insert", ev.schema, ev.table, None, after))
                    elif isinstance(ev, UpdateRowsEvent):
                        before = self._named(ev.schema, ev.table, row["before_values"])
                        after = self._named(ev.schema, ev.table, row["after_values"])
                        self._pending.append(Change("update", ev.schema, ev.table, before, after))
                    else:
                        before = self._named(ev.schema, ev.table, row["values"])
                        self._pending.append(Change("delete", ev.schema, ev.table, before, None))
                continue
            query = str(getattr(ev, "query", "")).strip().upper()
            if isinstance(ev, XidEvent) or (isinstance(ev, QueryEvent) and query == "COMMIT"):
                self.position = (str(stream.log_file), int(stream.log_pos))
                if self._pending:
                    captured = time.time()
                    # The binlog stamps whole seconds: take the latest instant consistent with
                    # the stamp (never later than the read), so latency is never overstated.
                    commit = min(captured, float(ev.timestamp) + 0.999)
                    out.append(Txn(self.position, commit, captured, self._pending))
                    self._pending = []
            elif isinstance(ev, QueryEvent) and query != "BEGIN" and not self._pending:
                # DDL outside a transaction: a boundary too.
                self.position = (str(stream.log_file), int(stream.log_pos))
        return out

    def close(self) -> None:
        """Close the stream."""
        self.stream.close()


def mysql_read(
    dsn: Dsn,
    start: tuple[str, int],
    server_id: int,
    limit: int = 500,
    names: Callable[[str, str], list[str]] | None = None,
) -> tuple[list[Txn], tuple[str, int]]:
    """One-shot: committed transactions from ``start`` until the stream is idle."""
    tail = MySQLTail(dsn, start, server_id, names)
    try:
        txns = tail.read(limit)
        return txns, tail.position
    finally:
        tail.close()


def mysql_position_at(dsn: Dsn, when: float, server_id: int) -> tuple[str, int]:
    """The binlog position of the first transaction committed at or after ``when`` (a
    CdcStartPosition/CdcStartTime date on a MySQL source), else the current end.
    """
    side = MySQLSide()
    conn = side.connect(dsn)
    try:
        with conn.cursor() as cur:
            cur.execute("SHOW BINARY LOGS")
            first = str(cur.fetchone()[0])
    finally:
        conn.close()
    previous: tuple[str, int] = (first, 4)
    tail = MySQLTail(dsn, previous, server_id)
    try:
        for _ in range(100_000):
            txns = tail.read(limit=500)
            if not txns:
                return tail.position
            for txn in txns:
                # Dates have whole seconds, as binlog stamps: commit_time >= when exactly when
                # the stamp is.
                if txn.commit_time >= when:
                    return previous
                previous = txn.position
    finally:
        tail.close()
    return previous


# --- capture: PostgreSQL logical decoding (test_decoding) -----------------------------------

_TD_TABLE = re.compile(
    r'^table (?P<schema>"(?:[^"]|"")*"|[^.]+)\.(?P<table>"(?:[^"]|"")*"|[^:]+): '
    r"(?P<op>INSERT|UPDATE|DELETE|TRUNCATE):(?P<rest>.*)$",
    re.S,
)
_TD_COL = re.compile(r"""\s*(?P<name>"(?:[^"]|"")*"|[^\[\s]+)\[(?P<type>.+?)\]:(?P<value>'(?:[^']|'')*'|\S+)""", re.S)
_TD_COMMIT = re.compile(r"^COMMIT(?: \d+)?(?: \(at (?P<at>.+)\))?$")


def _unquote_ident(text: str) -> str:
    return text[1:-1].replace('""', '"') if text.startswith('"') else text


def _td_tuple(text: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for m in _TD_COL.finditer(text):
        value = m["value"]
        if value == "unchanged-toast-datum":
            continue
        if value == "null":
            out[_unquote_ident(m["name"])] = None
        elif value.startswith("'"):
            out[_unquote_ident(m["name"])] = value[1:-1].replace("''", "'")
        else:
            out[_unquote_ident(m["name"])] = value
    return out


def parse_test_decoding(data: str) -> Change | None:
    """One ``test_decoding`` change line -> Change (values as text; the target casts)."""
    m = _TD_TABLE.match(data)
    if not m:
        return None
    schema, table, op, rest = _unquote_ident(m["schema"]), _unquote_ident(m["table"]), m["op"], m["rest"]
    if op == "INSERT":
        return Change("insert", schema, table, None, _td_tuple(rest))
    if op == "DELETE":
        return Change("delete", schema, table, _td_tuple(rest), None)
    if op == "UPDATE":
        if "old-key:" in rest and "new-tuple:" in rest:
            old, new = rest.split("new-tuple:", 1)
            return Change("update", schema, table, _td_tuple(old.replace("old-key:", "", 1)), _td_tuple(new))
        return Change("update", schema, table, None, _td_tuple(rest))
    return None  # TRUNCATE: DMS does not replicate it from PostgreSQL


def _pg_time(text: str | None) -> float:
    if not text:
        return time.time()
    try:
        return datetime.fromisoformat(text.replace(" ", "T")).timestamp()
    except ValueError:
        return time.time()


def pg_read(conn: Any, slot: str, limit: int = 500) -> list[Txn]:
    """Committed transactions the slot has not confirmed, peeked (not consumed): the slot
    advances only once they are applied (``pg_replication_slot_advance``).
    """
    with conn.cursor() as cur:
        cur.execute(
            "SELECT lsn::text, data FROM pg_logical_slot_peek_changes(%s, NULL, %s,"
            " 'include-xids', '1', 'include-timestamp', '1', 'skip-empty-xacts', '1')",
            (slot, limit),
        )
        rows = cur.fetchall()
    out: list[Txn] = []
    pending: list[Change] = []
    for lsn, data in rows:
        text = str(data)
        if text.startswith("BEGIN"):
            pending = []
            continue
        m = _TD_COMMIT.match(text)
        if m:
            out.append(Txn(str(lsn), _pg_time(m["at"]), time.time(), pending))
            pending = []
            continue
        change = parse_test_decoding(text)
        if change is not None:
            pending.append(change)
    return out


def pg_advance(conn: Any, slot: str, lsn: str) -> None:
    """Confirm everything up to ``lsn`` (a commit's end) as applied."""
    with conn.cursor() as cur:
        cur.execute("SELECT pg_replication_slot_advance(%s, %s::pg_lsn)", (slot, lsn))


def pg_slot(conn: Any, slot: str) -> dict[str, Any] | None:
    """The slot's plugin and confirmed position, or None."""
    with conn.cursor() as cur:
        cur.execute(
            "SELECT plugin, confirmed_flush_lsn::text, database FROM pg_replication_slots WHERE slot_name = %s",
            (slot,),
        )
        row = cur.fetchone()
    if row is None:
        return None
    return {"plugin": row[0], "confirmed": row[1], "database": row[2]}


def pg_create_slot(conn: Any, slot: str) -> str:
    """Create a logical slot with ``test_decoding`` (DMS's default plugin); its LSN."""
    with conn.cursor() as cur:
        cur.execute("SELECT lsn::text FROM pg_create_logical_replication_slot(%s, 'test_decoding')", (slot,))
        row = cur.fetchone()
    return str(row[0])
