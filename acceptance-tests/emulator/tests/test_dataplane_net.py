"""Data-plane network: fronts apply the instance's VPC security groups to new connections,
established connections survive security-group changes, server_down drops connections, and
relays make a client's own source address visible.

These tests run the network in-process against moto (``mock_aws`` with the emulator's
patches), so the security groups are moto's EC2 groups exactly as the emulator reads them.
Echo backends stand in for the database process in the fast tests; the last tests put real
MariaDB and PostgreSQL servers behind the fronts.
"""

from __future__ import annotations

import contextlib
import random
import socket
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from client import EmulatorClient
from emu_support import request_instance
from net_support import allow_client, assert_own_front, assert_session_dropped, aws_client, client_security_group
from rdsemu.dataplane.net import accept_until

moto = pytest.importorskip("moto")

#: Fronts in these tests listen in a block of 127.10/16 picked at random per run, so that
#: parallel runs (and emulators with servers at 127.10.0.x) do not collide.
BLOCK = random.randint(100, 249)
_next_host = iter(range(1, 250))


def _new_address() -> str:
    return f"127.10.{BLOCK}.{next(_next_host)}"


@dataclass
class FakeServer:
    """The parts of ``DbServer`` the network uses, in front of an echo backend."""

    identifier: str
    resource_id: str
    address: str
    port: int
    internal_host: str
    internal_port: int
    running: bool = True


