"""Helpers of the reliability scenarios: injected faults and their evidence, interrupted applies,
inventory counts and the figures printed for docs/guides (see `report`).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

from rig.aws import wait_for
from rig.terraform import Terraform

# The services whose calls the fault scenarios disturb.
SERVICES = ("rds", "dms", "kms", "cloudwatch")

# Each create call the migration makes exactly once for one source, by (service, operation).
CREATES_ONCE = {
    ("rds", "CreateDBSnapshot"): 1,
    ("rds", "CopyDBSnapshot"): 1,
    ("rds", "RestoreDBInstanceFromDBSnapshot"): 1,
    ("dms", "CreateReplicationInstance"): 1,
    ("dms", "CreateEndpoint"): 2,
    ("dms", "CreateReplicationTask"): 1,
}

# What AWS holds once one migration replicates: source and target, two snapshots, the DMS objects.
ONE_MIGRATION = {
    "db_instances": 2,
    "db_snapshots": 2,
    "replication_instances": 1,
    "endpoints": 2,
    "replication_tasks": 1,
}


def counts(inventory: dict[str, Any], kinds: Iterable[str] = ONE_MIGRATION) -> dict[str, int]:
    """The emulator inventory's count of each of `kinds`."""
    return {k: inventory[k]["count"] for k in kinds}


def fault_rules(throttle: float, error: float) -> list[dict[str, Any]]:
    """Emulator fault rules: every operation of `SERVICES` throttled at `throttle` and failing with
    503 at `error` (rates in 0..1).
    """
    return [{"service": s, "operation": "*", "throttle_rate": throttle, "error_rate": error} for s in SERVICES]


def retry_evidence(calls: list[dict[str, Any]]) -> tuple[int, int, list[dict[str, Any]]]:
    """(injected faults, faults followed by a successful call of the same operation, faults never
    retried). Every injected failure must be followed by the same call succeeding.
    """
    injected = [i for i, c in enumerate(calls) if c.get("injected_fault")]
    unretried = []
    retried = 0
    for i in injected:
        c = calls[i]
        later = (
            d
            for d in calls[i + 1 :]
            if d["service"] == c["service"] and d["operation"] == c["operation"] and not d.get("injected_fault")
        )
        if next(later, None) is None:
            unretried.append(c)
        else:
            retried += 1
    return len(injected), retried, unretried


def successful_creates(calls: list[dict[str, Any]]) -> Counter[tuple[str, str]]:
    """How often each operation of `CREATES_ONCE` succeeded in `calls`."""
    return Counter(
        (c["service"], c["operation"])
        for c in calls
        if (c["service"], c["operation"]) in CREATES_ONCE and not c.get("injected_fault") and c["status"] < 300
    )


def report(name: str, figures: dict[str, Any]) -> None:
    """Prints the run's figures (and appends them to $RDSENC_RELIABILITY_REPORT) for the guide."""
    line = json.dumps({"test": name, **figures}, sort_keys=True)
    print(f"rdsenc reliability: {line}")
    path = os.environ.get("RDSENC_RELIABILITY_REPORT")
    if path:
        with open(path, "a", encoding="utf-8") as f:
            f.write(line + "\n")


def interrupt_apply_when(tf: Terraform, reached: Callable[[], bool], what: str, how: str) -> float:
    """Start `terraform apply`; once `reached()`, SIGKILL the process group (`how="sigkill"`: the CI
    runner died, Terraform writes no state for an unfinished create) or SIGINT Terraform (Ctrl-C).
    Returns the seconds Terraform took to exit after the signal.
    """
    proc = subprocess.Popen(
        [*tf.install.argv, "apply", "-input=false", "-no-color", "-auto-approve"],
        cwd=tf.workdir,
        env=tf.env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        wait_for(lambda: True if reached() else None, timeout=120, what=f"the migration to reach {what}", interval=0.2)
    except BaseException:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        raise
    signalled = time.monotonic()
    if how == "sigkill":
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        # A killed Terraform leaves its local state lock behind, as `terraform force-unlock` would fix.
        (tf.workdir / ".terraform.tfstate.lock.info").unlink(missing_ok=True)
    else:
        proc.send_signal(signal.SIGINT)  # Terraform only; it forwards the stop to the provider
        try:
            out, _ = proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
            raise AssertionError("Terraform did not stop within 60 s of SIGINT") from None
        text = out.decode(errors="replace")
        assert proc.returncode != 0, f"an interrupted apply must fail\n{text}"
        assert "Interrupt received" in text or "interrupt" in text.lower(), text
    return time.monotonic() - signalled
