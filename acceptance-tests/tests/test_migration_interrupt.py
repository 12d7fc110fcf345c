"""An apply killed mid-migration (SIGKILL: no state written) is run again: it adopts what exists by
deterministic name and tags, completes, and nothing is created twice."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Callable
from typing import Any

import pytest

from rig import Terraform
from rig.case import with_required_providers
from rig.aws import Aws, wait_for
from rig.emulator import Emulator
from test_migration_create import DMS_PASSWORD, M, config, seed

SOURCE = "orders"

# AWS seconds; at the rig's time scale of 0.001, 20000 s is 20 real seconds: long enough to be
# caught mid-step, short enough that the re-run finishes the step quickly.
SLOW = 20_000.0


def copying_encrypted(aws: Aws) -> bool:
    snaps = aws.rds.describe_db_snapshots(SnapshotType="manual")["DBSnapshots"]
    return any(s.get("Encrypted") and s["Status"] != "available" for s in snaps)


def provisioning_replication(aws: Aws) -> bool:
    targets = [d for d in aws.rds.describe_db_instances()["DBInstances"] if d["DBInstanceIdentifier"] == f"{SOURCE}-encrypted"]
    instances = aws.dms.describe_replication_instances()["ReplicationInstances"]
    return bool(targets) and targets[0]["DBInstanceStatus"] == "available" and any(
        i["ReplicationInstanceStatus"] == "creating" for i in instances
    )


def apply_and_kill_when(tf: Terraform, reached: Callable[[], bool], what: str) -> None:
    """Start `terraform apply`, SIGKILL its whole process group once `reached()`: as if the CI
    runner died. Terraform writes no state for an unfinished create."""
    proc = subprocess.Popen(
        [*tf.install.argv, "apply", "-input=false", "-no-color", "-auto-approve"],
        cwd=tf.workdir,
        env=tf.env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        wait_for(lambda: True if reached() else None, timeout=120, what=f"the migration to reach {what}", interval=0.2)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    # A killed Terraform leaves its local state lock behind, as `terraform force-unlock` would fix.
    (tf.workdir / ".terraform.tfstate.lock.info").unlink(missing_ok=True)


def assert_no_duplicates(inventory: dict[str, Any]) -> None:
    want = {"db_instances": 2, "db_snapshots": 2, "replication_instances": 1, "endpoints": 2, "replication_tasks": 1}
    got = {k: inventory[k]["count"] for k in want}
    assert got == want, f"inventory after resume {got} != {want}: {inventory}"


@pytest.mark.parametrize(
    ("phase", "slow_steps", "reached"),
    [
        ("copying_encrypted", {"db_snapshot_copy": SLOW}, copying_encrypted),
        ("provisioning_replication", {"replication_instance": SLOW}, provisioning_replication),
    ],
)
def test_an_apply_killed_mid_migration_resumes_without_duplicates(
    tf: Terraform, aws: Aws, emulator: Emulator, phase: str, slow_steps: dict[str, float], reached: Any
) -> None:
    _source, key = seed(aws, "mysql", SOURCE)
    tf.write(with_required_providers(config(SOURCE, key["Arn"]).replace('create = "10m"', 'create = "30m"')))
    tf.init()
    emulator.client.set_durations(**slow_steps)
    apply_and_kill_when(tf, lambda: reached(aws), phase)
    # SIGKILL before the create finished: Terraform recorded nothing; only AWS knows.
    state_file = tf.workdir / "terraform.tfstate"
    assert not state_file.exists() or M not in state_file.read_text()

    tf.apply()
    state = tf.resources()[M]
    assert state["phase"] == "replicating", state
    assert_no_duplicates(emulator.client.inventory())
    # The adopted objects are the ones the killed apply made, not new ones.
    snaps = aws.rds.describe_db_snapshots(SnapshotType="manual")["DBSnapshots"]
    assert {s["DBSnapshotIdentifier"] for s in snaps} == {state["source_snapshot_identifier"], state["encrypted_snapshot_arn"].split(":")[-1]}
    assert DMS_PASSWORD not in (tf.workdir / "terraform.tfstate").read_text()
    tf.destroy()
