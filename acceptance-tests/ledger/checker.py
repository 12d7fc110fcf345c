"""The ledger's checker: compares the journal of acknowledged writes with what databases hold.

Per key, the writer issued writes ``w0 (create), w1..wk (updates), [delete]`` in order, each
one transaction that changes ``ledger_accounts`` and appends one ``ledger_entries`` row with the
write's ``op_id``. Writes ``w0..wa`` were acknowledged (COMMIT returned OK); after the first
write that was not, the writer left the key, so at most one trailing write ``t`` is unresolved
(``unknown``: it may have committed, once; ``failed``: it cannot have committed).

Findings, per database checked (one ``Finding`` per op or key; categories are disjoint per op):

- **lost**: an acknowledged write whose effect is not there: its entry is absent, or the key's
  row is absent although no delete of it was acknowledged (or unresolved), or the row holds an
  older value (``last_op`` an earlier write) and the newer acknowledged write left no entry.
- **resurrected**: the key's delete was acknowledged, yet the row is present.
- **duplicated**: a write applied more than once: more than one entry with its ``op_id``, or the
  row's ``version`` (number of updates applied) above what its ``last_op`` allows.
- **echoed**: the row holds the value of an earlier acknowledged write ``wi`` although a later
  acknowledged write ``wj`` (j > i) was applied in this same database (its entry is present).
  Within one database transactions cannot do that (each write builds on the row as it is);
  only a change replayed after being superseded can, e.g. ``wi`` replicated A -> B, ``wj``
  written on B, then ``wi`` coming back to B from A by the other direction's replication (or a
  stale replay of ``wi``). The newer value is lost as well, but it is reported as echoed, not
  lost, so that the cause shows.
- **unexpected**: anything the journal cannot explain: an entry for a write that failed before
  COMMIT or was never issued, a row whose ``last_op`` is no write of its key, a balance that
  does not match its version.

``gap``: the longest interval without an acknowledgement, over all writers, from the start of
the run to its end (so a stall at the end counts), in real seconds and in emulated seconds
(through the ledger's clock samples).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .clock import Clock
from .db import Contents
from .workload import Ledger, Op

CATEGORIES = ("lost", "resurrected", "duplicated", "echoed", "unexpected")


@dataclass(frozen=True)
class Finding:
    """One anomaly."""

    category: str
    key: str
    op_id: str | None
    detail: str


@dataclass
class Gap:
    """The longest pause between acknowledgements (``start``/``end`` monotonic)."""

    real_seconds: float
    emulated_seconds: float
    start: float
    end: float
    after_op: str | None  # the last write acknowledged before the gap (None: the run's start)
    before_op: str | None  # the first one after it (None: the run's end)


@dataclass
class DatabaseVerdict:
    """The findings for one database."""

    label: str
    findings: list[Finding] = field(default_factory=list)

    def of(self, category: str) -> list[Finding]:
        """Findings of one category."""
        return [f for f in self.findings if f.category == category]

    def counts(self) -> dict[str, int]:
        """Number of findings per category (every category present)."""
        return {c: len(self.of(c)) for c in CATEGORIES}

    @property
    def clean(self) -> bool:
        """No finding at all."""
        return not self.findings


@dataclass
class Verdict:
    """The checker's report: one ``DatabaseVerdict`` per database, the first being the one the
    application ended on, plus run totals and the longest gap.
    """

    databases: list[DatabaseVerdict]
    acked: int
    unresolved: int
    failed: int
    servers: dict[str, int]
    gap: Gap | None

    @property
    def final(self) -> DatabaseVerdict:
        """The verdict on the database the application ended on."""
        return self.databases[0]

    def summary(self) -> str:
        """A few human lines."""
        lines = [
            f"ledger: {self.acked} acknowledged writes, {self.unresolved} unresolved, {self.failed} failed;"
            f" acknowledged by {self.servers}"
        ]
        for dbv in self.databases:
            counts = ", ".join(f"{n} {c}" for c, n in dbv.counts().items())
            lines.append(f"  {dbv.label}: {counts}")
            lines.extend(f"    {f.category} {f.op_id or f.key}: {f.detail}" for f in dbv.findings[:10])
        if self.gap is not None:
            lines.append(
                f"  longest pause between acknowledged writes: {self.gap.real_seconds:.3f} s real,"
                f" {self.gap.emulated_seconds:.1f} s emulated"
            )
        return "\n".join(lines)


def check(ledger: Ledger, contents: list[Contents]) -> Verdict:
    """Check a finished ``Ledger`` run against the final ``contents`` of one or more databases
    (first: the one the application ends on).
    """
    if not contents:
        raise ValueError("check needs the contents of at least one database")
    ops = ledger.journal.ops
    verdicts = [check_database(ledger.journal.by_key(), ops, c) for c in contents]
    start = ledger.started_mono if ledger.started_mono is not None else 0.0
    end = ledger.finished_mono if ledger.finished_mono is not None else start
    return Verdict(
        databases=verdicts,
        acked=sum(1 for op in ops if op.status == "ok"),
        unresolved=sum(1 for op in ops if op.status == "unknown"),
        failed=sum(1 for op in ops if op.status == "failed"),
        servers=ledger.journal.servers(),
        gap=longest_gap(ledger.journal.acked(), start, end, ledger.clock),
    )


def longest_gap(acked: list[Op], start: float, end: float, clock: Clock) -> Gap | None:
    """The longest interval between consecutive acknowledgements, the run's start and its end."""
    if end <= start:
        return None
    marks: list[tuple[float, str | None]] = [(start, None)]
    marks.extend((op.ack_mono, op.op_id) for op in acked if op.ack_mono is not None)
    marks.append((end, None))
    marks.sort(key=lambda m: m[0])
    best: tuple[float, int] = (-1.0, 0)
    for i in range(1, len(marks)):
        width = marks[i][0] - marks[i - 1][0]
        if width > best[0]:
            best = (width, i)
    i = best[1]
    (t0, before), (t1, after) = marks[i - 1], marks[i]
    return Gap(
        real_seconds=t1 - t0,
        emulated_seconds=clock.aws_at(t1) - clock.aws_at(t0),
        start=t0,
        end=t1,
        after_op=before,
        before_op=after,
    )


