"""SafeHttp: the only outbound HTTP client of the wallet (DESIGN.md §2 rule 2, SECURITY.md §0 item 1).

Every request to a URL that comes from data (badges, partner metadata, issuer APIs) goes through
`SafeHttp.request` or `SafeHttp.fetch`. For each hop it:

1. parses the URL once (`urlsplit`) and refuses userinfo, backslashes, control characters, an empty
   host, and every scheme but https (http only for an allowlisted `host:port` pair); a target that
   is not allowlisted must be https on port 443;
2. resolves the host once, checks EVERY resolved address against `address_allowed` (global AND
   outside an explicit deny list: Python 3.11.7 predates the CVE-2024-4032 fix; IPv6 only inside
   2000::/3, and any IPv4 address embedded in an IPv6 one judged by the IPv4 rules), then connects to
   one of those checked addresses: the connection is pinned, nothing resolves the name again. TLS
   SNI, certificate hostname and the Host header all use the original host name;
3. enforces a connect timeout, a read timeout and an overall deadline (a watchdog shuts the socket
   down at the deadline, so a server sending one byte a second is cut);
4. streams the body and caps the DECODED bytes (gzip/deflate are decoded here, bounded, never in
   bulk); the body of a redirect is never read nor decoded;
5. follows redirects by hand (at most `max_redirects` hops), re-validating each hop; Authorization,
   Cookie and Proxy-Authorization never cross to another origin.

No proxies, no .netrc, no environment: nothing but the arguments shapes a request. URLs under
`local_prefix` (WALLET_BASE_URL: the wallet's own issuer documents, keys, status lists) are answered
in-process by `local_handler`, never over the network.

Every failure raises `FetchError(url, reason)` with reason one of network, timeout, blocked,
too_large, scheme, redirects (see wallet/openbadges/errors.py).
"""

from __future__ import annotations

import ipaddress
import json as jsonlib
import socket
import ssl
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from http.client import HTTPException
from urllib.parse import SplitResult, quote, urlencode, urljoin, urlsplit

from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.exceptions import HTTPError as Urllib3HTTPError
from urllib3.exceptions import NewConnectionError
from urllib3.exceptions import TimeoutError as Urllib3TimeoutError

from wallet.openbadges.errors import FetchError
from wallet.openbadges.fetching import Fetched

__all__ = ["Headers", "Response", "SafeHttp", "address_allowed", "embedded_ipv4", "parse_allow"]

Resolver = Callable[..., list]
LocalHandler = Callable[[str, str, dict, "bytes | None"], "Response"]

_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_CREDENTIAL_HEADERS = ("authorization", "cookie", "proxy-authorization")
_CHUNK = 64 * 1024

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


def _never_allowed(ip: Address) -> bool:
    """Addresses refused even for an allowlisted pair (0.0.0.0 reaches every local service)."""
    if isinstance(ip, ipaddress.IPv6Address) and any(_never_allowed(v4) for v4 in embedded_ipv4(ip)):
        return True
    return ip.is_unspecified or ip.is_multicast or ip == ipaddress.IPv4Address("255.255.255.255")


def _canonical_host(host: str) -> str:
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
        pairs.add((_canonical_host(host), int(port)))
    return frozenset(pairs)


# --- responses --------------------------------------------------------------------------------


class Headers(Mapping[str, str]):
    """Immutable, case-insensitive response headers; repeated fields are joined with ", "."""

    __slots__ = ("_items",)

    def __init__(self, items: Iterable[tuple[str, str]] | Mapping[str, str] = ()) -> None:
        if isinstance(items, Mapping):
            items = items.items()
        merged: dict[str, tuple[str, str]] = {}
        for name, value in items:
            key = str(name).lower()
            if key in merged:
                merged[key] = (merged[key][0], f"{merged[key][1]}, {value}")
            else:
                merged[key] = (str(name), str(value))
        self._items = merged

    def __getitem__(self, name: str) -> str:
        return self._items[name.lower()][1]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._items

    def __iter__(self) -> Iterator[str]:
        return (original for original, _ in self._items.values())

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return f"Headers({dict(self.items())!r})"


