"""The ledger workload and its checker (acceptance-tests/ledger) against real MariaDB and PostgreSQL.

The servers are the data plane's ``DbServer`` processes, started in this test process (the
data plane's reaper removes them if the run is killed). Each test starts from empty ledger
tables, runs writers for a couple of seconds, then plants one anomaly behind the ledger's back
and expects the checker to name it, and nothing else.
"""

from __future__ import annotations

import contextlib
import socket
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # acceptance-tests: the ledger package

from ledger import (
    Contents,
    EmulatorClock,
    Ledger,
    LedgerConfig,
    LocalClock,
    Op,
    StaticResolver,
    Target,
    check,
    check_database,
    engine_of,
    identity,
    read_contents,
)
from ledger.db import AccountRow

from emu_support import TIME_SCALE
from rdsemu.dataplane.net import accept_until

PASSWORD = "not-a-secret-1"
DB_NAME = "app"
NAME = "orders.ledger.example"


@pytest.fixture(scope="module", params=["mariadb", "postgres"])
def server(request: pytest.FixtureRequest) -> Iterator[Any]:
    """A real server (MariaDB or PostgreSQL 15) with master user ``admin`` and database ``app``."""
    from conftest import dataplane_prerequisites_missing

    from rdsemu.dataplane import DATAPLANE
    from rdsemu.dataplane.servers import DbServer

    missing = dataplane_prerequisites_missing()
    if missing:
        pytest.fail(f"the ledger's tests need: {missing} (run .ci/run or install them; see README)")
    DATAPLANE.enable()
    srv = DbServer(
        rds_engine=request.param,
        identifier=f"ledger-{request.param}",
        resource_id=f"db-LEDGER{request.param.upper()}",
        port=3306 if request.param == "mariadb" else 5432,
        master_user="admin",
        master_password=PASSWORD,
        db_name=DB_NAME,
    )
    srv.provision()
    assert srv.error is None, srv.error
    try:
        yield srv
    finally:
        srv.destroy()


@pytest.fixture()
def fresh(server: Any) -> Any:
    """The server with the ledger tables dropped (each test sees only its own writes)."""
    conn = server.connect()
    try:
        with conn.cursor() as cur:
            cur.execute("DROP TABLE IF EXISTS ledger_entries")
            cur.execute("DROP TABLE IF EXISTS ledger_accounts")
        conn.commit()
    finally:
        conn.close()
    return server


def target_of(server: Any, port: int | None = None) -> Target:
    """The application's view: a DNS name (mapped to 127.0.0.1 here) and the server's port."""
    return Target(engine_of(server.engine), NAME, port or server.internal_port, "admin", PASSWORD, DB_NAME)


def run_ledger(server: Any, **config: Any) -> Ledger:
    """A short clean run (4 writers, 1.5 s) that must end without writer errors."""
    cfg = LedgerConfig(**{"writers": 4, "duration": 1.5, **config})
    ledger = Ledger(target_of(server), cfg, resolver=StaticResolver({NAME: "127.0.0.1"})).run()
    assert ledger.errors == []
    return ledger


def contents(server: Any, label: str = "final") -> Contents:
    conn = server.connect()
    try:
        return read_contents(conn, label)
    finally:
        conn.close()


def sql(server: Any, statement: str, *args: Any) -> int:
    """Run one statement behind the ledger's back; the affected row count."""
    conn = server.connect()
    try:
        with conn.cursor() as cur:
            cur.execute(statement, args or None)
            count = int(cur.rowcount)
        conn.commit()
        return count
    finally:
        conn.close()


def last_acked(ledger: Ledger, kind: str | None = None, present: bool = True) -> list[Op]:
    """Per key, the last acknowledged write (optionally of one kind), keys whose row should exist."""
    out = []
    for ops in ledger.journal.by_key().values():
        acked = [op for op in ops if op.status == "ok"]
        if not acked or len(acked) != len(ops):
            continue
        last = acked[-1]
        if (last.kind == "delete") == present:
            continue
        if kind is None or last.kind == kind:
            out.append(last)
    return out


# --------------------------------------------------------------------------- clean runs


