"""Which address a request came from, when reverse proxies stand in front.

The client address is what the audit trail records as ``sourceIPAddress``
and what ``aws:SourceIp`` conditions test, so it is taken from
``X-Forwarded-For`` only when the TCP peer is a configured trusted proxy
(``--trusted-proxies``). The header is then read from the right: each proxy
appends the address it received the request from, so the first address
that is not itself a trusted proxy is the client; anything to its left was
written by that client and proves nothing. ``X-Forwarded-Proto: https``
from a trusted proxy marks the request as received over TLS (for
``aws:SecureTransport``).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass

from strongroom.config import ProxyNetwork, proxy_entries


@dataclass(frozen=True)
class TrustedProxies:
    everyone: bool
    networks: tuple[ProxyNetwork, ...]

    @classmethod
    def parse(cls, spec: str) -> TrustedProxies | None:
        """``"10.0.0.1, 192.168.0.0/16"`` or ``"*"``; None when empty.
        Entries that are not addresses or networks are ignored (the server
        command refuses them before it starts: config.invalid_proxy_entries)."""
        everyone, networks, _ = proxy_entries(spec)
        if not everyone and not networks:
            return None
        return cls(everyone, tuple(networks))

    def trusts(self, address: str) -> bool:
        if self.everyone:
            return True
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in self.networks)

    def resolve(self, peer: str, secure: bool, headers: Mapping[str, str]) -> tuple[str, bool]:
        """(client address, received over TLS) for a request from ``peer``."""
        if not self.trusts(peer):
            return peer, secure
        proto = headers.get("x-forwarded-proto")
        if proto is not None:
            # The last value is the one our proxy set.
            last = proto.rsplit(",", 1)[-1].strip().lower()
            if last in ("http", "https"):
                secure = last == "https"
        forwarded = headers.get("x-forwarded-for")
        if not forwarded:
            return peer, secure
        hops = [_host(h) for h in forwarded.split(",")]
        hops = [h for h in hops if h]
        for hop in reversed(hops):
            if not self.trusts(hop):
                return hop, secure
        return (hops[0] if hops else peer), secure


def _host(hop: str) -> str:
    """An X-Forwarded-For entry without its port: ``1.2.3.4:80`` and
    ``[::1]:80`` name 1.2.3.4 and ::1."""
    hop = hop.strip()
    if hop.startswith("["):
        end = hop.find("]")
        return hop[1:end] if end > 0 else hop
    if hop.count(":") == 1:
        return hop.split(":", 1)[0]
    return hop
