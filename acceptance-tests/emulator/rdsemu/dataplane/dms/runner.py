"""One running DMS task on the data plane: full load, cached changes, CDC, checkpoints,
stop positions, error policy, table statistics, validation and the latency it measures.

A ``TaskRun`` is a background thread per running task. The API side (``dms_patch``) owns
the scaled state machine (``starting`` for ``task_start`` AWS seconds, ``stopping``...); the
thread starts moving rows when the task reaches ``running`` and reports what it did through
thread-safe snapshots (:meth:`TaskRun.stats`, :meth:`TaskRun.table_stats`,
:meth:`TaskRun.lag_at`).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
import zlib
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .config import Selection, StopPoint, TaskConfigError, TaskSettings, mysql_checkpoint, parse_start, pg_checkpoint
from .sides import (
    Change,
    Dsn,
    MySQLSide,
    MySQLTail,
    PgSide,
    Side,
    Txn,
    mysql_position_at,
    pg_advance,
    pg_create_slot,
    pg_read,
    pg_slot,
    pos_key,
)

LOG = logging.getLogger("rdsemu.dms")
POLL_SECONDS = 0.02  # real seconds between log polls when CDC is caught up
LOAD_BATCH = 500
MAX_SAMPLES = 20_000
VALIDATION_INTERVAL = 1.0  # real seconds between two validation points during CDC (emulator pacing)

# Table-level errors (the table or a column is missing or unusable): TableErrorPolicy.
MYSQL_TABLE_ERRORS = {1146, 1054, 1136, 1049, 1142}
PG_TABLE_ERRORS = {"42P01", "42703", "3F000", "42501"}


@dataclass
class Endpoint:
    """What the runner needs of a DMS endpoint."""

    side: Side
    dial: Callable[[], Dsn]  # resolves the server and the route to it at connect time
    after_connect: list[str]
    database: str | None
    slot: str | None = None


@dataclass
class TableStat:
    """DescribeTableStatistics for one table, from real rows."""

    schema: str
    table: str
    state: str = "Before load"
    full_load_rows: int = 0
    inserts: int = 0
    updates: int = 0
    deletes: int = 0
    ddls: int = 0
    error_rows: int = 0
    load_start: float | None = None
    load_end: float | None = None
    snapshot_key: Any = None  # changes committed at or before this position are in the load
    validation_state: str = "Not enabled"
    validation_failed: int = 0
    validation_pending: int = 0
    validation_details: str | None = None
    changed_since_validation: bool = False
    last_update: float = field(default_factory=time.time)
    error: str | None = None


@dataclass
class Carry:
    """What survives a stop: checkpoint, table statistics, load dates (resume-processing)."""

    position: Any = None  # last applied commit (MySQL (file, pos); PostgreSQL LSN)
    seq: int = 0
    tables: dict[tuple[str, str], TableStat] = field(default_factory=dict)
    load_done: bool = False
    load_start: float | None = None
    load_end: float | None = None
    slot: str | None = None


class TaskRun:
    """A running DMS task's data movement (one thread)."""

    def __init__(
        self,
        *,
        task_id: str,
        migration_type: str,
        source: Endpoint,
        target: Endpoint,
        selection: Selection,
        settings: TaskSettings,
        start_wall: float,
        full_load: bool,
        cdc_start: str | None,
        cdc_start_time: float | None,
        stop_at: StopPoint | None,
        carry: Carry | None,
        time_scale: Callable[[], float],
        apply_delay: Callable[[], float],
    ) -> None:
        self.task_id = task_id
        self.migration_type = migration_type
        self.source = source
        self.target = target
        self.selection = selection
        self.settings = settings
        self.start_wall = start_wall
        self.full_load = full_load
        self.cdc_start = cdc_start
        self.cdc_start_time = cdc_start_time
        self.stop_at = stop_at
        self.carry = carry or Carry()
        self.time_scale = time_scale
        self.apply_delay = apply_delay
        self.lock = threading.RLock()
        self.stop_flag = threading.Event()
        self.finished = threading.Event()
        # "starting" | "running" | "stopped" | "failed"
        self.outcome: str = "starting"
        self.stop_reason: str | None = None
        self.failure: str | None = None
        self.stopped_wall: float | None = None
        self.rows_total = 0
        self.rows_loaded = 0
        self.samples: list[tuple[float, float, float]] = []  # (wall, source lag, target lag) real s
        self.recoveries = 0
        self.connected_once = False
        self.last_error: str | None = None
        self.server_id = 1_000_000 + (zlib.crc32(task_id.encode()) % 1_000_000)
        # CDC validation: the pending point, when the next may be read, and the position up to
        # which every source commit is applied.
        self._point: _Point | None = None
        self._next_point = 0.0
        self._reached: Any = None
        self._slot_lock = threading.Lock()  # PostgreSQL: capture peeks, apply confirms
        # Set once the endpoints are connected and CDC's start position is fixed: until then
        # the task reports "starting" (DMS: "connecting to ... the source and target
        # endpoints", CHAP_Tasks.Status), so a caller that waits for "running" knows that
        # changes committed from then on will be captured.
        self.positioned = threading.Event()
        self.thread = threading.Thread(target=self._main, name=f"dms-{task_id}", daemon=True)

    # --- public, thread-safe -------------------------------------------------------------
    def start(self) -> None:
        """Start the thread."""
        self.thread.start()

    def stop(self, wait: float = 30.0) -> None:
        """Ask the thread to stop after the transaction it is applying; wait for it."""
        self.stop_flag.set()
        self.thread.join(timeout=wait)

    def checkpoint(self) -> str | None:
        """RecoveryCheckpoint: the last applied commit, in DMS's ``checkpoint:V1#`` shape."""
        with self.lock:
            pos, seq = self.carry.position, self.carry.seq
        if pos is None:
            return None
        if self.source.side.engine == "postgres":
            return pg_checkpoint(str(pos), seq)
        return mysql_checkpoint(pos[0], int(pos[1]), seq)

    def progress(self) -> float:
        """Full-load percent from rows loaded."""
        with self.lock:
            if self.carry.load_done:
                return 100.0
            if self.rows_total <= 0:
                return 0.0
            return min(99.0, self.rows_loaded * 100.0 / self.rows_total)

    def tables(self) -> list[TableStat]:
        """Copies of the table statistics, in name order."""
        with self.lock:
            return [TableStat(**vars(t)) for _, t in sorted(self.carry.tables.items())]

    def lag_at(self, wall_from: float, wall_to: float) -> tuple[float, float] | None:
        """Highest (source, target) latency in real seconds sampled in ``[wall_from, wall_to)``."""
        with self.lock:
            hits = [(s, t) for w, s, t in self.samples if wall_from <= w < wall_to]
        if not hits:
            return None
        return max(s for s, _ in hits), max(t for _, t in hits)

    # --- thread -----------------------------------------------------------------------------
    def _main(self) -> None:
        try:
            while time.time() < self.start_wall:
                if self.stop_flag.wait(min(0.05, max(0.0, self.start_wall - time.time()))):
                    self._finish("stopped", "Stop Reason NORMAL")
                    return
            with self.lock:
                self.outcome = "running"
            attempts = 0
            while True:
                try:
                    self._run()
                    return
                except _Recoverable as exc:
                    if not self.connected_once:
                        # Never connected (unreachable endpoint, refused by a security
                        # group): the start fails (a guess; DMS documents no retry here).
                        raise _TaskFailed(str(exc)) from exc
                    # An environmental error (a connection lost or refused): DMS restarts the
                    # task from its checkpoint, RecoverableErrorCount times (-1: forever),
                    # RecoverableErrorInterval seconds apart.
                    attempts += 1
                    limit = self.settings.recoverable_error_count
                    if limit >= 0 and attempts > limit:
                        raise _TaskFailed(f"Recoverable error limit reached: {exc}") from exc
                    with self.lock:
                        self.recoveries += 1
                        self.last_error = str(exc)
                    LOG.info("task %s: recoverable error, restarting (%d): %s", self.task_id, attempts, exc)
                    if self.stop_flag.wait(self.settings.recoverable_error_interval * self.time_scale()):
                        raise _Stopped() from exc
                    with self.lock:
                        self.full_load = not self.carry.load_done and self.full_load
        except _Stopped:
            self._finish("stopped", "Stop Reason NORMAL")
        except _TaskFailed as exc:
            self._finish("failed", "Stop Reason FATAL_ERROR", str(exc))
        except Exception as exc:
            LOG.exception("task %s failed", self.task_id)
            self._finish("failed", "Stop Reason FATAL_ERROR", f"{type(exc).__name__}: {exc}")
        finally:
            self.finished.set()

    def _finish(self, outcome: str, reason: str | None, failure: str | None = None) -> None:
        with self.lock:
            if self.outcome in ("stopped", "failed"):
                return
            self.outcome = outcome
            self.stop_reason = reason
            self.failure = failure
            self.stopped_wall = time.time()

    def _connect(self, ep: Endpoint, database: str | None = None, autocommit: bool = True) -> Any:
        try:
            dsn = ep.dial()
            conn = ep.side.connect(dsn, database=database or ep.database, autocommit=autocommit)
        except Exception as exc:
            raise _Recoverable(f"Error connecting to the {ep.side.engine} endpoint: {exc}") from exc
        for stmt in ep.after_connect:
            with conn.cursor() as cur:
                cur.execute(stmt)
            if not autocommit:
                conn.commit()
        return conn

    def _run(self) -> None:
        try:
            self._run_once()
        except (_TaskFailed, _Stopped, _Recoverable):
            raise
        except Exception as exc:
            if _is_connection_error(exc):
                raise _Recoverable(f"{type(exc).__name__}: {exc}") from exc
            raise

    def _run_once(self) -> None:
        src_side = self.source.side
        cdc = self.migration_type in ("cdc", "full-load-and-cdc")
        src = self._connect(self.source)
        try:
            self._connect(self.target).close()
            self.connected_once = True
            tables = [t for t in src_side.tables(src) if self._in_scope(t)]
            with self.lock:
                for key in tables:
                    self.carry.tables.setdefault(key, TableStat(*key))
            start_pos = self._cdc_start(src) if cdc else None
            self.positioned.set()
            if self.full_load:
                self._full_load(src, tables, cdc)
            with self.lock:
                self.carry.load_done = True
                if self.carry.load_start is not None and self.carry.load_end is None:
                    self.carry.load_end = time.time()
            if self.settings.validation:
                if cdc:
                    self._await_validation()
                else:
                    self._validate(src)
            if not cdc:
                self._finish("stopped", "Stop Reason FULL_LOAD_ONLY_FINISHED")
                return
            self._cdc(src, start_pos)
        finally:
            src.close()

    def _in_scope(self, key: tuple[str, str]) -> bool:
        schema, table = key
        if self.source.side.engine == "postgres" and self.source.database is None:
            return False
        return self.selection.selects(schema, table)

    # --- CDC start ---------------------------------------------------------------------
    def _cdc_start(self, src: Any) -> Any:
        """The position CDC reads from (MySQL: (file, pos); PostgreSQL: the slot)."""
        side = self.source.side
        with self.lock:
            resumed = self.carry.position
        if isinstance(side, PgSide):
            return self._pg_slot(src, resumed)
        self._check_binlog(src)
        if resumed is not None:
            return resumed
        position = self._mysql_start(src)
        with self.lock:
            # Until a change is applied, the start position is the checkpoint: a restart after
            # a recoverable error resumes there, not at the end of the log it then finds (the
            # changes committed meanwhile would be lost). A PostgreSQL slot keeps its own.
            self.carry.position = position
        return position

    def _mysql_start(self, src: Any) -> Any:
        """The first CDC position of a task that has no checkpoint yet."""
        if self.cdc_start:
            try:
                point = parse_start(self.cdc_start, "mysql")
            except TaskConfigError as exc:
                raise _TaskFailed(str(exc)) from exc
            if point.native is not None:
                return point.native
            assert point.date is not None
            return mysql_position_at(self.source.dial(), point.date, self.server_id)
        if self.cdc_start_time is not None:
            return mysql_position_at(self.source.dial(), self.cdc_start_time, self.server_id)
        return self.source.side.current_position(src)

    def _check_binlog(self, src: Any) -> None:
        with src.cursor() as cur:
            cur.execute("SELECT @@binlog_format")
            fmt = str(cur.fetchone()[0]).upper()
        if fmt != "ROW":
            # DMS requires row-based binary logging on a MySQL source.
            raise _TaskFailed(f"binlog_format is {fmt} on the source; CDC requires binlog_format=ROW")

    def _pg_slot(self, src: Any, resumed: Any) -> str:
        slot = self.source.slot or self.carry.slot
        if slot is None:
            slot = "dms_" + format(zlib.crc32(self.task_id.encode()), "08x") + format(int(time.time()), "x")
            pg_create_slot(src, slot)
        info = pg_slot(src, slot)
        if info is None:
            # DMS verifies that a named slot exists before starting CDC and raises an error.
            raise _TaskFailed(f"Replication slot {slot} does not exist on the source")
        if info["plugin"] != "test_decoding":
            raise _TaskFailed(
                f"Replication slot {slot} uses plugin {info['plugin']}; the emulator decodes test_decoding"
            )
        with self.lock:
            self.carry.slot = slot
        target_lsn = None
        if resumed is not None:
            target_lsn = str(resumed)
        elif self.cdc_start:
            try:
                point = parse_start(self.cdc_start, "postgres")
            except TaskConfigError as exc:
                raise _TaskFailed(str(exc)) from exc
            target_lsn = str(point.native)
        if target_lsn and pos_key("postgres", target_lsn) > pos_key("postgres", info["confirmed"]):
            pg_advance(src, slot, target_lsn)
        return slot

    # --- full load -----------------------------------------------------------------------
    def _full_load(self, src: Any, tables: list[tuple[str, str]], cdc: bool) -> None:
        side = self.source.side
        total = 0
        for schema, table in tables:
            with src.cursor() as cur:
                cur.execute(f"SELECT COUNT(*) FROM {side.qualified(schema, table)}")
                total += int(cur.fetchone()[0])
        with self.lock:
            self.rows_total, self.rows_loaded = total, 0
            self.carry.load_done = False
            self.carry.load_start, self.carry.load_end = time.time(), None
        tgt = self._connect(self.target, autocommit=False)
        try:
            for key in tables:
                if self.stop_flag.is_set():
                    raise _Stopped()
                self._load_table(key, tgt, cdc)
        finally:
            tgt.close()

    def _load_table(self, key: tuple[str, str], tgt: Any, cdc: bool) -> None:
        schema, table = key
        s_side, t_side = self.source.side, self.target.side
        with self.lock:
            stat = self.carry.tables[key]
            stat.state, stat.full_load_rows, stat.load_start, stat.error = "Full load", 0, time.time(), None
            stat.inserts = stat.updates = stat.deletes = 0
        reader = s_side.connect(self.source.dial(), database=self.source.database, autocommit=False)
        try:
            cols, pk = s_side.columns(reader, schema, table), s_side.primary_key(reader, schema, table)
            reader.rollback()  # the snapshot transaction starts below
            snap = self._open_snapshot(reader, [key])
            with self.lock:
                stat.snapshot_key = pos_key(s_side.engine, snap) if cdc else None
            try:
                self._prepare(tgt, schema, table, cols, pk)
                names = [c[0] for c in cols]
                insert = (
                    f"INSERT INTO {t_side.qualified(schema, table)} ("
                    + ", ".join(t_side.quote(n) for n in names)
                    + ") VALUES ("
                    + ", ".join(["%s"] * len(names))
                    + ")"
                )
                with reader.cursor() as cur:
                    cur.execute(
                        f"SELECT {', '.join(s_side.quote(n) for n in names)} FROM {s_side.qualified(schema, table)}"
                    )
                    while True:
                        rows = cur.fetchmany(LOAD_BATCH)
                        if not rows:
                            break
                        with tgt.cursor() as tcur:
                            tcur.executemany(insert, [tuple(r) for r in rows])
                        tgt.commit()
                        with self.lock:
                            stat.full_load_rows += len(rows)
                            stat.last_update = time.time()
                            self.rows_loaded += len(rows)
            except Exception as exc:
                _rollback(tgt)
                if not self._table_error(stat, exc):
                    raise
                return
        finally:
            _rollback(reader)
            reader.close()
        with self.lock:
            stat.state, stat.load_end = "Table completed", time.time()

    def _prepare(self, tgt: Any, schema: str, table: str, cols: list[tuple[str, str, bool]], pk: list[str]) -> None:
        side = self.target.side
        mode = self.settings.prep_mode
        exists = bool(side.columns(tgt, schema, table))
        with tgt.cursor() as cur:
            if mode == "DROP_AND_CREATE" and exists:
                cur.execute(f"DROP TABLE {side.qualified(schema, table)}")
                exists = False
            elif mode == "TRUNCATE_BEFORE_LOAD" and exists:
                cur.execute(f"TRUNCATE TABLE {side.qualified(schema, table)}")
        if not exists:
            side.ensure_schema(tgt, schema)
            side.create_table(tgt, schema, table, cols, pk)
        tgt.commit()

    def _table_error(self, stat: TableStat, exc: Exception) -> bool:
        """Apply TableErrorPolicy; True when the task goes on without the table."""
        message = f"{type(exc).__name__}: {exc}"
        if self.settings.table_error_policy == "STOP_TASK":
            raise _TaskFailed(f"Table {stat.schema}.{stat.table} error: {message}") from exc
        with self.lock:
            stat.state, stat.error, stat.last_update = "Table error", message, time.time()
        LOG.warning("task %s: table %s.%s suspended: %s", self.task_id, stat.schema, stat.table, message)
        return True

    # --- CDC -----------------------------------------------------------------------------
    def _cdc(self, src: Any, start: Any) -> None:
        """Capture (its own thread, reading ahead as DMS's sorter does) fills a queue; apply
        works through it in commit order. Apply never waits for a read of the source log, and a
        slow apply raises the target latency, not the source latency.
        """
        engine = self.source.side.engine
        tgt = self._connect(self.target, autocommit=False)
        queue: deque[Txn] = deque()
        self._point = None
        self._reached = pos_key(engine, self.carry.position) if self.carry.position is not None else None
        # PostgreSQL capture peeks through its own connection; ``src`` confirms (pg_advance).
        reader: Any = (
            MySQLTail(self.source.dial(), start, self.server_id, self._names)
            if engine != "postgres"
            else self._connect(self.source)
        )
        done = threading.Event()
        failure: list[BaseException] = []
        thread = threading.Thread(
            target=self._capture, args=(reader, start, queue, done, failure), name=f"dms-capture-{self.task_id}"
        )
        thread.daemon = True
        thread.start()
        try:
            while True:
                if failure:
                    raise failure[0]
                if self.stop_flag.is_set():
                    self._finish("stopped", "Stop Reason NORMAL")
                    return
                if self._server_time_reached():
                    return
                if self.settings.validation:
                    self._validation_step(queue)
                if not queue:
                    self._sample(None, None)
                    self.stop_flag.wait(POLL_SECONDS)
                    continue
                if not self._apply_batch(src, tgt, start, queue):
                    return
        finally:
            done.set()
            thread.join(timeout=5)
            with contextlib.suppress(Exception):
                reader.close()
            _rollback(tgt)
            tgt.close()

    def _capture(
        self, reader: Any, slot: Any, queue: deque[Txn], done: threading.Event, failure: list[BaseException]
    ) -> None:
        """The capture thread: committed source transactions into ``queue``, each once, in
        commit order. Whenever the queue is empty after a read, everything the source committed
        before that read is applied: the position reached (and, for MySQL, the checkpoint) moves.
        """
        engine = self.source.side.engine
        captured: Any = None
        try:
            while not done.is_set():
                # PostgreSQL: when nothing new arrives, every commit before this LSN is applied.
                idle_at = (
                    self.source.side.current_position(reader)
                    if engine == "postgres" and self._point is not None
                    else None
                )
                if isinstance(reader, MySQLTail):
                    new = reader.read()
                else:
                    with self._slot_lock:
                        new = pg_read(reader, str(slot))
                appended = False
                for txn in new:
                    key = pos_key(engine, txn.position)
                    if captured is None or key > captured:
                        queue.append(txn)
                        captured, appended = key, True
                if not queue:
                    reached = reader.position if isinstance(reader, MySQLTail) else idle_at
                    if reached is not None:
                        self._advance(reached, checkpoint=isinstance(reader, MySQLTail))
                if engine == "postgres" and not appended:
                    done.wait(POLL_SECONDS)  # MySQL's read waited for a heartbeat
        except Exception as exc:
            failure.append(exc)

    def _advance(self, position: Any, checkpoint: bool) -> None:
        """Every source commit up to ``position`` is applied (never moves back)."""
        key = pos_key(self.source.side.engine, position)
        with self.lock:
            if self._reached is None or key > self._reached:
                self._reached = key
            if checkpoint and (
                self.carry.position is None or key > pos_key(self.source.side.engine, self.carry.position)
            ):
                self.carry.position = position

    def _server_time_reached(self) -> bool:
        if self.stop_at and self.stop_at.kind == "server_time" and time.time() >= self.stop_at.at:
            self._finish("stopped", self.stop_at.reason)
            return True
        return False

    def _sample(self, newest: Txn | None, oldest_pending: Txn | None) -> None:
        """Latency as DMS defines it: source = now - commit time of the newest captured
        event while behind; target = now - commit time of the oldest event not yet applied.
        """
        now = time.time()
        source = max(0.0, newest.captured - newest.commit_time) if newest is not None else 0.0
        target = max(0.0, now - oldest_pending.commit_time) if oldest_pending is not None else 0.0
        with self.lock:
            self.samples.append((now, source, target))
            if len(self.samples) > MAX_SAMPLES:
                del self.samples[: len(self.samples) - MAX_SAMPLES]

    def _apply_batch(self, src: Any, tgt: Any, slot: Any, queue: deque[Txn]) -> bool:
        """Transactional apply: source transactions from the head of ``queue``, in commit order,
        grouped into one target transaction until it holds ChangeProcessingTuning
        MinTransactionSize changes or has been open CommitTimeout (AWS) seconds; the checkpoint
        (and a PostgreSQL slot) moves only after the commit. A pending validation point is a
        barrier: nothing committed after it is applied before the comparison. False when the
        task stops at its commit-time stop position.
        """
        engine = self.source.side.engine
        deadline = time.monotonic() + self.settings.commit_timeout * self.time_scale()
        barrier = self._point.key if self._point is not None else None
        batch: list[Txn] = []
        applied: list[tuple[TableStat, str]] = []
        changes = 0
        clean = True
        stop_point = False
        while len(batch) < len(queue):
            txn = queue[len(batch)]
            if self.stop_at and self.stop_at.kind == "commit_time" and txn.commit_time >= self.stop_at.at:
                stop_point = True
                break
            if barrier is not None and pos_key(engine, txn.position) > barrier:
                break
            if not self._wait_apply_delay(queue):
                break
            batch.append(txn)
            done = self._apply_txn(tgt, txn, careful=False)
            if done is None:
                clean = False  # a change failed: the batch is applied again, change by change
                break
            applied += done
            changes += len(txn.changes)
            if changes >= self.settings.min_transaction_size or time.monotonic() >= deadline:
                break
        if not clean:
            tgt.rollback()
            applied = []
            for txn in batch:
                applied += self._apply_txn(tgt, txn, careful=True) or []
        tgt.commit()
        if batch:
            last = batch[-1]
            if engine == "postgres":
                with self._slot_lock:  # a slot serves one session at a time
                    pg_advance(src, str(slot), last.position)
            for _ in batch:
                queue.popleft()
            self._advance(last.position, checkpoint=True)
            with self.lock:
                self.carry.seq += len(batch)
                now = time.time()
                for stat, op in applied:
                    if op == "insert":
                        stat.inserts += 1
                    elif op == "update":
                        stat.updates += 1
                    else:
                        stat.deletes += 1
                    stat.changed_since_validation = True
                    if self.settings.validation:
                        stat.validation_pending += 1
                    stat.last_update = now
            self._sample(queue[-1] if queue else None, queue[0] if queue else None)
        if stop_point and not batch:
            assert self.stop_at is not None
            self._finish("stopped", self.stop_at.reason)
            return False
        return True

    def _wait_apply_delay(self, queue: deque[Txn]) -> bool:
        """A slowed apply (``/_emulator/dms-apply-delay``) waits before each source transaction
        while capture keeps reading; False when a stop was asked meanwhile.
        """
        delay_until = time.monotonic() + self.apply_delay() * self.time_scale()
        self._sample(queue[-1], queue[0])
        while time.monotonic() < delay_until and not self.stop_flag.is_set():
            self.stop_flag.wait(min(POLL_SECONDS, max(0.0, delay_until - time.monotonic())))
            self._sample(queue[-1], queue[0])
        return not self.stop_flag.is_set()

    def _apply_txn(self, tgt: Any, txn: Txn, careful: bool) -> list[tuple[TableStat, str]] | None:
        """One source transaction's changes into the open target transaction; the changes
        applied. Not ``careful``: None at the first failing change (the caller rolls back).
        ``careful``: each change behind a savepoint, a failing one following the error policies.
        """
        key = pos_key(self.source.side.engine, txn.position)
        applied: list[tuple[TableStat, str]] = []
        for n, change in enumerate(txn.changes):
            with self.lock:
                stat = self.carry.tables.get((change.schema, change.table))
            if stat is None or stat.state == "Table error":
                continue  # not selected, or suspended: its changes are not replicated
            if stat.snapshot_key is not None and key <= stat.snapshot_key:
                continue  # already in the full load's snapshot of the table
            with tgt.cursor() as cur:
                if not careful:
                    try:
                        count = self._statement(cur, change)
                    except Exception as exc:
                        if _is_connection_error(exc):
                            raise
                        return None
                    if count == 0 and change.op != "insert":
                        return None
                    applied.append((stat, change.op))
                    continue
                savepoint = f"dms_{n}"
                cur.execute(f"SAVEPOINT {savepoint}")
                try:
                    count = self._statement(cur, change)
                except Exception as exc:
                    cur.execute(f"ROLLBACK TO SAVEPOINT {savepoint}")
                    if _is_table_error(exc):
                        self._table_error(stat, exc)
                        continue
                    self._record_error(stat, change, exc)
                    continue
            if count == 0 and change.op != "insert":
                self._record_error(stat, change, RuntimeError("0 rows affected"))
                continue
            applied.append((stat, change.op))
        return applied

    def _record_error(self, stat: TableStat, change: Change, exc: Exception) -> None:
        """ApplyError{Insert,Update,Delete}Policy: LOG_ERROR / IGNORE_RECORD go on;
        SUSPEND_TABLE suspends the table; STOP_TASK fails the task.
        """
        if _is_connection_error(exc):
            # The connection went (the key lookup opens its own): an environmental error, not
            # the row's. The task restarts from its checkpoint and applies the row again.
            raise _Recoverable(f"{type(exc).__name__}: {exc}") from exc
        policy = {
            "insert": self.settings.apply_error_insert_policy,
            "update": self.settings.apply_error_update_policy,
            "delete": self.settings.apply_error_delete_policy,
        }[change.op]
        if policy == "STOP_TASK":
            raise _TaskFailed(f"Apply error on {stat.schema}.{stat.table} ({change.op}): {exc}")
        if policy == "SUSPEND_TABLE":
            self._table_error(stat, exc)
            return
        LOG.info("task %s: %s on %s.%s not applied: %s", self.task_id, change.op, stat.schema, stat.table, exc)

    def _statement(self, cur: Any, change: Change) -> int:
        side = self.target.side
        pk = self._pk(change.schema, change.table)
        table = side.qualified(change.schema, change.table)
        if change.op == "insert":
            assert change.after is not None
            cols = list(change.after)
            names, marks = ", ".join(side.quote(c) for c in cols), ", ".join(["%s"] * len(cols))
            cur.execute(f"INSERT INTO {table} ({names}) VALUES ({marks})", [change.after[c] for c in cols])
            return int(cur.rowcount)
        ident = change.before if change.before else change.after
        assert ident is not None
        keys = pk or list(ident)
        where = " AND ".join(f"{side.quote(c)} = %s" for c in keys)
        args = [ident[c] for c in keys]
        if change.op == "update":
            assert change.after is not None
            cols = list(change.after)
            cur.execute(
                f"UPDATE {table} SET {', '.join(f'{side.quote(c)} = %s' for c in cols)} WHERE {where}",
                [change.after[c] for c in cols] + args,
            )
        else:
            cur.execute(f"DELETE FROM {table} WHERE {where}", args)
        return int(cur.rowcount)

    def _names(self, schema: str, table: str) -> list[str]:
        """Source column names in order (the binlog carries none without full metadata)."""
        cache = self.__dict__.setdefault("_names_cache", {})
        if (schema, table) not in cache:
            conn = self.source.side.connect(self.source.dial())
            try:
                cache[(schema, table)] = [c[0] for c in self.source.side.columns(conn, schema, table)]
            finally:
                conn.close()
        return list(cache[(schema, table)])

    def _pk(self, schema: str, table: str) -> list[str]:
        cache = self.__dict__.setdefault("_pk_cache", {})
        if (schema, table) not in cache:
            conn = self.target.side.connect(self.target.dial(), database=self.target.database)
            try:
                cache[(schema, table)] = self.target.side.primary_key(conn, schema, table)
            finally:
                conn.close()
        return list(cache[(schema, table)])

    # --- validation ----------------------------------------------------------------------
    def _validate(self, src: Any) -> None:
        """After a full-load-only task: compare every table's rows, source against target."""
        with self.lock:
            todo = [t for t in self.carry.tables.values() if t.state != "Table error"]
        if not todo:
            return
        s_side, t_side = self.source.side, self.target.side
        tgt = self._connect(self.target)
        try:
            for stat in todo:
                key = (stat.schema, stat.table)
                cols = [c[0] for c in s_side.columns(src, *key)]
                pk = s_side.primary_key(src, *key)
                failed = _differing(_rows(s_side, src, key, cols, pk), _rows(t_side, tgt, key, cols, pk))
                self._validated(stat, failed)
        finally:
            tgt.close()

    def _await_validation(self) -> None:
        """A CDC task validates at points CDC reaches (:meth:`_validation_step`); until the
        first one a table waits (``Pending validation``).
        """
        with self.lock:
            for stat in self.carry.tables.values():
                if stat.state == "Table error":
                    continue
                stat.changed_since_validation = True
                if stat.validation_state == "Not enabled":
                    stat.validation_state = "Pending validation"

    def _validation_step(self, queue: deque[Txn]) -> None:
        """Validation during CDC, as DMS does it: a row that differs only because CDC has not
        applied its change yet is not a failure. The source rows of the changed tables are read
        at one source position (a point); apply stops there (the barrier in
        :meth:`_apply_batch`) and the target rows are compared once every change committed up
        to the point, and none after it, is applied. A difference then is a real mismatch.
        """
        point = self._point
        if point is None:
            if time.monotonic() < self._next_point:
                return
            queued = {(c.schema, c.table) for txn in queue for c in txn.changes}
            with self.lock:
                due = [
                    k
                    for k, t in sorted(self.carry.tables.items())
                    if t.state != "Table error" and (t.changed_since_validation or k in queued)
                ]
                for k in due:
                    self.carry.tables[k].changed_since_validation = False
            if due:
                self._point = self._read_point(due)
                self._next_point = time.monotonic() + VALIDATION_INTERVAL
            return
        engine = self.source.side.engine
        if queue:
            ready = pos_key(engine, queue[0].position) > point.key
        else:
            ready = self._reached is not None and self._reached >= point.key
        if not ready:
            return
        t_side = self.target.side
        tgt = self._connect(self.target)
        try:
            for key, (cols, pk, rows) in point.rows.items():
                with self.lock:
                    stat = self.carry.tables[key]
                if stat.state != "Table error":
                    self._validated(stat, _differing(rows, _rows(t_side, tgt, key, cols, pk)))
        finally:
            tgt.close()
        self._point = None

    def _read_point(self, tables: list[tuple[str, str]]) -> _Point:
        """The rows of ``tables`` at one source position (a consistent snapshot)."""
        side = self.source.side
        reader = side.connect(self.source.dial(), database=self.source.database, autocommit=False)
        try:
            shapes = {k: ([c[0] for c in side.columns(reader, *k)], side.primary_key(reader, *k)) for k in tables}
            reader.rollback()  # the snapshot transaction starts below
            position = self._open_snapshot(reader, tables)
            rows = {k: (cols, pk, _rows(side, reader, k, cols, pk)) for k, (cols, pk) in shapes.items()}
            return _Point(pos_key(side.engine, position), rows)
        finally:
            _rollback(reader)
            reader.close()

    def _open_snapshot(self, reader: Any, tables: list[tuple[str, str]]) -> Any:
        """Start a snapshot transaction on ``reader``; the source position it corresponds to:
        every commit at or before it is in the snapshot, none after it.
        """
        side = self.source.side
        if isinstance(side, MySQLSide):
            with reader.cursor() as cur:
                cur.execute("START TRANSACTION WITH CONSISTENT SNAPSHOT")
            return side.snapshot_position(reader)
        with reader.cursor() as cur:
            cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            # Writers wait a moment: every commit to the tables is then either in the
            # snapshot (at or before this LSN) or after it.
            cur.execute(f"LOCK TABLE {', '.join(side.qualified(*k) for k in tables)} IN SHARE MODE")
        return side.current_position(reader)

    def _validated(self, stat: TableStat, failed: int) -> None:
        with self.lock:
            stat.validation_failed = failed
            stat.validation_pending = 0
            stat.validation_state = "Mismatched records" if failed else "Validated"
            stat.validation_details = f"{failed} records differ" if failed else None


