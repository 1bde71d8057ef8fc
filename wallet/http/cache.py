"""The worker's shared HTTP cache and per-host pacing, in front of SafeHttp (issue 17 item 3).

Re-verifying a region's badges fetches the same issuer profiles, badge classes and keys for every
learner of a partner. `HttpCache.fetch(url, accept) -> Fetched` is a fetcher for the core (the
same protocol as `SafeHttp.fetch`) that one worker process shares across all the badges it
re-verifies. Every request it makes is a `SafeHttp.request` (SSRF rules, https only, caps,
redirects re-checked), and every URL, even one answered from the cache, is first vetted by
`SafeHttp.check_url`. URLs under the wallet's own BASE_URL go straight to SafeHttp (answered
in-process, never cached nor paced).

What is stored (RFC 9111, as a shared cache): 200 answers only, never with `Cache-Control:
no-store` or `private`, nor `Vary: *`, and only when they are fresh for a while or carry a
validator (`ETag`, `Last-Modified`). Freshness: `s-maxage`, else `max-age`, else `Expires` minus
`Date`, less `Age`; nothing else (no heuristic freshness). A stale entry is revalidated with
`If-None-Match` / `If-Modified-Since`: a 304 from the same final URL serves the stored body (and
updates its freshness); anything else replaces it.

The one departure, a setting (`WALLET_HTTP_CACHE_MIN_TTL`, seconds): documents shared by many
badges — issuer profiles (OB 2.0 Issuer, OB 3.0 Profile), badge classes / achievements,
CryptographicKey documents, JWK sets and DID documents, recognised by their content — are kept
fresh at least that long even when their server says less (not when it says `no-cache` or
`must-revalidate`). An issuer's change to such a document (a key marked revoked, a badge class
edited) is therefore seen up to that long late by re-verification. Assertions, revocation lists
and status lists are never kept past what their server allows: revocation is seen as the issuer
publishes it. Imports in the web processes do not use this cache at all.

The cache is bounded in bytes (`WALLET_HTTP_CACHE_MAX_BYTES`, least recently used first out);
an answer larger than the whole cache is not stored.

Politeness (`HostPacer`): at most one request to a given host:port every `min_interval` seconds
from one process (`WALLET_PARTNER_MIN_INTERVAL_MS`); requests wait their turn. N worker processes
therefore send at most N requests per interval to one partner. Redirect hops inside one
SafeHttp.request are not paced.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

from cachetools import LRUCache

from ..openbadges.fetching import Fetched

__all__ = ["HostPacer", "HttpCache", "cache_control", "freshness_lifetime", "is_shared_document"]

_ENTRY_OVERHEAD = 256  # bytes counted per entry besides its body and URL
# Document types (last segment of `type`, lower-cased) shared by every badge of an issuer.
_SHARED_TYPES = frozenset({"issuer", "profile", "badgeclass", "achievement", "cryptographickey"})


def cache_control(headers: Mapping[str, str]) -> dict[str, str | None]:
    """`Cache-Control` directives, names lower-cased: {"max-age": "60", "no-store": None, …}."""
    directives: dict[str, str | None] = {}
    for part in headers.get("Cache-Control", "").split(","):
        name, sep, value = part.strip().partition("=")
        if name:
            directives[name.lower()] = value.strip().strip('"') if sep else None
    return directives


def _seconds(value: str | None) -> int | None:
    if value is None:
        return None
    value = value.strip()
    return int(value) if value.isdigit() else 0  # an invalid value means stale (RFC 9111 §1.2.2)


def _http_date(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def freshness_lifetime(headers: Mapping[str, str]) -> float:
    """Seconds the answer stays fresh from now, as a shared cache reads it (0 = stale at once)."""
    directives = cache_control(headers)
    lifetime: float | None = _seconds(directives.get("s-maxage"))
    if lifetime is None:
        lifetime = _seconds(directives.get("max-age"))
    if lifetime is None and "Expires" in headers:
        expires = _http_date(headers.get("Expires"))
        date = _http_date(headers.get("Date")) or time.time()
        lifetime = max(0.0, expires - date) if expires is not None else 0.0
    if lifetime is None:
        return 0.0
    age = _seconds(headers.get("Age")) or 0
    return max(0.0, lifetime - age)


def is_shared_document(body: bytes) -> bool:
    """True for an issuer profile, a badge class / achievement, a key document, a JWK set or a DID
    document; False for anything else (assertions, credentials, revocation and status lists)."""
    try:
        doc = json.loads(body)
    except (ValueError, RecursionError):
        return False
    if not isinstance(doc, dict):
        return False
    types = doc.get("type", doc.get("@type"))
    types = types if isinstance(types, list) else [types]
    names = {t.rsplit("#", 1)[-1].rsplit("/", 1)[-1].rsplit(":", 1)[-1].lower() for t in types if isinstance(t, str)}
    if any(n in ("assertion", "revocationlist") or "credential" in n or "statuslist" in n for n in names):
        return False
    if names:
        return bool(names & _SHARED_TYPES)
    if isinstance(doc.get("keys"), list):
        return True  # a JWK set
    return isinstance(doc.get("id"), str) and doc["id"].startswith("did:")


class HostPacer:
    """At most one request per `min_interval` seconds to each host:port (see the module docstring).
    `clock` and `sleep` are parameters so that tests run on a fake clock."""

    def __init__(self, min_interval: float, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.min_interval = max(0.0, float(min_interval))
        self._clock = clock
        self._sleep = sleep
        self._next: dict[tuple[str, int | None], float] = {}
        self._lock = threading.Lock()

    def wait(self, url: str) -> float:
        """Wait for this host's turn; returns the seconds waited."""
        if self.min_interval <= 0:
            return 0.0
        parts = urlsplit(url)
        host = ((parts.hostname or "").lower(), parts.port)
        with self._lock:  # book the slot now; sleep outside the lock
            now = self._clock()
            slot = max(now, self._next.get(host, now))
            self._next[host] = slot + self.min_interval
        delay = slot - now
        if delay > 0:
            self._sleep(delay)
        return delay


