"""Property tests: the baking and JSON parsers only ever return or raise BadgeInputError."""

from __future__ import annotations

import struct
import zlib

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wallet.openbadges.baking import bake, sniff_format, unbake, unbake_details
from wallet.openbadges.errors import BadgeInputError
from wallet.openbadges.jsonutil import loads_strict

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _chunk(ctype: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + ctype + body + struct.pack(">I", zlib.crc32(ctype + body))


PNG = (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0))
       + _chunk(b"iTXt", b"openbadges\x00\x00\x00\x00\x00https://issuer.example/a/1")
       + _chunk(b"IDAT", zlib.compress(b"\x00" * 14))
       + _chunk(b"iTXt", b"openbadgecredential\x00\x01\x00\x00\x00" + zlib.compress(b'{"id": "urn:uuid:1"}'))
       + _chunk(b"IEND", b""))
SVG = (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" xmlns:openbadges="http://openbadges.org">'
       b'<openbadges:assertion verify="https://issuer.example/a/1"><![CDATA[{"id": "a"}]]></openbadges:assertion>'
       b'<g><rect width="1" height="1"/></g></svg>')


def outcome(call, *args):
    """The call's result, or the BadgeInputError code; any other exception fails the test."""
    try:
        return call(*args)
    except BadgeInputError as error:
        assert isinstance(error.code, str) and error.code
        return error


@st.composite
def mutated(draw, original: bytes) -> bytes:
    data = bytearray(original)
    for _ in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(["flip", "insert", "delete", "truncate"]))
        pos = draw(st.integers(0, max(len(data) - 1, 0)))
        if kind == "flip" and data:
            data[pos] = draw(st.integers(0, 255))
        elif kind == "insert":
            data[pos:pos] = draw(st.binary(min_size=1, max_size=8))
        elif kind == "delete":
            del data[pos:pos + draw(st.integers(1, 8))]
        else:
            del data[pos:]
    return bytes(data)


@FUZZ
@given(st.binary(max_size=2048))
def test_unbake_arbitrary_bytes(data):
    result = outcome(unbake, data)
    assert result is None or isinstance(result, (str, BadgeInputError))
    assert sniff_format(data) in {"png", "svg", "gif", "jpeg", "webp", "pdf", "html", "json", "unknown"}


@FUZZ
@given(st.binary(max_size=512))
def test_unbake_bytes_behind_a_png_signature(tail):
    outcome(unbake, b"\x89PNG\r\n\x1a\n" + tail)


@FUZZ
@given(mutated(PNG))
def test_unbake_mutated_png(data):
    outcome(unbake_details, data)
    outcome(bake, data, '{"id": "urn:uuid:2"}')


@FUZZ
@given(mutated(SVG))
def test_unbake_mutated_svg(data):
    outcome(unbake_details, data)
    outcome(bake, data, "https://issuer.example/a/2")


@FUZZ
@given(st.text(max_size=300))
def test_unbake_svg_like_text(inner):
    document = ('<svg xmlns="http://www.w3.org/2000/svg" xmlns:openbadges="http://openbadges.org">'
                f"{inner}</svg>").encode("utf-8", "surrogatepass")
    outcome(unbake, document)


@FUZZ
@given(st.text(min_size=1, max_size=400), st.sampled_from(["png", "svg"]))
def test_bake_unbake_round_trip_any_text(payload, kind):
    image = PNG if kind == "png" else SVG
    baked = outcome(bake, image, payload)
    if isinstance(baked, BadgeInputError):
        assert baked.code in {"empty_badge", "bad_encoding"}
        return
    assert unbake(baked) == payload


@FUZZ
@given(st.text(max_size=400))
def test_loads_strict_arbitrary_text(text):
    outcome(loads_strict, text)


@FUZZ
@given(st.binary(max_size=400))
def test_loads_strict_arbitrary_bytes(data):
    outcome(loads_strict, data)


@FUZZ
@given(st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=5),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3),
                    max_leaves=20))
def test_loads_strict_reads_back_what_json_writes(value):
    import json

    assert loads_strict(json.dumps(value)) == value
