"""Interruption matrix over the create phases. Each phase is slowed down so the apply can be caught in
it, then interrupted in one of two ways and applied again.

- SIGKILL to the whole process group (the CI runner died): Terraform writes nothing; the re-apply
  adopts what exists by deterministic name and tags.
- SIGINT to Terraform only (Ctrl-C): Terraform calls StopProvider, the provider returns from
  ApplyResourceChange with an error and the partial state, and Terraform records the resource as
  tainted. The documented path is `terraform untaint` then `terraform apply`, which resumes in
  place; a plain re-apply replaces the tainted migration instead, and must converge as well.

After every path: the migration is `replicating`, AWS holds exactly one of each object (no duplicate,
no orphan) and the source instance is untouched.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest

from rig import Terraform
from rig.aws import Aws
from rig.case import with_required_providers
from rig.configs import DMS_PASSWORD, M, config
from rig.emulator import Emulator
from rig.reliability import ONE_MIGRATION, counts, interrupt_apply_when, report
from rig.seeds import seed_source

SOURCE = "orders"
TARGET = f"{SOURCE}-encrypted"
# AWS seconds; at the rig's time scale of 0.001 this is 8 real seconds: long enough to be caught
# mid-step, short enough that the re-run finishes the step quickly.
SLOW = 8_000.0


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
    return (
        t is not None
        and t["DBInstanceStatus"] == "available"
        and any(i["ReplicationInstanceStatus"] == "creating" for i in instances)
    )


def full_load(aws: Aws) -> bool:
    tasks = aws.dms.describe_replication_tasks()["ReplicationTasks"]
    return any(
        t["Status"] == "running" and t.get("ReplicationTaskStats", {}).get("FullLoadProgressPercent", 0) < 100
        for t in tasks
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


def state_of(tf: Terraform) -> dict[str, Any] | None:
    """The migration's raw state entry (with `status: tainted` when so), or None if not recorded."""
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
    restored (tagged as this migration's), so it needed no new snapshots.
    """
    state = tf.resources()[M]
    assert state["phase"] == "replicating", state
    inv = emulator.client.inventory()
    got = counts(inv)
    want = dict(ONE_MIGRATION)
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


def interrupted_create(
    tf: Terraform, aws: Aws, emulator: Emulator, phase: str, how: str
) -> tuple[dict[str, Any], float, float]:
    """Seed `SOURCE`, slow `phase` down, start the create and interrupt it (`how`) in `phase`:
    (the source's picture before, the monotonic start time, seconds Terraform took to stop).
    """
    _source, key = seed_source(aws, "mysql", SOURCE)
    before = source_picture(aws)
    tf.write(with_required_providers(config(SOURCE, key["Arn"]).replace('create = "10m"', 'create = "30m"')))
    tf.init()
    slow, reached = PHASES[phase]
    emulator.client.set_durations(**slow)
    started = time.monotonic()
    return before, started, interrupt_apply_when(tf, lambda: reached(aws), phase, how)


@pytest.mark.parametrize("phase", list(PHASES))
@pytest.mark.parametrize("how", ["sigkill", "sigint-untaint"])
def test_an_interrupted_apply_resumes_to_replicating_without_duplicates_or_orphans(
    tf: Terraform, aws: Aws, emulator: Emulator, phase: str, how: str
) -> None:
    before, started, stop_s = interrupted_create(tf, aws, emulator, phase, "sigkill" if how == "sigkill" else "sigint")

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
        {
            "phase": phase,
            "how": how,
            "stop_seconds": round(stop_s, 1),
            "total_seconds": round(resumed_s, 1),
            "recorded_phase": (recorded or {}).get("attributes", {}).get("phase"),
            "final_phase": state["phase"],
        },
    )


@pytest.mark.parametrize("phase", ["copying_encrypted", "full_load"])
def test_a_plain_reapply_after_ctrl_c_replaces_the_tainted_migration_and_converges(
    tf: Terraform, aws: Aws, emulator: Emulator, phase: str
) -> None:
    before, started, stop_s = interrupted_create(tf, aws, emulator, phase, "sigint")
    recorded = state_of(tf)
    assert recorded is not None and recorded.get("status") == "tainted", recorded
    emulator.client.set_durations(**{k: 1.0 for k in PHASES[phase][0]})

    plan = tf.plan()
    assert "is tainted, so must be replaced" in plan.stdout, plan.describe()
    tf.apply()
    state = converged(tf, aws, emulator, before, snapshots_may_be_gone=True)
    assert state["target_db_instance_identifier"] == TARGET
    total_s = time.monotonic() - started
    tf.destroy()
    report(
        "interrupt",
        {"phase": phase, "how": "sigint-replace", "stop_seconds": round(stop_s, 1), "total_seconds": round(total_s, 1)},
    )
