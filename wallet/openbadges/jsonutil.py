"""Defensive JSON parsing for untrusted badge data.

CONTRACT:
- `MAX_JSON_BYTES = 256 * 1024`; `MAX_JSON_DEPTH = 64`.
- `loads_strict(text: str | bytes, max_bytes: int = MAX_JSON_BYTES) -> object`: the parsed JSON
  value. Raises BadgeInputError with one of these codes:
  - `too_large`: over `max_bytes` (UTF-8 bytes), checked before any parsing;
  - `bad_encoding`: bytes that are not UTF-8 (a leading UTF-8 BOM is accepted and dropped);
  - `too_deep`: arrays/objects nested deeper than 64, found by a bracket pre-scan outside strings
    before `json.loads` runs, so `"[" * 100000` is refused at once and never RecursionError;
  - `duplicate_keys`: an object that repeats a key (params: key);
  - `not_json`: invalid JSON, `NaN`/`Infinity`, a number that overflows to infinity (`1e999999`)
    or an integer too long for Python to convert.
- `loads_stored(text: str) -> object`: JSON the wallet wrote itself (stored verdicts), read in bulk
  (a learner's 500 badges for eligibility): orjson, about four times faster than `json.loads`, with
  `json.loads` for the rare text orjson refuses (an escaped lone surrogate). Never for outside input.
- `loads_unique(text: str) -> object`: `json.loads` that raises a plain ValueError on a repeated
  key or `NaN`/`Infinity`, and checks nothing else: for JSON whose size its carrier already
  bounds (an HTTP body read under a cap, a JWS segment).
"""

from __future__ import annotations

import json
import math
import re

import orjson

from .errors import BadgeInputError

MAX_JSON_BYTES = 256 * 1024
MAX_JSON_DEPTH = 64

# A JSON string: the "unrolled loop" form runs in linear time on long strings.
_TOKEN_RE = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]', re.DOTALL)


def _check_depth(text: str) -> None:
    """Refuse nesting deeper than MAX_JSON_DEPTH, counting brackets outside strings.

    json.loads tokenizes strings by the same rule and stops at its first syntax error, so it can
    never nest deeper than the depth measured here.
    """
    if text.count("[") + text.count("{") <= MAX_JSON_DEPTH:
        return  # cannot be too deep: skip the scan for small documents
    depth = 0
    for match in _TOKEN_RE.finditer(text):
        token = match.group()
        if token in "[{":
            depth += 1
            if depth > MAX_JSON_DEPTH:
                raise BadgeInputError("too_deep", f"JSON nested deeper than {MAX_JSON_DEPTH}",
                                      max_depth=MAX_JSON_DEPTH)
        elif token in "]}":
            depth -= 1


def _pairs(pairs: list[tuple[str, object]]) -> dict[str, object]:
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise BadgeInputError("duplicate_keys", f"duplicate key {key!r}", key=key)
            seen.add(key)
    return result


def _finite_float(literal: str) -> float:
    value = float(literal)
    if not math.isfinite(value):
        raise BadgeInputError("not_json", f"number out of range: {literal[:40]}")
    return value


def _no_constant(name: str) -> object:
    raise BadgeInputError("not_json", f"{name} is not JSON")


def loads_strict(text: str | bytes | bytearray, max_bytes: int = MAX_JSON_BYTES) -> object:
    """Parse untrusted JSON with size, depth, duplicate-key and number checks (see the contract)."""
    if isinstance(text, (bytes, bytearray)):
        if len(text) > max_bytes:
            raise BadgeInputError("too_large", f"JSON larger than {max_bytes} bytes", max_bytes=max_bytes)
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError:
            raise BadgeInputError("bad_encoding", "JSON is not UTF-8") from None
    elif isinstance(text, str):
        # A character is at least one UTF-8 byte: the cheap test first.
        if len(text) > max_bytes or len(text.encode("utf-8", "surrogatepass")) > max_bytes:
            raise BadgeInputError("too_large", f"JSON larger than {max_bytes} bytes", max_bytes=max_bytes)
    else:
        raise BadgeInputError("not_json", f"cannot parse {type(text).__name__} as JSON")
    text = text.removeprefix("\ufeff")
    _check_depth(text)
    try:
        return json.loads(text, object_pairs_hook=_pairs, parse_float=_finite_float,
                          parse_constant=_no_constant)
    except BadgeInputError:  # raised by the hooks; a subclass of ValueError, so let it through
        raise
    except RecursionError:  # not expected after the pre-scan; kept as a last line of defence
        raise BadgeInputError("too_deep", "JSON nested too deeply", max_depth=MAX_JSON_DEPTH) from None
    except ValueError as exc:  # JSONDecodeError, and int() over the digit limit
        raise BadgeInputError("not_json", str(exc)[:200]) from None


def loads_stored(text: str) -> object:
    """A JSON text the wallet stored itself, parsed fast (see the contract above)."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


def _unique_pairs(pairs: list[tuple[str, object]]) -> dict:
    result: dict = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate JSON key {key!r}")
        result[key] = value
    return result


def _refuse_constant(name: str) -> object:
    raise ValueError(f"{name} is not JSON")


def loads_unique(text: str) -> object:
    """json.loads refusing repeated keys and NaN/Infinity with a ValueError (see the contract)."""
    return json.loads(text, object_pairs_hook=_unique_pairs, parse_constant=_refuse_constant)
