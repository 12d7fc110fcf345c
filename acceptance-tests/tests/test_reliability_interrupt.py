"""Interruption matrix over the create phases. Each phase is slowed down so the apply can be caught in
it, then interrupted in one of two ways and applied again:

- SIGKILL to the whole process group (the CI runner died): Terraform writes nothing; the re-apply
  adopts what exists by deterministic name and tags.
- SIGINT to Terraform only (Ctrl-C): Terraform calls StopProvider, the provider returns from
  ApplyResourceChange with an error and the partial state, and Terraform records the resource as
  tainted. The documented path is `terraform untaint` then `terraform apply`, which resumes in
  place; a plain re-apply replaces the tainted migration instead, and must converge as well.

After every path: the migration is `replicating`, AWS holds exactly one of each object (no duplicate,
no orphan) and the source instance is untouched."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable
from typing import Any

import pytest

from rig import Terraform
from rig.aws import Aws, wait_for
from rig.case import with_required_providers
from rig.emulator import Emulator
from test_migration_create import DMS_PASSWORD, M, config, seed
from test_reliability_faults import report

SOURCE = "orders"
TARGET = f"{SOURCE}-encrypted"
# AWS seconds; at the rig's time scale of 0.001 this is 8 real seconds: long enough to be caught
# mid-step, short enough that the re-run finishes the step quickly.
SLOW = 8_000.0
WANT = {"db_instances": 2, "db_snapshots": 2, "replication_instances": 1, "endpoints": 2, "replication_tasks": 1}


def _snapshots(aws: Aws) -> list[dict[str, Any]]:
    return aws.rds.describe_db_snapshots(SnapshotType="manual")["DBSnapshots"]


def _target(aws: Aws) -> dict[str, Any] | None:
    found = [d for d in aws.rds.describe_db_instances()["DBInstances"] if d["DBInstanceIdentifier"] == TARGET]
    return found[0] if found else None


def snapshotting(aws: Aws) -> bool:
    snaps = _snapshots(aws)
    return any(s["Status"] != "available" for s in snaps) and not any(s.get("Encrypted") for s in snaps)


def copying_encrypted(aws: Aws) -> bool:
    return any(s.get("Encrypted") and s["Status"] != "available" for s in _snapshots(aws))


def restoring(aws: Aws) -> bool:
    t = _target(aws)
    return t is not None and t["DBInstanceStatus"] != "available"


def provisioning_replication(aws: Aws) -> bool:
    t = _target(aws)
    instances = aws.dms.describe_replication_instances()["ReplicationInstances"]
    return t is not None and t["DBInstanceStatus"] == "available" and any(
        i["ReplicationInstanceStatus"] == "creating" for i in instances
    )


def full_load(aws: Aws) -> bool:
    tasks = aws.dms.describe_replication_tasks()["ReplicationTasks"]
    return any(
        t["Status"] == "running" and t.get("ReplicationTaskStats", {}).get("FullLoadProgressPercent", 0) < 100 for t in tasks
    )


PHASES: dict[str, tuple[dict[str, float], Callable[[Aws], bool]]] = {
    "snapshotting": ({"db_snapshot": SLOW}, snapshotting),
    "copying_encrypted": ({"db_snapshot_copy": SLOW}, copying_encrypted),
    "restoring": ({"db_restore": SLOW}, restoring),
    "provisioning_replication": ({"replication_instance": SLOW}, provisioning_replication),
    "full_load": ({"full_load": SLOW}, full_load),
}


def source_picture(aws: Aws) -> dict[str, Any]:
    d = aws.rds.describe_db_instances(DBInstanceIdentifier=SOURCE)["DBInstances"][0]
    return {
        "arn": d["DBInstanceArn"],
        "status": d["DBInstanceStatus"],
        "encrypted": d["StorageEncrypted"],
        "tags": sorted((t["Key"], t["Value"]) for t in d.get("TagList", [])),
        "class": d["DBInstanceClass"],
        "storage": d["AllocatedStorage"],
    }


def interrupt_apply_when(tf: Terraform, reached: Callable[[], bool], what: str, how: str) -> float:
    """Start `terraform apply`; once `reached()`, SIGKILL the process group or SIGINT Terraform.
    Returns the seconds Terraform took to exit after the signal."""
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


def state_of(tf: Terraform) -> dict[str, Any] | None:
    """The migration's raw state entry (with `status: tainted` when so), or None if not recorded."""
    import json

    path = tf.workdir / "terraform.tfstate"
    text = path.read_text() if path.exists() else ""
    if not text.strip():
        return None
    for res in json.loads(text).get("resources", []):
        if res["type"] == "rdsenc_migration":
            return res["instances"][0]
    return None


