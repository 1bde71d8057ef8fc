"""SafeHttp: the client itself (connections pinned to checked addresses, TLS, deadlines, redirects
by hand, local answers). The guarantees are listed in wallet/http/__init__.py."""

from __future__ import annotations

import ipaddress
import json as jsonlib
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from http.client import HTTPException
from urllib.parse import urlencode, urljoin

from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.exceptions import HTTPError as Urllib3HTTPError
from urllib3.exceptions import NewConnectionError
from urllib3.exceptions import TimeoutError as Urllib3TimeoutError

from wallet.openbadges.errors import FetchError
from wallet.openbadges.fetching import Fetched

from .policy import address_allowed, parse_allow
from .resolution import Resolver, Target, parse_target, resolve
from .response import _CHUNK, Headers, Response, _Decoder

LocalHandler = Callable[[str, str, dict, "bytes | None"], "Response"]

_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_CREDENTIAL_HEADERS = ("authorization", "cookie", "proxy-authorization")


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

    def _exchange(self, conn: HTTPConnection, target: Target, method: str, headers: dict[str, str],
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

    def _connect(self, target: Target, addresses: list[str], deadline: float) -> HTTPConnection:
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

    def _target(self, url: str) -> Target:
        """Parse and vet a URL (no DNS). Raises FetchError "scheme" or "blocked"."""
        return parse_target(url, self.allow)

    def _resolve(self, target: Target) -> list[str]:
        """Resolve once; refuse if ANY address is forbidden; return the checked addresses."""
        return resolve(target, self._resolver)

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
