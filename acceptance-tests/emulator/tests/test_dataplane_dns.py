"""Data-plane DNS: A records for RDS endpoint names (5 s TTL, moved by a rename), Route 53
CNAME/A records with their TTLs, served only once their change is INSYNC, NXDOMAIN otherwise.

The server runs in-process against moto (``mock_aws`` with the emulator's patches, so Route 53
changes go PENDING -> INSYNC on the emulator's scaled clock) and is queried over UDP with
dnspython, as an application's resolver would.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import dns.flags
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from client import EmulatorClient
from emu_support import request_instance
from net_support import assert_own_front, assert_session_dropped, aws_client, client_security_group

#: Real seconds per AWS second in these tests.
SCALE = 0.01
#: AWS seconds a Route 53 change stays PENDING here (1.5 real seconds: checks made while it is
#: PENDING have time to run, even on a loaded machine).
CHANGE_SECONDS = 150.0


@dataclass
class FakeServer:
    """The parts of ``DbServer`` the DNS uses."""

    identifier: str
    resource_id: str
    address: str
    hostname: str
    port: int = 3306


@pytest.fixture()
def dns_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Moto in-process with the emulator's patches, the data plane's DNS server, a fast clock."""
    from moto import mock_aws

    import rdsemu
    from rdsemu.dataplane import DATAPLANE
    from rdsemu.dataplane import dns as dp_dns
    from rdsemu.state import STATE

    rdsemu.install()
    server = dp_dns.start()
    server.route53.clear()
    # The registry only answers when the data plane is on; no real server is needed here.
    monkeypatch.setattr(DATAPLANE, "enabled", True)
    STATE.set_time_scale(SCALE)
    STATE.set_durations({"route53_change": CHANGE_SECONDS})
    try:
        with mock_aws():
            yield server
    finally:
        for fake in list(DATAPLANE.servers.all()):
            if isinstance(fake, FakeServer):
                DATAPLANE.servers.remove(fake)  # type: ignore[arg-type]
        STATE.reset()


@pytest.fixture()
def route53() -> Any:
    """boto3 Route 53 client (in-process moto)."""
    return boto3.client("route53", region_name="us-east-1", aws_access_key_id="t", aws_secret_access_key="t")


def ask(server: Any, name: str, rtype: str = "A") -> dns.message.Message:
    """One UDP query to the emulator's DNS."""
    host, port = server.address
    return dns.query.udp(dns.message.make_query(name, rtype), host, port=port, timeout=3)


def answers(reply: dns.message.Message) -> list[tuple[str, str, int, list[str]]]:
    """(name, type, ttl, values) per answer RRset (names lower-cased: compression may echo the
    question's spelling, which DNS treats as the same name).
    """
    return [
        (rr.name.to_text().lower(), dns.rdatatype.to_text(rr.rdtype), rr.ttl, sorted(r.to_text() for r in rr))
        for rr in reply.answer
    ]


def upsert(route53: Any, zone_id: str, name: str, rtype: str, value: str, ttl: int) -> str:
    """UPSERT one record; returns the change id."""
    change = route53.change_resource_record_sets(
        HostedZoneId=zone_id,
        ChangeBatch={
            "Changes": [
                {
                    "Action": "UPSERT",
                    "ResourceRecordSet": {
                        "Name": name,
                        "Type": rtype,
                        "TTL": ttl,
                        "ResourceRecords": [{"Value": value}],
                    },
                }
            ]
        },
    )
    return str(change["ChangeInfo"]["Id"])


def wait_insync(route53: Any, change_id: str, timeout: float = 10) -> None:
    """Poll GetChange until INSYNC."""
    deadline = time.monotonic() + timeout
    while route53.get_change(Id=change_id)["ChangeInfo"]["Status"] != "INSYNC":
        assert time.monotonic() < deadline, "change never reached INSYNC"
        time.sleep(0.02)


def register(ident: str, address: str) -> FakeServer:
    """A fake server in the data plane's registry under the emulator's endpoint naming."""
    from rdsemu.dataplane import DATAPLANE

    fake = FakeServer(ident, f"db-{ident.upper()}", address, f"{ident}.cexample12345.us-east-1.rds.amazonaws.com")
    DATAPLANE.servers.add(fake)  # type: ignore[arg-type]
    return fake


def test_dns_address_is_on_loopback(dns_server: Any) -> None:
    from rdsemu.dataplane import dns as dp_dns

    where = dp_dns.address()
    assert where["host"].startswith("127.")
    assert where["port"] == dns_server.address[1] > 0


def test_rds_endpoint_resolves_to_the_instance_address_with_5s_ttl(dns_server: Any) -> None:
    fake = register("orders", "127.10.3.4")
    reply = ask(dns_server, fake.hostname)
    assert reply.rcode() == dns.rcode.NOERROR
    assert answers(reply) == [(fake.hostname + ".", "A", 5, ["127.10.3.4"])]
    assert reply.flags & dns.flags.AA
    unknown = ask(dns_server, "nothing.cexample12345.us-east-1.rds.amazonaws.com")
    assert unknown.rcode() == dns.rcode.NXDOMAIN
    assert unknown.answer == []


