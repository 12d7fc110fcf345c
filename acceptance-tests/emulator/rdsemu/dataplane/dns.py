"""The DNS of the data plane: a UDP server on loopback that applications resolve through.

Answers (sources in the emulator README, "Data plane: DNS"):

- ``A`` for an RDS endpoint name (``<identifier>.<suffix>.<region>.rds.amazonaws.com``): the
  instance's loopback address, TTL :data:`RDS_ENDPOINT_TTL`. The name follows the instance's
  current identifier, so a rename moves it (the old name becomes NXDOMAIN).
- Route 53 records of moto's hosted zones (``CNAME``, ``A``, alias ``A``) with the record's TTL,
  as *published*: a change is served only once ``GetChange`` reports it ``INSYNC`` (the
  emulator's Route 53 patch keeps it ``PENDING`` for a scaled while); until then the previous
  value (or NXDOMAIN for a new name) is served.
- A ``CNAME`` answer carries the chased target's ``A`` record when the target is known here.
- Anything else: NXDOMAIN (``REFUSED`` for non-queries).
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
from dataclasses import dataclass
from typing import Any

import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset

LOG = logging.getLogger("rdsemu.dataplane.dns")

#: TTL of an RDS endpoint's A record. AWS documents 5 seconds for Aurora's endpoints; RDS DB
#: instance endpoints are observed with the same 5 seconds (not documented: a guess).
RDS_ENDPOINT_TTL = 5
#: Most CNAME hops chased in one answer.
MAX_CHASE = 8
#: Seconds the server loop waits before it rechecks whether it was stopped.
POLL = 0.5

#: A record set as served: (type, ttl, values, alias target DNS name or None).
Record = tuple[str, int, tuple[str, ...], str | None]
#: The records of one hosted zone: (lower-case name with trailing dot, type) -> Record.
ZoneView = dict[tuple[str, str], Record]


def _norm(name: str) -> str:
    name = name.lower()
    return name if name.endswith(".") else name + "."


def _zone_view(zone: Any) -> ZoneView:
    """The current records of a moto hosted zone (first record set per name and type)."""
    view: ZoneView = {}
    for rrset in list(getattr(zone, "rrsets", [])):
        rtype = str(rrset.type)
        if rtype not in ("A", "CNAME"):
            continue
        key = (_norm(str(rrset.name)), rtype)
        if key in view:
            continue
        alias = rrset.alias_target or None
        alias_name = _norm(str(alias.get("DNSName"))) if isinstance(alias, dict) and alias.get("DNSName") else None
        ttl = int(rrset.ttl) if rrset.ttl is not None else 0
        view[key] = (rtype, ttl, tuple(str(v) for v in (rrset.records or [])), alias_name)
    return view


@dataclass
class _Published:
    """One change of one zone: the zone's records after it, effective at ``INSYNC``."""

    change_id: str
    after: ZoneView


class Route53View:
    """What resolvers see of each hosted zone: moto's records as of the last ``INSYNC`` change."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        # zone id -> (zone object, records before the first tracked change, tracked changes)
        self._zones: dict[str, tuple[Any, ZoneView, list[_Published]]] = {}
        self._pending: threading.local = threading.local()

    def before_change(self, zone: Any) -> None:
        """Called (inside the moto call) before a ChangeResourceRecordSets batch is applied."""
        self._pending.entry = (zone, _zone_view(zone))

    def after_change(self, zone: Any) -> None:
        """Called after moto applied the batch: remember the zone's new records."""
        entry = getattr(self._pending, "entry", None)
        if entry is None or entry[0] is not zone:
            return
        self._pending.entry = (zone, entry[1], _zone_view(zone))

    def committed(self, change_id: str) -> None:
        """The response layer gave the batch its change id: track it."""
        entry = getattr(self._pending, "entry", None)
        self._pending.entry = None
        if entry is None or len(entry) != 3:
            return
        zone, before, after = entry
        with self._lock:
            known = self._zones.get(zone.id)
            if known is None or known[0] is not zone:
                known = (zone, before, [])
                self._zones[zone.id] = known
            known[2].append(_Published(change_id, after))

    def clear(self) -> None:
        """Forget every tracked change (emulator reset)."""
        with self._lock:
            self._zones.clear()

    def served(self, zone: Any) -> ZoneView:
        """The records resolvers get for ``zone`` now."""
        from ..state import STATE

        with self._lock:
            known = self._zones.get(zone.id)
            if known is None or known[0] is not zone:
                return _zone_view(zone)
            _, before, changes = known
            view = before
            synced = 0
            for i, change in enumerate(changes):
                with STATE.lock:
                    timeline = STATE.changes.get(change.change_id)
                # A change the emulator no longer knows (reset) counts as propagated.
                if timeline is None or timeline.done():
                    view = change.after
                    synced = i + 1
            if synced:
                # Changes INSYNC up to here are history: fold them into the base (bounded memory).
                self._zones[zone.id] = (zone, view, changes[synced:])
            return view


def _hosted_zones() -> list[Any]:
    from moto.route53.models import route53_backends

    zones: list[Any] = []
    for _account, regions in list(route53_backends.items()):
        for _region, backend in list(regions.items()):
            # Private zones too: the emulated clients are all "inside the VPC".
            zones.extend(list(backend.zones.values()))
    return zones


