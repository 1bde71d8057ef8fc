"""What the baking modules share: limits, keywords, namespaces, the `Baked` result, error and
payload encoding helpers. baking.py dispatches to baking_png.py / baking_svg.py, which import from
here (never from the dispatcher: no import circle)."""

from __future__ import annotations

from dataclasses import dataclass

from .errors import BadgeInputError

MAX_IMAGE_BYTES = 32 * 1024 * 1024
MAX_PAYLOAD_BYTES = 256 * 1024
MAX_INFLATE_BYTES = 1024 * 1024

OB2_KEYWORD = "openbadges"
OB3_KEYWORD = "openbadgecredential"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SVG_NS = "http://www.w3.org/2000/svg"
OB2_NS = "http://openbadges.org"
OB3_NS = "https://purl.imsglobal.org/ob/v3p0"


@dataclass(frozen=True, slots=True)
class Baked:
    """A payload found in an image."""

    format: str  # "png" | "svg"
    keyword: str  # "openbadges" (OB 2.0 / legacy) | "openbadgecredential" (OB 3.0)
    payload: str  # what `unbake` returns
    verify: str | None = None  # SVG only: the element's `verify` attribute (a hosted id or a JWS)


def error(code: str, detail: str, **params: object) -> BadgeInputError:
    return BadgeInputError(code, detail, **params)


def encode_payload(payload: str) -> bytes:
    try:
        text = payload.encode("utf-8")
    except UnicodeEncodeError:
        raise error("bad_encoding", "the payload cannot be encoded as UTF-8") from None
    if len(text) > MAX_PAYLOAD_BYTES:
        raise error("too_large", "payload too large to bake", max_bytes=MAX_PAYLOAD_BYTES)
    return text