def test_rename_moves_the_endpoint_name(dns_server: Any) -> None:
    fake = register("orders", "127.10.3.5")
    old_name = fake.hostname
    # What DbServer.rename does to the registry's view: the identifier and hostname change.
    fake.identifier = "orders-old"
    fake.hostname = "orders-old.cexample12345.us-east-1.rds.amazonaws.com"
    assert ask(dns_server, old_name).rcode() == dns.rcode.NXDOMAIN
    assert answers(ask(dns_server, fake.hostname)) == [(fake.hostname + ".", "A", 5, ["127.10.3.5"])]
    # The swap's other half: a second instance renamed onto the freed name answers with its own address.
    newcomer = register("orders", "127.10.3.6")
    assert newcomer.hostname == old_name
    assert answers(ask(dns_server, old_name)) == [(old_name + ".", "A", 5, ["127.10.3.6"])]


def test_route53_cname_is_served_with_its_ttl_and_chased(dns_server: Any, route53: Any) -> None:
    blue = register("blue", "127.10.4.1")
    zone = route53.create_hosted_zone(Name="example.internal", CallerReference="z1")["HostedZone"]["Id"]
    change = upsert(route53, zone, "db.example.internal", "CNAME", blue.hostname, 30)
    # PENDING: not yet served (a new name answers NXDOMAIN until the change is INSYNC).
    assert route53.get_change(Id=change)["ChangeInfo"]["Status"] == "PENDING"
    assert ask(dns_server, "db.example.internal").rcode() == dns.rcode.NXDOMAIN
    wait_insync(route53, change)
    reply = ask(dns_server, "db.example.internal")
    assert answers(reply) == [
        ("db.example.internal.", "CNAME", 30, [blue.hostname + "."]),
        (blue.hostname + ".", "A", 5, ["127.10.4.1"]),
    ]
    # A CNAME question gets the CNAME alone.
    assert answers(ask(dns_server, "db.example.internal", "CNAME")) == [
        ("db.example.internal.", "CNAME", 30, [blue.hostname + "."])
    ]


def test_route53_change_serves_the_old_value_until_insync(dns_server: Any, route53: Any) -> None:
    blue = register("blue", "127.10.5.1")
    green = register("green", "127.10.5.2")
    zone = route53.create_hosted_zone(Name="example.internal", CallerReference="z2")["HostedZone"]["Id"]
    wait_insync(route53, upsert(route53, zone, "db.example.internal", "CNAME", blue.hostname, 60))
    change = upsert(route53, zone, "db.example.internal", "CNAME", green.hostname, 60)
    seen: list[str] = []
    deadline = time.monotonic() + 10
    while True:
        before = route53.get_change(Id=change)["ChangeInfo"]["Status"]
        target = answers(ask(dns_server, "db.example.internal"))[0][3][0]
        after = route53.get_change(Id=change)["ChangeInfo"]["Status"]
        # PENDING only if it was PENDING after the answer too (it may go INSYNC in between).
        status = "PENDING" if after == "PENDING" else ("INSYNC" if before == "INSYNC" else "CHANGING")
        seen.append(f"{status}:{target}")
        if status == "INSYNC" and target == green.hostname + ".":
            break
        assert time.monotonic() < deadline, seen[-5:]
        time.sleep(0.02)
    # While PENDING only blue was served; green appears only with INSYNC.
    assert f"PENDING:{blue.hostname}." in seen
    assert not any(s.startswith("PENDING:") and s.endswith(f"{green.hostname}.") for s in seen)


def test_route53_a_record_with_ttl_and_unknown_names(dns_server: Any, route53: Any) -> None:
    zone = route53.create_hosted_zone(Name="example.internal", CallerReference="z3")["HostedZone"]["Id"]
    wait_insync(route53, upsert(route53, zone, "fixed.example.internal", "A", "127.10.9.9", 120))
    assert answers(ask(dns_server, "FIXED.example.internal")) == [("fixed.example.internal.", "A", 120, ["127.10.9.9"])]
    assert ask(dns_server, "other.example.internal").rcode() == dns.rcode.NXDOMAIN
    assert ask(dns_server, "fixed.example.org").rcode() == dns.rcode.NXDOMAIN
    # A name that exists but has no record of the asked type: NOERROR with no answer.
    nodata = ask(dns_server, "fixed.example.internal", "CNAME")
    assert nodata.rcode() == dns.rcode.NOERROR and nodata.answer == []


