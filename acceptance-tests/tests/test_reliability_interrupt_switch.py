"""Interruption during the switch phases: an apply of `cutover = true` caught in `cutting_over`,
of `cutover = false` caught in `failing_back`, and of `finalize = true` caught in `finalizing` is
killed (SIGKILL to the process group, or Ctrl-C to Terraform) and applied again: it completes,
nothing is duplicated (one reverse task, ever), and the application's way in ends where the
configuration says.
"""

from __future__ import annotations

from typing import Any

import pytest

from rig import Terraform
from rig.aws import Aws
from rig.case import with_required_providers
from rig.configs import M, cutover_config
from rig.emulator import Emulator
from rig.reliability import interrupt_apply_when
from rig.seeds import address, cname, replicating_migration, tasks_by_status, validated

SLOW = 8_000.0  # AWS seconds: 8 real seconds at the rig's time scale


def phase_tag(aws: Aws) -> str | None:
    dbs = [d for d in aws.rds.describe_db_instances()["DBInstances"] if d["StorageEncrypted"]]
    if not dbs:
        return None
    tags = aws.rds.list_tags_for_resource(ResourceName=dbs[0]["DBInstanceArn"])["TagList"]
    return {t["Key"]: t["Value"] for t in tags}.get("rdsenc:phase")


def tf_state(tf: Terraform) -> dict[str, Any]:
    return tf.resources()[M]


@pytest.mark.parametrize(
    ("phase", "how"),
    [
        ("cutting_over", "sigkill"),
        ("cutting_over", "sigint"),
        ("failing_back", "sigkill"),
        ("failing_back", "sigint"),
        ("finalizing", "sigkill"),
        ("finalizing", "sigint"),
    ],
)
def test_an_interrupted_switch_completes_on_the_next_apply_without_duplicates(
    tf: Terraform, aws: Aws, emulator: Emulator, phase: str, how: str
) -> None:
    k, z = replicating_migration(tf, aws, emulator, strategy="route53")
    src_addr, tgt_addr = address(aws, "orders"), address(aws, "orders-encrypted")
    if phase in ("failing_back", "finalizing"):
        tf.write(with_required_providers(cutover_config("route53", k, z, cutover=True)))
        tf.apply()
        validated(emulator, aws)()
    if phase == "finalizing":
        emulator.client.set_durations(replication_instance_delete=SLOW)
        final = cutover_config("route53", k, z, cutover=True, finalize=True)
    elif phase == "failing_back":
        emulator.client.set_durations(route53_change=SLOW)
        final = cutover_config("route53", k, z, cutover=False)
    else:
        emulator.client.set_durations(route53_change=SLOW)
        final = cutover_config("route53", k, z, cutover=True)
    tf.write(with_required_providers(final))
    interrupt_apply_when(tf, lambda: phase_tag(aws) == phase, phase, how)

    emulator.client.set_durations(route53_change=40, replication_instance_delete=60)
    validated(emulator, aws)()
    tf.apply()
    st = tf_state(tf)
    tasks = tasks_by_status(aws)
    reverse = [n for n in tasks if n.endswith("-reverse")]
    if phase == "cutting_over":
        assert st["phase"] == "cut_over", st
        assert cname(aws, z) == tgt_addr
        assert len(reverse) == 1 and tasks[reverse[0]] == "running", f"exactly one reverse task, running: {tasks}"
    elif phase == "failing_back":
        assert st["phase"] == "replicating", st
        assert cname(aws, z) == src_addr
        assert len(reverse) == 1 and tasks[reverse[0]] != "running", tasks
        assert [s for n, s in tasks.items() if n not in reverse] == ["running"], tasks
    else:
        assert st["phase"] == "finalized", st
        assert tasks == {}, tasks
        assert aws.dms.describe_replication_instances()["ReplicationInstances"] == []
        assert cname(aws, z) == tgt_addr
    inv = emulator.client.inventory()
    assert inv["db_instances"]["count"] == 2, inv
    # A second plan is empty: the switch is complete, not pending.
    assert tf.plan().returncode == 0
    tf.destroy()
