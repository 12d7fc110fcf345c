#!/usr/bin/env python3
"""`make bench`: what rdsenc costs, as ratios and counts, in one run; writes docs/performance.md.

1. Provider overhead: `terraform plan` wall time with N `rdsenc_db_instance` reads and with N settled
   `rdsenc_migration` resources, beside N built-in `terraform_data` resources (the floor), for
   N = 1, 25, 100; start -> handshake line, idle and peak RSS, binary size.
2. AWS calls of one refresh of a settled migration and of one `rdsenc_db_instance` read, from the
   emulator's call log, beside the minimum each needs.
3. Critical path: a 500 GB migration (the emulator's default durations, scaled) against the lower
   bound computed from the emulator's duration table, and the runbook's sequential sum.
4. Polling cost: AWS calls per migration per AWS minute of waiting, for 1 and for many at once.
5. Cutover write pause under a fixed lag profile.

Prints and writes a report only; nothing here feeds a test, and nothing asserts on a time.
"""

from __future__ import annotations

import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

MAGIC_COOKIE = "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2"
RUNS = int(os.environ.get("BENCH_RUNS", "20"))
IDLE_S = 1.0


def client_cert_pem() -> str:
    """A self-signed P-521 CA certificate for `localhost`, as Terraform's plugin client makes one."""
    key = ec.generate_private_key(ec.SECP521R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "HashiCorp"),
            x509.NameAttribute(NameOID.COMMON_NAME, "localhost"),
        ]
    )
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(seconds=30))
        .not_valid_after(now + timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA512())
    )
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def start(binary: Path, env: dict[str, str]) -> tuple[subprocess.Popen[bytes], float, str]:
    """Start the provider; return it, the seconds until its handshake line, and the line."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        [str(binary)],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline().decode(errors="replace").strip()
    elapsed = time.perf_counter() - started
    if not line.startswith("1|6|"):
        stop(proc)
        raise SystemExit(f"bench: {binary} printed no handshake line (got {line!r}, exit {proc.poll()})")
    return proc, elapsed, line


def stop(proc: subprocess.Popen[bytes]) -> None:
    """Stop a provider process group (SIGTERM, then SIGKILL) and reap it."""
    # The provider ignores SIGINT by design (Terraform sends it to the whole group); use SIGTERM.
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def rss_kib(pid: int) -> int:
    """The resident set size of `pid` in KiB (`VmRSS` in /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise SystemExit("bench: no VmRSS in /proc")


# --------------------------------------------------------------------------------------------------
# Everything below drives real Terraform, the provider and the emulator through the test rig.

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

from rig import emulator as emulator_mod  # noqa: E402
from rig import provider as provider_mod  # noqa: E402
from rig.aws import Aws  # noqa: E402
from rig.discovery import discover  # noqa: E402
from rig.environment import terraform_env  # noqa: E402
from rig.terraform import Terraform  # noqa: E402

SIZES = [int(n) for n in os.environ.get("BENCH_SIZES", "1,25,100").split(",")]
PLAN_REPS = int(os.environ.get("BENCH_PLAN_REPS", "3"))
# The many-migrations run: polled at its own scale so 100 waiting migrations stay within 2 cores.
MANY_SCALE = float(os.environ.get("BENCH_MANY_SCALE", "0.01"))
# The 500 GB critical-path run and the cutover.
PATH_SCALE = float(os.environ.get("BENCH_PATH_SCALE", "0.002"))
# The cutover: coarser, because the provider records its timestamps in whole seconds.
CUTOVER_SCALE = float(os.environ.get("BENCH_CUTOVER_SCALE", "0.1"))
DMS_PASSWORD = "bench-Dms-Pa55word"
ZONE = "internal.example.com"
RECORD = f"orders-db.{ZONE}"


def stats(xs: list[float]) -> tuple[float, float, float]:
    """(min, median, max)."""
    return min(xs), statistics.median(xs), max(xs)


def fmt3(xs: list[float], unit: str = "", digits: int = 2) -> str:
    """`median (min-max)` of `xs` with `digits` decimals and `unit`."""
    lo, med, hi = stats(xs)
    return f"{med:.{digits}f}{unit} ({lo:.{digits}f}–{hi:.{digits}f})"


class PeakRss:
    """Samples VmHWM (peak RSS) of every provider process alive while a command runs, and the
    largest heap (RssAnon) and mapped-file (RssFile: the binary's code) parts seen. Only the
    processes run from a copy under `under` (the bench's own working directories) count, not
    other runs of the provider on the machine.
    """

    def __init__(self, under: Path, name: str = "terraform-provider-rdsenc") -> None:
        import threading

        self.under = str(under.resolve())
        self.name = name
        self.peak_kib = 0
        self.anon_kib = 0
        self.file_kib = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            for proc in Path("/proc").iterdir():
                if not proc.name.isdigit():
                    continue
                try:
                    if not (proc / "comm").read_text().strip().startswith(self.name[:15]):
                        continue
                    if not os.readlink(proc / "exe").startswith(self.under):
                        continue
                    for line in (proc / "status").read_text().splitlines():
                        if line.startswith("VmHWM:"):
                            self.peak_kib = max(self.peak_kib, int(line.split()[1]))
                        elif line.startswith("RssAnon:"):
                            self.anon_kib = max(self.anon_kib, int(line.split()[1]))
                        elif line.startswith("RssFile:"):
                            self.file_kib = max(self.file_kib, int(line.split()[1]))
                except OSError:
                    continue
            self._stop.wait(0.02)


class Bench:
    """One emulator, one provider install, scratch working directories; the report it fills."""

    def __init__(self, binary: Path, scratch: Path) -> None:
        self.scratch = scratch
        self.install = provider_mod.install(binary, scratch / "provider")
        self.terraform = discover()[0]
        self.emu = emulator_mod.start(scratch / "emulator.log", time_scale=MANY_SCALE)
        self.aws = Aws(self.emu.url)
        self.lines: list[str] = []

    def tf(self, name: str, config: str, poll_scale: float) -> Terraform:
        """A Terraform working directory `name` holding `config`, the provider polling at `poll_scale`."""
        workdir = self.scratch / name
        workdir.mkdir(parents=True, exist_ok=True)
        env = terraform_env(self.install.cli_config, self.emu.url, workdir, self.scratch / "aws-home")
        env["RDSENC_POLL_SCALE"] = repr(poll_scale)
        tf = Terraform(self.terraform, workdir, env)
        tf.write(provider_mod.required_providers_block() + config)
        tf.init()
        return tf

    def out(self, line: str = "") -> None:
        """Print `line` and keep it for the report."""
        print(line, flush=True)
        self.lines.append(line)

    def calls(self) -> list[dict[str, object]]:
        """The emulator's call log since the last `clear_calls`."""
        return self.emu.client.calls()

    def clear_calls(self) -> None:
        """Empty the emulator's call log."""
        self.emu.client.clear_calls()

    # -- seeding ----------------------------------------------------------------------------------
    def seed_sources(self, prefix: str, n: int, storage: int = 20) -> None:
        """N unencrypted, replication-ready MySQL sources sharing one network and parameter group."""
        net = self.aws.create_network(prefix)
        group = self.aws.create_parameter_group(
            f"{prefix}-cdc", "mysql8.0", {"binlog_format": "ROW", "binlog_row_image": "FULL"}
        )
        for i in range(n):
            self.aws.rds.create_db_instance(
                DBInstanceIdentifier=f"{prefix}-{i:03d}",
                Engine="mysql",
                EngineVersion="8.0.35",
                DBInstanceClass="db.t3.micro",
                AllocatedStorage=storage,
                MasterUsername="admin",
                MasterUserPassword="bench-Secret-Pa55word",
                StorageEncrypted=False,
                BackupRetentionPeriod=7,
                DBSubnetGroupName=net["db_subnet_group"],
                VpcSecurityGroupIds=[net["security_group_id"]],
                DBParameterGroupName=group,
            )
        for i in range(n):
            self.aws.wait_db_instance_available(f"{prefix}-{i:03d}", timeout=600)

    # -- 1. provider overhead ---------------------------------------------------------------------
    def time_plans(self, tf: Terraform, busy: list[float] | None = None) -> tuple[list[float], int]:
        """PLAN_REPS timed `terraform plan` runs (refresh included); their wall seconds and peak RSS.
        With `busy`, also each plan's emulator busy time (the sum of its calls' `busy`).
        """
        times = []
        with PeakRss(self.scratch) as peak:
            for _ in range(PLAN_REPS):
                self.clear_calls()
                res = tf.plan()
                if res.returncode != 0:
                    raise SystemExit(f"bench: a plan of settled resources proposes changes:\n{res.stdout[-3000:]}")
                times.append(res.seconds)
                if busy is not None:
                    busy.append(sum(float(c.get("busy", 0.0)) for c in self.calls()))  # type: ignore[arg-type]
        return times, peak.peak_kib

    def overhead(self, key_arn: str) -> dict[str, object]:
        """Plan wall time and memory of N settled resources against the `terraform_data` floor."""
        # One source per migration across all sizes: each working directory owns its own slice.
        n_total = sum(SIZES)
        self.seed_sources("src", n_total)
        floor: dict[int, list[float]] = {}
        reads: dict[int, list[float]] = {}
        migs: dict[int, list[float]] = {}
        reads_busy: dict[int, list[float]] = {}  # the emulator's busy time in each plan
        migs_busy: dict[int, list[float]] = {}
        peak = 0  # during the plans
        create_peak = 0  # during the creates, all of a size at once
        polling: list[tuple[int, float, int]] = []  # (n, apply AWS minutes, calls)
        for n in SIZES:
            cfg = "".join(f'resource "terraform_data" "r{i}" {{\n  input = "{i}"\n}}\n' for i in range(n))
            tf = self.tf(f"floor-{n}", cfg, MANY_SCALE)
            tf.apply()
            floor[n], _ = self.time_plans(tf)

            cfg = 'provider "rdsenc" {}\n' + "".join(
                f'data "rdsenc_db_instance" "r{i}" {{\n  db_instance_identifier = "src-{i:03d}"\n}}\n' for i in range(n)
            )
            tf = self.tf(f"reads-{n}", cfg, MANY_SCALE)
            tf.apply()
            reads_busy[n] = []
            reads[n], p = self.time_plans(tf, reads_busy[n])
            peak = max(peak, p)

        # Each size's migrations are created at once (the polling measurement), then planned.
        done = 0
        split = (0, 0)
        for n in SIZES:
            cfg = 'provider "rdsenc" {}\n' + "".join(
                migration_block(f"m{i}", f"src-{i:03d}", key_arn) for i in range(done, done + n)
            )
            tf = self.tf(f"migrations-{n}", cfg, MANY_SCALE)
            self.clear_calls()
            with PeakRss(self.scratch) as apply_peak:
                res = tf.apply(f"-parallelism={max(10, n)}")
            calls = self.calls()
            polling.append((n, res.seconds / MANY_SCALE / 60, len(calls)))
            create_peak = max(create_peak, apply_peak.peak_kib)
            split = (apply_peak.anon_kib, apply_peak.file_kib)
            migs_busy[n] = []
            migs[n], p = self.time_plans(tf, migs_busy[n])
            peak = max(peak, p)
            done += n
        return {
            "floor": floor,
            "reads": reads,
            "migrations": migs,
            "reads_busy": reads_busy,
            "migs_busy": migs_busy,
            "peak_kib": peak,
            "create_peak_kib": create_peak,
            "split_kib": split,
            "polling": polling,
            "one_migration": self.scratch / f"migrations-{min(SIZES)}",
        }


def migration_block(name: str, source: str, key_arn: str, extra: str = "") -> str:
    """An `rdsenc_migration` resource `name` of `source` to `key_arn`, `extra` lines inside."""
    return f"""
resource "rdsenc_migration" "{name}" {{
  source_db_instance_identifier = "{source}"
  kms_key_id                    = "{key_arn}"
  dms {{
    source_username    = "dms"
    source_password_wo = "{DMS_PASSWORD}"
  }}
  timeouts {{
    create = "60m"
    update = "60m"
  }}
  {extra}
}}
"""


def per_operation(calls: list[dict[str, object]]) -> dict[str, int]:
    """Calls counted per `service:Operation`, sorted."""
    counts: dict[str, int] = {}
    for c in calls:
        key = f"{c['service']}:{c['operation']}"
        counts[key] = counts.get(key, 0) + 1
    return dict(sorted(counts.items()))


# What each call of a settled refresh is for (the observe step reads AWS as the record).
WHY = {
    "rds:DescribeDBInstances": "source and target instances",
    "rds:DescribeDBSnapshots": "the source snapshot and its encrypted copy (only while the target is not ready or "
    "state lacks them)",
    "dms:DescribeReplicationSubnetGroups": "the managed replication subnet group (only while the replication "
    "instance is not found)",
    "dms:DescribeReplicationInstances": "the replication instance",
    "dms:DescribeEndpoints": "source and target endpoints (the reverse ones only once state or the target's "
    "`rdsenc:phase` tag says a cutover began)",
    "dms:DescribeReplicationTasks": "the forward task (the reverse one only once a cutover began)",
    "dms:DescribeTableStatistics": "`validation_state` (per-table validation; only when `dms.validation` is on)",
    "cloudwatch:GetMetricData": "`replication_lag_seconds` (CDC latency)",
    "sts:GetCallerIdentity": "(no longer made at configure: only when the account is needed)",
}


def breakdown(counts: dict[str, int]) -> str:
    """`op n, op n, ...` of `counts`, or `(none)`."""
    return ", ".join(f"{k} {v}" for k, v in counts.items()) or "(none)"


def aws_calls(b: Bench, one_migration_dir: Path) -> dict[str, object]:
    """Calls of one refresh of a settled migration, and of one `rdsenc_db_instance` read."""
    tf = Terraform(
        b.terraform,
        one_migration_dir,
        terraform_env(b.install.cli_config, b.emu.url, one_migration_dir, b.scratch / "aws-home"),
    )
    inv = b.emu.client.inventory()
    b.clear_calls()
    tf.run("plan", "-refresh-only", "-input=false", "-no-color")
    refresh = b.calls()
    # Owned objects a settled migration must look at: the source and target instances, the
    # replication instance, two endpoints and the task; plus one CDC-lag metric query, and the
    # table statistics because `dms.validation` is on (the default, and the bench's setting):
    # `validation_state` reports per-table validation, which only DescribeTableStatistics
    # returns (the task's own statistics count errored tables, not validation).
    owned = [
        "source DB instance",
        "target DB instance",
        "replication instance",
        "source endpoint",
        "target endpoint",
        "replication task",
    ]
    tf = b.tf(
        "one-read",
        'provider "rdsenc" {}\ndata "rdsenc_db_instance" "r" {\n  db_instance_identifier = "src-000"\n}\n',
        MANY_SCALE,
    )
    tf.apply()
    b.clear_calls()
    tf.plan()
    read = b.calls()
    return {
        "refresh": per_operation(refresh),
        "refresh_total": len(refresh),
        "refresh_min": len(owned) + 2,
        "owned": owned,
        "read": per_operation(read),
        "read_total": len(read),
        "inventory_tasks": inv["replication_tasks"]["count"],
    }


def critical_path(b: Bench) -> dict[str, object]:
    """A 500 GB migration at PATH_SCALE against the lower bound from the emulator's durations."""
    b.emu.client.set_time_scale(PATH_SCALE)
    d = b.emu.client.durations()["durations"]
    gb = 500

    def step(name: str) -> float:
        return float(d[name]) + float(d.get(f"{name}_per_gb", 0.0)) * gb

    snapshot, copy, restore = step("db_snapshot"), step("db_snapshot_copy"), step("db_restore")
    dms_setup = step("replication_instance")
    task = step("task_create") + step("task_start") + step("full_load")
    lower = max(snapshot + copy + restore, dms_setup) + task
    runbook = snapshot + copy + restore + dms_setup + task
    net = b.aws.create_network("big")
    group = b.aws.create_parameter_group("big-cdc", "mysql8.0", {"binlog_format": "ROW", "binlog_row_image": "FULL"})
    b.aws.create_mysql_instance(
        "orders",
        AllocatedStorage=gb,
        DBSubnetGroupName=net["db_subnet_group"],
        VpcSecurityGroupIds=[net["security_group_id"]],
        DBParameterGroupName=group,
    )
    key = b.aws.create_kms_key(alias="bench-big")
    src = b.aws.rds.describe_db_instances(DBInstanceIdentifier="orders")["DBInstances"][0]
    zone_id = b.aws.create_cname_zone(ZONE, RECORD, src["Endpoint"]["Address"], caller_reference="rdsenc-bench")

    def config(cutover: bool) -> str:
        route53 = (
            f'cutover_strategy = "route53"\n  cutover = {str(cutover).lower()}\n  route53 {{\n'
            f'    zone_id     = "{zone_id}"\n    record_name = "{RECORD}"\n    ttl         = 30\n  }}'
        )
        return 'provider "rdsenc" {}\n' + migration_block("m", "orders", key["Arn"], route53)

    tf = b.tf("critical-path", config(False), PATH_SCALE)
    b.clear_calls()
    t0 = time.time()
    res = tf.apply()
    calls = b.calls()
    apply_aws = res.seconds / PATH_SCALE
    # Where the time goes: when each step was started (first call), against the earliest it could.
    first: dict[str, float] = {}
    for c in calls:
        first.setdefault(str(c["operation"]), (float(c["t"]) - t0) / PATH_SCALE)  # type: ignore[arg-type]
    earliest = {
        "CreateDBSnapshot": 0.0,
        "CreateReplicationInstance": 0.0,
        "CopyDBSnapshot": snapshot,
        "RestoreDBInstanceFromDBSnapshot": snapshot + copy,
        "CreateReplicationTask": snapshot + copy + restore,
        "StartReplicationTask": snapshot + copy + restore + step("task_create"),
    }
    last: dict[str, float] = {}
    for c in calls:
        last[str(c["operation"])] = (float(c["t"]) - t0) / PATH_SCALE  # type: ignore[arg-type]
    timeline = [(op, first.get(op), at) for op, at in earliest.items()]
    # The target endpoint needs the restored instance's address: its create and connection
    # test sit between the restore and the task.
    ready = snapshot + copy + restore
    timeline[4:4] = [
        ("CreateEndpoint (last: the target)", last.get("CreateEndpoint"), ready),
        ("TestConnection (last)", last.get("TestConnection"), ready),
    ]
    timeline.append(("apply returns (full load done)", apply_aws, lower))
    return {
        "tf": tf,
        "config": config,
        "snapshot": snapshot,
        "copy": copy,
        "restore": restore,
        "dms_setup": dms_setup,
        "task": task,
        "lower": lower,
        "runbook": runbook,
        "apply_s": res.seconds,
        "apply_aws": apply_aws,
        "calls": len(calls),
        "per_min": len(calls) / (apply_aws / 60),
        "timeline": timeline,
    }


def cutover_pause(b: Bench, cp: dict[str, object]) -> dict[str, object]:
    """Cutover under a fixed lag profile: 3 s source / 4 s target lag until 30 AWS s after the
    apply starts, then 0 (DMS drains); the write pause the provider records, in AWS seconds.
    """
    import threading

    tf: Terraform = cp["tf"]  # type: ignore[assignment]
    ident = str(tf.resources()["rdsenc_migration.m"]["replication_task_arn"])
    b.emu.client.set_table_statistics(
        ident, [{"schema": "app", "table": "orders", "rows": 1000, "validation_state": "Validated"}]
    )
    b.emu.client.set_lag(ident, source_seconds=3, target_seconds=4)
    b.emu.client.set_time_scale(CUTOVER_SCALE)
    tf.env["RDSENC_POLL_SCALE"] = repr(CUTOVER_SCALE)
    drop = threading.Timer(30 * CUTOVER_SCALE, lambda: b.emu.client.set_lag(ident, 0, 0))
    tf.write(provider_mod.required_providers_block() + cp["config"](True))  # type: ignore[operator]
    b.clear_calls()
    drop.start()
    try:
        res = tf.apply()
    finally:
        drop.cancel()
    calls = b.calls()
    st = tf.resources()["rdsenc_migration.m"]  # after the call log: `show` calls no AWS API
    pause = st.get("cutover_write_pause_seconds")
    if pause is None or st.get("phase") != "cut_over":
        raise SystemExit(f"bench: cutover did not record a write pause (phase {st.get('phase')}, pause {pause})")
    return {
        "pause_real": float(pause),
        "pause_aws": float(pause) / CUTOVER_SCALE,
        "apply_s": res.seconds,
        "ops": per_operation(calls),
    }


def startup(binary: Path) -> dict[str, object]:
    """Handshake time, idle RSS, size and transport of the provider binary started alone."""
    with tempfile.TemporaryDirectory(prefix="rdsenc-bench-") as tmp:
        env = {
            "PATH": os.environ.get("PATH", ""),
            "TMPDIR": tmp,
            "TF_PLUGIN_MAGIC_COOKIE": MAGIC_COOKIE,
            "PLUGIN_PROTOCOL_VERSIONS": "5,6",
            "PLUGIN_CLIENT_CERT": client_cert_pem(),
        }
        times = []
        for _ in range(RUNS):
            proc, elapsed, _line = start(binary, env)
            times.append(elapsed * 1000)
            stop(proc)
        proc, _, line = start(binary, env)
        time.sleep(IDLE_S)
        rss = rss_kib(proc.pid)
        stop(proc)
    return {"handshake_ms": times, "idle_kib": rss, "size": binary.stat().st_size, "transport": line.split("|")[2]}


def ratio(x: float, floor: float) -> str:
    """`x / floor` with two decimals and a multiplication sign, or `n/a` without a floor."""
    return f"{x / floor:.2f}×" if floor > 0 else "n/a"


def main() -> int:
    """Run every measurement and print the report (and write it to the path given)."""
    if len(sys.argv) not in (2, 3):
        raise SystemExit("usage: bench.py PATH/TO/terraform-provider-rdsenc [docs/performance.md]")
    binary = Path(sys.argv[1]).resolve()
    report = Path(sys.argv[2]) if len(sys.argv) == 3 else None
    os.environ.pop("TF_LOG", None)
    wall = time.monotonic()
    su = startup(binary)
    import shutil

    scratch = Path(tempfile.mkdtemp(prefix="rdsenc-bench-"))
    b = Bench(binary, scratch)
    try:
        key = b.aws.create_kms_key(alias="bench")
        ov = b.overhead(key["Arn"])
        calls = aws_calls(b, ov["one_migration"])  # type: ignore[arg-type]
        cp = critical_path(b)
        co = cutover_pause(b, cp)
    finally:
        b.emu.stop()
        shutil.rmtree(scratch, ignore_errors=True)
    write_report(b, binary, su, ov, calls, cp, co, time.monotonic() - wall, report)
    return 0


def write_report(
    b: Bench, binary: Path, su: dict, ov: dict, calls: dict, cp: dict, co: dict, seconds: float, report: Path | None
) -> None:
    """Print the figures as docs/performance.md's Markdown and write it to `report` if given."""
    import platform

    out = b.out
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True
    ).stdout.strip()
    out("# rdsenc performance")
    out("")
    profile = "release" if "release" in binary.parts else "debug" if "debug" in binary.parts else "unknown"
    out(
        f"Generated by `acceptance-tests/bench.py` (`make bench`) on {now}, commit `{commit or '?'}`, provider binary "
        f"`{binary.name}` ({profile} build), on {platform.node()} "
        f"({os.cpu_count()} cores, {platform.platform()}), {b.terraform.describe()}, "
        f"against the local AWS emulator. Whole run: {seconds / 60:.1f} min. Times are wall clock on a "
        "shared machine: read the ratios and counts, not the absolute milliseconds. "
        f"Timings are median (min–max) over {PLAN_REPS} plans; no test asserts on any of them."
    )
    out("")
    out("## 1. Provider overhead")
    out("")
    out("`terraform plan` (refresh included) of N settled resources. Floor: N built-in `terraform_data`.")
    out("")
    out(
        "| N | floor `terraform_data` (s) | N × `rdsenc_db_instance` (s) | ratio | N × settled `rdsenc_migration` "
        "(s) | ratio |"
    )
    out("| --- | --- | --- | --- | --- | --- |")
    fl, rd, mg = ov["floor"], ov["reads"], ov["migrations"]
    med = lambda xs: statistics.median(xs)  # noqa: E731
    for n in SIZES:
        out(
            f"| {n} | {fmt3(fl[n])} | {fmt3(rd[n])} | {ratio(med(rd[n]), med(fl[n]))} | "
            f"{fmt3(mg[n]) if n in mg else '–'} | {ratio(med(mg[n]), med(fl[n])) if n in mg else '–'} |"
        )
    lo, hi = min(SIZES), max(SIZES)
    mid = sorted(SIZES)[-2] if len(SIZES) > 1 else lo

    def slope(d: dict[int, list[float]]) -> float:
        return (med(d[hi]) - med(d[mid])) / (hi - mid) if hi != mid else float("nan")

    out("")
    out("| cost | floor | `rdsenc_db_instance` | ratio | `rdsenc_migration` | ratio |")
    out("| --- | --- | --- | --- | --- | --- |")
    out(
        f"| fixed (plan of N={lo}) | {med(fl[lo]):.2f} s | {med(rd[lo]):.2f} s | {ratio(med(rd[lo]), med(fl[lo]))} | "
        f"{med(mg[lo]):.2f} s | {ratio(med(mg[lo]), med(fl[lo]))} |"
    )
    out(
        f"| marginal per resource (slope N={mid}→{hi}) | {slope(fl) * 1000:.1f} ms | {slope(rd) * 1000:.1f} ms | "
        f"{ratio(slope(rd), slope(fl))} | {slope(mg) * 1000:.1f} ms | {ratio(slope(mg), slope(fl))} |"
    )
    # The emulator serves one call at a time (one lock around moto): its busy time in a plan is
    # time the plan spent waiting on the stand-in for AWS, which AWS serves in parallel.
    rb, mb = ov["reads_busy"], ov["migs_busy"]
    own = lambda wall, busy: {n: [w - u for w, u in zip(wall[n], busy[n], strict=False)] for n in busy}  # noqa: E731
    rd_own, mg_own = own(rd, rb), own(mg, mb)
    out(
        f"| of the marginal cost, the emulator busy serving the plan's AWS calls (one at a time) | – | "
        f"{slope(rb) * 1000:.1f} ms | | {slope(mb) * 1000:.1f} ms | |"
    )
    out(
        f"| marginal per resource without the emulator's busy time | {slope(fl) * 1000:.1f} ms | "
        f"{slope(rd_own) * 1000:.1f} ms | {ratio(slope(rd_own), slope(fl))} | {slope(mg_own) * 1000:.1f} ms | "
        f"{ratio(slope(mg_own), slope(fl))} |"
    )
    out("")
    hs = su["handshake_ms"]
    out("| process | value | goal |")
    out("| --- | --- | --- |")
    out(f"| start → handshake line ({len(hs)} runs, {su['transport']}, mTLS) | {fmt3(hs, ' ms', 1)} | ≤ 10 ms |")
    out(f"| idle RSS ({IDLE_S:.0f} s after the handshake) | {su['idle_kib'] / 1024:.1f} MiB | ≤ 20 MiB |")
    out(
        f"| peak RSS during the plans (any provider process, N up to {hi}) | {ov['peak_kib'] / 1024:.1f} MiB | ≤ 20 "
        "MiB |"
    )
    out(
        f"| peak RSS during the N={hi} create, all at once (`-parallelism={hi}`) | "
        f"{ov['create_peak_kib'] / 1024:.1f} MiB | ≤ 20 MiB |"
    )
    anon, mapped = ov["split_kib"]
    out(
        f"| of which, during the N={hi} create: largest heap (RssAnon) / largest mapped code (RssFile) seen | "
        f"{anon / 1024:.1f} MiB / {mapped / 1024:.1f} MiB | |"
    )
    out(
        f"| binary size (`{binary.relative_to(REPO) if binary.is_relative_to(REPO) else binary}`) | "
        f"{su['size'] / 1048576:.1f} MiB | |"
    )
    out("")
    out("## 2. AWS calls")
    out("")
    out("| operation | calls | minimum | per operation |")
    out("| --- | --- | --- | --- |")
    out(
        f"| one refresh (`plan -refresh-only`) of one settled migration | {calls['refresh_total']} | "
        f"{calls['refresh_min']} "
        f"(one describe per owned object: {', '.join(calls['owned'])}; one metric query; table statistics, "
        f"as `dms.validation` is on) | {breakdown(calls['refresh'])} |"
    )
    out(f"| one `rdsenc_db_instance` read (`plan`) | {calls['read_total']} | 1 | {breakdown(calls['read'])} |")
    out("")
    out("The refresh, call by call:")
    out("")
    out("| call | count | for |")
    out("| --- | --- | --- |")
    for op, count in calls["refresh"].items():
        out(f"| `{op}` | {count} | {WHY.get(op, '(not explained: new call?)')} |")
    out("")
    out("## 3. Critical path (500 GB, the emulator's default durations)")
    out("")
    out(
        f"Scaled by {PATH_SCALE} (AWS seconds × {PATH_SCALE} = real seconds); the provider polls at the same scale "
        "(`RDSENC_POLL_SCALE`). Durations from `GET /_emulator/durations`."
    )
    out("")
    out("| step | AWS seconds |")
    out("| --- | --- |")
    for name, key in (
        ("snapshot", "snapshot"),
        ("encrypted copy", "copy"),
        ("restore", "restore"),
        ("DMS replication instance (overlaps the snapshot work)", "dms_setup"),
        ("task create + start + full load", "task"),
    ):
        out(f"| {name} | {cp[key]:.0f} |")
    out(
        f"| **lower bound**: max(snapshot + copy + restore, DMS set-up) + task | **{cp['lower']:.0f}** "
        f"({cp['lower'] / 3600:.2f} h) |"
    )
    out(
        f"| runbook's sequential sum (every step one after another) | {cp['runbook']:.0f} "
        f"({cp['runbook'] / 3600:.2f} h) |"
    )
    out(
        "| `terraform apply` wall time, in AWS seconds (includes init of Terraform and provider) | "
        f"{cp['apply_aws']:.0f} ({cp['apply_s']:.1f} s real) |"
    )
    fixed_aws = med(fl[lo]) / PATH_SCALE
    out(
        f"| the same minus Terraform's fixed cost (the floor's N={lo} plan, {med(fl[lo]):.2f} s real) | "
        f"{cp['apply_aws'] - fixed_aws:.0f} |"
    )
    out("")
    out(
        f"apply / lower bound = **{cp['apply_aws'] / cp['lower']:.3f}** (goal ≤ 1.05); without Terraform's own "
        f"start-up, {(cp['apply_aws'] - fixed_aws) / cp['lower']:.3f}; runbook / lower bound = "
        f"{cp['runbook'] / cp['lower']:.3f}. "
        f"At this scale one real second is {1 / PATH_SCALE:.0f} AWS seconds, so Terraform's fixed cost weighs "
        "far more here than beside a real 2-hour migration; the provider's polling overshoot is the part the "
        "provider owns: each wait polls at most a tenth of the time it has waited, at most the time left by "
        "the object's own progress rate (snapshots, copies, the full load), and re-reads a target status at "
        "the minimum interval, within the 10–60 AWS s bounds."
    )
    out("")
    out("Where the time goes (AWS seconds since `terraform apply` started):")
    out("")
    out("| step started (first call) | at | earliest possible | late by |")
    out("| --- | --- | --- | --- |")
    for op, at, best in cp["timeline"]:
        out(
            f"| `{op}` | {'not called' if at is None else f'{at:.0f}'} | {best:.0f} | "
            f"{'' if at is None else f'{at - best:.0f}'} |"
        )
    out("")
    out("## 4. Polling cost while waiting")
    out("")
    out("All AWS calls during `terraform apply` (create, almost all of it waiting), per migration per AWS minute.")
    out("")
    out("| migrations waiting at once | time scale | apply (AWS min) | calls | calls / migration / AWS min |")
    out("| --- | --- | --- | --- | --- |")
    out(f"| 1 (500 GB, section 3) | {PATH_SCALE} | {cp['apply_aws'] / 60:.1f} | {cp['calls']} | {cp['per_min']:.2f} |")
    for n, minutes, count in ov["polling"]:
        out(f"| {n} (20 GB each) | {MANY_SCALE} | {minutes:.1f} | {count} | {count / n / minutes:.2f} |")
    out("")
    out("## 5. Cutover write pause")
    out("")
    out(
        "Route 53 strategy; lag profile: CDC latency 3 s (source) / 4 s (target) until 30 AWS s after the cutover "
        "apply starts, then 0; every table validated."
    )
    out("")
    out(
        f"Scaled by {CUTOVER_SCALE}: the provider records the pause from whole-second timestamps (tags on the "
        f"target), so the figure is ± 1 real second = ± {1 / CUTOVER_SCALE:.0f} AWS seconds; at the critical path's "
        "scale it would round to 0. The pause covers the DMS drain (lag < 1 s on 3 consecutive reads, counted from one "
        "CloudWatch period after the pause: the provider's poll cap, 60 AWS s), the forward task stopping and the "
        "reverse task being created and started (it must be positioned at the encrypted instance's log before the "
        "application can write there), then the Route 53 change reaching INSYNC (40 AWS s in the emulator). See "
        "`engine/src/cutover/mod.rs` (what the write pause is made of)."
    )
    out("")
    out("| `cutover_write_pause_seconds` (real) | in AWS seconds | cutover apply (real) |")
    out("| --- | --- | --- |")
    out(f"| {co['pause_real']:.0f} s | {co['pause_aws']:.0f} s | {co['apply_s']:.1f} s |")
    out("")
    out(f"Calls during the cutover apply: {breakdown(co['ops'])}.")
    out("")
    out("## Why the numbers are what they are")
    out("")
    out(
        "- **Plan cost per resource.** A settled migration's refresh makes its AWS calls (section 2); the "
        "emulator serves calls one at a time (Python, one lock), so in a plan of a hundred migrations most of "
        "the marginal cost is the emulator's queue: the rows above set its busy time beside the rest. AWS "
        "serves those describes in parallel; the provider keeps 16 in flight. On two shared cores the "
        "emulator's busy time also includes waiting for a core."
    )
    out(
        "- **Refresh calls.** The minimum counts one describe per owned object, one metric query and, because "
        "`dms.validation` is on, DescribeTableStatistics (per-table validation is only there). A refresh reads the "
        "reverse task and endpoints only once state's phase or the target's `rdsenc:phase` tag says a cutover began "
        "(the tag is written before any reverse object exists), the snapshots only while the target is not ready or "
        "state lacks them, and the replication subnet group only while the replication instance is not found."
    )
    out(
        "- **`rdsenc_db_instance` read.** Configuration makes no AWS call; rejected credentials fail the first real "
        "call with an error naming the credential sources."
    )
    out(
        "- **Handshake.** Most of the start-up was aws-lc seeding its random generator with CPU-jitter entropy "
        "(~35 ms of CPU before the plugin's key pair); the workspace builds aws-lc without it "
        "(`.cargo/config.toml`), so the OS generator seeds it, as it does ring and BoringSSL. The self-signed "
        "certificate is ECDSA P-256."
    )
    out(
        "- **Memory.** Two tokio workers and at most four blocking threads; the schema is built once; every AWS "
        "client shares one SDK configuration and one HTTPS client, which keeps at most 16 requests in flight per "
        "process (unbounded, the N=100 create held ~800 connections open). One migration engine per provider "
        "process, whose 16 AWS call slots every migration shares: a call's future holds the SDK's request state "
        "from the moment it is created, so calls wait for a slot before they are created (with an engine per "
        "request, a hundred migrations each had their own slots and the heap held a hundred SDK requests, as "
        'heaptrack showed). The release build is one LTO unit (`lto = "fat"`, `codegen-units = 1`, '
        "stripped), which drops the SDK code no operation reaches; the code pages mapped from the binary "
        "(RssFile) shrink with it. Fewer malloc arenas (`MALLOC_ARENA_MAX=1`) did not "
        "lower the peak. What remains grows with the migrations Terraform works on at once (`-parallelism`, "
        "default 10): per migration its gRPC request and decoded states, its plan or apply in progress, and, at "
        "plan, the preflight's own AWS reads."
    )
    out(
        "- **Cutover pause.** The drain's evidence is CloudWatch CDC latency, published once a minute; a read "
        "earlier than one period after the pause may show a datapoint from before it, so the pause cannot be "
        "shorter than that period plus the switch (Route 53 INSYNC) without another proof of the drain. Starting "
        "the reverse task before the switch (its position taken from the database, not a clock) adds its "
        "stop-forward and start-reverse time to the pause."
    )
    out("")
    out("## How to reproduce")
    out("")
    out("```")
    out("make bench            # release build, then acceptance-tests/bench.py, which rewrites docs/performance.md")
    out("```")
    out("")
    out(
        f"Knobs (environment): `BENCH_SIZES` (default `1,25,100`), `BENCH_PLAN_REPS` ({PLAN_REPS}), "
        f"`BENCH_RUNS` handshake runs ({RUNS}), `BENCH_MANY_SCALE` ({MANY_SCALE}), `BENCH_PATH_SCALE` "
        f"({PATH_SCALE}), `BENCH_CUTOVER_SCALE` ({CUTOVER_SCALE}). "
        "Terraform is the rig's choice (`RDSENC_TF`)."
    )
    if report is not None:
        report.parent.mkdir(parents=True, exist_ok=True)
        report.write_text("\n".join(b.lines) + "\n")
        print(f"\nwrote {report}")


if __name__ == "__main__":
    sys.exit(main())