@dataclass
class _Point:
    """A validation point: source rows (columns, key columns, rows by key) at ``key``."""

    key: Any
    rows: dict[tuple[str, str], tuple[list[str], list[str], dict[tuple[str, ...], tuple[str, ...]]]]


def _rows(side: Side, conn: Any, key: tuple[str, str], cols: list[str], pk: list[str]) -> dict[Any, Any]:
    """A table's rows as text, by primary key (by the whole row without one)."""
    with conn.cursor() as cur:
        cur.execute(f"SELECT {', '.join(side.quote(c) for c in cols)} FROM {side.qualified(*key)}")
        out = {}
        for row in cur.fetchall():
            values = tuple("" if v is None else str(v) for v in row)
            out[tuple(values[cols.index(k)] for k in pk) if pk else values] = values
        return out


def _differing(source: dict[Any, Any], target: dict[Any, Any]) -> int:
    """Keys whose rows differ, or that one side lacks."""
    return sum(1 for k in set(source) | set(target) if source.get(k) != target.get(k))


class _TaskFailed(Exception):
    """Ends the task ``failed`` with this message as LastFailureMessage."""


class _Recoverable(Exception):
    """An environmental error: the task restarts from its checkpoint (RecoverableErrorCount)."""


class _Stopped(Exception):
    """A stop request during the full load."""


def _rollback(conn: Any) -> None:
    try:
        conn.rollback()
    except Exception:
        pass


def _is_connection_error(exc: BaseException) -> bool:
    """A lost or refused connection (not an SQL error)."""
    import pymysql

    if isinstance(exc, pymysql.err.OperationalError):
        code = exc.args[0] if exc.args else None
        return code in (2003, 2006, 2013, 2014, 2055, 1053, 1927)
    if isinstance(exc, (pymysql.err.InterfaceError, ConnectionError, OSError)):
        return True
    try:
        import psycopg
    except ImportError:
        return False
    if isinstance(exc, psycopg.OperationalError):
        return getattr(exc, "sqlstate", None) in (None, "57P01", "57P02", "57P03", "08000", "08003", "08006")
    return isinstance(exc, psycopg.InterfaceError)


def _is_table_error(exc: Exception) -> bool:
    args = getattr(exc, "args", ())
    if args and isinstance(args[0], int) and args[0] in MYSQL_TABLE_ERRORS:
        return True
    return getattr(exc, "sqlstate", None) in PG_TABLE_ERRORS
