"""What the scenarios put into the emulator before Terraform runs, and the reads that go with it.

- `seed_source`: a replication-ready source and its KMS key (`alias/<name>-at-rest`).
- `seed_cutover`: the source `orders`, its key and a Route 53 CNAME `RECORD` naming it.
- `seed_blue_green`: the source `orders`, its read replica and a key for each.
- `validated`: DMS reports every table validated and no lag (cutover's gates).
- `replicating_migration`: a cutover scenario applied up to `replicating`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rig.aws import Aws
from rig.case import with_required_providers
from rig.configs import BG_REPLICA, BG_SOURCE, RECORD, ZONE, cutover_config
from rig.emulator import Emulator
from rig.terraform import Terraform


def seed_source(aws: Aws, engine: str, name: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """A replication-ready `engine` source `name` and the key `alias/<name>-at-rest`: (instance, key)."""
    source = aws.create_replication_ready_source(name, engine)
    key = aws.create_kms_key(alias=f"{name}-at-rest")
    return source, key


def seed_cutover(aws: Aws) -> tuple[dict[str, Any], str]:
    """The MySQL source `orders`, its key, and the zone `ZONE` whose CNAME `RECORD` names it: (key, zone id)."""
    aws.create_replication_ready_source("orders")
    key = aws.create_kms_key(alias="orders-at-rest")
    zone_id = aws.create_cname_zone(ZONE, RECORD, address(aws, "orders"))
    return key, zone_id


def seed_blue_green(aws: Aws) -> tuple[str, str]:
    """The source `BG_SOURCE` with its read replica `BG_REPLICA` and a key for each: (key ARN, replica key ARN)."""
    aws.create_source_with_replica(BG_SOURCE, BG_REPLICA)
    key = aws.create_kms_key(alias="orders-at-rest")["Arn"]
    replica_key = aws.create_kms_key(alias="orders-replica-at-rest")["Arn"]
    return key, replica_key


def validated(emulator: Emulator, aws: Aws) -> Callable[[], None]:
    """DMS validation reports every table validated and lag is 0 (cutover's gates)."""

    def inject() -> None:
        for task in aws.dms.describe_replication_tasks()["ReplicationTasks"]:
            emulator.client.set_table_statistics(
                task["ReplicationTaskIdentifier"],
                [
                    {"schema": "app", "table": "orders", "rows": 1000, "validation_state": "Validated"},
                    {"schema": "app", "table": "customers", "rows": 200, "validation_state": "Validated"},
                ],
            )
            emulator.client.set_lag(task["ReplicationTaskIdentifier"], 0, 0)

    return inject


def replicating_migration(
    tf: Terraform, aws: Aws, emulator: Emulator, strategy: str = "none", extra: str = ""
) -> tuple[str, str]:
    """`seed_cutover`, then apply `cutover_config(strategy)` to `replicating`, validated: (key ARN, zone id)."""
    key, zone_id = seed_cutover(aws)
    tf.write(with_required_providers(cutover_config(strategy, key["Arn"], zone_id, cutover=False, extra=extra)))
    tf.init()
    tf.apply()
    validated(emulator, aws)()
    return key["Arn"], zone_id


def address(aws: Aws, ident: str) -> str:
    """The endpoint address of the DB instance `ident`."""
    return aws.rds.describe_db_instances(DBInstanceIdentifier=ident)["DBInstances"][0]["Endpoint"]["Address"]


def cname(aws: Aws, zone_id: str) -> str:
    """Where the CNAME `RECORD` in `zone_id` points now."""
    sets = aws.route53.list_resource_record_sets(HostedZoneId=zone_id)["ResourceRecordSets"]
    [rec] = [r for r in sets if r["Name"].rstrip(".") == RECORD and r["Type"] == "CNAME"]
    return rec["ResourceRecords"][0]["Value"].rstrip(".")


def tasks_by_status(aws: Aws) -> dict[str, str]:
    """Every DMS task's identifier and status."""
    tasks = aws.dms.describe_replication_tasks()["ReplicationTasks"]
    return {t["ReplicationTaskIdentifier"]: t["Status"] for t in tasks}
