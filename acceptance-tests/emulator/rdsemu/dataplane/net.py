"""The network of the data plane: a TCP front per running DB server, admitting new connections
by the instance's VPC security groups, and relays that let an emulated client (DMS) connect
from its own loopback address.

AWS behaviour modelled (sources in the emulator README, "Data plane: network"):

- A new connection is admitted only if an inbound rule of one of the instance's VPC security
  groups admits its source address on the instance's port: ``tcp`` or ``-1`` (all) rules whose
  port range holds the port, with a CIDR that holds the source address or a referenced group
  that the source is a member of (EC2 User Guide, "Security group rules").
- The VPC's default security group admits its own members (Amazon VPC User Guide, "Default
  security groups for your VPCs"). moto creates the default group with no inbound rule, so
  the self-reference is applied implicitly here. An instance with no group admits nothing.
- Security groups are stateful: a connection already admitted is tracked and is not
  interrupted when a rule (or the instance's group list) changes (EC2 User Guide, "Amazon EC2
  security group connection tracking"). Here the decision is taken once, at accept time.
- Stop, reboot, rename and delete drop every connection of the instance (``server_down``).

A refused connection differs from AWS on the wire: AWS drops the packets and the client's
connect times out; here the front accepts and closes at once, so the client sees an immediate
EOF/reset. ``Network.refuse_hold_seconds`` (> 0) holds a refused connection silent for that
many seconds before closing it, which makes a client's handshake read time out as on AWS.
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import selectors
import socket
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

LOG = logging.getLogger("rdsemu.dataplane.net")

#: Bytes read per ``recv`` when forwarding.
CHUNK = 65536
#: Seconds a pump or accept loop waits before it rechecks whether it was closed.
POLL = 0.5
#: Seconds allowed to connect to the real server behind a front (loopback: instant or refused).
BACKEND_CONNECT_TIMEOUT = 5.0
#: Most connections one front or relay serves at once (bounded threads).
MAX_CONNECTIONS = 256


def accept_until(sock: socket.socket, stopped: threading.Event, handle: Callable[[socket.socket, Any], None]) -> None:
    """Hand each connection accepted on ``sock`` (listening, with a timeout) to ``handle`` until
    ``stopped`` is set or the socket is closed (the tests' fake servers accept this way too).
    """
    while not stopped.is_set():
        try:
            client, peer = sock.accept()
        except TimeoutError:
            continue
        except OSError:
            return
        handle(client, peer)


class ServerLike(Protocol):
    """What the network needs of a ``servers.DbServer``."""

    identifier: str
    resource_id: str
    address: str
    port: int
    internal_host: str
    internal_port: int


# --------------------------------------------------------------------------- security groups


@dataclass
class ClientMember:
    """A non-RDS member of security groups (a DMS replication instance): its address and a
    callable giving its current group ids.
    """

    address: str
    groups: Callable[[], Iterable[str]]


def _db_instances() -> list[Any]:
    """Every moto DB instance that is not deleted, across accounts and regions."""
    from moto.rds.models import rds_backends

    found: list[Any] = []
    for _account, regions in list(rds_backends.items()):
        for _region, backend in list(regions.items()):
            found.extend(db for db in list(backend.databases.values()) if getattr(db, "status", "") != "deleted")
    return found


def _ec2_backend(account_id: str, region: str) -> Any:
    from moto.ec2.models import ec2_backends

    return ec2_backends[account_id][region]


class SecurityGroups:
    """Evaluates the inbound rules of moto's EC2 security groups for a DB server."""

    def __init__(self, server_address: Callable[[str], str | None]) -> None:
        """``server_address(resource_id)`` gives a DB instance's loopback address, if it has one."""
        self._server_address = server_address
        self._clients: dict[str, ClientMember] = {}
        self._lock = threading.Lock()

    # -- registry of non-RDS members (dp-dms) ------------------------------------------
    def register_client(self, address: str, groups: Callable[[], Iterable[str]] | Iterable[str]) -> None:
        """Declare ``address`` a member of ``groups`` (a list, or a callable read at each check,
        so a ModifyReplicationInstance of its VpcSecurityGroupIds applies to new connections).
        """
        getter: Callable[[], Iterable[str]]
        if callable(groups):
            getter = groups
        else:
            fixed = list(groups)

            def getter() -> Iterable[str]:
                return fixed

        with self._lock:
            self._clients[address] = ClientMember(address, getter)

    def unregister_client(self, address: str) -> None:
        """Forget a client member (replication instance deleted)."""
        with self._lock:
            self._clients.pop(address, None)

    def clear_clients(self) -> None:
        """Forget every client member (emulator reset)."""
        with self._lock:
            self._clients.clear()

    # -- evaluation ---------------------------------------------------------------------
    @staticmethod
    def instance_of(resource_id: str) -> Any | None:
        """The moto DB instance with this DbiResourceId."""
        for db in _db_instances():
            if getattr(db, "dbi_resource_id", None) == resource_id:
                return db
        return None

    def members(self, group_id: str) -> set[str]:
        """Loopback addresses of the members of ``group_id``: DB instances with it in their
        VpcSecurityGroups and registered client members (replication instances).
        """
        addresses: set[str] = set()
        for db in _db_instances():
            if group_id in list(getattr(db, "vpc_security_group_ids", None) or []):
                address = self._server_address(db.dbi_resource_id)
                if address:
                    addresses.add(address)
        addresses.update(_replication_instance_members(group_id))
        with self._lock:
            clients = list(self._clients.values())
        for client in clients:
            try:
                if group_id in set(client.groups()):
                    addresses.add(client.address)
            except Exception:  # a member whose groups cannot be read is not a member
                LOG.exception("security-group membership of %s unreadable", client.address)
        return addresses

    def admits(self, resource_id: str, source_ip: str, port: int) -> tuple[bool, str]:
        """Whether a new TCP connection from ``source_ip`` to the instance's ``port`` is admitted,
        with a reason for the log.
        """
        db = self.instance_of(resource_id)
        if db is None:
            return False, "no such DB instance"
        group_ids = list(getattr(db, "vpc_security_group_ids", None) or [])
        if not group_ids:
            return False, "the instance has no VPC security group"
        ec2 = _ec2_backend(db.account_id, db.region)
        source = ipaddress.ip_address(source_ip)
        for group_id in group_ids:
            group = ec2.get_security_group_from_id(group_id)
            if group is None:
                continue
            if (
                getattr(group, "is_default", False)
                and not _has_self_rule(group)
                and source_ip in self.members(group.id)
            ):
                return True, f"{group_id}: default group admits its members"
            for rule in list(group.ingress_rules):
                if not _rule_covers_port(rule, port):
                    continue
                cidr = (rule.ip_range or {}).get("CidrIp")
                if cidr and source in ipaddress.ip_network(cidr, strict=False):
                    return True, f"{group_id}: {cidr}"
                ref = rule.source_group or {}
                ref_id = ref.get("GroupId")
                if not ref_id and ref.get("GroupName"):
                    named = ec2.get_security_group_from_name(ref["GroupName"], group.vpc_id)
                    ref_id = named.id if named is not None else None
                if ref_id and source_ip in self.members(ref_id):
                    return True, f"{group_id}: member of {ref_id}"
        return False, f"no inbound rule of {', '.join(group_ids)} admits {source_ip} on port {port}"


def _replication_instance_members(group_id: str) -> set[str]:
    """Loopback private addresses of moto's DMS replication instances in ``group_id``. An
    instance created without VpcSecurityGroupIds is in its VPC's default group, as on AWS
    (DMS API reference, CreateReplicationInstance ``VpcSecurityGroupIds``).
    """
    from moto.dms.models import dms_backends

    addresses: set[str] = set()
    for account, regions in list(dms_backends.items()):
        for region, backend in list(regions.items()):
            for ri in list(backend.replication_instances.values()):
                if getattr(ri, "status", "") == "deleted":
                    continue
                groups = [g.get("VpcSecurityGroupId") for g in list(getattr(ri, "vpc_security_groups", None) or [])]
                if not groups:
                    default = _ec2_backend(account, region).get_default_security_group()
                    groups = [default.id] if default is not None else []
                if group_id in groups:
                    addresses.update(
                        str(a)
                        for a in list(getattr(ri, "private_ip_addresses", None) or [])
                        if str(a).startswith("127.")
                    )
    return addresses


def _rule_covers_port(rule: Any, port: int) -> bool:
    """TCP rules whose range holds ``port``, or all-traffic (``-1``) rules."""
    if rule.ip_protocol == "-1":
        return True
    if rule.ip_protocol != "tcp":
        return False
    low = rule.from_port if rule.from_port is not None else 0
    high = rule.to_port if rule.to_port is not None else 65535
    return int(low) <= port <= int(high)


def _has_self_rule(group: Any) -> bool:
    """True if the group already has an explicit inbound rule referencing itself."""
    return any((r.source_group or {}).get("GroupId") == group.id for r in list(group.ingress_rules))


# --------------------------------------------------------------------------- forwarding


class _Pair:
    """One forwarded connection: client socket <-> upstream socket, pumped by one thread."""

    def __init__(self, client: socket.socket, upstream: socket.socket, on_done: Callable[[_Pair], None]) -> None:
        self.client = client
        self.upstream = upstream
        self._on_done = on_done
        self._closed = threading.Event()
        self.thread = threading.Thread(target=self._pump, name="dp-net-pair", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def close(self) -> None:
        """Drop both sides at once (RST-free shutdown; the pump notices and exits)."""
        if self._closed.is_set():
            return
        self._closed.set()
        for sock in (self.client, self.upstream):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def _pump(self) -> None:
        sel = selectors.DefaultSelector()
        try:
            sel.register(self.client, selectors.EVENT_READ, self.upstream)
            sel.register(self.upstream, selectors.EVENT_READ, self.client)
            while not self._closed.is_set():
                for key, _ in sel.select(timeout=POLL):
                    src: socket.socket = key.fileobj  # type: ignore[assignment]
                    dst: socket.socket = key.data
                    try:
                        data = src.recv(CHUNK)
                    except OSError:
                        data = b""
                    if not data:
                        self._closed.set()
                        break
                    try:
                        dst.sendall(data)
                    except OSError:
                        self._closed.set()
                        break
        finally:
            sel.close()
            self._closed.set()
            for sock in (self.client, self.upstream):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                with contextlib.suppress(OSError):
                    sock.close()
            self._on_done(self)


class _Listener:
    """A listening socket with an accept thread and the pairs it serves."""

    def __init__(self, name: str, bind: tuple[str, int]) -> None:
        self.name = name
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            self.sock.bind(bind)
            self.sock.listen(64)
        except OSError:
            self.sock.close()
            raise
        self.sock.settimeout(POLL)
        self.pairs: set[_Pair] = set()
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self.thread = threading.Thread(target=self._accept_loop, name=f"dp-net-{name}", daemon=True)

    @property
    def bound(self) -> tuple[str, int]:
        host, port = self.sock.getsockname()[:2]
        return str(host), int(port)

    def start(self) -> None:
        self.thread.start()

    def _accept_loop(self) -> None:
        accept_until(self.sock, self._stopped, self._accepted)

    def _accepted(self, client: socket.socket, peer: tuple[str, int]) -> None:
        client.settimeout(None)
        with self._lock:
            busy = len(self.pairs) >= MAX_CONNECTIONS
        if busy:
            LOG.warning("%s: %d connections already, refusing %s", self.name, MAX_CONNECTIONS, peer)
            with contextlib.suppress(OSError):
                client.close()
            return
        try:
            self.handle(client, peer)
        except Exception:
            LOG.exception("%s: handling %s failed", self.name, peer)
            with contextlib.suppress(OSError):
                client.close()

    def handle(self, client: socket.socket, peer: tuple[str, int]) -> None:
        """Admit or refuse one accepted connection (subclasses)."""
        raise NotImplementedError

    def forward(self, client: socket.socket, upstream_target: tuple[str, int], source_ip: str | None = None) -> None:
        """Connect upstream (from ``source_ip`` if given) and start pumping; on failure close the client."""
        upstream = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            if source_ip is not None:
                upstream.bind((source_ip, 0))
            upstream.settimeout(BACKEND_CONNECT_TIMEOUT)
            upstream.connect(upstream_target)
            upstream.settimeout(None)
        except OSError as exc:
            LOG.info("%s: upstream %s unreachable: %s", self.name, upstream_target, exc)
            with contextlib.suppress(OSError):
                upstream.close()
            with contextlib.suppress(OSError):
                client.close()
            return
        for sock in (client, upstream):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        pair = _Pair(client, upstream, self._forget)
        with self._lock:
            if self._stopped.is_set():
                pair.close()
            self.pairs.add(pair)
        pair.start()

    def _forget(self, pair: _Pair) -> None:
        with self._lock:
            self.pairs.discard(pair)

    def drop_connections(self) -> int:
        """Drop every forwarded connection; returns how many there were."""
        with self._lock:
            pairs = list(self.pairs)
        for pair in pairs:
            pair.close()
        return len(pairs)

    def close(self, wait: float = 5.0) -> None:
        """Stop accepting, drop every connection and wait (bounded) for the threads."""
        self._stopped.set()
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)  # wakes a blocked accept() at once on Linux
        with contextlib.suppress(OSError):
            self.sock.close()
        with self._lock:
            pairs = list(self.pairs)
        for pair in pairs:
            pair.close()
        deadline = time.monotonic() + wait
        if self.thread.is_alive() and self.thread is not threading.current_thread():
            self.thread.join(max(0.0, deadline - time.monotonic()))
        for pair in pairs:
            pair.thread.join(max(0.0, deadline - time.monotonic()))


class Front(_Listener):
    """The endpoint of one DB server: (address, port), security groups applied at accept."""

    def __init__(self, network: Network, server: ServerLike) -> None:
        self.network = network
        self.server = server
        self.refused = 0
        self.admitted = 0
        super().__init__(f"front-{server.identifier}", (server.address, int(server.port)))

    def handle(self, client: socket.socket, peer: tuple[str, int]) -> None:
        """Admit by security groups (decided once: connection tracking) or refuse."""
        source_ip = peer[0]
        ok, why = self.network.groups.admits(self.server.resource_id, source_ip, int(self.server.port))
        if not ok:
            self.refused += 1
            LOG.info("%s: refused %s:%s (%s)", self.name, source_ip, peer[1], why)
            self.network.refuse(client)
            return
        self.admitted += 1
        self.forward(client, (self.server.internal_host, int(self.server.internal_port)))


class Relay(_Listener):
    """A local listener whose connections go to ``dst`` from a socket bound to ``src_ip``."""

    def __init__(self, src_ip: str, dst: tuple[str, int]) -> None:
        self.src_ip = src_ip
        self.dst = dst
        # Listen on the source address itself: any 127/8 address is local, and it keeps the
        # relay visibly tied to the client it stands for.
        super().__init__(f"relay-{src_ip}-{dst[0]}:{dst[1]}", (src_ip, 0))

    def handle(self, client: socket.socket, peer: tuple[str, int]) -> None:
        """Forward from the relay's source address."""
        self.forward(client, self.dst, source_ip=self.src_ip)


@dataclass
class Network:
    """Fronts per server and relays; the ``DATAPLANE`` listener for server events."""

    refuse_hold_seconds: float = 0.0
    fronts: dict[str, Front] = field(default_factory=dict)  # resource id -> front
    relays: dict[tuple[str, str, int], Relay] = field(default_factory=dict)
    bind_errors: dict[str, str] = field(default_factory=dict)  # resource id -> why its front is not listening
    groups: SecurityGroups = field(init=False)
    _lock: threading.RLock = field(default_factory=threading.RLock)

    def __post_init__(self) -> None:
        self.groups = SecurityGroups(self._address_of)

    def _address_of(self, resource_id: str) -> str | None:
        """The instance's address: its front's, else the registry's (a stopped server keeps it)."""
        front = self.fronts.get(resource_id)
        if front is not None:
            return str(front.server.address)
        from . import DATAPLANE

        server = DATAPLANE.servers.by_resource_id(resource_id) if DATAPLANE.enabled else None
        return str(server.address) if server is not None else None

    # -- listener hooks -------------------------------------------------------------------
    def server_up(self, server: ServerLike) -> None:
        """Open (or reopen) the server's front."""
        with self._lock:
            old = self.fronts.pop(server.resource_id, None)
            if old is not None:
                old.close()
            try:
                front = Front(self, server)
            except OSError as exc:
                # Typically another emulator's front holds the address (two --data-plane
                # emulators on one host): clients would reach a foreign server. Make it visible.
                self.bind_errors[server.resource_id] = f"{server.address}:{server.port}: {exc}"
                raise
            self.bind_errors.pop(server.resource_id, None)
            self.fronts[server.resource_id] = front
            front.start()
        LOG.info("front %s listening on %s:%s", server.identifier, server.address, server.port)

    def server_down(self, server: ServerLike) -> None:
        """Close the server's front: every connection drops, new ones are refused by the OS."""
        with self._lock:
            front = self.fronts.pop(server.resource_id, None)
        if front is not None:
            front.close()

    def server_renamed(self, server: ServerLike, old_identifier: str) -> None:
        """The address stays with the instance across a rename; only the front's name changes."""
        with self._lock:
            front = self.fronts.get(server.resource_id)
            if front is not None:
                front.name = f"front-{server.identifier}"

    def describe(self) -> dict[str, Any]:
        """``GET /_emulator/network``: fronts (with admitted/refused counts), bind errors, relays."""
        with self._lock:
            fronts = [
                {
                    "identifier": f.server.identifier,
                    "resource_id": rid,
                    "address": f.server.address,
                    "port": int(f.server.port),
                    "connections": len(f.pairs),
                    "admitted": f.admitted,
                    "refused": f.refused,
                }
                for rid, f in self.fronts.items()
            ]
            relays = [
                {"source": k[0], "destination": f"{k[1]}:{k[2]}", "listen": f"{r.bound[0]}:{r.bound[1]}"}
                for k, r in self.relays.items()
            ]
            return {"fronts": fronts, "bind_errors": dict(self.bind_errors), "relays": relays}

    # -- refusal ----------------------------------------------------------------------------
    def refuse(self, client: socket.socket) -> None:
        """Close a refused connection without sending data (after a silent hold, if configured)."""
        hold = self.refuse_hold_seconds
        if hold <= 0:
            with contextlib.suppress(OSError):
                client.close()
            return

        def close_later() -> None:
            with contextlib.suppress(OSError):
                client.close()

        timer = threading.Timer(hold, close_later)
        timer.daemon = True
        timer.start()

    # -- relays -----------------------------------------------------------------------------
    def relay(self, src_ip: str, dst_ip: str, dst_port: int) -> tuple[str, int]:
        """A (host, port) to dial so that the connection reaches (dst_ip, dst_port) from src_ip.
        One relay per (src, dst, port), kept until :meth:`close`.
        """
        key = (src_ip, dst_ip, int(dst_port))
        with self._lock:
            relay = self.relays.get(key)
            if relay is None:
                relay = Relay(src_ip, (dst_ip, int(dst_port)))
                self.relays[key] = relay
                relay.start()
            return relay.bound

    def drop_relays(self, src_ip: str) -> None:
        """Close the relays of one client address (its replication instance is gone)."""
        with self._lock:
            keys = [k for k in self.relays if k[0] == src_ip]
            relays = [self.relays.pop(k) for k in keys]
        for relay in relays:
            relay.close()

    # -- life -------------------------------------------------------------------------------
    def reset(self) -> None:
        """Close every relay and forget client members (fronts follow their servers)."""
        with self._lock:
            relays = list(self.relays.values())
            self.relays.clear()
        for relay in relays:
            relay.close()
        self.groups.clear_clients()

    def close(self) -> None:
        """Close every front and relay (bounded)."""
        with self._lock:
            listeners: list[_Listener] = [*self.fronts.values(), *self.relays.values()]
            self.fronts.clear()
            self.relays.clear()
        for listener in listeners:
            listener.close(wait=2.0)


#: The process-wide network (started by :func:`start`).
NETWORK: Network | None = None
_START_LOCK = threading.Lock()


def start() -> Network:
    """Create the network and subscribe it to the data plane's server events (idempotent)."""
    global NETWORK
    from . import DATAPLANE

    with _START_LOCK:
        if NETWORK is None:
            net = Network()
            DATAPLANE.add_listener(net)
            for server in DATAPLANE.servers.all() if DATAPLANE.enabled else []:
                if getattr(server, "running", False):
                    try:
                        net.server_up(server)
                    except OSError:
                        LOG.exception("front of %s could not listen", server)
            NETWORK = net
        return NETWORK


def network() -> Network:
    """The running network; started on first use when the data plane is on (an in-process
    emulator that enabled the data plane without the launcher). Raises if the data plane is off.
    """
    if NETWORK is None:
        from . import DATAPLANE

        if not DATAPLANE.enabled:
            raise RuntimeError("the data-plane network is not started (emulator without --data-plane?)")
        return start()
    return NETWORK


def relay(src_ip: str, dst_ip: str, dst_port: int) -> tuple[str, int]:
    """Module-level :meth:`Network.relay` of the running network (the contract's ``net.relay``)."""
    return network().relay(src_ip, dst_ip, dst_port)


def register_client(address: str, groups: Callable[[], Iterable[str]] | Iterable[str]) -> None:
    """Module-level :meth:`SecurityGroups.register_client` (dp-dms: a replication instance)."""
    network().groups.register_client(address, groups)


def unregister_client(address: str) -> None:
    """Module-level :meth:`SecurityGroups.unregister_client`; also closes its relays."""
    net = network()
    net.groups.unregister_client(address)
    net.drop_relays(address)
