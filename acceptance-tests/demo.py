#!/usr/bin/env python3
"""`make demo`: rdsenc end to end against the local AWS emulator, narrated step by step.

Starts the emulator, seeds an unencrypted MySQL instance, a KMS key and a Route 53 CNAME the
application uses, runs `terraform apply` of examples/quickstart (the `rdsenc_migration` resource:
snapshot -> encrypted copy -> restore -> DMS full load -> CDC) printing each phase as it happens,
shows what `terraform plan` reports while replicating, then the plan and apply of a cutover (the
CNAME moves to the encrypted instance), a failback, a second cutover, finalize, and a destroy that
keeps both databases; ends with a summary table and stops the emulator. Whatever happens (error,
Ctrl-C, SIGTERM), nothing it started is left running and its scratch directory is removed.

With `--data-plane` (what `make demo` runs) every RDS instance is a real MariaDB server, DMS moves
real rows, and DNS answers the CNAME. The demo seeds tables on the source, prints row counts on
the encrypted target after the full load, runs the ledger (acceptance-tests/ledger:
application-shaped writers resolving the CNAME through the emulator's DNS, with a connection pool;
two writers pausing 0.3 s between writes, so at most about 6 writes a second) from the full load
through the cutover, the failback and the second cutover, and prints its verdict: writes lost,
duplicated, resurrected or echoed on the encrypted instance (and on the source), and the longest
pause between acknowledged writes in real and emulated seconds. The quickstart takes the default
write fence (`read_only`); the ledger still pauses for each switch apply (a maintenance window,
which is then the longest pause) and writes again after it. A verdict with any such write fails
the demo (exit status 1) after the remaining steps ran: it is printed, never hidden. AWS durations
run 20x faster than real time (real rows move at real speed, and a lag of 0.25 real seconds
already reads as 5 AWS seconds, the quickstart's max_cutover_lag_seconds).

Without `--data-plane` the emulator moves no rows and the demo sets the table statistics and lag a
healthy DMS would report before each switch (500x, a 500 GB instance).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from types import FrameType

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from ledger import (  # noqa: E402
    DnsResolver,
    EmulatorClock,
    Ledger,
    LedgerConfig,
    Target,
    check,
)
from rig import emulator as emulator_mod  # noqa: E402
from rig import provider as provider_mod  # noqa: E402
from rig.aws import Aws  # noqa: E402
from rig.dataplane import APP_DB, MASTER_PASSWORD, Data  # noqa: E402
from rig.discovery import discover  # noqa: E402
from rig.environment import terraform_env  # noqa: E402
from rig.seeds import address  # noqa: E402
from rig.terraform import Terraform, TerraformError  # noqa: E402

QUICKSTART = HERE.parent / "examples" / "quickstart"
# Only for the emulator: the DMS user's password, which never reaches state or logs.
DEMO_PASSWORD = "demo-Dms-Pa55word"
ZONE = "internal.example.com"
RECORD = f"orders-db.{ZONE}"
SEED_ROWS = {"customers": 2_000, "orders": 10_000}
LEDGER_THINK_TIME = 0.3  # seconds between two writes of one ledger writer
# The provider's progress lines (tracing events) as Terraform relays them under TF_LOG_PROVIDER.
PROGRESS = re.compile(r"(phase=\S+ id=\S+ status=\S+(?: progress=\d+%)?)")


def say(text: str) -> None:
    """One narrated step, in plain words."""
    print("\n" + textwrap.fill(text, width=100, initial_indent="==> ", subsequent_indent="    "), flush=True)


def stream_apply(tf: Terraform) -> list[str]:
    """`terraform apply`, printing the provider's progress lines as they arrive; returns the phases
    the provider reported, in order.
    """
    env = dict(tf.env, TF_LOG_PROVIDER="INFO")
    proc = subprocess.Popen(
        [*tf.install.argv, "apply", "-auto-approve", "-input=false", "-no-color"],
        cwd=tf.workdir,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert proc.stdout is not None
    seen: set[str] = set()
    phases: list[str] = []
    tail: list[str] = []
    for line in proc.stdout:
        m = PROGRESS.search(line)
        if m and m.group(1) not in seen:
            seen.add(m.group(1))
            phase = m.group(1).split()[0].removeprefix("phase=")
            if phase not in phases:
                phases.append(phase)
            print(f"    {m.group(1).rstrip(':')}", flush=True)
        elif not line.startswith("20") and line.strip():  # Terraform's own output, not log lines
            tail.append(line.rstrip())
            if "Apply complete" in line or "Error" in line:
                print(f"    {line.strip()}", flush=True)
    # The rig caches `terraform output`; this apply bypassed it, so drop what it holds.
    tf._cache.clear()
    if proc.wait() != 0:
        raise TerraformError("terraform apply failed:\n" + "\n".join(tail[-40:]))
    return phases


def show_plan(tf: Terraform) -> str:
    """`terraform plan`: prints the arguments and phase that change and the provider's warning (the
    part a reviewer reads), leaving out the attributes only known after apply. Returns the output.
    """
    result = tf.plan()
    out = result.stdout + result.stderr
    in_outputs = False
    warning: list[str] = []
    for line in out.splitlines():
        s = line.rstrip()
        if s.startswith("Changes to Outputs"):
            in_outputs = True
        if s.startswith("Warning:"):
            warning = [s]
        elif warning:
            warning.append(s)
        elif not in_outputs and re.match(r"^\s+~ \w+\s+=", s) and "(known after apply)" not in s:
            print(f"    {s.strip()}")
        elif s.startswith("Plan:"):
            print(f"    {s}")
    if not warning:
        raise TerraformError("the plan carries no warning describing the switch:\n" + out)
    for s in warning:
        print(f"    | {s}" if s else "    |")
    return out


def validated(running: emulator_mod.Emulator, aws: Aws) -> None:
    """Make the emulator report what a healthy DMS reports before a switch: every table validated,
    lag 0 (real DMS measures this; the emulator moves no rows, so the demo sets it).
    """
    for task in aws.dms.describe_replication_tasks()["ReplicationTasks"]:
        if task["Status"] != "running":
            continue
        running.client.set_table_statistics(
            task["ReplicationTaskIdentifier"],
            [
                {"schema": "app", "table": "orders", "rows": 1_250_000, "validation_state": "Validated"},
                {"schema": "app", "table": "customers", "rows": 48_000, "validation_state": "Validated"},
            ],
        )
        running.client.set_lag(task["ReplicationTaskIdentifier"], 0, 0)


def cname(aws: Aws, zone_id: str) -> str:
    """Where the application's CNAME points now."""
    sets = aws.route53.list_resource_record_sets(HostedZoneId=zone_id)["ResourceRecordSets"]
    [rec] = [r for r in sets if r["Name"].rstrip(".") == RECORD and r["Type"] == "CNAME"]
    return str(rec["ResourceRecords"][0]["Value"]).rstrip(".")


