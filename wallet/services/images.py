"""Badge images the wallet stores and serves itself (never hot-linked; SECURITY.md T01–T04, T08, T38).

PNG is re-encoded by Pillow (which drops every text chunk, so a displayed image never carries
the recipient's identity) and shrunk to at most 512 px. SVG is kept as bytes if it parses safely;
it is only ever shown through <img> and served with a sandboxing CSP.
"""

from __future__ import annotations

import base64
import binascii
import io
import warnings

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException
from PIL import Image, UnidentifiedImageError

from ..openbadges.baking import sniff_format
from ..openbadges.errors import FetchError

MAX_IMAGE_BYTES = 2 * 1024 * 1024
MAX_PIXELS = 16_000_000
MAX_SIDE = 512
MAX_SVG_BYTES = 512 * 1024


def normalize_image(data: bytes) -> tuple[bytes, str] | None:
    """(bytes, mime type) ready to store, or None when the data is not a usable PNG/SVG image."""
    if not data or len(data) > MAX_IMAGE_BYTES:
        return None
    kind = sniff_format(data)
    if kind == "png":
        return _png(data)
    if kind == "svg":
        return _svg(data)
    return None


def _png(data: bytes) -> tuple[bytes, str] | None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(data), formats=["PNG"]) as image:
                # open() reads the header only: refuse pixel bombs before anything is decoded.
                if image.width * image.height > MAX_PIXELS:
                    return None
                image.thumbnail((MAX_SIDE, MAX_SIDE))
                if image.mode not in ("RGB", "RGBA", "L", "LA", "P"):
                    image = image.convert("RGBA")
                out = io.BytesIO()
                image.save(out, format="PNG", optimize=True)
                return out.getvalue(), "image/png"
        except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning,
                OSError, ValueError, SyntaxError, MemoryError):
            return None


def _svg(data: bytes) -> tuple[bytes, str] | None:
    if len(data) > MAX_SVG_BYTES:
        return None
    try:
        root = SafeET.fromstring(data, forbid_dtd=True)
    except (DefusedXmlException, SafeET.ParseError, ValueError):
        return None
    if root.tag != "{http://www.w3.org/2000/svg}svg":
        return None
    return data, "image/svg+xml"


def decode_data_uri(uri: str) -> bytes | None:
    """The bytes of a base64 `data:image/...` URI, capped; None for anything else."""
    if not uri.startswith("data:image/") or ";base64," not in uri[:100]:
        return None
    encoded = uri.split(",", 1)[1]
    if len(encoded) > MAX_IMAGE_BYTES * 4 // 3 + 8:
        return None
    try:
        return base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        return None


def fetch_image(url: str | None, http) -> tuple[bytes, str] | None:
    """The badge image named by the badge data (data URI or http(s) URL), normalized, or None."""
    if not url or not isinstance(url, str):
        return None
    if url.startswith("data:"):
        data = decode_data_uri(url)
        return normalize_image(data) if data else None
    if not url.startswith(("https://", "http://")):
        return None
    try:
        response = http.request("GET", url, headers={"Accept": "image/png, image/svg+xml"},
                                max_bytes=MAX_IMAGE_BYTES)
    except FetchError:
        return None
    if response.status != 200:
        return None
    return normalize_image(response.body)