class EchoBackend:
    """A TCP server that answers each line with ``<peer ip> <line>`` (so a test sees both that
    data flows and from which address the backend was reached).
    """

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.sock = socket.socket()
        self.sock.bind((host, 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.stop = threading.Event()
        self.conns: list[socket.socket] = []
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    @property
    def port(self) -> int:
        """The backend's port on 127.0.0.1."""
        return int(self.sock.getsockname()[1])

    def _loop(self) -> None:
        accept_until(self.sock, self.stop, self._accepted)

    def _accepted(self, conn: socket.socket, peer: tuple[str, int]) -> None:
        self.conns.append(conn)
        threading.Thread(target=self._serve, args=(conn, peer[0]), daemon=True).start()

    @staticmethod
    def _serve(conn: socket.socket, peer_ip: str) -> None:
        with contextlib.suppress(OSError), conn:
            buf = b""
            while True:
                data = conn.recv(4096)
                if not data:
                    return
                buf += data
                while b"\n" in buf:
                    line, buf = buf.split(b"\n", 1)
                    conn.sendall(peer_ip.encode() + b" " + line + b"\n")

    def close(self) -> None:
        """Stop accepting and close every connection."""
        self.stop.set()
        self.sock.close()
        for conn in self.conns:
            with contextlib.suppress(OSError):
                conn.close()
        self.thread.join(2)


def talk(sock: socket.socket, text: str, timeout: float = 3.0) -> str:
    """Send one line and read one line back ('' on EOF/reset)."""
    sock.settimeout(timeout)
    try:
        sock.sendall(text.encode() + b"\n")
        buf = b""
        while not buf.endswith(b"\n"):
            data = sock.recv(4096)
            if not data:
                return ""
            buf += data
        return buf.decode().strip()
    except (ConnectionResetError, BrokenPipeError):
        return ""


def dial(address: str, port: int, source: str | None = None) -> socket.socket:
    """A connected socket (from ``source`` if given)."""
    sock = socket.socket()
    if source is not None:
        sock.bind((source, 0))
    sock.settimeout(3)
    sock.connect((address, port))
    return sock


def refused(address: str, port: int, source: str | None = None) -> bool:
    """True when a new connection gets no answer: closed/reset before any data comes back."""
    try:
        sock = dial(address, port, source)
    except OSError:
        return True
    with sock:
        return talk(sock, "hello") == ""


def closed_unanswered(address: str, port: int, source: str | None = None, wait: float = 1.0) -> bool:
    """True when a new connection is closed (EOF/reset) without a byte; False when it stays
    open and silent for ``wait`` seconds (admitted: a database server waits for the client).
    """
    try:
        sock = dial(address, port, source)
    except OSError:
        return True
    with sock:
        sock.settimeout(wait)
        try:
            return sock.recv(1) == b""
        except TimeoutError:
            return False
        except ConnectionResetError:
            return True


@pytest.fixture()
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """Moto in-process with the emulator's patches; boto3 clients for ec2 and rds.

    The data plane stays off here (another in-process suite may have switched it on):
    CreateDBInstance must not start real servers behind these fake ones.
    """
    from moto import mock_aws

    import rdsemu
    from rdsemu.dataplane import DATAPLANE

    monkeypatch.setattr(DATAPLANE, "enabled", False)
    rdsemu.install()
    with mock_aws():
        kw: dict[str, Any] = {
            "region_name": "us-east-1",
            "aws_access_key_id": "testing",
            "aws_secret_access_key": "testing",
        }
        yield {"ec2": boto3.client("ec2", **kw), "rds": boto3.client("rds", **kw)}


@pytest.fixture()
def network() -> Iterator[Any]:
    """A fresh Network, closed afterwards."""
    from rdsemu.dataplane.net import Network

    net = Network()
    yield net
    net.close()


@pytest.fixture()
def echo() -> Iterator[EchoBackend]:
    backend = EchoBackend()
    yield backend
    backend.close()


def make_instance(aws: dict[str, Any], ident: str, groups: list[str] | None, port: int = 3306) -> str:
    """A moto DB instance; returns its DbiResourceId."""
    extra: dict[str, Any] = {"VpcSecurityGroupIds": groups} if groups is not None else {}
    db = request_instance(aws["rds"], ident, Port=port, **extra)
    return str(db["DbiResourceId"])


def front_for(
    network: Any, aws: dict[str, Any], echo: EchoBackend, ident: str, groups: list[str] | None, port: int = 3306
) -> FakeServer:
    server = FakeServer(ident, make_instance(aws, ident, groups, port), _new_address(), port, "127.0.0.1", echo.port)
    network.server_up(server)
    return server


def new_group(aws: dict[str, Any], name: str) -> str:
    ec2 = aws["ec2"]
    vpc_id = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
    return str(ec2.create_security_group(GroupName=name, Description=name, VpcId=vpc_id)["GroupId"])


# --------------------------------------------------------------------------- admission


def test_cidr_rule_admits_and_forwards(aws: dict[str, Any], network: Any, echo: EchoBackend) -> None:
    group = client_security_group(aws["ec2"], "clients", ports=(3306,))
    server = front_for(network, aws, echo, "db1", [group])
    with dial(server.address, server.port) as sock:
        assert talk(sock, "ping") == "127.0.0.1 ping"
    # Another source address is outside 127.0.0.1/32.
    assert refused(server.address, server.port, source="127.0.0.2")


def test_port_range_and_protocol_are_checked(aws: dict[str, Any], network: Any, echo: EchoBackend) -> None:
    group = new_group(aws, "wrong-port")
    allow_client(aws["ec2"], group, 5432)  # not the instance's port
    aws["ec2"].authorize_security_group_ingress(
        GroupId=group,
        IpPermissions=[{"IpProtocol": "udp", "FromPort": 0, "ToPort": 65535, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}],
    )
    server = front_for(network, aws, echo, "db1", [group])
    assert refused(server.address, server.port)
    # An all-traffic rule (-1) for 127.0.0.0/8 admits any port.
    aws["ec2"].authorize_security_group_ingress(
        GroupId=group, IpPermissions=[{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "127.0.0.0/8"}]}]
    )
    with dial(server.address, server.port) as sock:
        assert talk(sock, "x") == "127.0.0.1 x"


def test_default_group_admits_only_its_members(aws: dict[str, Any], network: Any, echo: EchoBackend) -> None:
    # No VpcSecurityGroupIds: the instance lands in the VPC's default group.
    server = front_for(network, aws, echo, "db1", None)
    other = front_for(network, aws, echo, "db2", None)
    assert refused(server.address, server.port)
    # db2 is a member of the default group too: it is admitted from its own address.
    with dial(server.address, server.port, source=other.address) as sock:
        assert talk(sock, "from-member") == "127.0.0.1 from-member"