def tasks(aws: Aws) -> str:
    """`task=status, ...` of every DMS task, or `none`."""
    found = aws.dms.describe_replication_tasks()["ReplicationTasks"]
    return ", ".join(f"{t['ReplicationTaskIdentifier']}={t['Status']}" for t in found) or "none"


def show_outputs(tf: Terraform, *names: str) -> dict[str, object]:
    """Print the outputs `names` of `tf` and return all its outputs."""
    outputs = tf.outputs()
    for n in names:
        print(f"    {n:<32} = {outputs.get(n)}")
    return outputs


def seed(data: Data, ident: str) -> None:
    """The application's tables with rows, the ledger's tables, and the user DMS connects as."""
    data.create_database(ident, DEMO_PASSWORD)
    data.execute(
        ident,
        [
            "CREATE TABLE customers (id INT PRIMARY KEY, name VARCHAR(64) NOT NULL, email VARCHAR(128) NOT NULL)",
            "CREATE TABLE orders (id INT PRIMARY KEY, customer_id INT NOT NULL,"
            " amount_cents INT NOT NULL, status VARCHAR(16) NOT NULL)",
        ],
        {
            "customers": [(i, f"customer {i}", f"c{i}@example.com") for i in range(SEED_ROWS["customers"])],
            "orders": [(i, i % SEED_ROWS["customers"], 100 + i % 9000, "paid") for i in range(SEED_ROWS["orders"])],
        },
    )
    data.create_ledger_tables(ident)


