"""The ledger workload: N writer threads that behave like an application.

Each writer owns its keys (``w<writer>-<n>``) and runs a bounded loop (``duration`` seconds or
``ops_per_writer`` logical writes, whichever ends first) of logical writes: create a key,
update it (``balance += amount``), delete it. One logical write is one transaction: the account
change plus one ``ledger_entries`` row carrying the write's ``op_id``.

Like an application behind a connection pool:

- connections come from a shared ``Pool``. A new connection resolves the database name through
  the ``Resolver`` (a ``DnsResolver`` caches the answer for its TTL) and dials the address it
  got; an open connection is kept across DNS changes and is replaced only when it errors or
  when it is older than ``max_lifetime`` (HikariCP's ``maxLifetime``) when borrowed;
- on an error the writer drops the connection, waits a little, takes another one (which
  re-resolves once the cached answer expired) and retries the SAME logical write, with the same
  ``op_id``, until it is acknowledged or ``retry_for`` seconds have passed. The write is not
  idempotent: if the failed attempt had committed (the error came with or after COMMIT, so the
  application cannot know), the retry applies it a second time. That is the duplicate the
  checker must find.

Every attempt is journalled (server identity, address dialled, outcome); a write is
acknowledged when COMMIT returned without error, and its acknowledgement carries the time
(monotonic and wall) and the identity of the server that acknowledged it.
"""

from __future__ import annotations

import contextlib
import os
import random
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from . import db
from .clock import Clock, ClockSampler, LocalClock
from .resolve import Resolver, StaticResolver

#: Attempt outcomes. ``failed``: the error came before COMMIT was sent, so the transaction did
#: not commit. ``ambiguous``: the error came from COMMIT itself (it may have committed).
#: ``rejected``: the database answered that the write does not apply (update or delete found no
#: row, create found the key taken); the writer rolled back.
ATTEMPT_OUTCOMES = ("acked", "failed", "ambiguous", "rejected")


@dataclass(frozen=True)
class Target:
    """Where the application writes: a DNS name (or address) and port, credentials, database."""

    engine: str  # "mysql" (MySQL and MariaDB) or "postgres"
    name: str
    port: int
    user: str
    password: str
    database: str


@dataclass
class Attempt:
    """One try of a logical write."""

    start: float  # monotonic
    end: float
    outcome: str  # one of ATTEMPT_OUTCOMES
    address: str | None = None  # the address dialled
    server: str | None = None  # db.identity() of the connection
    error: str | None = None


@dataclass
class Op:
    """One logical write and what became of it.

    ``status``: ``ok`` (acknowledged: COMMIT returned OK), ``failed`` (no attempt can have
    committed), or ``unknown`` (some attempt was ambiguous and none was acknowledged).
    """

    op_id: str
    writer: int
    key: str
    index: int  # position in the key's sequence of writes (0 = the create)
    kind: str  # create | update | delete
    amount: int
    attempts: list[Attempt] = field(default_factory=list)
    status: str = "pending"
    ack_mono: float | None = None
    ack_wall: float | None = None
    ack_server: str | None = None
    ack_address: str | None = None
    ack_aws: float | None = None  # filled by Ledger.finish() from the clock samples


class Journal:
    """Every logical write of a run, in the order writers started them (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.ops: list[Op] = []

    def add(self, op: Op) -> None:
        """Record a new logical write."""
        with self._lock:
            self.ops.append(op)

    def acked(self) -> list[Op]:
        """Acknowledged writes, in acknowledgement order."""
        with self._lock:
            done = [op for op in self.ops if op.status == "ok"]
        return sorted(done, key=lambda op: op.ack_mono or 0.0)

    def by_key(self) -> dict[str, list[Op]]:
        """Each key's writes in the order its writer issued them."""
        out: dict[str, list[Op]] = {}
        with self._lock:
            for op in self.ops:
                out.setdefault(op.key, []).append(op)
        for ops in out.values():
            ops.sort(key=lambda op: op.index)
        return out

    def servers(self) -> dict[str, int]:
        """How many acknowledged writes each server identity acknowledged."""
        counts: dict[str, int] = {}
        for op in self.acked():
            counts[op.ack_server or "?"] = counts.get(op.ack_server or "?", 0) + 1
        return counts


