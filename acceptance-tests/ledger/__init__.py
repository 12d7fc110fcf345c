"""The ledger: an application-shaped write workload and a checker for what it wrote.

    from ledger import Ledger, LedgerConfig, Target, check, read_contents

    ledger = Ledger(Target("mysql", "orders.example", 3306, "admin", "pw", "app"),
                    LedgerConfig(writers=4, duration=5), resolver=..., clock=...).run()
    verdict = check(ledger, [read_contents(conn, "target")])
    assert verdict.final.clean, verdict.summary()

See ``workload`` (writers, pool, retries), ``checker`` (the categories, defined precisely),
``resolve`` (DNS with TTLs) and ``clock`` (real and emulated seconds). Documented in
acceptance-tests/README.md, section "The ledger".
"""

from __future__ import annotations

from .checker import CATEGORIES, DatabaseVerdict, Finding, Gap, Verdict, check, check_database, longest_gap
from .clock import Clock, ClockSampler, EmulatorClock, LocalClock
from .db import Contents, connect, create_tables, engine_of, identity, read_contents
from .resolve import DnsResolver, Resolver, StaticResolver
from .workload import Attempt, Journal, Ledger, LedgerConfig, Op, Pool, Target

__all__ = [
    "CATEGORIES",
    "Attempt",
    "Clock",
    "ClockSampler",
    "Contents",
    "DatabaseVerdict",
    "DnsResolver",
    "EmulatorClock",
    "Finding",
    "Gap",
    "Journal",
    "Ledger",
    "LedgerConfig",
    "LocalClock",
    "Op",
    "Pool",
    "Resolver",
    "StaticResolver",
    "Target",
    "Verdict",
    "check",
    "check_database",
    "connect",
    "create_tables",
    "engine_of",
    "identity",
    "longest_gap",
    "read_contents",
]