def converged(
    tf: Terraform, aws: Aws, emulator: Emulator, before: dict[str, Any], snapshots_may_be_gone: bool = False
) -> dict[str, Any]:
    """Asserts the end state. `snapshots_may_be_gone`: after a replacement, destroying the tainted
    migration removed its snapshots, and the new one adopted the encrypted target it had already
    restored (tagged as this migration's), so it needed no new snapshots."""
    state = tf.resources()[M]
    assert state["phase"] == "replicating", state
    inv = emulator.client.inventory()
    got = {k: inv[k]["count"] for k in WANT}
    want = dict(WANT)
    if snapshots_may_be_gone and got["db_snapshots"] == 0:
        want["db_snapshots"] = 0
    assert got == want, f"inventory after resume {got} != {want}: {inv}"
    # The surviving objects are the ones the state names: nothing orphaned beside them.
    snaps = {s["DBSnapshotIdentifier"] for s in _snapshots(aws)}
    named = {state["source_snapshot_identifier"], (state["encrypted_snapshot_arn"] or "").split(":")[-1]}
    assert snaps == named or (want["db_snapshots"] == 0 and not snaps), (snaps, named)
    assert inv["replication_tasks"]["count"] == 1
    task = aws.dms.describe_replication_tasks()["ReplicationTasks"][0]
    assert task["ReplicationTaskArn"] == state["replication_task_arn"] and task["Status"] == "running"
    assert source_picture(aws) == before, "the source changed"
    assert DMS_PASSWORD not in (tf.workdir / "terraform.tfstate").read_text()
    return state


@pytest.mark.parametrize("phase", list(PHASES))
@pytest.mark.parametrize("how", ["sigkill", "sigint-untaint"])
def test_an_interrupted_apply_resumes_to_replicating_without_duplicates_or_orphans(
    tf: Terraform, aws: Aws, emulator: Emulator, phase: str, how: str
) -> None:
    _source, key = seed(aws, "mysql", SOURCE)
    before = source_picture(aws)
    tf.write(with_required_providers(config(SOURCE, key["Arn"]).replace('create = "10m"', 'create = "30m"')))
    tf.init()
    slow, reached = PHASES[phase]
    emulator.client.set_durations(**slow)
    started = time.monotonic()
    stop_s = interrupt_apply_when(tf, lambda: reached(aws), phase, "sigkill" if how == "sigkill" else "sigint")

    recorded = state_of(tf)
    if how == "sigkill":
        # SIGKILL before the create finished: Terraform recorded nothing; only AWS knows.
        assert recorded is None, recorded
    else:
        # Ctrl-C: the provider returned the partial state, and Terraform tainted it.
        assert recorded is not None and recorded.get("status") == "tainted", recorded
        assert recorded["attributes"]["phase"] != "replicating"
        tf.run("untaint", M)
        plan = tf.plan()
        assert "Migration Will Resume" in plan.stdout + plan.stderr, plan.describe()
        assert "must be replaced" not in plan.stdout, plan.describe()
    tf.apply()
    state = converged(tf, aws, emulator, before)
    resumed_s = time.monotonic() - started
    tf.destroy()
    report(
        "interrupt",
        {"phase": phase, "how": how, "stop_seconds": round(stop_s, 1), "total_seconds": round(resumed_s, 1),
         "recorded_phase": (recorded or {}).get("attributes", {}).get("phase"), "final_phase": state["phase"]},
    )


@pytest.mark.parametrize("phase", ["copying_encrypted", "full_load"])
def test_a_plain_reapply_after_ctrl_c_replaces_the_tainted_migration_and_converges(
    tf: Terraform, aws: Aws, emulator: Emulator, phase: str
) -> None:
    _source, key = seed(aws, "mysql", SOURCE)
    before = source_picture(aws)
    tf.write(with_required_providers(config(SOURCE, key["Arn"]).replace('create = "10m"', 'create = "30m"')))
    tf.init()
    slow, reached = PHASES[phase]
    emulator.client.set_durations(**slow)
    started = time.monotonic()
    stop_s = interrupt_apply_when(tf, lambda: reached(aws), phase, "sigint")
    recorded = state_of(tf)
    assert recorded is not None and recorded.get("status") == "tainted", recorded
    emulator.client.set_durations(**{k: 1.0 for k in slow})

    plan = tf.plan()
    assert "is tainted, so must be replaced" in plan.stdout, plan.describe()
    tf.apply()
    state = converged(tf, aws, emulator, before, snapshots_may_be_gone=True)
    assert state["target_db_instance_identifier"] == TARGET
    total_s = time.monotonic() - started
    tf.destroy()
    report("interrupt", {"phase": phase, "how": "sigint-replace", "stop_seconds": round(stop_s, 1),
                         "total_seconds": round(total_s, 1)})