@pytest.mark.dataplane
def test_clean_run_reports_nothing_and_names_the_acknowledging_server(fresh: Any) -> None:
    ledger = run_ledger(fresh)
    verdict = check(ledger, [contents(fresh)])
    assert verdict.final.clean, verdict.summary()
    assert verdict.acked >= 20, verdict.summary()
    assert verdict.unresolved == 0 and verdict.failed == 0
    kinds = {op.kind for op in ledger.journal.acked()}
    assert kinds == {"create", "update", "delete"}
    conn = fresh.connect()
    try:
        expected = identity(conn, engine_of(fresh.engine))
    finally:
        conn.close()
    assert verdict.servers == {expected: verdict.acked}
    # No pause was planted: the longest gap is scheduling noise (generous for a loaded 2-core machine).
    assert verdict.gap is not None and 0 < verdict.gap.real_seconds < 1.1, verdict.summary()


@pytest.mark.dataplane
def test_a_paused_ledger_writes_nothing_until_resumed(fresh: Any) -> None:
    cfg = LedgerConfig(writers=4, duration=3.0)
    ledger = Ledger(target_of(fresh), cfg, resolver=StaticResolver({NAME: "127.0.0.1"})).start()
    time.sleep(0.7)
    ledger.pause()  # returns once the writes in hand are done
    paused = time.monotonic()
    time.sleep(1.0)
    resumed = time.monotonic()
    ledger.resume()
    ledger.join()
    assert ledger.errors == []
    acks = [op.ack_mono for op in ledger.journal.acked() if op.ack_mono is not None]
    assert [t for t in acks if paused <= t < resumed] == []
    assert any(t < paused for t in acks) and any(t >= resumed for t in acks)
    verdict = check(ledger, [contents(fresh)])
    assert verdict.final.clean, verdict.summary()
    # The window is the longest pause the application saw.
    assert verdict.gap is not None and verdict.gap.real_seconds >= 1.0, verdict.summary()


# --------------------------------------------------------------------------- planted anomalies


@pytest.mark.dataplane
def test_a_row_deleted_behind_the_ledgers_back_is_lost(fresh: Any) -> None:
    ledger = run_ledger(fresh)
    victim = last_acked(ledger, kind="update")[0]
    assert sql(fresh, "DELETE FROM ledger_accounts WHERE account_id = %s", victim.key) == 1
    final = check(ledger, [contents(fresh)]).final
    assert [(f.category, f.key, f.op_id) for f in final.findings] == [("lost", victim.key, victim.op_id)]


@pytest.mark.dataplane
def test_a_committed_transaction_that_vanished_is_lost(fresh: Any) -> None:
    ledger = run_ledger(fresh)
    victim = last_acked(ledger, kind="update")[0]
    previous = next(op for op in ledger.journal.by_key()[victim.key] if op.index == victim.index - 1)
    # Undo the acknowledged update completely: its entry and its effect on the row.
    assert sql(fresh, "DELETE FROM ledger_entries WHERE op_id = %s", victim.op_id) == 1
    assert (
        sql(
            fresh,
            "UPDATE ledger_accounts SET balance = balance - %s, version = version - 1, last_op = %s"
            " WHERE account_id = %s",
            victim.amount,
            previous.op_id,
            victim.key,
        )
        == 1
    )
    final = check(ledger, [contents(fresh)]).final
    assert [(f.category, f.op_id) for f in final.findings] == [("lost", victim.op_id)]


@pytest.mark.dataplane
def test_a_write_applied_twice_is_duplicated(fresh: Any) -> None:
    ledger = run_ledger(fresh)
    victim = last_acked(ledger, kind="update")[0]
    sql(
        fresh,
        "UPDATE ledger_accounts SET balance = balance + %s, version = version + 1 WHERE account_id = %s",
        victim.amount,
        victim.key,
    )
    sql(
        fresh,
        "INSERT INTO ledger_entries (entry_id, op_id, account_id, kind, amount) VALUES (%s, %s, %s, 'update', %s)",
        "f" * 32,
        victim.op_id,
        victim.key,
        victim.amount,
    )
    final = check(ledger, [contents(fresh)]).final
    assert {f.category for f in final.findings} == {"duplicated"}, final.findings
    # Once from the two entries, once from the row's version (the same write, both named).
    assert {f.op_id for f in final.findings} == {victim.op_id}


@pytest.mark.dataplane
def test_a_deleted_row_that_comes_back_is_resurrected(fresh: Any) -> None:
    ledger = run_ledger(fresh)
    victim = last_acked(ledger, present=False)[0]
    assert victim.kind == "delete"
    sql(
        fresh,
        "INSERT INTO ledger_accounts (account_id, writer, balance, version, last_op) VALUES (%s, %s, 0, 0, %s)",
        victim.key,
        victim.writer,
        f"{victim.key}.0",
    )
    final = check(ledger, [contents(fresh)]).final
    assert [(f.category, f.key) for f in final.findings] == [("resurrected", victim.key)]


