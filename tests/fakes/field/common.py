"""What the field fakes share: PHP-style JSON, PNG badge images, baking the way each system bakes.

Nothing here is copied from the systems themselves; each helper is written from what their code
does (named in tests/fakes/README.md).
"""

from __future__ import annotations

import hashlib
import io
import json
import struct
import zlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

from PIL import Image

from tests.fakes.server import FakeServer


def php_json_encode(value: Any) -> str:
    """What PHP's `json_encode($value)` prints with its default flags: compact, every non-ASCII
    character as a lower-case `\\uXXXX` escape, and every `/` escaped as `\\/`.

    In JSON output a `/` can only occur inside a string, so escaping every one is exact.
    """
    return json.dumps(value, ensure_ascii=True, separators=(",", ":")).replace("/", "\\/")


def badge_png(color: tuple[int, int, int] = (30, 90, 160), size: int = 64) -> bytes:
    """A real PNG with pixel data (what an issuer's badge image is before baking)."""
    out = io.BytesIO()
    Image.new("RGB", (size, size), color).save(out, format="PNG")
    return out.getvalue()


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def itxt_chunk(keyword: str, text: str) -> bytes:
    """An uncompressed iTXt chunk: keyword, NUL, flag 0, method 0, empty language, NUL, empty
    translated keyword, NUL, then the UTF-8 text."""
    return _chunk(b"iTXt", keyword.encode("latin-1") + b"\x00\x00\x00\x00\x00" + text.encode("utf-8"))


def bake_before_iend(png: bytes, keyword: str, text: str) -> bytes:
    """Moodle's way (core_badges\\png_metadata_handler::add_chunks): the new chunk goes just before
    the last 12 bytes of the file, i.e. before IEND."""
    return png[:-12] + itxt_chunk(keyword, text) + png[-12:]


def bake_after_ihdr(png: bytes, keyword: str, text: str) -> bytes:
    """openbadges-bakery's way (used by badgr-server): the chunk goes right after IHDR, which is
    the first chunk (8-byte signature + 25-byte IHDR chunk)."""
    head = 8 + 25
    return png[:head] + itxt_chunk(keyword, text) + png[head:]


@dataclass(kw_only=True)
class HostedAward:
    """An award to a hashed email, as a field system publishes it on `server`: its hosted OB 2.0
    assertion at `url` and its OB 3.0 credential at `credential_url`, at the system's own paths
    (each subclass's ASSERTION_PATH and CREDENTIAL_PATH, formatted with `award=`)."""

    ASSERTION_PATH: ClassVar[str]
    CREDENTIAL_PATH: ClassVar[str]

    email: str
    issued: datetime
    expires: datetime | None
    salt: str
    server: FakeServer = field(repr=False)
    revoked: bool = False

    @property
    def url(self) -> str:
        return self.server.url(self.ASSERTION_PATH.format(award=self))

    @property
    def credential_url(self) -> str:
        return self.server.url(self.CREDENTIAL_PATH.format(award=self))

    @property
    def identity_hash(self) -> str:
        """The salted `sha256$…` hash of the email, as both OB 2.0 and OB 3.0 documents carry it."""
        return "sha256$" + hashlib.sha256((self.email + self.salt).encode()).hexdigest()