def check_database(by_key: dict[str, list[Op]], ops: list[Op], contents: Contents) -> DatabaseVerdict:
    """The findings for one database (see the module docstring for the categories)."""
    verdict = DatabaseVerdict(contents.label)
    add = verdict.findings.append
    known = {op.op_id: op for op in ops}
    for op_id, count in sorted(contents.entries.items()):
        op = known.get(op_id)
        key = contents.entry_accounts.get(op_id, "?")
        if op is None:
            add(Finding("unexpected", key, op_id, f"{count} entries for a write the ledger never issued"))
        elif count > 1:
            add(Finding("duplicated", op.key, op_id, f"{op.kind} applied {count} times ({len(op.attempts)} attempts)"))
        elif op.status == "failed":
            add(Finding("unexpected", op.key, op_id, f"{op.kind} applied although no attempt reached COMMIT"))
    for key, key_ops in sorted(by_key.items()):
        _check_key(key, key_ops, contents, add)
    return verdict


def _check_key(key: str, key_ops: list[Op], contents: Contents, add: Any) -> None:
    acked = [op for op in key_ops if op.status == "ok"]
    trailing = next((op for op in key_ops if op.status != "ok"), None)
    maybe = trailing if trailing is not None and trailing.status == "unknown" else None
    reported: set[str] = set()
    for op in acked:
        if contents.entries.get(op.op_id, 0) == 0:
            add(Finding("lost", key, op.op_id, f"acknowledged {op.kind} has no entry (transaction absent)"))
            reported.add(op.op_id)
    row = contents.accounts.get(key)
    last = acked[-1] if acked else None
    if last is not None and last.kind == "delete":
        if row is not None:
            add(Finding("resurrected", key, last.op_id, f"deleted (acknowledged), present with {row.last_op}"))
        return
    if row is None:
        if last is not None and not (maybe is not None and maybe.kind == "delete") and last.op_id not in reported:
            add(Finding("lost", key, last.op_id, f"row absent after acknowledged {last.kind}"))
        return
    position = {op.op_id: i for i, op in enumerate(key_ops)}
    if row.last_op not in position:
        add(Finding("unexpected", key, None, f"row's last_op {row.last_op} is no write of this key"))
        return
    p = position[row.last_op]
    setter = key_ops[p]
    if setter.status == "failed":
        add(Finding("unexpected", key, setter.op_id, "row carries a write that never reached COMMIT"))
    applied = key_ops[: p + 1]
    # An update whose entries show it applied n times (already reported above as duplicated)
    # counts n times here, so the row names only duplicates its entries do not explain.
    times = {op.op_id: max(1, contents.entries.get(op.op_id, 0)) for op in applied}
    want_version = sum(times[op.op_id] for op in applied if op.kind == "update")
    want_balance = sum(op.amount * times[op.op_id] for op in applied if op.kind == "update")
    if row.version > want_version:
        extra = row.balance - want_balance
        twice = [op.op_id for op in applied if op.kind == "update" and op.amount == extra]
        add(
            Finding(
                "duplicated",
                key,
                twice[0] if len(twice) == 1 else None,
                f"version {row.version} > {want_version} updates up to {row.last_op} (balance {extra:+} too high)",
            )
        )
    elif row.version < want_version or row.balance != want_balance:
        add(
            Finding(
                "unexpected",
                key,
                row.last_op,
                f"version {row.version}, balance {row.balance}; {row.last_op} implies {want_version}, {want_balance}",
            )
        )
    for op in acked:
        if position[op.op_id] <= p or op.op_id in reported:
            continue
        if contents.entries.get(op.op_id, 0) > 0:
            add(Finding("echoed", key, op.op_id, f"applied here, then the row went back to {row.last_op}"))
        else:
            add(Finding("lost", key, op.op_id, f"row holds older {row.last_op}"))