def app_and_db_groups(aws: dict[str, Any]) -> tuple[str, str]:
    """Groups ``app`` and ``db``, ``db`` admitting the members of ``app`` on 3306; returns their ids."""
    app_group = new_group(aws, "app")
    db_group = new_group(aws, "db")
    aws["ec2"].authorize_security_group_ingress(
        GroupId=db_group,
        IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 3306, "ToPort": 3306, "UserIdGroupPairs": [{"GroupId": app_group}]}
        ],
    )
    return app_group, db_group


def test_group_reference_admits_members_only(aws: dict[str, Any], network: Any, echo: EchoBackend) -> None:
    app_group, db_group = app_and_db_groups(aws)
    target = front_for(network, aws, echo, "target", [db_group])
    member = front_for(network, aws, echo, "member", [app_group])
    outsider = front_for(network, aws, echo, "outsider", [new_group(aws, "other")])
    with dial(target.address, target.port, source=member.address) as sock:
        assert talk(sock, "m") == "127.0.0.1 m"
    assert refused(target.address, target.port, source=outsider.address)
    assert refused(target.address, target.port)
    # A registered client (a DMS replication instance) in the app group is a member too.
    network.groups.register_client("127.20.0.7", ["app", app_group])
    with dial(target.address, target.port, source="127.20.0.7") as sock:
        assert talk(sock, "dms") == "127.0.0.1 dms"
    network.groups.unregister_client("127.20.0.7")
    assert refused(target.address, target.port, source="127.20.0.7")


def test_replication_instance_is_a_member_of_its_groups(aws: dict[str, Any], network: Any, echo: EchoBackend) -> None:
    from moto.dms.models import dms_backends

    app_group, db_group = app_and_db_groups(aws)
    target = front_for(network, aws, echo, "target", [db_group])
    dms = boto3.client("dms", region_name="us-east-1", aws_access_key_id="t", aws_secret_access_key="t")
    ri = dms.create_replication_instance(
        ReplicationInstanceIdentifier="ri", ReplicationInstanceClass="dms.t3.medium", VpcSecurityGroupIds=[app_group]
    )["ReplicationInstance"]
    # dp-dms gives each replication instance a 127.20.x.y private address; do the same here.
    model = next(
        r
        for r in dms_backends["123456789012"]["us-east-1"].replication_instances.values()
        if r.arn == ri["ReplicationInstanceArn"]
    )
    model.private_ip_addresses = ["127.20.0.8"]
    with dial(target.address, target.port, source="127.20.0.8") as sock:
        assert talk(sock, "ri") == "127.0.0.1 ri"
    dms.modify_replication_instance(
        ReplicationInstanceArn=ri["ReplicationInstanceArn"],
        VpcSecurityGroupIds=[new_group(aws, "elsewhere")],
        ApplyImmediately=True,
    )
    assert refused(target.address, target.port, source="127.20.0.8")


# --------------------------------------------------------------------------- connection tracking


def test_established_connection_survives_rule_revocation(aws: dict[str, Any], network: Any, echo: EchoBackend) -> None:
    group = client_security_group(aws["ec2"], "clients", ports=(3306,))
    server = front_for(network, aws, echo, "db1", [group])
    with dial(server.address, server.port) as before:
        assert talk(before, "one") == "127.0.0.1 one"
        aws["ec2"].revoke_security_group_ingress(
            GroupId=group,
            IpPermissions=[
                {"IpProtocol": "tcp", "FromPort": 3306, "ToPort": 3306, "IpRanges": [{"CidrIp": "127.0.0.1/32"}]}
            ],
        )
        assert refused(server.address, server.port), "a new connection must be refused after the revocation"
        assert talk(before, "two") == "127.0.0.1 two", "the tracked connection must keep working"


