"""Fault runs: with the emulator throttling 10-25 % and failing some calls with 503 on RDS, DMS,
KMS and CloudWatch, a full apply still reaches `replicating`, refresh and destroy succeed, the
call log shows the failed calls were retried, and nothing was created twice (a throttled describe
is never read as "not found").
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

import pytest

from rig import Terraform
from rig.aws import Aws
from rig.case import with_required_providers
from rig.configs import DMS_PASSWORD, M, config
from rig.emulator import Emulator
from rig.reliability import (
    CREATES_ONCE,
    ONE_MIGRATION,
    SERVICES,
    counts,
    fault_rules,
    report,
    retry_evidence,
    successful_creates,
)
from rig.seeds import seed_source


def kms_first_calls_fail() -> list[dict[str, Any]]:
    """KMS is called only a few times per migration, so random rates rarely reach it: its first
    call is throttled and its second answers 503, for certain.
    """
    return [
        {"service": "kms", "operation": "*", "throttle_rate": 1.0, "times": 1},
        {"service": "kms", "operation": "*", "error_rate": 1.0, "times": 1},
    ]


@pytest.mark.parametrize(
    ("throttle", "error"), [(0.10, 0.02), (0.25, 0.05)], ids=["throttle10-5xx2", "throttle25-5xx5"]
)
def test_a_migration_under_injected_throttling_and_5xx_reaches_replicating_without_duplicates(
    tf: Terraform, aws: Aws, emulator: Emulator, throttle: float, error: float
) -> None:
    source_id = "orders"
    source, key = seed_source(aws, "mysql", source_id)
    tf.write(with_required_providers(config(source_id, key["Arn"])))
    tf.init()
    emulator.client.clear_calls()
    emulator.client.set_faults(kms_first_calls_fail() + fault_rules(throttle, error))
    started = time.monotonic()

    tf.apply()
    applied_s = time.monotonic() - started
    state = tf.resources()[M]
    assert state["phase"] == "replicating", state
    assert state["replication_task_status"] == "running", state
    inv = emulator.client.inventory()
    assert counts(inv) == ONE_MIGRATION, inv
    apply_calls = emulator.client.calls()
    creates = successful_creates(apply_calls)
    assert dict(creates) == CREATES_ONCE, f"objects created more or less than once: {dict(creates)}"

    tf.refresh()
    assert tf.resources()[M]["phase"] == "replicating"
    assert tf.plan().returncode == 0, "no drift after a refresh under faults"
    tf.destroy()

    calls = emulator.client.calls()
    faults = [r["hits"] for r in emulator.client.faults()]
    emulator.client.clear_faults()
    injected, retried, unretried = retry_evidence(calls)
    assert injected > 0 and sum(faults) == injected, (injected, faults)
    assert unretried == [], f"failed calls never retried: {unretried}"
    by_service = Counter(c["service"] for c in calls if c.get("injected_fault"))
    assert all(by_service[s] > 0 for s in ("rds", "dms", "kms")), by_service
    # Nothing was re-created after the apply, and destroy kept both databases.
    assert successful_creates(calls) == creates
    src_now = aws.rds.describe_db_instances(DBInstanceIdentifier=source_id)["DBInstances"][0]
    assert src_now["DBInstanceArn"] == source["DBInstanceArn"] and src_now["StorageEncrypted"] is False
    assert aws.dms.describe_replication_tasks()["ReplicationTasks"] == []
    assert aws.dms.describe_endpoints()["Endpoints"] == []
    assert DMS_PASSWORD not in (tf.workdir / "terraform.tfstate").read_text()
    report(
        "faults",
        {
            "throttle_rate": throttle,
            "error_rate": error,
            "aws_calls": len([c for c in calls if c["service"] in SERVICES]),
            "injected_faults": injected,
            "injected_by_service": dict(by_service),
            "retried": retried,
            "apply_seconds": round(applied_s, 1),
            "total_seconds": round(time.monotonic() - started, 1),
        },
    )