@dataclass(frozen=True, slots=True)
class _Entry:
    url: str              # the final URL, after redirects
    content_type: str
    body: bytes
    etag: str | None
    last_modified: str | None
    fresh_until: float    # on the cache's clock
    shared: bool          # an issuer / badge class / key document: the minimum TTL applies
    revalidate: bool      # no-cache or must-revalidate: never kept past what the server allows


class HttpCache:
    """A fetcher with a bounded shared cache and per-host pacing in front of `http` (a SafeHttp)."""

    def __init__(self, http, *, max_bytes: int = 32 << 20, min_ttl: float = 6 * 3600.0,
                 min_interval: float = 0.0, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.http = http
        self.min_ttl = max(0.0, float(min_ttl))
        self.pacer = HostPacer(min_interval, clock, sleep)
        self._clock = clock
        self._entries: LRUCache = LRUCache(maxsize=max(1, int(max_bytes)), getsizeof=_entry_size)
        self._lock = threading.Lock()
        # hits (served without a request), revalidated (304), requests (sent), stored, not_stored
        self.stats: Counter = Counter()

    @property
    def size(self) -> int:
        """Bytes held (bodies, URLs and a fixed overhead per entry)."""
        with self._lock:
            return int(self._entries.currsize)

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def fetch(self, url: str, accept: str) -> Fetched:
        """GET through SafeHttp, answered from the cache while fresh (module docstring)."""
        self.http.check_url(url)  # vetted even when the answer is in the cache
        if self.http.is_local(url):
            return self.http.fetch(url, accept)
        key = (url, accept)
        with self._lock:
            entry = self._entries.get(key)
        if entry is not None and self._clock() < entry.fresh_until:
            self.stats["hits"] += 1
            return Fetched(entry.url, 200, entry.content_type, entry.body)
        headers = {"Accept": accept}
        if entry is not None:
            if entry.etag:
                headers["If-None-Match"] = entry.etag
            if entry.last_modified:
                headers["If-Modified-Since"] = entry.last_modified
        response = self._request(url, headers)
        if response.status == 304:
            if entry is not None and response.url == entry.url:
                self.stats["revalidated"] += 1
                self._refresh(key, entry, response.headers)
                return Fetched(entry.url, 200, entry.content_type, entry.body)
            # A 304 for a request we did not make conditional, or from another final URL.
            response = self._request(url, {"Accept": accept})
        self._store(key, response)
        return Fetched(url=response.url, status=response.status,
                       content_type=response.headers.get("Content-Type", ""), body=response.body)

    def _request(self, url: str, headers: dict[str, str]):
        self.pacer.wait(url)
        self.stats["requests"] += 1
        return self.http.request("GET", url, headers=headers)

    def _lifetime(self, headers: Mapping[str, str], shared: bool, revalidate: bool) -> float:
        lifetime = freshness_lifetime(headers)
        if shared and not revalidate:
            lifetime = max(lifetime, self.min_ttl)
        return lifetime

    def _store(self, key: tuple[str, str], response) -> None:
        headers = response.headers
        directives = cache_control(headers)
        etag = headers.get("ETag") or None
        last_modified = headers.get("Last-Modified") or None
        storable = (response.status == 200 and "no-store" not in directives and "private" not in directives
                    and headers.get("Vary", "").strip() != "*")
        entry = None
        if storable:
            shared = is_shared_document(response.body)
            revalidate = "no-cache" in directives or "must-revalidate" in directives
            lifetime = self._lifetime(headers, shared, revalidate)
            if lifetime > 0 or etag or last_modified:
                entry = _Entry(response.url, headers.get("Content-Type", ""), response.body, etag, last_modified,
                               self._clock() + lifetime, shared, revalidate)
        with self._lock:
            self._entries.pop(key, None)
            if entry is not None:
                try:
                    self._entries[key] = entry
                except ValueError:  # larger than the whole cache
                    entry = None
        self.stats["stored" if entry is not None else "not_stored"] += 1

    def _refresh(self, key: tuple[str, str], entry: _Entry, headers: Mapping[str, str]) -> None:
        """A 304: the stored answer stands; its freshness and validators come from the 304."""
        directives = cache_control(headers)
        if "no-store" in directives or "private" in directives:
            with self._lock:
                self._entries.pop(key, None)
            return
        revalidate = entry.revalidate or "no-cache" in directives or "must-revalidate" in directives
        refreshed = replace(entry, etag=headers.get("ETag") or entry.etag,
                            last_modified=headers.get("Last-Modified") or entry.last_modified,
                            revalidate=revalidate,
                            fresh_until=self._clock() + self._lifetime(headers, entry.shared, revalidate))
        with self._lock:
            self._entries[key] = refreshed


def _entry_size(entry: _Entry) -> int:
    return len(entry.body) + len(entry.url) + _ENTRY_OVERHEAD
