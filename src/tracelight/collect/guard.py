"""The outbound-address guard: a crawler never fetches loopback, private, link-local or
otherwise non-public addresses unless the profile allows it (tests do, for 127.0.0.1)."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable

Resolver = Callable[[str], list[str]]


def resolve(host: str) -> list[str]:
    """Every address `host` resolves to (an IP literal is itself)."""
    try:
        return [str(ipaddress.ip_address(host.strip("[]")))]
    except ValueError:
        pass
    infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    return sorted({str(info[4][0]) for info in infos})


def is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def blocked_reason(host: str, *, allow_private: bool, resolver: Resolver = resolve) -> str | None:
    """None when `host` may be fetched, else why not."""
    try:
        addresses = resolver(host)
    except (OSError, UnicodeError) as exc:
        return f"cannot resolve {host} ({exc})"
    if not addresses:
        return f"{host} resolves to no address"
    if allow_private:
        return None
    private = [a for a in addresses if not is_public(a)]
    if private:
        return (f"{host} resolves to a non-public address ({private[0]}); set "
                "allow_private_addresses: true in the profile to fetch it")
    return None