def test_established_connection_survives_group_swap(aws: dict[str, Any], network: Any, echo: EchoBackend) -> None:
    open_group = client_security_group(aws["ec2"], "clients", ports=(3306,))
    closed_group = new_group(aws, "closed")
    server = front_for(network, aws, echo, "db1", [open_group])
    with dial(server.address, server.port) as before:
        assert talk(before, "one") == "127.0.0.1 one"
        aws["rds"].modify_db_instance(
            DBInstanceIdentifier="db1", VpcSecurityGroupIds=[closed_group], ApplyImmediately=True
        )
        assert refused(server.address, server.port)
        assert talk(before, "two") == "127.0.0.1 two"
        # Swapping back admits new connections again.
        aws["rds"].modify_db_instance(
            DBInstanceIdentifier="db1", VpcSecurityGroupIds=[open_group], ApplyImmediately=True
        )
        with dial(server.address, server.port) as after:
            assert talk(after, "three") == "127.0.0.1 three"


def test_refused_connection_held_silent_when_configured(aws: dict[str, Any], network: Any, echo: EchoBackend) -> None:
    network.refuse_hold_seconds = 0.6
    server = front_for(network, aws, echo, "db1", [new_group(aws, "closed")])
    with dial(server.address, server.port) as sock:
        sock.settimeout(0.3)
        with pytest.raises(TimeoutError):
            sock.recv(10)  # nothing comes back: the client's own timeout fires, as on AWS
        sock.settimeout(3)
        t0 = time.monotonic()
        assert sock.recv(10) == b""
        assert time.monotonic() - t0 < 2


# --------------------------------------------------------------------------- server events


def test_server_down_drops_connections_and_up_reopens(aws: dict[str, Any], network: Any, echo: EchoBackend) -> None:
    group = client_security_group(aws["ec2"], "clients", ports=(3306,))
    server = front_for(network, aws, echo, "db1", [group])
    conns = [dial(server.address, server.port) for _ in range(3)]
    try:
        for i, sock in enumerate(conns):
            assert talk(sock, f"c{i}") == f"127.0.0.1 c{i}"
        t0 = time.monotonic()
        network.server_down(server)
        assert time.monotonic() - t0 < 3, "closing must be bounded"
        for sock in conns:
            assert talk(sock, "after") == ""
        with pytest.raises(OSError):
            dial(server.address, server.port).close()
        assert threading.active_count() < 50
        network.server_up(server)
        with dial(server.address, server.port) as sock:
            assert talk(sock, "again") == "127.0.0.1 again"
    finally:
        for sock in conns:
            sock.close()


def test_rename_keeps_address(aws: dict[str, Any], network: Any, echo: EchoBackend) -> None:
    group = client_security_group(aws["ec2"], "clients", ports=(3306,))
    server = front_for(network, aws, echo, "db1", [group])
    network.server_down(server)
    server.identifier = "db1-renamed"
    network.server_renamed(server, "db1")
    network.server_up(server)
    with dial(server.address, server.port) as sock:
        assert talk(sock, "r") == "127.0.0.1 r"


def test_a_front_that_cannot_listen_is_reported(aws: dict[str, Any], network: Any, echo: EchoBackend) -> None:
    squatter = socket.socket()
    address = _new_address()
    squatter.bind((address, 3306))
    squatter.listen(1)
    try:
        server = FakeServer("db1", make_instance(aws, "db1", None), address, 3306, "127.0.0.1", echo.port)
        with pytest.raises(OSError):
            network.server_up(server)
        described = network.describe()
        assert described["fronts"] == []
        assert address in described["bind_errors"][server.resource_id]
    finally:
        squatter.close()
    network.server_up(server)
    described = network.describe()
    assert described["bind_errors"] == {}
    assert [(f["identifier"], f["address"], f["port"]) for f in described["fronts"]] == [("db1", address, 3306)]


# --------------------------------------------------------------------------- relays