@pytest.mark.dataplane
def test_a_row_set_back_to_an_older_value_is_echoed(fresh: Any) -> None:
    ledger = run_ledger(fresh)
    victim = next(op for op in last_acked(ledger, kind="update") if op.index >= 2)
    ops = ledger.journal.by_key()[victim.key]
    older = ops[victim.index - 1]
    # What replaying the older change's row image does: the row as ``older`` left it.
    balance = sum(op.amount for op in ops[: older.index + 1])
    version = sum(1 for op in ops[: older.index + 1] if op.kind == "update")
    sql(
        fresh,
        "UPDATE ledger_accounts SET balance = %s, version = %s, last_op = %s WHERE account_id = %s",
        balance,
        version,
        older.op_id,
        victim.key,
    )
    final = check(ledger, [contents(fresh)]).final
    assert [(f.category, f.op_id) for f in final.findings] == [("echoed", victim.op_id)]


@pytest.mark.dataplane
def test_each_database_gets_its_own_verdict(fresh: Any) -> None:
    """The other side of a migration is checked apart: here a copy that missed the last writes."""
    ledger = run_ledger(fresh)
    full = contents(fresh, "target")
    behind = contents(fresh, "source")
    victim = last_acked(ledger, kind="update")[0]
    del behind.entries[victim.op_id]
    row = behind.accounts[victim.key]
    behind.accounts[victim.key] = AccountRow(
        row.account_id, row.writer, row.balance - victim.amount, row.version - 1, f"{victim.key}.{victim.index - 1}"
    )
    verdict = check(ledger, [full, behind])
    assert verdict.final.label == "target" and verdict.final.clean
    assert [(f.category, f.op_id) for f in verdict.databases[1].findings] == [("lost", victim.op_id)]


# --------------------------------------------------------------------------- retries and pauses


class CommitEater:
    """A TCP relay that, while armed, lets the COMMIT of an update's transaction reach the server
    and drops the connection before the server's answer reaches the client: the write commits
    but the application sees an error (an ambiguous failure).
    """

    def __init__(self, port: int, eat: int) -> None:
        self.upstream = ("127.0.0.1", port)
        self.left = eat
        self.eaten = 0
        self._lock = threading.Lock()
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.listener.settimeout(0.2)
        self.port = int(self.listener.getsockname()[1])
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        accept_until(self.listener, self._stop, self._relay)

    def _relay(self, client: socket.socket, _peer: tuple[str, int]) -> None:
        upstream = socket.create_connection(self.upstream, timeout=10)
        upstream.settimeout(None)
        client.settimeout(None)
        state = {"update": False, "eat_reply": False}
        threading.Thread(target=self._c2s, args=(client, upstream, state), daemon=True).start()
        threading.Thread(target=self._s2c, args=(upstream, client, state), daemon=True).start()

    def _c2s(self, client: socket.socket, upstream: socket.socket, state: dict[str, bool]) -> None:
        with contextlib.suppress(OSError):
            while data := client.recv(65536):
                # The entry's kind travels as a lowercase literal/parameter: an update transaction.
                state["update"] = state["update"] or b"update" in data
                if b"COMMIT" in data:
                    if state["update"]:
                        with self._lock:
                            if self.left > 0:
                                self.left -= 1
                                state["eat_reply"] = True
                    state["update"] = False
                upstream.sendall(data)
        self._close(client, upstream)

    def _s2c(self, upstream: socket.socket, client: socket.socket, state: dict[str, bool]) -> None:
        with contextlib.suppress(OSError):
            while data := upstream.recv(65536):
                if state["eat_reply"]:
                    with self._lock:
                        self.eaten += 1
                    break
                client.sendall(data)
        self._close(client, upstream)

    @staticmethod
    def _close(*socks: socket.socket) -> None:
        for sock in socks:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def close(self) -> None:
        """Stop accepting (relayed connections end with their peers)."""
        self._stop.set()
        self._thread.join(timeout=5)
        self.listener.close()


