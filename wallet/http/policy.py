"""The address policy of SafeHttp: which IP addresses may ever be connected to, and the
FETCH_ALLOW list (host:port pairs reachable over http or on another port, e.g. loopback fakes).

IPv4: global and outside an explicit deny list (Python 3.11.7 predates the CVE-2024-4032 fix).
IPv6: only inside 2000::/3 minus the special ranges; any IPv4 address embedded in an IPv6 one is
judged by the IPv4 rules (SECURITY.md T65).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

# Ranges refused even when `ipaddress` calls them global (Python 3.11.7 predates CVE-2024-4032,
# and some of these are global on every version: NAT64 and 6to4 embed an IPv4 address).
_DENY_NETS = tuple(ipaddress.ip_network(n) for n in (
    "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
    "192.0.0.0/24", "192.0.2.0/24", "192.88.99.0/24", "192.168.0.0/16", "198.18.0.0/15",
    "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4", "255.255.255.255/32",
    "::/128", "::1/128", "::ffff:0:0/96", "64:ff9b::/96", "64:ff9b:1::/48", "100::/64",
    "2001::/32", "2001:db8::/32", "2001:20::/28", "2002::/16", "fc00::/7", "fe80::/10",
    "ff00::/8", "5f00::/16",
    # Inside 2000::/3 yet special (IANA IPv6 Special-Purpose Address Registry): the IETF protocol
    # assignments block (Teredo, benchmarking, ORCHID, AMT, AS112 …) and the RFC 9637
    # documentation prefix, which Python 3.11.7 calls global.
    "2001::/23", "3fff::/20",
))
# IPv6 is allowed only in the global unicast block (RFC 4291 §2.4): everything outside it —
# ::/96 (IPv4-compatible), ::ffff:0:0:0/96 (IPv4-translated), 4000::/3 … — is reserved, even
# where Python 3.11.7's `is_global` says otherwise.
_GLOBAL_UNICAST = ipaddress.ip_network("2000::/3")
_IPV4_EMBEDDING_96 = tuple(ipaddress.ip_network(n) for n in (
    "::/96",            # IPv4-compatible ::a.b.c.d (RFC 4291 §2.5.5.1, deprecated)
    "::ffff:0:0:0/96",  # IPv4-translated ::ffff:0:a.b.c.d (RFC 2765 §2.1)
    "64:ff9b::/96",     # NAT64 well-known prefix (RFC 6052 §2.1)
))

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def embedded_ipv4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """Every IPv4 address `ip` carries or may be routed to: IPv4-mapped, IPv4-compatible,
    IPv4-translated, NAT64 (well-known prefix), 6to4, and both ends of a Teredo address."""
    found: list[ipaddress.IPv4Address] = []
    if ip.ipv4_mapped is not None:
        found.append(ip.ipv4_mapped)
    if any(ip in net for net in _IPV4_EMBEDDING_96):
        found.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    if ip.sixtofour is not None:
        found.append(ip.sixtofour)
    if ip.teredo is not None:
        found.extend(ip.teredo)
    return found


def address_allowed(ip: Address) -> bool:
    """True when a public fetch may connect to `ip`.

    IPv4: global AND outside the explicit deny list. An IPv4-mapped IPv6 address is the IPv4
    address itself (that is where a dual-stack socket connects) and is judged as one. Any other
    IPv6 address must be global unicast (2000::/3), outside the deny list, and every IPv4
    address embedded in it must itself be allowed.
    """
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.scope_id:
            return False
        if ip.ipv4_mapped is not None:
            return address_allowed(ip.ipv4_mapped)
        if not all(address_allowed(v4) for v4 in embedded_ipv4(ip)):
            return False
        if ip not in _GLOBAL_UNICAST:
            return False
    if not ip.is_global:
        return False
    return not any(ip.version == net.version and ip in net for net in _DENY_NETS)


def never_allowed(ip: Address) -> bool:
    """Addresses refused even for an allowlisted pair (0.0.0.0 reaches every local service)."""
    if isinstance(ip, ipaddress.IPv6Address) and any(never_allowed(v4) for v4 in embedded_ipv4(ip)):
        return True
    return ip.is_unspecified or ip.is_multicast or ip == ipaddress.IPv4Address("255.255.255.255")


def canonical_host(host: str) -> str:
    host = host.strip().lower()
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        pass
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError:
        return host


def parse_allow(items: str | Iterable[str] | None) -> frozenset[tuple[str, int]]:
    """`"127.0.0.1:8000, [::1]:8001"` (or a list of such strings) → {(host, port)}.

    Raises ValueError on an entry without a valid port: a silent typo would block tests confusingly.
    """
    if not items:
        return frozenset()
    if isinstance(items, str):
        items = items.split(",")
    pairs = set()
    for raw in items:
        item = str(raw).strip()
        if not item:
            continue
        host, sep, port = item.rpartition(":")
        if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(f"FETCH_ALLOW entry must be host:port, not {item!r}")
        pairs.add((canonical_host(host), int(port)))
    return frozenset(pairs)