@dataclass
class PooledConnection:
    """A connection with what the pool knows about it."""

    raw: Any
    address: str
    server: str
    created: float  # monotonic
    broken: bool = False


class Pool:
    """A connection pool: idle connections are reused until they error or age past ``max_lifetime``."""

    def __init__(
        self, target: Target, resolver: Resolver, max_lifetime: float = 1800.0, connect_timeout: float = 5.0
    ) -> None:
        self.target = target
        self.resolver = resolver
        self.max_lifetime = max_lifetime
        self.connect_timeout = connect_timeout
        self._lock = threading.Lock()
        self._idle: list[PooledConnection] = []
        self._busy: set[int] = set()
        self._all: dict[int, PooledConnection] = {}
        self.opened = 0
        self.recycled = 0
        self.dropped = 0

    def borrow(self) -> PooledConnection:
        """An idle connection young enough, else a new one (resolving the name now)."""
        now = time.monotonic()
        while True:
            with self._lock:
                conn = self._idle.pop() if self._idle else None
                if conn is not None and now - conn.created < self.max_lifetime:
                    self._busy.add(id(conn))
                    return conn
            if conn is None:
                break
            self.recycled += 1
            self._close(conn)
        address = self.resolver.resolve(self.target.name)
        raw = db.connect(
            self.target.engine,
            address,
            self.target.port,
            self.target.user,
            self.target.password,
            self.target.database,
            timeout=self.connect_timeout,
        )
        try:
            server = db.identity(raw, self.target.engine)
        except Exception:
            with contextlib.suppress(Exception):
                raw.close()
            raise
        fresh = PooledConnection(raw, address, server, time.monotonic())
        with self._lock:
            self.opened += 1
            self._all[id(fresh)] = fresh
            self._busy.add(id(fresh))
        return fresh

    def give_back(self, conn: PooledConnection) -> None:
        """Return a connection; a broken one is closed instead."""
        with self._lock:
            self._busy.discard(id(conn))
            if not conn.broken:
                self._idle.append(conn)
                return
            self.dropped += 1
        self._close(conn)

    def _close(self, conn: PooledConnection) -> None:
        with self._lock:
            self._all.pop(id(conn), None)
        with contextlib.suppress(Exception):
            conn.raw.close()

    def abort_busy(self) -> int:
        """Shut down the sockets of connections in use (unblocks writers stuck on a hung server)."""
        with self._lock:
            busy = [c for c in self._all.values() if id(c) in self._busy]
        for conn in busy:
            conn.broken = True
            fd = _socket_fd(conn.raw)
            if fd is None:
                continue
            with contextlib.suppress(OSError):
                dup = socket.socket(fileno=os.dup(fd))
                try:
                    dup.shutdown(socket.SHUT_RDWR)
                finally:
                    dup.close()
        return len(busy)

    def close_all(self) -> None:
        """Close every idle connection."""
        with self._lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            self._close(conn)

    def open_servers(self) -> dict[str, int]:
        """Idle connections per server identity (what the pool would hand out next)."""
        with self._lock:
            out: dict[str, int] = {}
            for conn in self._idle:
                out[conn.server] = out.get(conn.server, 0) + 1
            return out


def _socket_fd(raw: Any) -> int | None:
    sock = getattr(raw, "_sock", None)  # pymysql
    if sock is not None:
        with contextlib.suppress(OSError):
            return int(sock.fileno())
    pgconn = getattr(raw, "pgconn", None)  # psycopg
    if pgconn is not None:
        with contextlib.suppress(Exception):
            return int(pgconn.socket)
    return None


class _Rejected(Exception):
    """The database answered that the write does not apply."""


def _is_integrity_error(exc: BaseException) -> bool:
    return type(exc).__name__ in ("IntegrityError", "UniqueViolation")


@dataclass
class LedgerConfig:
    """Knobs of a run; every loop is bounded by ``duration`` / ``ops_per_writer`` and ``retry_for``."""

    writers: int = 4
    duration: float = 5.0  # real seconds each writer keeps starting new writes
    ops_per_writer: int | None = None  # or stop after this many logical writes
    keys_per_writer: int = 3  # live keys a writer keeps
    delete_ratio: float = 0.1
    create_ratio: float = 0.1  # a new key beyond the live ones
    think_time: float = 0.01  # pause between two writes of one writer
    retry_for: float = 30.0  # give up retrying one write after this many seconds
    retry_backoff: float = 0.05  # first wait between attempts (doubles, up to 0.5 s)
    max_lifetime: float = 1800.0  # pool: a connection older than this is recycled when borrowed
    connect_timeout: float = 5.0
    seed: int = 16
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:8])