def counts(data: Data, ident: str) -> dict[str, int]:
    """Rows per table of the application's database."""
    return data.counts(ident, (*SEED_ROWS, "ledger_accounts", "ledger_entries"))


@contextlib.contextmanager
def maintenance(ledger: Ledger | None) -> Iterator[None]:
    """The application's maintenance window around a switch (kept although the quickstart's default
    `read_only` fence refuses writes during the pause). The ledger's writers finish the write in
    hand and start none until the window closes.
    """
    if ledger is None:
        yield
        return
    ledger.pause()
    print("    (the application pauses its writes: maintenance window)", flush=True)
    try:
        yield
    finally:
        ledger.resume()
        print("    (the application writes again)", flush=True)


def _terminate(signum: int, _frame: FrameType | None) -> None:
    # Turn SIGTERM into an exception so the `finally` blocks below stop the emulator.
    raise KeyboardInterrupt(f"signal {signum}")


def main() -> int:
    """Run the demo; returns the exit status."""
    data_plane = "--data-plane" in sys.argv[1:]
    signal.signal(signal.SIGTERM, _terminate)
    os.environ.pop("TF_LOG", None)
    scratch = Path(tempfile.mkdtemp(prefix="rdsenc-demo-"))
    running: emulator_mod.Emulator | None = None
    ledger: Ledger | None = None
    try:
        say(
            "Building the provider (cargo build) and placing it in a private filesystem mirror, "
            "so `terraform init` needs no network."
        )
        install = provider_mod.install(provider_mod.build(), scratch / "provider")
        terraform = discover()[0]
        print(f"    using {terraform.describe()}")

        say(
            "Starting the local AWS emulator (RDS, KMS, DMS, CloudWatch, Route 53 on 127.0.0.1). "
            "No real AWS account is touched."
        )
        # Real rows move at real speed: a replication lag of 0.1 real seconds reads as 50 AWS
        # seconds at 500x, so the data-plane run uses 20x and a 20 GB instance instead.
        time_scale, storage_gb = (0.05, 20) if data_plane else (0.002, 500)
        speed = f"{1 / time_scale:.0f}x"
        running = emulator_mod.start(scratch / "emulator.log", time_scale=time_scale, data_plane=data_plane)
        print(f"    emulator at {running.url}")

        aws = Aws(running.url)
        say(
            f"Seeding the 'before' picture: a live {storage_gb} GB MySQL 8.0 instance called 'orders', NOT "
            "encrypted at rest, ready for DMS (backups on, ROW binlogs in its parameter group); a "
            "customer-managed KMS key; and the DNS name the application connects to, "
            f"{RECORD}, a Route 53 CNAME pointing at 'orders'."
        )
        inst = aws.create_replication_ready_source("orders", AllocatedStorage=storage_gb)
        data = Data(running.url, aws) if data_plane else None
        if data is not None:
            data.admit_clients(inst["VpcSecurityGroups"][0]["VpcSecurityGroupId"])
            seed(data, "orders")
        key = aws.create_kms_key(alias="rdsenc-demo")
        zone_id = aws.route53.create_hosted_zone(Name=ZONE, CallerReference="rdsenc-demo")["HostedZone"]["Id"].split(
            "/"
        )[-1]
        aws.route53.change_resource_record_sets(
            HostedZoneId=zone_id,
            ChangeBatch={
                "Changes": [
                    {
                        "Action": "UPSERT",
                        "ResourceRecordSet": {
                            "Name": RECORD,
                            "Type": "CNAME",
                            "TTL": 30,
                            "ResourceRecords": [{"Value": address(aws, "orders")}],
                        },
                    }
                ]
            },
        )
        print(
            f"    RDS instance {inst['DBInstanceIdentifier']}: {inst['Engine']} {inst['EngineVersion']}, "
            f"{inst['AllocatedStorage']} GB, StorageEncrypted={inst['StorageEncrypted']}"
        )
        print(f"    KMS key {key['Arn']} (alias/rdsenc-demo)")
        print(f"    Route 53 zone {zone_id}: {RECORD} CNAME -> {cname(aws, zone_id)}")
        if data is not None:
            print(f"    rows on 'orders' (a real MariaDB server): {counts(data, 'orders')}")

        workdir = scratch / "quickstart"
        shutil.copytree(QUICKSTART, workdir)
        env = terraform_env(install.cli_config, running.url, workdir, scratch / "aws-home")
        env["TF_VAR_dms_password"] = DEMO_PASSWORD
        env["TF_VAR_route53_zone_id"] = zone_id
        env["TF_VAR_record_name"] = RECORD
        env["RDSENC_POLL_SCALE"] = "0.01"
        tf = Terraform(terraform, workdir, env)

        say("terraform init: installs rdsenc from the local mirror.")
        tf.init()
        say(
            "terraform apply: rdsenc_migration snapshots 'orders', copies the snapshot encrypted with "
            "the KMS key, restores 'orders-encrypted' (inheriting every setting), and meanwhile builds "
            "the DMS replication instance and endpoints; then DMS empties the target tables, runs the "
            "full load and switches to change data capture. Progress, as the provider reports it:"
        )
        started = time.monotonic()
        create_phases = stream_apply(tf)
        print(
            f"    (apply took {time.monotonic() - started:.1f}s"
            + ("; on AWS this 500 GB run takes about 2.5 hours)" if storage_gb == 500 else ")")
        )
        if data is not None:
            say("The full load is done: rows on the encrypted target, counted on its own server:")
            print(f"    rows on 'orders-encrypted': {counts(data, 'orders-encrypted')}")
            say(
                "From now on an application writes: the ledger's writers resolve the CNAME through the "
                "emulator's DNS (caching it for its TTL), keep pooled connections (recycled after 10 s), "
                "retry a failed write, and record every write the database acknowledged."
            )
            ledger = Ledger(
                Target("mysql", RECORD, 3306, "admin", MASTER_PASSWORD, APP_DB),
                # At most about 6 writes a second in all: a pace the emulated DMS applies with room
                # to spare on a loaded 2-core machine, so the lag the provider gates on stays low.
                LedgerConfig(writers=2, duration=900, think_time=LEDGER_THINK_TIME, max_lifetime=10, retry_for=60),
                resolver=DnsResolver.from_emulator(running.url),
                clock=EmulatorClock(running.url),
            ).start()

        say("Where the migration stands (terraform output). The application still uses 'orders':")
        show_outputs(
            tf, "phase", "encrypted_instance", "kms_key_arn", "active_db_instance_identifier", "active_endpoint"
        )

        say("An encrypted twin now exists beside the source. What AWS says about the two instances:")
        for ident in ("orders", "orders-encrypted"):
            d = aws.rds.describe_db_instances(DBInstanceIdentifier=ident)["DBInstances"][0]
            print(
                f"    {ident:<18} status={d['DBInstanceStatus']:<10} encrypted={d['StorageEncrypted']!s:<5} "
                f"kms={d.get('KmsKeyId', '-')}"
            )

        if data is None:
            say(
                "Replication lag rises (simulated: 7 s on the DMS task). `terraform plan` refreshes and "
                "shows it; the configuration is unchanged, so the plan proposes no change."
            )
            task = aws.dms.describe_replication_tasks()["ReplicationTasks"][0]
            running.client.set_lag(task["ReplicationTaskIdentifier"], source_seconds=3, target_seconds=7)
        else:
            say(
                "DMS carries the ledger's writes to the target as they happen. `terraform plan` refreshes "
                "and shows the measured lag; the configuration is unchanged, so the plan proposes no change."
            )
        tf.refresh()
        print(f"    replication_lag_seconds = {tf.outputs().get('replication_lag_seconds')}")
        plan = tf.plan()
        print("    " + (plan.stdout.strip().splitlines() or ["(no output)"])[-1])

        if data is None:
            say(
                "Before a cutover, DMS must have validated every table and caught up. The emulator moves "
                "no real rows, so the demo makes it report what a healthy DMS reports: the emulator "
                "reports every table validated and a lag of 0 seconds."
            )
            validated(running, aws)
        else:
            say(
                "Before a cutover, DMS must have validated every table and caught up: here DMS compared "
                "the real rows of both servers and measures its real lag."
            )
        tf.refresh()
        show_outputs(tf, "validation_state", "replication_lag_seconds")

        say(
            "The maintenance window. The reviewed change sets cutover = true; `terraform plan` says "
            "what will switch, from what to what, at which lag:"
        )
        env["TF_VAR_cutover"] = "true"
        show_plan(tf)

        say(
            "terraform apply: rdsenc checks the task, lag and validation, waits for CDC to drain, "
            "UPSERTs the CNAME to the encrypted instance and starts a reverse DMS task (encrypted -> "
            "source) so that a failback loses nothing."
        )
        with maintenance(ledger):
            stream_apply(tf)
        out = show_outputs(
            tf,
            "phase",
            "active_db_instance_identifier",
            "active_endpoint",
            "cutover_write_pause_seconds",
            "reverse_replication_task_status",
        )
        first_cutover = cname(aws, zone_id)
        print(f"    Route 53: {RECORD} CNAME -> {first_cutover}")
        print(f"    DMS tasks: {tasks(aws)}")
        cutover_row = (
            f"CNAME -> {first_cutover.split('.')[0]}, writes paused "
            f"{out.get('cutover_write_pause_seconds')}s, DMS: {tasks(aws)}"
        )

        say(
            "Something looks wrong after the switch (say, a slow query plan). Failing back is the same "
            "kind of change: cutover = false. The reverse task has carried every write made on the "
            "encrypted instance back to the source"
            + ("; the emulator again reports it validated and caught up." if data is None else ".")
        )
        if data is None:
            validated(running, aws)
        env["TF_VAR_cutover"] = "false"
        show_plan(tf)
        with maintenance(ledger):
            stream_apply(tf)
        out = show_outputs(tf, "phase", "active_db_instance_identifier", "active_endpoint")
        back = cname(aws, zone_id)
        print(f"    Route 53: {RECORD} CNAME -> {back}")
        print(f"    DMS tasks: {tasks(aws)}")
        failback_row = f"CNAME -> {back.split('.')[0]}, phase {out.get('phase')}, DMS: {tasks(aws)}"

        say("Fixed; cut over again (cutover = true). Forward replication never stopped being the way back.")
        if data is None:
            validated(running, aws)
        env["TF_VAR_cutover"] = "true"
        with maintenance(ledger):
            stream_apply(tf)
        out = show_outputs(tf, "phase", "active_db_instance_identifier")
        again = cname(aws, zone_id)
        print(f"    Route 53: {RECORD} CNAME -> {again}")
        again_row = f"CNAME -> {again.split('.')[0]}, phase {out.get('phase')}"
        ledger_row = ""
        anomalies: dict[str, int] = {}
        if data is not None and ledger is not None:
            say(
                "The application stops writing. The ledger's verdict: every write the databases "
                "acknowledged through the cutover, the failback and the second cutover, looked for on the "
                "encrypted instance (where the application ends) and on the source (the other side)."
            )
            ledger.stop()
            ledger.join()
            time.sleep(5)  # the reverse task's last changes reach the source
            verdict = check(
                ledger, [data.contents("orders-encrypted", "orders-encrypted"), data.contents("orders", "orders")]
            )
            for line in verdict.summary().splitlines():
                print(f"    {line}")
            print(f"    rows on 'orders-encrypted': {counts(data, 'orders-encrypted')}")
            print(f"    rows on 'orders':           {counts(data, 'orders')}")
            final_counts = verdict.final.counts()
            anomalies = {c: n for c, n in final_counts.items() if n}
            gap = verdict.gap
            ledger_row = (
                f"{verdict.acked} writes acknowledged; on the encrypted instance "
                + ", ".join(f"{n} {c}" for c, n in final_counts.items() if c != "unexpected" or n)
                + (
                    f"; longest pause {gap.real_seconds:.1f}s real = {gap.emulated_seconds:.0f}s AWS"
                    if gap is not None
                    else ""
                )
            )

        say(
            "A week later the team is sure. finalize = true removes both DMS tasks, the endpoints and "
            'the replication instance, and retires the old source (retire_source = "stop"). The '
            "plan warns that this cannot be undone:"
        )
        env["TF_VAR_finalize"] = "true"
        show_plan(tf)
        stream_apply(tf)
        out = show_outputs(tf, "phase", "active_db_instance_identifier", "active_endpoint")
        src = aws.rds.describe_db_instances(DBInstanceIdentifier="orders")["DBInstances"][0]
        ris = aws.dms.describe_replication_instances()["ReplicationInstances"]
        print(
            f"    old source 'orders': {src['DBInstanceStatus']}; DMS tasks: {tasks(aws)}; "
            f"replication instances: {len(ris)}"
        )
        finalize_row = (
            f"phase {out.get('phase')}, DMS tasks: {tasks(aws)}, replication instances: "
            f"{len(ris)}, old source {src['DBInstanceStatus']}"
        )

        say(
            "terraform destroy: the migration's record goes from state. Nothing serving traffic is "
            "deleted: the encrypted instance stays (delete_target_on_destroy = false) and so does the "
            "stopped source."
        )
        result = tf.destroy()
        for line in result.stdout.splitlines():
            if "kept" in line.lower() or "Destroy complete" in line:
                print("    " + line.strip())
        left = sorted(d["DBInstanceIdentifier"] for d in aws.rds.describe_db_instances()["DBInstances"])
        print(f"    RDS instances left: {left}; Route 53: {RECORD} CNAME -> {cname(aws, zone_id)}")

        say("Summary")
        enc = aws.rds.describe_db_instances(DBInstanceIdentifier="orders-encrypted")["DBInstances"][0]
        rows = [
            ("step", "result"),
            ("create", " -> ".join(create_phases)),
            ("cutover", cutover_row),
            ("failback", failback_row),
            ("cutover again", again_row),
            *([("ledger", ledger_row)] if ledger_row else []),
            ("finalize", finalize_row),
            ("destroy", f"state cleared, databases kept: {', '.join(left)}"),
            (
                "serving now",
                f"{RECORD} -> {cname(aws, zone_id).split('.')[0]}, "
                f"StorageEncrypted={enc['StorageEncrypted']}, key {key['Arn'].split('/')[-1][:8]}...",
            ),
            ("wall time", f"{time.monotonic() - started:.0f}s from the first apply, at {speed} speed"),
        ]
        width = max(len(r[0]) for r in rows) + 2
        rule = "    " + "-" * (width + max(len(r[1]) for r in rows))
        print(rule)
        for i, (what, state) in enumerate(rows):
            print(f"    {what:<{width}}{state}")
            if i == 0:
                print(rule)
        print(rule)
        if anomalies:
            # Not hidden: a write the database acknowledged and the encrypted instance does not
            # hold as written is the failure this tool exists to prevent.
            found = ", ".join(f"{n} {c}" for c, n in anomalies.items())
            print(f"\nDEMO FAILED: the ledger found {found} on the encrypted instance (see its verdict above).")
            return 1
        say("Demo finished. Stopping the emulator and removing the scratch directory.")
        return 0
    except TerraformError as exc:
        print(f"\nDEMO FAILED: {exc}", file=sys.stderr)
        return 1
    except (provider_mod.ProviderBuildError, emulator_mod.EmulatorError) as exc:
        print(f"\nDEMO FAILED: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\ninterrupted: cleaning up", file=sys.stderr)
        return 130
    finally:
        if ledger is not None:
            ledger.stop()
            with contextlib.suppress(Exception):
                ledger.join(timeout=30)
        if running is not None:
            running.stop()
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
