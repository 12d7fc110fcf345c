"""Issue 17's proof: an application writing all the time loses, resurrects, duplicates and echoes
nothing through create -> cutover -> failback -> cutover -> finalize, through real Terraform.

Each case runs the emulator with `--data-plane` (a real MariaDB or PostgreSQL server behind every
RDS instance, a DMS that moves rows, DNS), seeds an unencrypted source, then starts the ledger
(acceptance-tests/ledger) BEFORE the first apply and stops it only AFTER finalize: two writers
resolve the application's name through the emulator's DNS (caching each answer for its TTL),
keep pooled connections, and retry a refused or failed write as an application would. Nothing
pauses the writers around an apply. The configuration sets no `write_fence`, so the provider's
default fence applies; it sets `fence_hold_seconds` to the DNS TTL plus the pool lifetime (plus a
margin), as the resource docs say. Meanwhile a thread polls DescribeReplicationTasks and records every
moment at which a forward and a reverse task are both `running`.

Asserted: on the instance the application ends on, 0 lost, 0 resurrected, 0 duplicated, 0
echoed, 0 unexpected; replication never ran both ways at once; the large transaction (one case
commits a multi-thousand-row transaction as the cutover apply begins) is there whole.

Each case writes `<artefacts>/cutover-ledger/<case>.json` (RDSENC_ARTEFACTS, default
`target/acceptance`): per switch, the longest pause between acknowledged writes the ledger saw
and the provider's recorded steps (`rdsenc:*` tags on the target), in emulated seconds, for a
docs generator. Tags carry whole wall-clock seconds: at this time scale, one real second is
1 / TIME_SCALE emulated seconds, the resolution of the tag-based splits.

Not in `make testacc` (it runs acceptance-tests/tests): run with
`.venv/bin/python -m pytest acceptance-tests/proof`.
"""

from __future__ import annotations

import json
import os
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import dns.resolver
import pytest

from ledger import EmulatorClock, Ledger, LedgerConfig, Target, check, connect, longest_gap
from rig import emulator as emulator_mod
from rig import provider as provider_mod
from rig.aws import Aws, wait_for
from rig.case import with_required_providers
from rig.configs import DMS_PASSWORD, RECORD, ZONE, cutover_config, dms_block, q, timeouts_block
from rig.dataplane import APP_DB, MASTER_PASSWORD, Data
from rig.discovery import discover
from rig.environment import terraform_env
from rig.seeds import address
from rig.terraform import Terraform

#: 20x: real rows move at real speed, so a faster clock turns a few real milliseconds of lag
#: into seconds the cutover gate refuses (the demo's reasoning, acceptance-tests/demo.py).
TIME_SCALE = 0.05
#: The CNAME's TTL (real seconds: the emulator's DNS serves it unscaled). Short, to keep the
#: case short; the staleness it models is the same.
CNAME_TTL = 5
#: The ledger's pool maximum connection lifetime (real seconds).
POOL_LIFETIME = 10
#: The provider's RDSENC_POLL_SCALE: its polls, and the waits that stand for AWS time, run at
#: this fraction of AWS's pace.
POLL_SCALE = 0.01
#: `fence_hold_seconds`: the old primary stays read-only after each switch for the DNS TTL plus
#: the pool lifetime, as the resource docs say to set it, plus 5 s of margin for a loaded
#: machine. The TTL and the lifetime are real seconds; the provider waits the hold at its poll
#: scale, so the value is those real seconds divided by POLL_SCALE.
FENCE_HOLD = round((CNAME_TTL + POOL_LIFETIME + 5) / POLL_SCALE)
#: The cutover gate's lag (emulated seconds): real rows move at real speed, and on a loaded
#: 2-core machine DMS runs a second or two behind, 20-40 emulated seconds at this scale. The
#: gate is not what this test is about; the drain (lag below 1 s) still has to be proven.
MAX_LAG = 60
#: Each switching apply's bound (real time): with a fence, one took 80-125 s here (2 cores, loaded).
UPDATE_TIMEOUT = "6m"
#: The large transaction's rows.
BULK_ROWS = 5_000
ROOT = Path(__file__).resolve().parents[2]
ARTEFACTS = Path(os.environ.get("RDSENC_ARTEFACTS", ROOT / "target" / "acceptance")) / "cutover-ledger"
#: The applies, in order: (step, cutover, finalize).
LIFECYCLE = (
    ("create", False, False),
    ("cutover", True, False),
    ("failback", False, False),
    ("cutover again", True, False),
    ("finalize", True, True),
)
#: The provider's step stamps on the target instance (engine/src/cutover/mod.rs).
TAGS = ("cutover-started-at", "writes-paused-at", "drained-at", "switched-at", "cutover-completed-at")
FAILBACK_TAGS = ("failback-drained-at",)


