"""The ledger as an application behind DNS: a Route 53 CNAME moved from one RDS instance to
another (a DNS cutover with no write fence), on an emulator started with ``--data-plane``.

What an application does, and what this test pins down: the writers resolve the CNAME through
the emulator's DNS and cache it for its TTL; after the change is INSYNC and the TTL has run out,
NEW connections go to the new instance, while pooled connections opened before keep writing to
the old one until the pool recycles them. Writes acknowledged by the old instance after the
switch are then missing from the new one: the checker reports them lost. That is the hazard
the cutover safety work must defeat; here it is only shown to be observable.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # acceptance-tests: the ledger package

from ledger import (
    DnsResolver,
    EmulatorClock,
    Ledger,
    LedgerConfig,
    Target,
    check,
    connect,
    create_tables,
    identity,
    read_contents,
)

from client import EmulatorClient
from emu_support import create_instance, wait_for
from net_support import aws_client, client_security_group

PASSWORD = "not-a-secret-1"
TTL = 1  # the CNAME's TTL, seconds


def _instance(rds: Any, ident: str, group: str) -> dict[str, Any]:
    return create_instance(
        rds,
        ident,
        "mariadb",
        timeout=120,
        interval=0.1,
        MasterUserPassword=PASSWORD,
        DBName="app",
        VpcSecurityGroupIds=[group],
    )


def _point(route53: Any, zone: str, name: str, target: str) -> str:
    change = route53.change_resource_record_sets(
        HostedZoneId=zone,
        ChangeBatch={
            "Changes": [
                {
                    "Action": "UPSERT",
                    "ResourceRecordSet": {
                        "Name": name,
                        "Type": "CNAME",
                        "TTL": TTL,
                        "ResourceRecords": [{"Value": target}],
                    },
                }
            ]
        },
    )
    return str(change["ChangeInfo"]["Id"])


def _insync(route53: Any, change: str) -> float:
    """Wait for INSYNC; the monotonic instant it was seen."""
    wait_for(lambda: route53.get_change(Id=change)["ChangeInfo"]["Status"], lambda s: s == "INSYNC", interval=0.02)
    return time.monotonic()


@pytest.mark.dataplane
def test_writers_follow_the_cname_after_its_ttl_while_pooled_connections_stay_on_the_old_instance(
    dp_emu: EmulatorClient,
) -> None:
    dp_url = dp_emu.url
    rds, route53, ec2 = aws_client("rds", dp_url), aws_client("route53", dp_url), aws_client("ec2", dp_url)
    group = client_security_group(ec2, "ledger-clients", ports=(3306,))
    blue = _instance(rds, "ledger-blue", group)["Endpoint"]["Address"]
    green = _instance(rds, "ledger-green", group)["Endpoint"]["Address"]
    zone = route53.create_hosted_zone(Name="ledger.example.", CallerReference="ledger")["HostedZone"]["Id"]
    name = "app.ledger.example"
    _insync(route53, _point(route53, zone, name, blue))

    # The schema exists on both sides (as after a migration's full load); identities for the journal.
    # The endpoint names resolve only through the emulator's DNS (to the instances' own addresses).
    where = {host: DnsResolver.from_emulator(dp_url).resolve(host) for host in (blue, green)}
    assert where[blue] != where[green] and all(a.startswith("127.10.") for a in where.values())
    ids = {}
    for label, host in (("blue", blue), ("green", green)):
        conn = connect("mysql", where[host], 3306, "admin", PASSWORD, "app")
        try:
            ids[label] = identity(conn, "mysql")
            create_tables(conn, "mysql")
        finally:
            conn.close()
    assert ids["blue"] != ids["green"]

    resolver = DnsResolver.from_emulator(dp_url)
    ledger = Ledger(
        Target("mysql", name, 3306, "admin", PASSWORD, "app"),
        LedgerConfig(writers=3, duration=5.0, max_lifetime=3.0, think_time=0.02),
        resolver=resolver,
        clock=EmulatorClock(dp_url),
    )
    ledger.start()
    time.sleep(1.0)
    changed = time.monotonic()
    insync = _insync(route53, _point(route53, zone, name, green))
    ledger.join()
    assert ledger.errors == []

    acked = ledger.journal.acked()
    at = {op.op_id: op.ack_mono or 0.0 for op in acked}  # every acknowledged write has its instant
    assert all(op.ack_mono is not None for op in acked)
    by_blue = [op for op in acked if op.ack_server == ids["blue"]]
    by_green = [op for op in acked if op.ack_server == ids["green"]]
    assert len(by_blue) + len(by_green) == len(acked)
    # Before the change every write went to blue; green acknowledged nothing before INSYNC.
    assert by_blue and all(at[op.op_id] > insync for op in by_green) and by_green
    assert all(op.ack_server == ids["blue"] for op in acked if at[op.op_id] < changed)
    # The resolver asked again only once the cached answer expired, and got green after INSYNC.
    green_lookups = [lk for lk in resolver.lookups if lk.address != resolver.lookups[0].address]
    assert green_lookups and green_lookups[0].mono >= insync
    assert all(lk.ttl <= TTL for lk in resolver.lookups)
    # Pooled connections opened before the switch kept writing to blue after INSYNC + TTL.
    stale = [op for op in by_blue if at[op.op_id] > insync + TTL]
    assert stale, "no write reached the old instance after the switch"
    assert {op.ack_address for op in by_blue} == {where[blue]}
    assert {op.ack_address for op in by_green} == {where[green]}
    # No replication between the two: green misses what blue acknowledged, and the checker says so.
    finals = []
    for label, host in (("green", green), ("blue", blue)):
        conn = connect("mysql", where[host], 3306, "admin", PASSWORD, "app")
        try:
            finals.append(read_contents(conn, label))
        finally:
            conn.close()
    verdict = check(ledger, finals)
    lost_on_green = {f.op_id for f in verdict.final.of("lost")}
    assert lost_on_green, verdict.summary()
    blue_ops = {op.op_id for op in by_blue}
    assert lost_on_green <= blue_ops | {None}
    assert {op.op_id for op in stale} & lost_on_green
    assert verdict.final.of("duplicated") == [] and verdict.databases[1].of("duplicated") == []
