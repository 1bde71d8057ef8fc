"""The fetcher protocol: how the pure core asks for a URL without touching the network itself.

A fetcher is `callable(url: str, accept: str) -> Fetched`. It follows redirects itself
(`Fetched.url` is the final URL), returns any HTTP status, and raises `FetchError` when nothing
could be fetched. `fetch=None` means offline: every fetch fails. The app passes `SafeHttp.fetch`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from .errors import FetchError


@dataclass(frozen=True, slots=True)
class Fetched:
    url: str
    status: int
    content_type: str
    body: bytes

    @property
    def media_type(self) -> str:
        """The content type without parameters, lower-cased (`application/ld+json`)."""
        return self.content_type.split(";", 1)[0].strip().lower()


class Fetcher(Protocol):
    def __call__(self, url: str, accept: str) -> Fetched: ...


def offline_fetch(url: str, accept: str) -> Fetched:
    """The fetcher used when `fetch=None`: nothing can be fetched."""
    raise FetchError(url, "offline")


FetchFn = Callable[[str, str], Fetched]


class MemoFetcher:
    """Wraps a fetcher for a batch (e.g. one import of many badges): each successful answer is
    kept by (url, accept) and served again without a new request. Failures are not cached, so a
    later badge may retry. Not thread-safe; make one per batch."""

    def __init__(self, fetch: FetchFn | None) -> None:
        self._fetch = fetch or offline_fetch
        self._cache: dict[tuple[str, str], Fetched] = {}
        self._kept: dict[object, object] = {}

    def __call__(self, url: str, accept: str) -> Fetched:
        key = (url, accept)
        hit = self._cache.get(key)
        if hit is None:
            hit = self._fetch(url, accept)
            self._cache[key] = hit
        return hit

    def keep(self, key: object, compute: Callable[[], object]) -> object:
        """A value derived from the network for this batch (a badge image, normalized), computed
        once per key, failures (None) included: fifty badges of one class share one image fetch."""
        if key not in self._kept:
            self._kept[key] = compute()
        return self._kept[key]