@dataclass(frozen=True)
class Engine:
    """One engine's source: its RDS engine, master user, and the user DMS connects as."""

    name: str
    master_user: str
    dms_user: str
    dms_password: str


ENGINES = {
    # MySQL: a dedicated `dms` user with the grants DMS documents (rig.dataplane.Data).
    "mysql": Engine("mysql", "admin", "dms", DMS_PASSWORD),
    # PostgreSQL: the master user (rds_superuser, rds_replication), which DMS documents as
    # sufficient; a role with REPLICATION needs a superuser to create on PostgreSQL 15.
    "postgres": Engine("postgres", "app_admin", "app_admin", MASTER_PASSWORD),
}


@pytest.fixture(scope="module")
def dataplane(tmp_path_factory: pytest.TempPathFactory) -> Iterator[emulator_mod.Emulator]:
    """One `--data-plane` emulator for the module, at TIME_SCALE."""
    log = tmp_path_factory.mktemp("emulator-dp") / "emulator.log"
    try:
        running = emulator_mod.start(log, time_scale=TIME_SCALE, data_plane=True)
    except emulator_mod.EmulatorError as exc:
        pytest.fail(str(exc), pytrace=False)
    yield running
    running.stop()


def config(strategy: str, engine: Engine, key_arn: str, zone_id: str, *, cutover: bool, finalize: bool) -> str:
    """The migration of `orders`: `cutover_strategy`, `cutover` and `finalize`; no `write_fence`;
    `fence_hold_seconds` covering the ledger's DNS TTL and pool lifetime.
    """
    return with_required_providers(
        cutover_config(
            strategy,
            key_arn,
            zone_id,
            cutover=cutover,
            finalize=finalize,
            extra=f"max_cutover_lag_seconds = {MAX_LAG}\n  fence_hold_seconds = {FENCE_HOLD}",
            ttl=CNAME_TTL,
            dms=dms_block(q(engine.dms_password), user=engine.dms_user),
            timeouts=timeouts_block(create="20m", update=UPDATE_TIMEOUT),
        )
    )


class TaskWatch:
    """Polls DescribeReplicationTasks in a thread; keeps every reading where a forward and a
    reverse task were both `running` (the never-both-directions invariant).
    """

    def __init__(self, url: str, interval: float = 0.2) -> None:
        self.aws = Aws(url)  # its own clients: the test thread uses the others
        self.interval = interval
        self.readings = 0
        self.errors: list[str] = []
        self.both: list[dict[str, str]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="task-watch", daemon=True)

    def __enter__(self) -> TaskWatch:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                tasks = self.aws.dms.describe_replication_tasks()["ReplicationTasks"]
            except Exception as exc:  # a missed reading is recorded, never silently dropped
                self.errors.append(f"{type(exc).__name__}: {exc}")
                continue
            self.readings += 1
            status = {t["ReplicationTaskIdentifier"]: t["Status"] for t in tasks}
            forward = [n for n, s in status.items() if s == "running" and not n.endswith("-reverse")]
            reverse = [n for n, s in status.items() if s == "running" and n.endswith("-reverse")]
            if forward and reverse:
                self.both.append(status)