def test_relay_source_address_is_visible(aws: dict[str, Any], network: Any, echo: EchoBackend) -> None:
    # Straight to a backend: the backend sees the relay's source address.
    host, port = network.relay("127.20.0.9", "127.0.0.1", echo.port)
    assert network.relay("127.20.0.9", "127.0.0.1", echo.port) == (host, port), "one relay per destination"
    with dial(host, port) as sock:
        assert talk(sock, "via-relay") == "127.20.0.9 via-relay"
    # Through a front: admission is decided on 127.20.0.9, not on the relay's client (127.0.0.1).
    group = new_group(aws, "dms-only")
    allow_client(aws["ec2"], group, 3306, cidr="127.20.0.9/32")
    server = front_for(network, aws, echo, "db1", [group])
    assert refused(server.address, server.port)
    host, port = network.relay("127.20.0.9", server.address, server.port)
    with dial(host, port) as sock:
        assert talk(sock, "dms") == "127.0.0.1 dms"
    # server_down reaches connections made through a relay too.
    with dial(host, port) as sock:
        assert talk(sock, "x") == "127.0.0.1 x"
        network.server_down(server)
        assert talk(sock, "y") == ""


# --------------------------------------------------------------------------- real servers, real emulator


@pytest.fixture()
def dp(dp_emu: EmulatorClient) -> dict[str, Any]:
    """The session's reset data-plane emulator (conftest ``dp_emu``) and its clients."""
    return {"emu": dp_emu, "rds": aws_client("rds", dp_emu.url), "ec2": aws_client("ec2", dp_emu.url)}


def wait_available(dp: dict[str, Any], ident: str, timeout: float = 180) -> dict[str, Any]:
    """Poll until the instance is ``available`` (its server is up behind its front)."""
    deadline = time.monotonic() + timeout
    while True:
        db = dp["rds"].describe_db_instances(DBInstanceIdentifier=ident)["DBInstances"][0]
        if db["DBInstanceStatus"] == "available":
            return dict(db)
        if db["DBInstanceStatus"] == "failed":
            errors = [s.get("error") for s in dp["emu"].dataplane()["servers"] if s["identifier"] == ident]
            raise AssertionError(f"{ident} failed: {errors}")
        assert time.monotonic() < deadline, f"{ident} is still {db['DBInstanceStatus']}"
        time.sleep(0.1)


def resolve(emu: Any, name: str) -> str:
    """The A record of ``name`` from the emulator's DNS."""
    import dns.message
    import dns.query

    where = emu.dns()
    reply = dns.query.udp(dns.message.make_query(name, "A"), where["host"], port=where["port"], timeout=3)
    addresses = [r.to_text() for rrset in reply.answer for r in rrset if rrset.rdtype == 1]
    assert addresses, f"{name} does not resolve"
    return addresses[-1]


def create_db(dp: dict[str, Any], ident: str, engine: str, groups: list[str]) -> tuple[str, int]:
    """Create an instance with ``groups``, wait for it, and return its resolved (address, port)."""
    request_instance(dp["rds"], ident, engine, VpcSecurityGroupIds=groups)
    db = wait_available(dp, ident)
    address = resolve(dp["emu"], db["Endpoint"]["Address"])
    front = assert_own_front(dp["emu"], ident)
    assert (front["address"], front["port"]) == (address, int(db["Endpoint"]["Port"]))
    return address, int(db["Endpoint"]["Port"])