def _reject_constant(name: str) -> object:
    raise ValueError(f"invalid JSON constant {name}")


def _no_duplicates(pairs: list[tuple[str, object]]) -> dict:
    result: dict = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate JSON key {key!r}")
        result[key] = value
    return result


@dataclass(frozen=True)
class Response:
    url: str
    status: int
    headers: Mapping[str, str] = field(default_factory=Headers)
    body: bytes = b""

    def __post_init__(self) -> None:
        if not isinstance(self.headers, Headers):
            object.__setattr__(self, "headers", Headers(self.headers))

    @property
    def content_type(self) -> str:
        return self.headers.get("Content-Type", "")

    def json(self) -> object:
        """The body as JSON. Strict: raises ValueError on bad UTF-8, NaN/Infinity or duplicate keys."""
        text = self.body.decode("utf-8")
        return jsonlib.loads(text, parse_constant=_reject_constant, object_pairs_hook=_no_duplicates)


# --- bounded decoding -------------------------------------------------------------------------


class _Decoder:
    """Decodes a Content-Encoding while counting decoded bytes against a cap, in bounded steps."""

    def __init__(self, encoding: str, url: str, cap: int) -> None:
        self.url = url
        self.cap = cap
        self.size = 0
        self.parts: list[bytes] = []
        self._zlib = None
        self._deflate_first = False
        if encoding == "gzip" or encoding == "x-gzip":
            self._zlib = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif encoding == "deflate":
            # "deflate" is zlib-wrapped per the RFC, but some servers send raw deflate.
            self._zlib = zlib.decompressobj(zlib.MAX_WBITS)
            self._deflate_first = True
        elif encoding not in ("", "identity"):
            raise FetchError(url, "network")

    def _add(self, data: bytes) -> None:
        if data:
            self.size += len(data)
            if self.size > self.cap:
                raise FetchError(self.url, "too_large")
            self.parts.append(data)

    def feed(self, data: bytes) -> None:
        if self._zlib is None:
            self._add(data)
            return
        while data:
            room = min(_CHUNK, self.cap - self.size + 1)
            try:
                out = self._zlib.decompress(data, room)
            except zlib.error:
                if not self._deflate_first:
                    raise FetchError(self.url, "network") from None
                self._zlib = zlib.decompressobj(-zlib.MAX_WBITS)
                self._deflate_first = False
                continue
            self._deflate_first = False
            self._add(out)
            if self._zlib.eof:
                return  # trailing bytes after the stream are ignored
            data = self._zlib.unconsumed_tail

    def finish(self) -> bytes:
        if self._zlib is not None:
            try:
                self._add(self._zlib.flush())
            except zlib.error:
                raise FetchError(self.url, "network") from None
        return b"".join(self.parts)


# --- the client -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Target:
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