class Bulk:
    """One large transaction, as an application's batch job writes it: BULK_ROWS rows through the
    application's name, committed once, retried whole after a failure before COMMIT.
    """

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self.batch = uuid.uuid4().hex
        self.status = "pending"  # ok | failed | unknown
        self.committed_mono: float | None = None
        self.attempts: list[str] = []
        self._thread = threading.Thread(target=self._run, name="bulk", daemon=True)

    def start(self) -> None:
        """Begin now (the cutover apply starts right after)."""
        self._thread.start()

    def join(self) -> None:
        """Wait for the commit (bounded by the ledger's retry_for)."""
        self._thread.join(timeout=self.ledger.config.retry_for + 60)

    def _run(self) -> None:
        t = self.ledger.target
        give_up = time.monotonic() + self.ledger.config.retry_for
        rows = [(f"{self.batch}-{i}", self.batch, i) for i in range(BULK_ROWS)]
        while time.monotonic() < give_up:
            committing = False
            try:
                host = self.ledger.resolver.resolve(t.name)
                conn = connect(t.engine, host, t.port, t.user, t.password, t.database)
                try:
                    with conn.cursor() as cur:
                        cur.executemany("INSERT INTO ledger_bulk VALUES (%s, %s, %s)", rows)
                    committing = True
                    conn.commit()
                finally:
                    conn.close()
            except Exception as exc:
                self.attempts.append(f"{type(exc).__name__}: {exc}")
                if committing:  # may have committed: an application cannot retry blindly
                    self.status = "unknown"
                    return
                time.sleep(0.5)
                continue
            self.status, self.committed_mono = "ok", time.monotonic()
            return
        self.status = "failed"


@dataclass
class Switch:
    """One switching apply: its real window and the provider's stamps after it."""

    name: str
    start: float  # monotonic
    end: float
    tags: dict[str, str] = field(default_factory=dict)


def target_tags(aws: Aws) -> dict[str, str]:
    """The `rdsenc:*` tags of the migration's target (tagged `rdsenc:role=target`)."""
    for db in aws.rds.describe_db_instances()["DBInstances"]:
        tags = aws.rds.list_tags_for_resource(ResourceName=db["DBInstanceArn"])["TagList"]
        found = {t["Key"].removeprefix("rdsenc:"): t["Value"] for t in tags if t["Key"].startswith("rdsenc:")}
        if found.get("role") == "target":
            return found
    return {}


def published(data: Data) -> str | None:
    """The address RECORD resolves to, once Route 53 serves it (None before)."""
    try:
        return data.resolver.resolve(RECORD)
    except dns.resolver.NXDOMAIN:
        return None


def serving(data: Data, aws: Aws, name: str) -> str:
    """The instance the application's name leads to now (a fresh lookup)."""
    data.resolver.forget()
    want = data.resolver.resolve(name)
    for db in aws.rds.describe_db_instances()["DBInstances"]:
        ident = db["DBInstanceIdentifier"]
        if db["DBInstanceStatus"] == "available" and data.resolver.resolve(address(aws, ident)) == want:
            return ident
    raise AssertionError(f"{name} resolves to {want}, no available instance has that address")


def seed(data: Data, engine: Engine) -> None:
    """The application's database with the ledger's tables and the batch job's table, and (MySQL)
    the DMS user.
    """
    data.create_database("orders", DMS_PASSWORD if engine.dms_user != engine.master_user else None)
    data.execute("orders", ["CREATE TABLE ledger_bulk (id VARCHAR(64) PRIMARY KEY, batch CHAR(32) NOT NULL, n INT)"])
    data.create_ledger_tables("orders")


def pause_report(ledger: Ledger, switches: list[Switch], wall_offset: float) -> list[dict[str, Any]]:
    """Per switch: the ledger's longest pause inside the apply and the provider's steps, both in
    emulated seconds (stamps converted through the ledger's clock samples).
    """
    clock = ledger.clock
    acked = ledger.journal.acked()

    def emulated(stamp: str) -> float | None:
        if not stamp:
            return None
        wall = datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
        return clock.aws_at(wall - wall_offset)

    out = []
    for s in switches:
        inside = [op for op in acked if op.ack_mono is not None and s.start <= op.ack_mono <= s.end]
        gap = longest_gap(inside, s.start, s.end, clock)
        # A failback records only its drain; the cutover stamps still there are the last cutover's.
        names = FAILBACK_TAGS if s.name == "failback" else TAGS
        at = {k: emulated(s.tags.get(k, "")) for k in names}
        at["apply-started"] = clock.aws_at(s.start)

        def span(a: str, b: str, at: dict[str, float | None] = at) -> float | None:
            x, y = at.get(a), at.get(b)
            return None if x is None or y is None else round(y - x, 1)

        entry: dict[str, Any] = {
            "switch": s.name,
            "apply_emulated_s": round(clock.aws_at(s.end) - clock.aws_at(s.start), 1),
            "ledger_pause_emulated_s": None if gap is None else round(gap.emulated_seconds, 1),
            "ledger_pause_real_s": None if gap is None else round(gap.real_seconds, 3),
            "acked_during_apply": len(inside),
            "tags": {k: s.tags[k] for k in names if s.tags.get(k)},
        }
        if s.name == "failback":
            entry["apply_start_to_drained_s"] = span("apply-started", "failback-drained-at")
        else:
            # Before the pause: the gate's checks.
            entry["before_pause_s"] = span("cutover-started-at", "writes-paused-at")
            # rdsenc's own part of the pause: the fence (or drain start) to the drain proof.
            entry["rdsenc_fence_to_drained_s"] = span("writes-paused-at", "drained-at")
            # The switch itself: forward task stop, Route 53 INSYNC or the renames.
            entry["switch_drained_to_switched_s"] = span("drained-at", "switched-at")
            # After writes may resume: the reverse task started, the phase recorded.
            entry["after_switch_s"] = span("switched-at", "cutover-completed-at")
        out.append(entry)
    return out