class DnsServer:
    """The UDP server and the resolution logic."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.route53 = Route53View()
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((host, port))
        self.sock.settimeout(POLL)
        self._stopped = threading.Event()
        self.thread = threading.Thread(target=self._serve, name="dp-dns", daemon=True)

    @property
    def address(self) -> tuple[str, int]:
        """The (host, port) the server is bound to."""
        host, port = self.sock.getsockname()[:2]
        return str(host), int(port)

    def start(self) -> None:
        """Serve in a daemon thread."""
        self.thread.start()

    def close(self) -> None:
        """Stop serving (bounded)."""
        self._stopped.set()
        self.thread.join(POLL * 4)
        with contextlib.suppress(OSError):
            self.sock.close()

    def _serve(self) -> None:
        while not self._stopped.is_set():
            try:
                wire, peer = self.sock.recvfrom(4096)
            except TimeoutError:
                continue
            except OSError:
                break
            try:
                reply = self.answer(wire)
            except Exception:
                LOG.exception("DNS query from %s failed", peer)
                continue
            if reply is not None:
                with contextlib.suppress(OSError):
                    self.sock.sendto(reply, peer)

    # -- resolution -------------------------------------------------------------------------
    def answer(self, wire: bytes) -> bytes | None:
        """The wire reply to one wire query (None for garbage)."""
        try:
            query = dns.message.from_wire(wire)
        except Exception:
            return None
        response = dns.message.make_response(query)
        response.flags |= dns.flags.AA
        if query.opcode() != 0 or len(query.question) != 1:
            response.set_rcode(dns.rcode.REFUSED)
            return bytes(response.to_wire())
        question = query.question[0]
        qname = question.name.to_text()
        rtype = dns.rdatatype.to_text(question.rdtype)
        records = self.resolve(qname, rtype)
        if records is None:
            response.set_rcode(dns.rcode.NXDOMAIN)
        for name, rec_type, ttl, values in records or []:
            response.answer.append(
                dns.rrset.from_text_list(
                    name, ttl, dns.rdataclass.IN, rec_type, [_norm(v) if rec_type == "CNAME" else v for v in values]
                )
            )
        return bytes(response.to_wire())

    def lookup(self, name: str) -> list[Record]:
        """Every record set of ``name`` (RDS endpoint or published Route 53 record)."""
        name = _norm(name)
        from . import DATAPLANE

        found: list[Record] = []
        if DATAPLANE.enabled:
            server = DATAPLANE.servers.by_hostname(name)
            if server is not None:
                found.append(("A", RDS_ENDPOINT_TTL, (str(server.address),), None))
        best: Any = None
        for zone in _hosted_zones():
            zone_name = _norm(str(zone.name))
            if (name == zone_name or name.endswith("." + zone_name)) and (
                best is None or len(zone_name) > len(_norm(str(best.name)))
            ):
                best = zone
        if best is not None:
            view = self.route53.served(best)
            for rtype in ("CNAME", "A"):
                record = view.get((name, rtype))
                if record is not None:
                    found.append(record)
        return found

    def resolve(self, qname: str, rtype: str) -> list[tuple[str, str, int, tuple[str, ...]]] | None:
        """Answer records for (qname, rtype): a list of (name, type, ttl, values), possibly
        empty (NOERROR, no data), or None (NXDOMAIN).
        """
        answers: list[tuple[str, str, int, tuple[str, ...]]] = []
        name = _norm(qname)
        for hop in range(MAX_CHASE):
            records = self.lookup(name)
            if not records:
                return answers if hop else None
            cname = next((r for r in records if r[0] == "CNAME"), None)
            if cname is not None and rtype != "CNAME":
                target = _norm(cname[2][0])
                answers.append((name, "CNAME", cname[1], (target,)))
                name = target
                continue
            for rec_type, ttl, values, alias in records:
                if rec_type != rtype and rtype != "ANY":
                    continue
                if alias is not None:
                    # Alias A: the target's addresses under this name, with the target's TTL.
                    chased = self.resolve(alias, "A") or []
                    for _n, t, ttl2, vals in chased:
                        if t == "A":
                            answers.append((name, "A", ttl2, vals))
                    continue
                answers.append((name, rec_type, ttl, values))
            return answers
        return answers


#: The process-wide DNS server (started by :func:`start`).
DNS: DnsServer | None = None
_patched = False


def _patch_route53(view_of: Any) -> None:
    """Record each ChangeResourceRecordSets batch's before/after records and its change id."""
    global _patched
    if _patched:
        return
    from moto.route53.models import Route53Backend
    from moto.route53.responses import Route53

    backend_change = Route53Backend.change_resource_record_sets
    response_change = Route53.change_resource_record_sets

    def change_resource_record_sets(self: Any, zoneid: str, change_list: list[dict[str, Any]]) -> None:
        zone = self.get_hosted_zone(zoneid)
        view_of().before_change(zone)
        backend_change(self, zoneid, change_list)
        view_of().after_change(zone)

    def respond(self: Any) -> Any:
        result = response_change(self)
        change_id = str(result.result["ChangeInfo"]["Id"]).rsplit("/", 1)[-1]
        view_of().committed(change_id)
        return result

    Route53Backend.change_resource_record_sets = change_resource_record_sets  # type: ignore[method-assign]
    Route53.change_resource_record_sets = respond  # type: ignore[method-assign]
    _patched = True


def start(host: str = "127.0.0.1", port: int = 0) -> DnsServer:
    """Start the DNS server (idempotent) and track Route 53 changes from now on."""
    global DNS
    if DNS is None:
        DNS = DnsServer(host, port)
        DNS.start()
        _patch_route53(lambda: DNS.route53 if DNS is not None else Route53View())
    return DNS


def address() -> dict[str, Any]:
    """``GET /_emulator/dns``: where the server listens."""
    if DNS is None:
        raise RuntimeError("DNS is not running (emulator started without --data-plane)")
    host, port = DNS.address
    return {"host": host, "port": port}
