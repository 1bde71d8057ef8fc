"""Baking and unbaking Open Badges into PNG and SVG images (OB 2.0 and OB 3.0).

CONTRACT (owned by the baking helper; the rest of the core codes against it):

- `unbake(data: bytes) -> str | None`: the embedded payload exactly as baked, or None when the
  image (a real PNG or SVG) carries no badge. Raises BadgeInputError(code) when `data` is not a
  PNG or SVG (`not_an_image`, with params {"format": "gif"|"jpeg"|"webp"|"pdf"|"html"|"json"|
  "xml"|"unknown"}), is truncated/corrupt (`corrupt_image`), carries two chunks/elements with the
  same badge keyword (`ambiguous_badge`), is too large (`too_large`: image over 32 MiB, payload over
  256 KiB, compressed text inflating past 1 MiB), has an unsafe XML construct (`unsafe_svg`: any
  DTD, entity declaration or external reference), has a badge element with neither text nor a
  `verify` attribute (`empty_badge`), or the payload is not UTF-8 (`bad_encoding`).
- `unbake_details(data: bytes) -> Baked | None`: same, with the format ("png"|"svg"), keyword
  ("openbadges"|"openbadgecredential"), and for SVG the `verify` attribute separately.
- `bake(image: bytes, payload: str) -> bytes`: OB3 keyword when the payload is an OB 3.0
  credential (JSON whose @context/type says so, or a JWS whose payload has `vc` or an OB3 type),
  otherwise OB2. Re-baking replaces, never duplicates. bake → unbake gives the payload back
  character for character (JSON, JWS and URL payloads, PNG and SVG). Raises BadgeInputError like
  unbake for the image, `too_large` for a payload over 256 KiB, `empty_badge` for a blank payload
  and `bad_encoding` for a payload that UTF-8 (PNG) or XML 1.0 (SVG) cannot carry.
- `sniff_format(data: bytes) -> str`: "png" | "svg" | "gif" | "jpeg" | "webp" | "pdf" | "html" |
  "json" | "unknown" (magic bytes; SVG = `<svg` within the first KiB after the prolog).

Formats: PNG in `baking_png` (chunk walker), SVG in `baking_svg` / `baking_svg_write`
(defusedxml/expat, streaming),
what they share in `baked` (limits, keywords, `Baked`);
each is imported on first use, so reading a PNG never imports an XML parser.

PNG: the walker reads every chunk header up to IEND, skipping chunk data by its length; only badge
text chunks are CRC-checked and decoded; a truncated or inconsistent chunk list is `corrupt_image`.
When both keywords are present, `openbadgecredential` wins.

SVG: only defusedxml's expat parser reads the document (DTDs, entities, external references
forbidden); badge elements are found anywhere by namespace URI + local name, whatever their
prefix. Unbaking a large document (64 KiB and more, ASCII-compatible encoding) stops parsing after
the root start tag or after a badge element when a bytes search proves that the rest of the
document cannot hold another badge element and ends with the root's end tag; when a bytes search
finds the only badge element further down (even last), only that element is parsed after the root
start tag (`svg_jump`). A well-formedness error in the parts skipped then goes unnoticed (see
`baking_svg` for the exact rule and why safety is unchanged). Baking always parses the whole
document and edits its text in place.
"""

from __future__ import annotations

import base64
import codecs
import re

from .baked import (
    MAX_IMAGE_BYTES,
    MAX_INFLATE_BYTES,
    MAX_PAYLOAD_BYTES,
    OB2_KEYWORD,
    OB2_NS,
    OB3_KEYWORD,
    OB3_NS,
    PNG_SIGNATURE,
    SVG_NS,
    Baked,
    encode_payload,
    error,
)
from .errors import BadgeInputError
from .jsonutil import loads_strict

# The contract's names, and the shared constants callers read from here (defined in baked.py).
__all__ = [
    "MAX_IMAGE_BYTES", "MAX_INFLATE_BYTES", "MAX_PAYLOAD_BYTES", "OB2_KEYWORD", "OB2_NS", "OB3_KEYWORD",
    "OB3_NS", "PNG_SIGNATURE", "SVG_NS", "Baked", "bake", "sniff_format", "unbake", "unbake_details",
]