@pytest.mark.dataplane
def test_mariadb_session_keeps_writing_across_sg_changes_while_new_ones_are_refused(dp: dict[str, Any]) -> None:
    import pymysql

    ec2, rds = dp["ec2"], dp["rds"]
    group = client_security_group(ec2, "clients")
    closed = client_security_group(ec2, "closed", ports=())
    address, port = create_db(dp, "ledger", "mysql", [group])
    assert address.startswith("127.10.") and port == 3306

    def connect() -> Any:
        return pymysql.connect(
            host=address, port=port, user="admin", password="not-a-secret-1", connect_timeout=5, autocommit=True
        )

    session = connect()
    with session.cursor() as cur:
        cur.execute("CREATE DATABASE app")
        cur.execute("CREATE TABLE app.t (id INT PRIMARY KEY)")
        cur.execute("INSERT INTO app.t VALUES (1)")
    ec2.revoke_security_group_ingress(
        GroupId=group,
        IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 3306, "ToPort": 3306, "IpRanges": [{"CidrIp": "127.0.0.1/32"}]}
        ],
    )
    with pytest.raises(pymysql.err.OperationalError):
        connect()
    with session.cursor() as cur:
        cur.execute("INSERT INTO app.t VALUES (2)")
    rds.modify_db_instance(DBInstanceIdentifier="ledger", VpcSecurityGroupIds=[closed], ApplyImmediately=True)
    with session.cursor() as cur:
        cur.execute("INSERT INTO app.t VALUES (3)")
        cur.execute("SELECT COUNT(*) FROM app.t")
        assert cur.fetchone() == (3,)
    # A reboot drops the session (once the modification is over: RDS refuses a reboot while modifying).
    wait_available(dp, "ledger")
    rds.reboot_db_instance(DBInstanceIdentifier="ledger")
    assert_session_dropped(session)
    wait_available(dp, "ledger")
    allow_client(ec2, closed, 3306)
    with connect() as again, again.cursor() as cur:
        cur.execute("SELECT COUNT(*) FROM app.t")
        assert cur.fetchone() == (3,)


@pytest.mark.dataplane
def test_postgres_stop_and_delete_drop_sessions(dp: dict[str, Any]) -> None:
    import psycopg

    ec2, rds = dp["ec2"], dp["rds"]
    group = client_security_group(ec2, "clients")
    address, port = create_db(dp, "pg", "postgres", [group])
    assert port == 5432

    def connect() -> Any:
        return psycopg.connect(
            host=address,
            port=port,
            user="admin",
            password="not-a-secret-1",
            dbname="postgres",
            connect_timeout=5,
            autocommit=True,
        )

    def dropped(conn: Any) -> bool:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                conn.execute("SELECT 1")
            except psycopg.OperationalError:
                return True
            time.sleep(0.05)
        return False

    session = connect()
    assert session.execute("SELECT 1").fetchone() == (1,)
    # From another address (outside 127.0.0.1/32) a new connection is closed unanswered, while
    # from 127.0.0.1 the server waits for the client's start-up packet.
    assert closed_unanswered(address, port, source="127.0.0.9")
    assert not closed_unanswered(address, port)
    rds.stop_db_instance(DBInstanceIdentifier="pg")
    assert dropped(session)
    session.close()
    deadline = time.monotonic() + 180
    while rds.describe_db_instances(DBInstanceIdentifier="pg")["DBInstances"][0]["DBInstanceStatus"] != "stopped":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    rds.start_db_instance(DBInstanceIdentifier="pg")
    wait_available(dp, "pg")
    session = connect()
    assert session.execute("SELECT 2").fetchone() == (2,)
    rds.delete_db_instance(DBInstanceIdentifier="pg", SkipFinalSnapshot=True)
    assert dropped(session)
    session.close()


def test_relay_starts_the_network_when_the_data_plane_is_on(monkeypatch: pytest.MonkeyPatch, echo: EchoBackend) -> None:
    from rdsemu.dataplane import DATAPLANE, net

    monkeypatch.setattr(net, "NETWORK", None)
    monkeypatch.setattr(DATAPLANE, "_listeners", [])
    monkeypatch.setattr(DATAPLANE, "enabled", False)
    with pytest.raises(RuntimeError):
        net.relay("127.20.0.11", "127.0.0.1", echo.port)
    monkeypatch.setattr(DATAPLANE, "enabled", True)
    host, port = net.relay("127.20.0.11", "127.0.0.1", echo.port)
    started = net.NETWORK
    try:
        assert started is not None and DATAPLANE._listeners == [started]
        with dial(host, port) as sock:
            assert talk(sock, "auto") == "127.20.0.11 auto"
    finally:
        assert started is not None
        started.close()