@pytest.mark.dataplane
def test_a_retry_after_an_ambiguous_commit_is_caught_as_duplicated(fresh: Any) -> None:
    eater = CommitEater(fresh.internal_port, eat=3)
    try:
        ledger = Ledger(
            target_of(fresh, port=eater.port),
            LedgerConfig(writers=3, duration=1.5),
            resolver=StaticResolver({NAME: "127.0.0.1"}),
        ).run()
    finally:
        eater.close()
    assert ledger.errors == []
    assert eater.eaten == 3
    retried = [op for op in ledger.journal.ops if any(a.outcome == "ambiguous" for a in op.attempts)]
    assert sum(1 for op in retried for a in op.attempts if a.outcome == "ambiguous") == 3
    # The application retried each until acknowledged: it believes each applied once.
    assert all(op.kind == "update" and op.status == "ok" for op in retried)
    after = contents(fresh)
    for op in retried:  # every eaten COMMIT had committed: one entry per attempt
        assert after.entries[op.op_id] == len(op.attempts)
    final = check(ledger, [after]).final
    assert {f.category for f in final.findings} == {"duplicated"}, final.findings
    assert {f.op_id for f in final.findings} == {op.op_id for op in retried}
    assert not final.of("lost")


@pytest.mark.dataplane
def test_writers_reconnect_and_retry_across_a_server_restart(fresh: Any) -> None:
    """A reboot drops every connection: writers take new ones and retry the same writes; nothing
    acknowledged is lost, and a write applied twice can only be one whose COMMIT went unanswered.
    """
    ledger = Ledger(
        target_of(fresh),
        LedgerConfig(writers=3, duration=4.0, retry_for=30),
        resolver=StaticResolver({NAME: "127.0.0.1"}),
    )
    ledger.start()
    time.sleep(1.0)
    fresh.reboot()  # the data plane's RebootDBInstance: the process stops and starts on the same data
    ledger.join()
    assert ledger.errors == []
    retried = [op for op in ledger.journal.ops if len(op.attempts) > 1]
    assert retried, "no write needed a retry: the reboot went unnoticed"
    assert any(op.status == "ok" and op.attempts[0].outcome in ("failed", "ambiguous") for op in retried)
    verdict = check(ledger, [contents(fresh)])
    final = verdict.final
    assert not final.of("lost") and not final.of("resurrected") and not final.of("echoed"), verdict.summary()
    assert not final.of("unexpected"), verdict.summary()
    ambiguous = {op.op_id for op in ledger.journal.ops if any(a.outcome == "ambiguous" for a in op.attempts)}
    assert {f.op_id for f in final.of("duplicated")} <= ambiguous
    assert ledger.pool.opened > ledger.config.writers  # the pool replaced the dropped connections
    assert verdict.gap is not None and verdict.gap.after_op is not None and verdict.gap.before_op is not None


def _hold_lock(server: Any, seconds: float, started: threading.Event) -> None:
    """Block every ledger write for ``seconds``: a table lock held by another session."""
    conn = server.connect()
    postgres = engine_of(server.engine) == "postgres"
    try:
        with conn.cursor() as cur:
            # psycopg opens a transaction for the LOCK; pymysql's admin connection autocommits.
            cur.execute(
                "LOCK TABLE ledger_accounts IN ACCESS EXCLUSIVE MODE"
                if postgres
                else "LOCK TABLES ledger_accounts WRITE"
            )
            started.set()
            time.sleep(seconds)
            if not postgres:
                cur.execute("UNLOCK TABLES")
        conn.commit()
    finally:
        conn.close()


@pytest.mark.dataplane
def test_the_longest_gap_is_a_planted_pause_in_real_and_emulated_seconds(fresh: Any, emu: Any) -> None:
    clock = EmulatorClock(emu.url)
    ledger = Ledger(target_of(fresh), LedgerConfig(writers=3, duration=3.0), StaticResolver({NAME: "127.0.0.1"}), clock)
    ledger.start()
    time.sleep(0.8)
    started = threading.Event()
    holder = threading.Thread(target=_hold_lock, args=(fresh, 1.2, started), daemon=True)
    holder.start()
    assert started.wait(10)
    holder.join(timeout=15)
    ledger.join()
    assert ledger.errors == []
    verdict = check(ledger, [contents(fresh)])
    assert verdict.final.clean, verdict.summary()
    gap = verdict.gap
    assert gap is not None
    assert 1.1 <= gap.real_seconds <= 1.2 + 3.0, verdict.summary()
    assert gap.after_op is not None and gap.before_op is not None  # between two writes, not at an end
    # Emulated seconds: the emulator's clock runs 1/TIME_SCALE times faster than real time.
    assert gap.emulated_seconds == pytest.approx(gap.real_seconds / TIME_SCALE, rel=0.05)
    assert len(clock.samples) >= 2