class SafeHttp:
    """The wallet's outbound HTTP client. See the module docstring for what it guarantees."""

    def __init__(self, *, allow: Iterable[str] | str = (), ca_bundle: str | None = None,
                 connect_timeout: float = 3.0, read_timeout: float = 5.0, deadline: float = 10.0,
                 max_redirects: int = 3, max_bytes: int = 1 << 20,
                 resolver: Resolver | None = None,
                 local_prefix: str | None = None, local_handler: LocalHandler | None = None,
                 user_agent: str = "wallet/0.1 (+open badges wallet)") -> None:
        self.allow = parse_allow(allow)
        self.ca_bundle = ca_bundle
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.deadline = deadline
        self.max_redirects = max_redirects
        self.max_bytes = max_bytes
        # None = socket.getaddrinfo looked up at call time (so test guards that patch it apply).
        self._resolver = resolver
        self.local_prefix = local_prefix.rstrip("/") if local_prefix else None
        self.local_handler = local_handler
        self.user_agent = user_agent
        self._ssl_context: ssl.SSLContext | None = None
        self._ssl_lock = threading.Lock()

    @classmethod
    def from_config(cls, config: Mapping, **kwargs: object) -> SafeHttp:
        """Build from the app configuration (keys without the WALLET_ prefix): FETCH_ALLOW (a string
        "h:p,h:p" or a list), CA_BUNDLE, BASE_URL. Extra keyword arguments (e.g. `local_handler`)
        go to the constructor."""
        options: dict = {
            "allow": config.get("FETCH_ALLOW") or (),
            "ca_bundle": config.get("CA_BUNDLE") or None,
            "local_prefix": config.get("BASE_URL") or None,
        }
        options.update(kwargs)
        return cls(**options)

    # public API --------------------------------------------------------------------------------

    def fetch(self, url: str, accept: str) -> Fetched:
        """GET for the pure core: follows redirects, returns any HTTP status, raises FetchError."""
        response = self.request("GET", url, headers={"Accept": accept})
        return Fetched(url=response.url, status=response.status,
                       content_type=response.headers.get("Content-Type", ""), body=response.body)

    def is_local(self, url: str) -> bool:
        """True when `url` is under `local_prefix` (answered in-process, never over the network)."""
        return self._is_local(url)

    def check_url(self, url: str) -> None:
        """Raise FetchError(url, "scheme"|"blocked") if `url` could never be fetched. No DNS, no
        connection: an IP-literal host is checked, a host name is checked when it is fetched."""
        if self._is_local(url):
            return
        target = self._target(url)
        if not target.allowlisted:
            try:
                ip = ipaddress.ip_address(target.host)
            except ValueError:
                if target.host == "localhost" or target.host.endswith(".localhost"):
                    raise FetchError(url, "blocked") from None
                return
            if not address_allowed(ip):
                raise FetchError(url, "blocked")

    def request(self, method: str, url: str, *, headers: Mapping[str, str] | None = None,
                json: object = None, data: bytes | str | Mapping | None = None,
                max_bytes: int | None = None, allow_redirects: bool = True) -> Response:
        """One request, following redirects (unless `allow_redirects=False`, in which case a 3xx is
        returned with an empty body: redirect bodies are never read). Raises FetchError."""
        method = method.upper()
        cap = self.max_bytes if max_bytes is None else max_bytes
        out_headers = {str(k): str(v) for k, v in (headers or {}).items()}
        body: bytes | None = None
        if json is not None:
            body = jsonlib.dumps(json, ensure_ascii=False).encode("utf-8")
            _set_default(out_headers, "Content-Type", "application/json")
        elif isinstance(data, (bytes, bytearray)):
            body = bytes(data)
        elif isinstance(data, str):
            body = data.encode("utf-8")
        elif data is not None:
            body = urlencode(data if isinstance(data, Mapping) else list(data)).encode("ascii")
            _set_default(out_headers, "Content-Type", "application/x-www-form-urlencoded")

        deadline = time.monotonic() + self.deadline
        origin = self._origin(url)
        for hop in range(self.max_redirects + 1):
            response = self._one(method, url, out_headers, body, cap, deadline)
            location = response.headers.get("Location")
            if response.status not in _REDIRECTS or not location or not allow_redirects:
                return response
            if hop == self.max_redirects:
                break
            url = urljoin(url, location.strip())
            next_origin = self._origin(url)  # vets the new hop: scheme, userinfo, port, …
            if next_origin != origin:
                out_headers = {k: v for k, v in out_headers.items()
                               if k.lower() not in _CREDENTIAL_HEADERS}
            origin = next_origin
            if response.status == 303 or (response.status in (301, 302) and method == "POST"):
                method = "HEAD" if method == "HEAD" else "GET"
                body = None
                out_headers = {k: v for k, v in out_headers.items()
                               if k.lower() not in ("content-type", "content-length")}
        raise FetchError(url, "redirects")

    def _origin(self, url: str) -> tuple[str, str, int]:
        if self._is_local(url):
            return ("local", self.local_prefix or "", 0)
        return self._target(url).origin

    # one hop -----------------------------------------------------------------------------------

    def _one(self, method: str, url: str, headers: dict[str, str], body: bytes | None, cap: int,
             deadline: float) -> Response:
        if self._is_local(url):
            return self._local(method, url, headers, body, cap)
        target = self._target(url)
        addresses = self._resolve(target)
        if time.monotonic() >= deadline:
            raise FetchError(url, "timeout")
        send = {k: v for k, v in headers.items()
                if k.lower() not in ("host", "accept-encoding", "connection", "content-length")}
        send["Host"] = target.host_header
        send["Accept-Encoding"] = "gzip, deflate"
        send["Connection"] = "close"
        _set_default(send, "User-Agent", self.user_agent)
        if body is not None:
            send["Content-Length"] = str(len(body))

        conn = self._connect(target, addresses, deadline)
        watchdog = _Watchdog(conn.sock, deadline)
        try:
            return self._exchange(conn, target, method, send, body, cap, deadline, watchdog)
        except FetchError as exc:
            if watchdog.fired.is_set() and exc.reason == "network":
                raise FetchError(url, "timeout") from None
            raise
        except (OSError, HTTPException, Urllib3HTTPError, ssl.CertificateError, ValueError) as exc:
            raise self._failure(url, exc, deadline, watchdog) from None
        finally:
            watchdog.cancel()
            conn.close()

    def _exchange(self, conn: HTTPConnection, target: _Target, method: str, headers: dict[str, str],
                  body: bytes | None, cap: int, deadline: float, watchdog: _Watchdog) -> Response:
        # Keep our own reference: http.client drops conn.sock once a "Connection: close" response
        # arrives, while the response goes on reading from the same socket.
        sock = watchdog.sock
        _settimeout(sock, self._left(target.url, deadline, self.read_timeout))
        conn.request(method, target.request_target, body=body, headers=headers,
                     preload_content=False, decode_content=False)
        conn.timeout = self._left(target.url, deadline, self.read_timeout)
        raw = conn.getresponse()
        try:
            response_headers = Headers(raw.headers.items())
            if raw.status in _REDIRECTS and "Location" in response_headers:
                # Never read, let alone decode, a redirect body (urllib3 CVE-2026-21441).
                return Response(target.url, raw.status, response_headers, b"")
            encoding = response_headers.get("Content-Encoding", "").strip().lower()
            length = response_headers.get("Content-Length", "").strip()
            if encoding in ("", "identity") and length.isdigit() and int(length) > cap:
                raise FetchError(target.url, "too_large")
            decoder = _Decoder(encoding, target.url, cap)
            raw_cap = 2 * cap + _CHUNK  # compressed input that decodes to (almost) nothing is capped too
            raw_size = 0
            while True:
                _settimeout(sock, self._left(target.url, deadline, self.read_timeout))
                chunk = raw.read1(_CHUNK, decode_content=False)
                if watchdog.fired.is_set() or time.monotonic() >= deadline:
                    raise FetchError(target.url, "timeout")
                if not chunk:
                    break
                raw_size += len(chunk)
                if raw_size > raw_cap:
                    raise FetchError(target.url, "too_large")
                decoder.feed(chunk)
            return Response(target.url, raw.status, response_headers, decoder.finish())
        finally:
            raw.close()  # closes the socket file too, so the peer sees us hang up

    def _connect(self, target: _Target, addresses: list[str], deadline: float) -> HTTPConnection:
        last: Exception | None = None
        for address in addresses:
            timeout = self._left(target.url, deadline, self.connect_timeout)
            if target.scheme == "https":
                conn: HTTPConnection = HTTPSConnection(
                    address, target.port, timeout=timeout, server_hostname=target.host,
                    assert_hostname=target.host, ssl_context=self._tls_context(),
                    cert_reqs="CERT_REQUIRED")
            else:
                conn = HTTPConnection(address, target.port, timeout=timeout)
            try:
                conn.connect()
                return conn
            except (OSError, HTTPException, Urllib3HTTPError, ssl.CertificateError, ValueError) as exc:
                conn.close()
                last = exc
        raise self._failure(target.url, last or OSError("no address"), deadline)

    # checks ------------------------------------------------------------------------------------

    def _target(self, url: str) -> _Target:
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
        host = self._ascii_host(url, hostname)
        port = port if port is not None else (443 if scheme == "https" else 80)
        allowlisted = (host, port) in self.allow
        if not allowlisted:
            if scheme != "https":
                raise FetchError(url, "scheme")
            if port != 443:
                raise FetchError(url, "blocked")
        return _Target(url, parts, scheme, host, port, allowlisted)

    @staticmethod
    def _ascii_host(url: str, hostname: str) -> str:
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

    def _resolve(self, target: _Target) -> list[str]:
        """Resolve once; refuse if ANY address is forbidden; return the checked addresses."""
        try:
            ipaddress.ip_address(target.host)
            infos: list = [(None, None, None, "", (target.host, target.port))]  # a literal: no DNS
        except ValueError:
            resolver = self._resolver or socket.getaddrinfo
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
            forbidden = _never_allowed(ip) if target.allowlisted else not address_allowed(ip)
            if forbidden:
                raise FetchError(target.url, "blocked")
            if str(ip) not in addresses:
                addresses.append(str(ip))
        if not addresses:
            raise FetchError(target.url, "network")
        return addresses

    # local answers -----------------------------------------------------------------------------

    def _is_local(self, url: str) -> bool:
        prefix = self.local_prefix
        if not prefix or not isinstance(url, str) or not url.startswith(prefix):
            return False
        rest = url[len(prefix):]
        return rest == "" or rest[0] in "/?#"

    def _local(self, method: str, url: str, headers: dict[str, str], body: bytes | None,
               cap: int) -> Response:
        if "\\" in url or any(ord(c) <= 0x20 or ord(c) == 0x7F for c in url):
            raise FetchError(url, "blocked")
        if self.local_handler is None:
            raise FetchError(url, "blocked")  # never over the network, even without a handler
        response = self.local_handler(method, url, dict(headers), body)
        if len(response.body) > cap:
            raise FetchError(url, "too_large")
        return response

    # helpers -----------------------------------------------------------------------------------

    def _tls_context(self) -> ssl.SSLContext:
        with self._ssl_lock:
            if self._ssl_context is None:
                context = ssl.create_default_context()
                if self.ca_bundle:
                    context.load_verify_locations(cafile=self.ca_bundle)
                self._ssl_context = context
            return self._ssl_context

    @staticmethod
    def _left(url: str, deadline: float, limit: float) -> float:
        left = deadline - time.monotonic()
        if left <= 0:
            raise FetchError(url, "timeout")
        return min(limit, left)

    @staticmethod
    def _failure(url: str, exc: BaseException, deadline: float,
                 watchdog: _Watchdog | None = None) -> FetchError:
        if (watchdog is not None and watchdog.fired.is_set()) or time.monotonic() >= deadline:
            return FetchError(url, "timeout")
        if isinstance(exc, NewConnectionError):  # a subclass of ConnectTimeoutError: check it first
            return FetchError(url, "network")
        if isinstance(exc, (TimeoutError, Urllib3TimeoutError)):
            return FetchError(url, "timeout")
        return FetchError(url, "network")


def _set_default(headers: dict[str, str], name: str, value: str) -> None:
    if not any(k.lower() == name.lower() for k in headers):
        headers[name] = value


def _settimeout(sock: socket.socket, timeout: float) -> None:
    try:
        sock.settimeout(timeout)
    except OSError:
        pass  # http.client already closed it at the end of the body: the next read returns b""


class _Watchdog:
    """Enforces the overall deadline: at the deadline it shuts the socket down under a blocked read
    (per-read timeouts alone let a server that sends one byte a second go on forever)."""

    def __init__(self, sock: socket.socket, deadline: float) -> None:
        self.sock = sock
        self.fired = threading.Event()
        self._timer = threading.Timer(max(0.0, deadline - time.monotonic()), self._fire)
        self._timer.daemon = True
        self._timer.start()

    def _fire(self) -> None:
        self.fired.set()
        try:
            # socket.socket.shutdown, not SSLSocket.shutdown: keep the TLS object under the reading
            # thread, just end the stream.
            socket.socket.shutdown(self.sock, socket.SHUT_RDWR)
        except OSError:
            pass

    def cancel(self) -> None:
        self._timer.cancel()