_JWS_RE = re.compile(r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+$")
_URL_RE = re.compile(r"^https?://\S+$", re.IGNORECASE)
_OB3_TYPES = {"OpenBadgeCredential", "AchievementCredential", "VerifiableCredential"}
_VC_CONTEXTS = {"https://www.w3.org/ns/credentials/v2", "https://www.w3.org/2018/credentials/v1"}


# --- sniffing --------------------------------------------------------------------------------

_PROLOG_RE = re.compile(r"\s*(?:<\?xml[^>]{0,512}\?>|<!--.*?-->)", re.DOTALL)
_SVG_HINT_RE = re.compile(r"<(?:[A-Za-z_][\w.-]*:)?svg[\s>/]")


def _head_text(data: bytes, size: int = 1024) -> str:
    """The first KiB as text, BOM-aware, with the XML declaration and comments skipped."""
    head = bytes(data[:size])
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        text = head.decode("utf-16", "ignore")
    else:
        text = head.decode("utf-8", "replace")
    text = text.lstrip("\ufeff \t\r\n")
    while True:
        match = _PROLOG_RE.match(text)
        if not match or not match.group().strip():
            return text.lstrip()
        text = text[match.end():]


def sniff_format(data: bytes) -> str:
    """What the bytes are, from their first bytes only (see the module docstring)."""
    head = bytes(data[:16])
    if head.startswith(PNG_SIGNATURE):
        return "png"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if head[:3] == b"\xff\xd8\xff":
        return "jpeg"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head[:4] == b"%PDF":
        return "pdf"
    text = _head_text(data)
    if text[:1] in ("{", "["):
        return "json"
    lower = text[:14].lower()
    if lower.startswith(("<!doctype html", "<html")):
        return "html"
    if text.startswith("<") and _SVG_HINT_RE.search(text):
        return "svg"
    return "unknown"


def _looks_like_xml(data: bytes) -> bool:
    return _head_text(data).startswith("<")


# --- shared helpers --------------------------------------------------------------------------

def _hosted_id(doc: dict) -> str | None:
    candidates = [doc.get("id")]
    for name in ("verify", "verification"):
        if isinstance(doc.get(name), dict):
            candidates.append(doc[name].get("url"))
    for candidate in candidates:
        if isinstance(candidate, str) and _URL_RE.match(candidate):
            return candidate
    return None


# --- payloads --------------------------------------------------------------------------------

def _is_ob3(doc: object) -> bool:
    if not isinstance(doc, dict):
        return False
    contexts = doc.get("@context")
    contexts = [c for c in (contexts if isinstance(contexts, list) else [contexts]) if isinstance(c, str)]
    if any(c in _VC_CONTEXTS or "purl.imsglobal.org/spec/ob/v3p0" in c for c in contexts):
        return True
    types = doc.get("type")
    types = types if isinstance(types, list) else [types]
    return any(isinstance(t, str) and t in _OB3_TYPES for t in types)


def _classify(payload: str) -> tuple[str, bool, object]:
    """(kind, is OB 3.0, parsed JSON) for a payload to bake; kind is json|jws|url|text."""
    stripped = payload.strip()
    if _URL_RE.match(stripped):
        return "url", False, None
    if _JWS_RE.match(stripped):
        segment = stripped.split(".")[1]
        try:
            claims = loads_strict(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
        except (BadgeInputError, ValueError):
            claims = None
        is_ob3 = isinstance(claims, dict) and ("vc" in claims or _is_ob3(claims))
        return "jws", is_ob3, None
    if stripped.startswith("{"):
        try:
            doc = loads_strict(stripped)
        except BadgeInputError:
            doc = None
        return "json", _is_ob3(doc), doc
    return "text", False, None


# --- public API ------------------------------------------------------------------------------

def _image_format(data: bytes) -> tuple[str, bool]:
    """("png"|"svg", sniffed as such) or BadgeInputError."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise error("not_an_image", "not bytes", format="unknown")
    if len(data) > MAX_IMAGE_BYTES:
        raise error("too_large", "image too large", max_bytes=MAX_IMAGE_BYTES)
    fmt = sniff_format(data)
    if fmt in ("png", "svg"):
        return fmt, True
    if fmt == "unknown" and _looks_like_xml(data):
        return "svg", False  # an XML document whose <svg> is past the first KiB, or not SVG at all
    raise error("not_an_image", "neither a PNG nor an SVG image", format=fmt)


def unbake_details(data: bytes) -> Baked | None:
    """The badge baked into a PNG or SVG image, or None (see the module contract)."""
    data = bytes(data) if not isinstance(data, bytes) and isinstance(data, (bytearray, memoryview)) else data
    fmt, sniffed = _image_format(data)
    if fmt == "png":
        from .baking_png import unbake_png

        return unbake_png(data)
    from .baking_svg import unbake_svg

    return unbake_svg(data, sniffed)


def unbake(data: bytes) -> str | None:
    """The payload baked into a PNG or SVG image exactly as baked, or None when there is none."""
    baked = unbake_details(data)
    return baked.payload if baked else None


def bake(image: bytes, payload: str) -> bytes:
    """`image` with `payload` baked in, replacing any badge it carried (see the module contract)."""
    if not isinstance(payload, str):
        raise TypeError("payload must be str")
    if not payload.strip():
        raise error("empty_badge", "nothing to bake")
    image = bytes(image) if not isinstance(image, bytes) and isinstance(image, (bytearray, memoryview)) else image
    fmt, sniffed = _image_format(image)
    kind, is_ob3, doc = _classify(payload)
    keyword = OB3_KEYWORD if is_ob3 else OB2_KEYWORD
    if fmt == "png":
        from .baking_png import bake_png

        return bake_png(image, encode_payload(payload), keyword)
    from .baking_svg_write import bake_svg

    hosted_id = _hosted_id(doc) if kind == "json" and isinstance(doc, dict) else None
    return bake_svg(image, payload, keyword, kind, hosted_id, sniffed)
