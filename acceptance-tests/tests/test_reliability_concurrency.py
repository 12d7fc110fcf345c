"""Twenty migrations in one apply (`-parallelism=10`) under 10 % injected throttling: all reach
`replicating`, each target, endpoint and task belongs to its own source (no cross-talk), and AWS
holds exactly 20 tasks, 40 endpoints and 20 replication instances; destroy removes the DMS
objects and keeps all 40 databases.
"""

from __future__ import annotations

import time
from collections import Counter

from rig import Terraform
from rig.aws import Aws
from rig.case import with_required_providers
from rig.configs import DMS_PASSWORD
from rig.emulator import Emulator
from rig.reliability import counts, fault_rules, report, retry_evidence, successful_creates
from rig.seeds import seed_source

N = 20
SOURCES = [f"shop{i:02d}" for i in range(N)]

CONFIG = """
provider "rdsenc" {{}}

variable "dms_password" {{
  type      = string
  sensitive = true
  default   = "{password}"
}}

resource "rdsenc_migration" "m" {{
  for_each                      = toset({sources})
  source_db_instance_identifier = each.key
  kms_key_id                    = "alias/${{each.key}}-at-rest"
  tags                          = {{ owner = each.key }}
  dms {{
    source_username    = "dms"
    source_password_wo = var.dms_password
  }}
  timeouts {{
    create = "20m"
  }}
}}
"""


def test_twenty_migrations_in_one_apply_under_throttling_all_replicate_without_cross_talk(
    tf: Terraform, aws: Aws, emulator: Emulator
) -> None:
    # The create tests' seed per source: its own network and key `alias/<source>-at-rest`.
    sources = {s: seed_source(aws, "mysql", s)[0] for s in SOURCES}
    sources_hcl = "[" + ", ".join(f'"{s}"' for s in SOURCES) + "]"
    tf.write(with_required_providers(CONFIG.format(password=DMS_PASSWORD, sources=sources_hcl)))
    tf.init()
    emulator.client.clear_calls()
    emulator.client.set_faults(fault_rules(0.10, 0.0))

    started = time.monotonic()
    tf.apply("-parallelism=10")
    apply_s = time.monotonic() - started

    states = tf.resources()
    migrations = {k: v for k, v in states.items() if k.startswith("rdsenc_migration.m[")}
    assert len(migrations) == N
    inv = emulator.client.inventory()
    got = counts(inv)
    assert got == {
        "db_instances": 2 * N,
        "db_snapshots": 2 * N,
        "replication_instances": N,
        "endpoints": 2 * N,
        "replication_tasks": N,
    }, got

    # The test's own reads go out without injected faults (its client does not retry); the
    # faults come back for destroy.
    emulator.client.clear_faults()
    instances = {d["DBInstanceIdentifier"]: d for d in aws.rds.describe_db_instances()["DBInstances"]}
    endpoints = {e["EndpointArn"]: e for e in aws.dms.describe_endpoints()["Endpoints"]}
    tasks = {t["ReplicationTaskArn"]: t for t in aws.dms.describe_replication_tasks()["ReplicationTasks"]}
    seen_targets: set[str] = set()
    for src in SOURCES:
        st = migrations[f'rdsenc_migration.m["{src}"]']
        assert st["phase"] == "replicating" and st["replication_task_status"] == "running", (src, st)
        tgt_id = st["target_db_instance_identifier"]
        assert tgt_id == f"{src}-encrypted" and tgt_id not in seen_targets
        seen_targets.add(tgt_id)
        tgt = instances[tgt_id]
        tags = {t["Key"]: t["Value"] for t in tgt["TagList"]}
        assert tags.get("rdsenc:migration") == src and tags.get("owner") == src, (src, tags)
        assert tgt["StorageEncrypted"] is True
        task = tasks[st["replication_task_arn"]]
        assert task["SourceEndpointArn"] == st["source_endpoint_arn"]
        assert task["TargetEndpointArn"] == st["target_endpoint_arn"]
        assert task["ReplicationInstanceArn"] == st["replication_instance_arn"]
        assert endpoints[st["source_endpoint_arn"]]["ServerName"] == sources[src]["Endpoint"]["Address"]
        assert endpoints[st["target_endpoint_arn"]]["ServerName"] == tgt["Endpoint"]["Address"]
        assert instances[src]["StorageEncrypted"] is False
    # No object is shared between two migrations.
    for attr in (
        "replication_task_arn",
        "source_endpoint_arn",
        "target_endpoint_arn",
        "replication_instance_arn",
        "encrypted_snapshot_arn",
        "source_snapshot_identifier",
    ):
        values = Counter(st[attr] for st in migrations.values())
        assert len(values) == N, f"{attr} shared: {values.most_common(2)}"
    calls = emulator.client.calls()
    creates = successful_creates(calls)
    assert all(n == N * (2 if op == ("dms", "CreateEndpoint") else 1) for op, n in creates.items()), creates

    emulator.client.set_faults(fault_rules(0.10, 0.0))
    destroy_started = time.monotonic()
    tf.destroy()
    destroy_s = time.monotonic() - destroy_started
    emulator.client.clear_faults()
    calls = emulator.client.calls()
    injected, retried, unretried = retry_evidence(calls)
    assert injected > 0 and unretried == [], unretried
    assert aws.dms.describe_replication_tasks()["ReplicationTasks"] == []
    assert aws.dms.describe_endpoints()["Endpoints"] == []
    assert len(aws.rds.describe_db_instances()["DBInstances"]) == 2 * N, "destroy keeps every database"
    report(
        "concurrency",
        {
            "migrations": N,
            "parallelism": 10,
            "throttle_rate": 0.10,
            "aws_calls": len(calls),
            "injected_faults": injected,
            "retried": retried,
            "apply_seconds": round(apply_s, 1),
            "destroy_seconds": round(destroy_s, 1),
        },
    )