def test_route53_delete_is_served_until_insync(dns_server: Any, route53: Any) -> None:
    zone = route53.create_hosted_zone(Name="example.internal", CallerReference="z4")["HostedZone"]["Id"]
    wait_insync(route53, upsert(route53, zone, "gone.example.internal", "A", "127.10.9.8", 60))
    change = route53.change_resource_record_sets(
        HostedZoneId=zone,
        ChangeBatch={
            "Changes": [
                {
                    "Action": "DELETE",
                    "ResourceRecordSet": {
                        "Name": "gone.example.internal",
                        "Type": "A",
                        "TTL": 60,
                        "ResourceRecords": [{"Value": "127.10.9.8"}],
                    },
                }
            ]
        },
    )["ChangeInfo"]["Id"]
    assert route53.get_change(Id=change)["ChangeInfo"]["Status"] == "PENDING"
    assert answers(ask(dns_server, "gone.example.internal")) == [("gone.example.internal.", "A", 60, ["127.10.9.8"])]
    wait_insync(route53, change)
    assert ask(dns_server, "gone.example.internal").rcode() == dns.rcode.NXDOMAIN


# --------------------------------------------------------------------------- through the emulator


def resolver_of(emu: EmulatorClient) -> Any:
    """A stand-in with the ``address`` attribute :func:`ask` uses, from ``GET /_emulator/dns``."""
    where = emu.dns()

    @dataclass
    class Where:
        address: tuple[str, int]

    return Where((where["host"], int(where["port"])))


@pytest.mark.dataplane
def test_emulator_serves_endpoint_and_route53_cname_after_insync(dp_emu: EmulatorClient) -> None:
    emu, dp_url = dp_emu, dp_emu.url
    rds, ec2, r53 = aws_client("rds", dp_url), aws_client("ec2", dp_url), aws_client("route53", dp_url)
    group = client_security_group(ec2, "clients")
    request_instance(rds, "orders", VpcSecurityGroupIds=[group])
    db = rds.describe_db_instances(DBInstanceIdentifier="orders")["DBInstances"][0]
    endpoint = db["Endpoint"]["Address"]
    server = next(s for s in emu.dataplane()["servers"] if s["identifier"] == "orders")
    where = resolver_of(emu)
    assert answers(ask(where, endpoint)) == [(endpoint + ".", "A", 5, [server["address"]])]
    # Route 53: 5 real seconds PENDING, then INSYNC.
    emu.set_durations(route53_change=5000)
    zone = r53.create_hosted_zone(Name="corp.internal", CallerReference="e2e")["HostedZone"]["Id"]
    change = upsert(r53, zone, "db.corp.internal", "CNAME", endpoint, 15)
    assert r53.get_change(Id=change)["ChangeInfo"]["Status"] == "PENDING"
    assert ask(where, "db.corp.internal").rcode() == dns.rcode.NXDOMAIN
    wait_insync(r53, change, timeout=30)
    assert answers(ask(where, "db.corp.internal")) == [
        ("db.corp.internal.", "CNAME", 15, [endpoint + "."]),
        (endpoint + ".", "A", 5, [server["address"]]),
    ]


@pytest.mark.dataplane
def test_emulator_rename_moves_the_name_and_drops_sessions(dp_emu: EmulatorClient) -> None:
    import pymysql

    emu, dp_url = dp_emu, dp_emu.url
    rds, ec2 = aws_client("rds", dp_url), aws_client("ec2", dp_url)
    group = client_security_group(ec2, "clients")
    request_instance(rds, "orders", VpcSecurityGroupIds=[group])
    where = resolver_of(emu)
    deadline = time.monotonic() + 180
    while (db := rds.describe_db_instances(DBInstanceIdentifier="orders")["DBInstances"][0])[
        "DBInstanceStatus"
    ] != "available":
        assert db["DBInstanceStatus"] != "failed" and time.monotonic() < deadline, db["DBInstanceStatus"]
        time.sleep(0.1)
    old_name = db["Endpoint"]["Address"]
    address = answers(ask(where, old_name))[0][3][0]
    assert assert_own_front(emu, "orders")["address"] == address
    session = pymysql.connect(host=address, port=3306, user="admin", password="not-a-secret-1", connect_timeout=5)
    rds.modify_db_instance(DBInstanceIdentifier="orders", NewDBInstanceIdentifier="orders-old", ApplyImmediately=True)
    new_name = old_name.replace("orders.", "orders-old.", 1)
    deadline = time.monotonic() + 180
    while ask(where, old_name).rcode() != dns.rcode.NXDOMAIN or not ask(where, new_name).answer:
        assert time.monotonic() < deadline, "the rename never moved the name"
        time.sleep(0.1)
    # The address stays with the instance; the session opened before the rename is gone.
    assert answers(ask(where, new_name)) == [(new_name + ".", "A", 5, [address])]
    assert_session_dropped(session)
    session.close()
    deadline = time.monotonic() + 180
    while rds.describe_db_instances(DBInstanceIdentifier="orders-old")["DBInstances"][0]["DBInstanceStatus"] != (
        "available"
    ):
        assert time.monotonic() < deadline
        time.sleep(0.1)
    with (
        pymysql.connect(host=address, port=3306, user="admin", password="not-a-secret-1", connect_timeout=5) as again,
        again.cursor() as cur,
    ):
        cur.execute("SELECT 1")
        assert cur.fetchone() == (1,)
