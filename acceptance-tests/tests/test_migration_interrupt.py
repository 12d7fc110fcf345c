"""An apply killed mid-migration (SIGKILL: no state written) is run again: it adopts what exists by
deterministic name and tags, completes, and nothing is created twice.
"""

from __future__ import annotations

from typing import Any

import pytest

from rig import Terraform
from rig.aws import Aws
from rig.case import with_required_providers
from rig.configs import DMS_PASSWORD, M, config
from rig.emulator import Emulator
from rig.reliability import ONE_MIGRATION, counts, interrupt_apply_when
from rig.seeds import seed_source

SOURCE = "orders"

# AWS seconds; at the rig's time scale of 0.001, 20000 s is 20 real seconds: long enough to be
# caught mid-step, short enough that the re-run finishes the step quickly.
SLOW = 20_000.0


def copying_encrypted(aws: Aws) -> bool:
    snaps = aws.rds.describe_db_snapshots(SnapshotType="manual")["DBSnapshots"]
    return any(s.get("Encrypted") and s["Status"] != "available" for s in snaps)


def provisioning_replication(aws: Aws) -> bool:
    targets = [
        d for d in aws.rds.describe_db_instances()["DBInstances"] if d["DBInstanceIdentifier"] == f"{SOURCE}-encrypted"
    ]
    instances = aws.dms.describe_replication_instances()["ReplicationInstances"]
    return (
        bool(targets)
        and targets[0]["DBInstanceStatus"] == "available"
        and any(i["ReplicationInstanceStatus"] == "creating" for i in instances)
    )


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
    _source, key = seed_source(aws, "mysql", SOURCE)
    tf.write(with_required_providers(config(SOURCE, key["Arn"]).replace('create = "10m"', 'create = "30m"')))
    tf.init()
    emulator.client.set_durations(**slow_steps)
    interrupt_apply_when(tf, lambda: reached(aws), phase, "sigkill")
    # SIGKILL before the create finished: Terraform recorded nothing; only AWS knows.
    state_file = tf.workdir / "terraform.tfstate"
    assert not state_file.exists() or M not in state_file.read_text()

    tf.apply()
    state = tf.resources()[M]
    assert state["phase"] == "replicating", state
    inventory = emulator.client.inventory()
    got = counts(inventory)
    assert got == ONE_MIGRATION, f"inventory after resume {got} != {ONE_MIGRATION}: {inventory}"
    # The adopted objects are the ones the killed apply made, not new ones.
    snaps = aws.rds.describe_db_snapshots(SnapshotType="manual")["DBSnapshots"]
    assert {s["DBSnapshotIdentifier"] for s in snaps} == {
        state["source_snapshot_identifier"],
        state["encrypted_snapshot_arn"].split(":")[-1],
    }
    assert DMS_PASSWORD not in (tf.workdir / "terraform.tfstate").read_text()
    tf.destroy()