def test_the_emulator_clock_route_reads_scaled_virtual_time(emu: Any) -> None:
    first = emu.clock()
    time.sleep(0.2)
    second = emu.clock()
    assert first["time_scale"] == second["time_scale"] == TIME_SCALE
    real = second["wall"] - first["wall"]
    assert second["aws_now"] - first["aws_now"] == pytest.approx(real / TIME_SCALE, rel=0.05)
    emu.set_time_scale(1.0)
    third = emu.clock()
    time.sleep(0.2)
    fourth = emu.clock()
    # A scale change does not make the clock jump, and it runs at the new rate afterwards.
    assert third["aws_now"] >= second["aws_now"]
    assert fourth["aws_now"] - third["aws_now"] == pytest.approx(fourth["wall"] - third["wall"], rel=0.1)


# --------------------------------------------------------------------------- the checker alone


def _op(key: str, index: int, kind: str, amount: int = 0, status: str = "ok") -> Op:
    op = Op(f"{key}.{index}", 0, key, index, kind, amount, status=status)
    op.ack_mono = float(index) if status == "ok" else None
    return op


def test_an_unresolved_last_write_may_or_may_not_have_applied_but_not_twice() -> None:
    ops = [_op("k", 0, "create"), _op("k", 1, "update", 5), _op("k", 2, "update", 7, status="unknown")]
    by_key = {"k": ops}
    base = Contents("db", entries={"k.0": 1, "k.1": 1})  # type: ignore[arg-type]
    base.accounts["k"] = AccountRow("k", 0, 5, 1, "k.1")
    assert check_database(by_key, ops, base).clean
    applied = Contents("db", entries={"k.0": 1, "k.1": 1, "k.2": 1})  # type: ignore[arg-type]
    applied.accounts["k"] = AccountRow("k", 0, 12, 2, "k.2")
    assert check_database(by_key, ops, applied).clean
    twice = Contents("db", entries={"k.0": 1, "k.1": 1, "k.2": 2})  # type: ignore[arg-type]
    twice.accounts["k"] = AccountRow("k", 0, 19, 3, "k.2")
    assert [(f.category, f.op_id) for f in check_database(by_key, ops, twice).findings] == [("duplicated", "k.2")]


def test_a_write_retried_into_three_entries_is_one_duplicated_finding() -> None:
    # An update acknowledged on its third attempt after two ambiguous COMMITs that did commit.
    ops = [_op("k", 0, "create"), _op("k", 1, "update", 5), _op("k", 2, "update", 7)]
    thrice = Contents("db", entries={"k.0": 1, "k.1": 1, "k.2": 3})  # type: ignore[arg-type]
    thrice.accounts["k"] = AccountRow("k", 0, 26, 4, "k.2")
    findings = check_database({"k": ops}, ops, thrice).findings
    assert [(f.category, f.op_id) for f in findings] == [("duplicated", "k.2")]
    # A fourth application that left no entry is still seen, by the row's version.
    thrice.accounts["k"] = AccountRow("k", 0, 33, 5, "k.2")
    findings = check_database({"k": ops}, ops, thrice).findings
    assert [(f.category, f.op_id) for f in findings] == [("duplicated", "k.2"), ("duplicated", "k.2")]


def test_a_write_that_never_reached_commit_must_not_be_there() -> None:
    ops = [_op("k", 0, "create"), _op("k", 1, "delete", status="failed")]
    gone = Contents("db", entries={"k.0": 1, "k.1": 1})  # type: ignore[arg-type]
    findings = check_database({"k": ops}, ops, gone).findings
    assert sorted(f.category for f in findings) == ["lost", "unexpected"]  # the row is gone, too


def test_the_gap_counts_a_stall_at_the_end_of_the_run() -> None:
    from ledger import longest_gap

    ops = [_op("k", i, "update") for i in range(3)]  # acknowledged at 0, 1, 2
    gap = longest_gap(ops, start=0.0, end=6.0, clock=LocalClock(0.5))
    assert gap is not None and gap.real_seconds == 4.0 and gap.emulated_seconds == 8.0
    assert gap.after_op == "k.2" and gap.before_op is None
