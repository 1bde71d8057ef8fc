"""What SafeHttp returns (`Response`, case-insensitive `Headers`, strict `json()`) and the bounded
decoder of Content-Encoding (decoded bytes are capped, never inflated in bulk)."""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field

from wallet.openbadges.errors import FetchError
from wallet.openbadges.jsonutil import loads_unique

# --- responses --------------------------------------------------------------------------------

_CHUNK = 64 * 1024  # decoding steps


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
        return loads_unique(self.body.decode("utf-8"))


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
