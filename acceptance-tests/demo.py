#!/usr/bin/env python3
"""`make demo`: rdsenc end to end against the local AWS emulator, narrated step by step.

Starts the emulator, seeds an unencrypted 500 GB MySQL instance and a KMS key, runs `terraform apply`
of examples/quickstart (the `rdsenc_migration` resource: snapshot -> encrypted copy -> restore -> DMS
full load -> CDC) printing each phase as it happens, shows that a second plan is empty and what
`terraform plan` reports while replicating, destroys (the DMS objects go, both databases stay), and
stops the emulator. AWS durations run 500x faster than real time. Whatever happens (error, Ctrl-C,
SIGTERM), nothing it started is left running and its scratch directory is removed.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
import signal
import sys
import tempfile
import textwrap
from pathlib import Path
from types import FrameType

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from rig import emulator as emulator_mod  # noqa: E402
from rig import provider as provider_mod  # noqa: E402
from rig.aws import Aws  # noqa: E402
from rig.discovery import discover  # noqa: E402
from rig.environment import terraform_env  # noqa: E402
from rig.terraform import Terraform, TerraformError  # noqa: E402

QUICKSTART = HERE.parent / "examples" / "quickstart"
# Only for the emulator: the DMS user's password, which never reaches state or logs.
DEMO_PASSWORD = "demo-Dms-Pa55word"
# The provider's progress lines (tracing events) as Terraform relays them under TF_LOG_PROVIDER.
PROGRESS = re.compile(r"(phase=\S+ id=\S+ status=\S+(?: progress=\d+%)?)")


def say(text: str) -> None:
    """One narrated step, in plain words."""
    print("\n" + textwrap.fill(text, width=100, initial_indent="==> ", subsequent_indent="    "), flush=True)


def stream_apply(tf: Terraform) -> None:
    """`terraform apply`, printing the provider's progress lines as they arrive."""
    env = dict(tf.env, TF_LOG_PROVIDER="INFO")
    proc = subprocess.Popen(
        [*tf.install.argv, "apply", "-auto-approve", "-input=false", "-no-color"],
        cwd=tf.workdir, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True,
    )
    assert proc.stdout is not None
    seen: set[str] = set()
    tail: list[str] = []
    for line in proc.stdout:
        m = PROGRESS.search(line)
        if m and m.group(1) not in seen:
            seen.add(m.group(1))
            print(f"    {m.group(1).rstrip(':')}", flush=True)
        elif not line.startswith("20") and line.strip():  # Terraform's own output, not log lines
            tail.append(line.rstrip())
            if "Apply complete" in line or "Error" in line:
                print(f"    {line.strip()}", flush=True)
    if proc.wait() != 0:
        raise TerraformError("terraform apply failed:\n" + "\n".join(tail[-40:]))


def _terminate(signum: int, _frame: FrameType | None) -> None:
    # Turn SIGTERM into an exception so the `finally` blocks below stop the emulator.
    raise KeyboardInterrupt(f"signal {signum}")