class Ledger:
    """Runs the writers against one ``Target`` and keeps the journal.

    ``start()`` creates the tables (through a pooled connection) and starts the writers and the
    clock sampler; ``join()`` waits for them (bounded) and stamps emulated times. ``stop()`` asks
    the writers to finish the write in hand (one more attempt at most) and stop.
    """

    def __init__(
        self,
        target: Target,
        config: LedgerConfig | None = None,
        resolver: Resolver | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.target = target
        self.config = config or LedgerConfig()
        self.resolver = resolver or StaticResolver()
        self.clock = clock or LocalClock()
        self.pool = Pool(target, self.resolver, self.config.max_lifetime, self.config.connect_timeout)
        self.journal = Journal()
        self._stop = threading.Event()
        self._go = threading.Event()  # cleared: a maintenance window, no new write starts
        self._go.set()
        self._busy = 0  # writers with a write in hand
        self._busy_lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._sampler = ClockSampler(self.clock)
        self.started_mono: float | None = None
        self.finished_mono: float | None = None
        self.errors: list[str] = []  # unexpected exceptions that ended a writer

    # ------------------------------------------------------------------ run control

    def setup(self) -> None:
        """Create the ledger tables (idempotent) through the application's own path."""
        conn = self.pool.borrow()
        try:
            db.create_tables(conn.raw, self.target.engine)
        except Exception:
            conn.broken = True
            raise
        finally:
            self.pool.give_back(conn)

    def start(self) -> Ledger:
        """Create the tables, start the clock sampler and the writers."""
        self.setup()
        self._sampler.start()
        self.started_mono = time.monotonic()
        for w in range(self.config.writers):
            thread = threading.Thread(target=self._writer_main, args=(w,), name=f"ledger-w{w}", daemon=True)
            self._threads.append(thread)
            thread.start()
        return self

    def stop(self) -> None:
        """Ask writers to stop after the write in hand."""
        self._stop.set()

    def pause(self) -> None:
        """A maintenance window: writers start no new write until :meth:`resume`; returns once
        the writes in hand are finished (at most ``retry_for`` + 5 s).
        """
        with self._busy_lock:
            self._go.clear()
        deadline = time.monotonic() + self.config.retry_for + 5
        while self._busy and time.monotonic() < deadline:
            self._stop.wait(0.02)

    def resume(self) -> None:
        """End the maintenance window."""
        self._go.set()

    def join(self, timeout: float | None = None) -> None:
        """Wait for the writers (at most ``timeout``, default duration + retry_for + 30 s); writers
        still blocked then get their sockets shut down; then stamp emulated times.
        """
        limit = timeout if timeout is not None else self.config.duration + self.config.retry_for + 30
        deadline = time.monotonic() + limit
        for thread in self._threads:
            thread.join(timeout=max(0.0, deadline - time.monotonic()))
        if any(t.is_alive() for t in self._threads):
            self._stop.set()
            self.pool.abort_busy()
            for thread in self._threads:
                thread.join(timeout=15)
            stuck = [t.name for t in self._threads if t.is_alive()]
            if stuck:
                raise RuntimeError(f"ledger writers did not stop: {stuck}")
        self.finished_mono = time.monotonic()
        self._sampler.stop()
        self.pool.close_all()
        for op in self.journal.ops:
            if op.ack_mono is not None:
                op.ack_aws = self.clock.aws_at(op.ack_mono)

    def run(self) -> Ledger:
        """``start()`` then ``join()``."""
        self.start()
        self.join()
        return self

    # ------------------------------------------------------------------ writers

    def _writer_main(self, w: int) -> None:
        try:
            self._writer(w)
        except Exception as exc:  # a bug, not a database error: keep it for the test to see
            self.errors.append(f"writer {w}: {type(exc).__name__}: {exc}")

    def _writer(self, w: int) -> None:
        cfg = self.config
        rng = random.Random(cfg.seed * 1000 + w)
        assert self.started_mono is not None
        stop_at = self.started_mono + cfg.duration
        live: dict[str, int] = {}  # key -> next index
        next_key = 0
        done = 0
        while not self._stop.is_set() and time.monotonic() < stop_at:
            if cfg.ops_per_writer is not None and done >= cfg.ops_per_writer:
                break
            with self._busy_lock:  # checked and counted at once: pause() then waits for it
                go = self._go.is_set()
                if go:
                    self._busy += 1
            if not go:
                self._stop.wait(0.05)
                continue
            try:
                roll = rng.random()
                if len(live) < cfg.keys_per_writer or roll < cfg.create_ratio:
                    key = f"{cfg.run_id}-w{w}-{next_key}"
                    next_key += 1
                    kind, amount = "create", 0
                    live[key] = 0
                else:
                    key = rng.choice(sorted(live))
                    kind = "delete" if roll < cfg.create_ratio + cfg.delete_ratio else "update"
                    amount = rng.randint(1, 1000) if kind == "update" else 0
                index = live[key]
                op = Op(f"{key}.{index}", w, key, index, kind, amount)
                self.journal.add(op)
                self._perform(op)
            finally:
                with self._busy_lock:
                    self._busy -= 1
            done += 1
            if op.status != "ok" or kind == "delete":
                # After an unresolved write the key's state is unknown to the application: it
                # leaves the key alone (the checker allows that last write applied once or not).
                live.pop(key, None)
            else:
                live[key] = index + 1
            if cfg.think_time:
                self._stop.wait(cfg.think_time)

    def _perform(self, op: Op) -> None:
        cfg = self.config
        give_up = time.monotonic() + cfg.retry_for
        backoff = cfg.retry_backoff
        while True:
            attempt = self._attempt(op)
            op.attempts.append(attempt)
            if attempt.outcome == "acked":
                op.status = "ok"
                op.ack_mono, op.ack_server, op.ack_address = attempt.end, attempt.server, attempt.address
                op.ack_wall = time.time() - (time.monotonic() - attempt.end)
                return
            if attempt.outcome == "rejected" or self._stop.is_set() or time.monotonic() >= give_up:
                break
            time.sleep(min(backoff, max(0.0, give_up - time.monotonic())))
            backoff = min(backoff * 2, 0.5)
        op.status = "unknown" if any(a.outcome == "ambiguous" for a in op.attempts) else "failed"

    def _attempt(self, op: Op) -> Attempt:
        start = time.monotonic()
        try:
            conn = self.pool.borrow()
        except Exception as exc:
            return Attempt(start, time.monotonic(), "failed", error=f"connect: {type(exc).__name__}: {exc}")
        attempt = Attempt(start, start, "failed", conn.address, conn.server)
        committing = False
        try:
            self._statements(conn.raw, op)
            committing = True
            conn.raw.commit()
            attempt.outcome = "acked"
        except _Rejected as exc:
            attempt.outcome, attempt.error = "rejected", str(exc)
            self._rollback(conn)
        except Exception as exc:
            if _is_integrity_error(exc) and not committing:
                attempt.outcome, attempt.error = "rejected", f"{type(exc).__name__}: {exc}"
                self._rollback(conn)
            else:
                attempt.outcome = "ambiguous" if committing else "failed"
                attempt.error = f"{type(exc).__name__}: {exc}"
                conn.broken = True
        finally:
            attempt.end = time.monotonic()
            self.pool.give_back(conn)
        return attempt

    @staticmethod
    def _rollback(conn: PooledConnection) -> None:
        try:
            conn.raw.rollback()
        except Exception:
            conn.broken = True

    @staticmethod
    def _statements(raw: Any, op: Op) -> None:
        entry_id = uuid.uuid4().hex
        with raw.cursor() as cur:
            if op.kind == "create":
                cur.execute(db.INSERT_ACCOUNT, (op.key, op.writer, op.op_id))
            elif op.kind == "update":
                cur.execute(db.UPDATE_ACCOUNT, (op.amount, op.op_id, op.key))
                if cur.rowcount != 1:
                    raise _Rejected(f"update found {cur.rowcount} rows for {op.key}")
            else:
                cur.execute(db.DELETE_ACCOUNT, (op.key,))
                if cur.rowcount != 1:
                    raise _Rejected(f"delete found {cur.rowcount} rows for {op.key}")
            cur.execute(db.INSERT_ENTRY, (entry_id, op.op_id, op.key, op.kind, op.amount))