def anomalies(ledger: Ledger, verdict: Any, switches: list[Switch]) -> list[dict[str, Any]]:
    """Each finding with where and when its write was acknowledged (wall clock, and the switch
    running then), so a failing case says which step lost it.
    """
    ops = {op.op_id: op for op in ledger.journal.acked()}
    out = []
    for f in [f for c in ("lost", "resurrected", "duplicated", "echoed", "unexpected") for f in verdict.final.of(c)]:
        op = ops.get(f.op_id or "")
        at = op.ack_wall if op else None
        mono = op.ack_mono if op else None
        during = next((s.name for s in switches if mono is not None and s.start <= mono <= s.end), None)
        out.append(
            {
                "category": f.category,
                "op": f.op_id,
                "detail": f.detail,
                "ack_server": op.ack_server if op else None,
                "ack_address": op.ack_address if op else None,
                "ack_wall": datetime.fromtimestamp(at).isoformat() if at else None,
                "during": during,
            }
        )
    return out


def run_lifecycle(
    dataplane: emulator_mod.Emulator,
    provider: provider_mod.ProviderInstall,
    tmp_path: Path,
    engine: Engine,
    strategy: str,
    bulk: bool,
    case: str,
) -> None:
    """Create, cut over, fail back, cut over, finalize under the ledger; asserts the verdict."""
    started = time.monotonic()
    dataplane.reset()
    aws = Aws(dataplane.url)
    inst = aws.create_replication_ready_source(
        "orders", engine.name, AllocatedStorage=20, MasterUsername=engine.master_user
    )
    data = Data(dataplane.url, aws, engine.name, engine.master_user)
    data.admit_clients(inst["VpcSecurityGroups"][0]["VpcSecurityGroupId"])
    seed(data, engine)
    key = aws.create_kms_key(alias="orders-at-rest")["Arn"]
    zone_id = ""
    if strategy == "route53":
        zone_id = aws.create_cname_zone(ZONE, RECORD, address(aws, "orders"))
        wait_for(lambda: published(data), 60, f"{RECORD} published (INSYNC) in the emulator's DNS")

    workdir = tmp_path / "work"
    env = terraform_env(provider.cli_config, dataplane.url, workdir, tmp_path / "aws-home")
    env["RDSENC_POLL_SCALE"] = str(POLL_SCALE)
    tf = Terraform(discover()[0], workdir, env)

    # The application's way in: the CNAME, or the instance endpoint the swap hands over.
    name = RECORD if strategy == "route53" else address(aws, "orders")
    ledger = Ledger(
        Target(data.engine, name, data.port, engine.master_user, MASTER_PASSWORD, APP_DB),
        LedgerConfig(writers=2, duration=3600, think_time=0.3, max_lifetime=POOL_LIFETIME, retry_for=60),
        resolver=data.resolver,
        clock=EmulatorClock(dataplane.url),
    )
    wall_offset = time.time() - time.monotonic()
    switches: list[Switch] = []
    steps: list[dict[str, Any]] = []
    failure = ""
    big: Bulk | None = None
    tf.write(config(strategy, engine, key, zone_id, cutover=False, finalize=False))
    tf.init()
    with TaskWatch(dataplane.url) as watch:
        ledger.start()
        try:
            for step, cutover, finalize in LIFECYCLE:
                if bulk and step == "cutover":
                    big = Bulk(ledger)
                    big.start()
                tf.write(config(strategy, engine, key, zone_id, cutover=cutover, finalize=finalize))
                t0 = time.monotonic()
                result = tf.apply(check=False)
                t1 = time.monotonic()
                steps.append({"step": step, "apply_real_s": round(t1 - t0, 1), "ok": result.returncode == 0})
                print(f"{case}: {step} apply {t1 - t0:.1f}s, exit {result.returncode}", flush=True)
                if step in ("cutover", "failback", "cutover again"):
                    switches.append(Switch(step, t0, t1, target_tags(aws)))
                if result.returncode != 0:
                    failure = f"{step}: terraform apply failed after {t1 - t0:.0f}s:\n{result.stderr[-3000:]}"
                    break
        finally:
            ledger.stop()
            ledger.join()
            if big is not None:
                big.join()
    # After a failed step the application may still be on the source: check where it is now.
    final = serving(data, aws, name)
    verdict = check(ledger, [data.contents(final, final)])
    bulk_rows = data.counts(final, ("ledger_bulk",))["ledger_bulk"] if big is not None else None
    report = {
        "case": case,
        "engine": engine.name,
        "cutover_strategy": strategy,
        "write_fence": "default",
        "fence_hold_seconds": FENCE_HOLD,
        "time_scale": TIME_SCALE,
        "tag_resolution_emulated_s": round(1 / TIME_SCALE, 1),
        "runtime_real_s": round(time.monotonic() - started, 1),
        "steps": steps,
        "failure": failure or None,
        "checked_on": final,
        "ledger": {"acked": verdict.acked, "unresolved": verdict.unresolved, "failed": verdict.failed},
        "verdict": verdict.final.counts(),
        "both_directions_running": len(watch.both),
        "task_readings": watch.readings,
        "bulk": None
        if big is None
        else {"status": big.status, "rows_expected": BULK_ROWS, "rows_found": bulk_rows, "attempts": big.attempts},
        "switches": pause_report(ledger, switches, wall_offset),
        "anomalies": anomalies(ledger, verdict, switches),
    }
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    (ARTEFACTS / f"{case}.json").write_text(json.dumps(report, indent=2) + "\n")
    print(verdict.summary())
    print(json.dumps(report, indent=2))

    assert not ledger.errors, ledger.errors
    assert verdict.acked > 0, "the application wrote nothing: the ledger proves nothing"
    problems = [failure] if failure else []
    if not verdict.final.clean:
        problems.append(verdict.summary())
    if watch.both:
        problems.append(f"forward and reverse both running at {len(watch.both)} readings, e.g. {watch.both[0]}")
    if big is not None:
        want = {"ok": {BULK_ROWS}, "failed": {0}, "unknown": {0, BULK_ROWS}}[big.status]
        if bulk_rows not in want:
            problems.append(f"large transaction ({big.status}): {bulk_rows} of {BULK_ROWS} rows on {final}")
    assert watch.readings > 0 and not watch.errors, f"task watch: {watch.readings} readings, {watch.errors[:3]}"
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("strategy", ["route53", "identifier_swap"])
@pytest.mark.parametrize("engine", ["mysql", "postgres"])
def test_the_ledger_writing_throughout_finds_nothing_lost_or_echoed(
    dataplane: emulator_mod.Emulator,
    provider_install: provider_mod.ProviderInstall,
    tmp_path: Path,
    engine: str,
    strategy: str,
) -> None:
    """The whole lifecycle under continuous writes, per engine and cutover strategy."""
    run_lifecycle(dataplane, provider_install, tmp_path, ENGINES[engine], strategy, False, f"{engine}-{strategy}")


def test_a_large_transaction_committed_as_the_cutover_begins_arrives_whole(
    dataplane: emulator_mod.Emulator, provider_install: provider_mod.ProviderInstall, tmp_path: Path
) -> None:
    """A batch job's BULK_ROWS-row transaction, started as the cutover apply starts, is not split."""
    run_lifecycle(dataplane, provider_install, tmp_path, ENGINES["mysql"], "route53", True, "mysql-route53-bulk")