def main() -> int:
    signal.signal(signal.SIGTERM, _terminate)
    os.environ.pop("TF_LOG", None)
    scratch = Path(tempfile.mkdtemp(prefix="rdsenc-demo-"))
    running: emulator_mod.Emulator | None = None
    try:
        say("Building the provider (cargo build) and placing it in a private filesystem mirror, "
            "so `terraform init` needs no network.")
        install = provider_mod.install(provider_mod.build(), scratch / "provider")
        terraform = discover()[0]
        print(f"    using {terraform.describe()}")

        say("Starting the local AWS emulator (RDS, KMS, DMS, CloudWatch, Route 53 on 127.0.0.1). "
            "No real AWS account is touched.")
        running = emulator_mod.start(scratch / "emulator.log", time_scale=0.002)
        print(f"    emulator ({running.kind}) at {running.url}")

        aws = Aws(running.url)
        say("Seeding the 'before' picture: a live 500 GB MySQL 8.0 instance called 'orders', NOT "
            "encrypted at rest, ready for DMS (backups on, ROW binlogs in its parameter group), plus a "
            "customer-managed KMS key.")
        inst = aws.create_replication_ready_source("orders", AllocatedStorage=500)
        key = aws.create_kms_key(alias="rdsenc-demo")
        print(f"    RDS instance {inst['DBInstanceIdentifier']}: {inst['Engine']} {inst['EngineVersion']}, "
              f"{inst['AllocatedStorage']} GB, StorageEncrypted={inst['StorageEncrypted']}")
        print(f"    KMS key {key['Arn']} (alias/rdsenc-demo)")

        workdir = scratch / "quickstart"
        shutil.copytree(QUICKSTART, workdir)
        env = terraform_env(install.cli_config, running.url, workdir, scratch / "aws-home")
        env["TF_VAR_dms_password"] = DEMO_PASSWORD
        env["RDSENC_POLL_SCALE"] = "0.01"
        tf = Terraform(terraform, workdir, env)

        say("terraform init: installs rdsenc from the local mirror.")
        tf.init()
        say("terraform apply: rdsenc_migration snapshots 'orders', copies the snapshot encrypted with "
            "the KMS key, restores 'orders-encrypted' (inheriting every setting), and meanwhile builds "
            "the DMS replication instance and endpoints; then DMS empties the target tables, runs the "
            "full load and switches to change data capture. Progress, as the provider reports it:")
        started = time.monotonic()
        stream_apply(tf)
        print(f"    (apply took {time.monotonic() - started:.1f}s; on AWS this 500 GB run takes about "
              "2.5 hours)")

        outputs = tf.outputs()
        say("Where the migration stands (terraform output):")
        print(textwrap.indent(json.dumps(outputs, indent=2, sort_keys=True), "    "))

        say("An encrypted twin now exists beside the source. What AWS says about the two instances:")
        for ident in ("orders", "orders-encrypted"):
            d = aws.rds.describe_db_instances(DBInstanceIdentifier=ident)["DBInstances"][0]
            print(f"    {ident:<18} status={d['DBInstanceStatus']:<10} encrypted={d['StorageEncrypted']!s:<5} "
                  f"kms={d.get('KmsKeyId', '-')}")

        say("Replication lag rises (simulated: 7 s on the DMS task). `terraform plan` refreshes and shows "
            "it; the configuration is unchanged, so the plan proposes no change.")
        task = aws.dms.describe_replication_tasks()["ReplicationTasks"][0]
        running.client.set_lag(task["ReplicationTaskIdentifier"], source_seconds=3, target_seconds=7)
        tf.run("apply", "-refresh-only", "-auto-approve", "-input=false", "-no-color")
        print(f"    replication_lag_seconds = {tf.outputs().get('replication_lag_seconds')}")
        plan = tf.plan(check=False)
        print("    " + (plan.stdout.strip().splitlines() or ["(no output)"])[-1])

        say("terraform destroy: removes the DMS task, endpoints, replication instance and the "
            "intermediate snapshots. Both databases stay: the source serves traffic until a cutover, "
            "and the encrypted target is only deleted when delete_target_on_destroy = true.")
        result = tf.destroy()
        for line in result.stdout.splitlines():
            if "kept" in line.lower() or "Destroy complete" in line:
                print("    " + line.strip())
        left = sorted(d["DBInstanceIdentifier"] for d in aws.rds.describe_db_instances()["DBInstances"])
        tasks = aws.dms.describe_replication_tasks()["ReplicationTasks"]
        print(f"    RDS instances left: {left}; DMS tasks left: {len(tasks)}")

        say("Summary")
        rows = [
            ("source 'orders'", "unencrypted, untouched, still serving"),
            ("target 'orders-encrypted'", f"encrypted with {key['Arn'].split('/')[-1][:8]}..., in sync until destroy"),
            ("DMS objects", "created, replicated, removed by destroy"),
            ("apply wall time", f"{time.monotonic() - started:.0f}s at 500x speed"),
        ]
        for what, state in rows:
            print(f"    {what:<28} {state}")
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
        if running is not None:
            running.stop()
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
