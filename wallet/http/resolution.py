"""URL vetting and name resolution for SafeHttp, before any connection.

`parse_target(url, allow)` parses a URL once and refuses userinfo, backslashes, control
characters, an empty host and every scheme but https (http only for an allowlisted host:port;
anything else on port 443). `resolve(target, resolver)` resolves the host once and refuses the
whole target when ANY address is forbidden by the address policy; the client then connects to one
of the checked addresses (pinned: nothing resolves the name again).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import SplitResult, quote, urlsplit

from wallet.openbadges.errors import FetchError

from .policy import address_allowed, never_allowed

Resolver = Callable[..., list]


@dataclass(frozen=True)
class Target:
    url: str
    parts: SplitResult
    scheme: str
    host: str  # ASCII, lower-case, no brackets
    port: int
    allowlisted: bool

    @property
    def origin(self) -> tuple[str, str, int]:
        return (self.scheme, self.host, self.port)

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.scheme == "https" else 80
        return host if self.port == default else f"{host}:{self.port}"

    @property
    def request_target(self) -> str:
        # Keep existing %-escapes and reserved characters; encode anything else (e.g. non-ASCII).
        path = quote(self.parts.path or "/", safe="/%:@!$&'()*+,;=-._~")
        if self.parts.query:
            path += "?" + quote(self.parts.query, safe="/%:@!$&'()*+,;=-._~?")
        return path


def parse_target(url: str, allow: frozenset[tuple[str, int]]) -> Target:
    """Parse and vet a URL (no DNS). Raises FetchError "scheme" or "blocked"."""
    if not isinstance(url, str) or not url:
        raise FetchError(str(url), "scheme")
    if "\\" in url or any(ord(c) <= 0x20 or ord(c) == 0x7F for c in url):
        raise FetchError(url, "blocked")
    try:
        parts = urlsplit(url)
        port = parts.port
        hostname = parts.hostname
    except ValueError:
        raise FetchError(url, "blocked") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise FetchError(url, "scheme")
    if "@" in parts.netloc or parts.username is not None or parts.password is not None:
        raise FetchError(url, "blocked")
    if not hostname:
        raise FetchError(url, "blocked")
    host = ascii_host(url, hostname)
    port = port if port is not None else (443 if scheme == "https" else 80)
    allowlisted = (host, port) in allow
    if not allowlisted:
        if scheme != "https":
            raise FetchError(url, "scheme")
        if port != 443:
            raise FetchError(url, "blocked")
    return Target(url, parts, scheme, host, port, allowlisted)


def ascii_host(url: str, hostname: str) -> str:
    try:
        return str(ipaddress.ip_address(hostname))
    except ValueError:
        pass
    try:
        host = hostname.encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise FetchError(url, "blocked") from None
    if not host or not all(c.isalnum() or c in "-._" for c in host):
        raise FetchError(url, "blocked")
    return host


def resolve(target: Target, resolver: Resolver | None = None) -> list[str]:
    """Resolve once; refuse if ANY address is forbidden; return the checked addresses."""
    try:
        ipaddress.ip_address(target.host)
        infos: list = [(None, None, None, "", (target.host, target.port))]  # a literal: no DNS
    except ValueError:
        resolver = resolver or socket.getaddrinfo
        try:
            infos = resolver(target.host, target.port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError, ValueError):
            raise FetchError(target.url, "network") from None
    addresses: list[str] = []
    for info in infos or ():
        try:
            ip = ipaddress.ip_address(str(info[4][0]))
        except (ValueError, IndexError, TypeError):
            raise FetchError(target.url, "blocked") from None
        forbidden = never_allowed(ip) if target.allowlisted else not address_allowed(ip)
        if forbidden:
            raise FetchError(target.url, "blocked")
        if str(ip) not in addresses:
            addresses.append(str(ip))
    if not addresses:
        raise FetchError(target.url, "network")
    return addresses
