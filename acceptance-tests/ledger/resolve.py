"""Name resolution as an application does it: through a DNS server, caching each answer for its TTL.

``DnsResolver`` asks the emulator's DNS server (``GET /_emulator/dns`` -> ``{"host", "port"}``)
with dnspython and keeps the answer until its TTL expires, as a JVM (``networkaddress.cache.ttl``
honouring DNS TTLs) or a pgbouncer-style pooler does. dnspython follows a CNAME chain inside
the answer and sets the answer's expiry from the smallest TTL along it. A cached answer is used
even when the record changed meanwhile: that staleness is what an application really sees
during a DNS cutover. TTLs are the DNS server's, counted in real seconds.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from dataclasses import dataclass


@dataclass(frozen=True)
class Lookup:
    """One query that reached the DNS server (cache hits are not lookups)."""

    name: str
    address: str
    ttl: float
    mono: float


class Resolver:
    """Maps a name to an IPv4 address."""

    def resolve(self, name: str) -> str:
        """The address to dial for ``name``."""
        raise NotImplementedError


class StaticResolver(Resolver):
    """A fixed map (names not in it are returned as they are, e.g. literal addresses)."""

    def __init__(self, mapping: dict[str, str] | None = None) -> None:
        self.mapping = dict(mapping or {})

    def resolve(self, name: str) -> str:
        """The mapped address, or ``name`` itself."""
        return self.mapping.get(name, name)


class DnsResolver(Resolver):
    """A TTL-honouring cache in front of one DNS server (UDP, then TCP if truncated)."""

    def __init__(self, host: str, port: int, timeout: float = 2.0) -> None:
        import dns.resolver

        self._resolver = dns.resolver.Resolver(configure=False)
        self._resolver.nameservers = [host]
        self._resolver.port = port
        self._resolver.timeout = timeout
        self._resolver.lifetime = timeout * 2
        self._lock = threading.Lock()
        self._cache: dict[str, tuple[str, float]] = {}  # name -> (address, monotonic expiry)
        self.lookups: list[Lookup] = []

    @classmethod
    def from_emulator(cls, url: str, timeout: float = 2.0) -> DnsResolver:
        """The resolver for the emulator at ``url`` (its ``GET /_emulator/dns``)."""
        with urllib.request.urlopen(f"{url.rstrip('/')}/_emulator/dns", timeout=10) as response:
            where = json.loads(response.read())
        return cls(str(where["host"]), int(where["port"]), timeout=timeout)

    def resolve(self, name: str) -> str:
        """The cached address while its TTL lasts, else a fresh query (the first A record)."""
        now = time.monotonic()
        with self._lock:
            cached = self._cache.get(name)
            if cached is not None and now < cached[1]:
                return cached[0]
        answer = self._resolver.resolve(name, "A", search=False)
        address = str(answer[0].address)  # type: ignore[attr-defined]
        # ``expiration`` is wall-clock (time.time()) based: keep the remaining TTL, on the monotonic clock.
        ttl = max(0.0, float(answer.expiration) - time.time())
        got = time.monotonic()
        with self._lock:
            self._cache[name] = (address, got + ttl)
            self.lookups.append(Lookup(name, address, ttl, got))
        return address

    def forget(self) -> None:
        """Drop every cached answer (an application restart)."""
        with self._lock:
            self._cache.clear()
