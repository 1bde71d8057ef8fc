"""Baking and unbaking PNG/SVG badges, OB 2.0 and OB 3.0 (PROTOCOLS.md §3; SECURITY.md T01–T10)."""

from __future__ import annotations

import base64
import io
import json
import struct
import zlib

import pytest
from PIL import Image

from wallet.openbadges.baking import Baked, bake, sniff_format, unbake, unbake_details
from wallet.openbadges.errors import BadgeInputError

# --- fixtures built at test time -------------------------------------------------------------

SIGNATURE = b"\x89PNG\r\n\x1a\n"
OB2_NS = "http://openbadges.org"
OB3_NS = "https://purl.imsglobal.org/ob/v3p0"


def chunk(ctype: bytes, body: bytes, crc: int | None = None) -> bytes:
    crc = zlib.crc32(ctype + body) if crc is None else crc
    return struct.pack(">I", len(body)) + ctype + body + struct.pack(">I", crc)


def png_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    """(type, data) of every chunk, read independently of the code under test."""
    assert data[:8] == SIGNATURE
    out, pos = [], 8
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        out.append((data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]))
        pos += 12 + length
    return out


def itxt(keyword: str, text: bytes, compressed: bool = False) -> bytes:
    if compressed:
        return chunk(b"iTXt", keyword.encode() + b"\x00\x01\x00\x00\x00" + zlib.compress(text))
    return chunk(b"iTXt", keyword.encode() + b"\x00\x00\x00\x00\x00" + text)


def pillow_png(size: tuple[int, int] = (8, 6)) -> bytes:
    image = Image.new("RGBA", size)
    image.putdata([(x * 30 % 256, y * 40 % 256, (x + y) % 256, 255)
                   for y in range(size[1]) for x in range(size[0])])
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def handmade_png(*extra_after_ihdr: bytes, after_idat: bytes = b"", width: int = 1, height: int = 1) -> bytes:
    ihdr = chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
    idat = chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00"))
    return SIGNATURE + ihdr + b"".join(extra_after_ihdr) + idat + after_idat + chunk(b"IEND", b"")


SVG = (b'<?xml version="1.0" encoding="UTF-8"?>\n<!-- a comment that must survive -->\n'
       b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
       b'<title>Badge</title><circle cx="5" cy="5" r="4" fill="#c00"/></svg>')


def b64url(value: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()


OB2_JSON = json.dumps({"@context": "https://w3id.org/openbadges/v2", "type": "Assertion",
                       "id": "https://issuer.example/assertions/1", "note": "é ]]> <&>"})
OB3_JSON = json.dumps({"@context": ["https://www.w3.org/ns/credentials/v2",
                                    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"],
                       "type": ["VerifiableCredential", "OpenBadgeCredential"],
                       "id": "urn:uuid:1", "name": "Ça marche ]]>"}, ensure_ascii=False)
OB2_JWS = f"{b64url({'alg': 'RS256'})}.{b64url({'type': 'Assertion', 'id': 'urn:uuid:2'})}.c2lnbmF0dXJl"
OB3_JWS = f"{b64url({'alg': 'RS256'})}.{b64url({'vc': {'type': ['VerifiableCredential']}})}.c2lnbmF0dXJl"
URL = "https://issuer.example/assertions/1"
CDATA_JSON = json.dumps({"@context": "https://w3id.org/openbadges/v2", "id": URL, "name": "<b>&</b>"})

PAYLOADS = {
    "ob2-json": (OB2_JSON, "openbadges"),
    "ob3-json": (OB3_JSON, "openbadgecredential"),
    "ob2-jws": (OB2_JWS, "openbadges"),
    "ob3-jws": (OB3_JWS, "openbadgecredential"),
    "url": (URL, "openbadges"),
    "json-with-crlf": (OB2_JSON + "\r\n", "openbadges"),
}
IMAGES = {"png": pillow_png, "svg": lambda: SVG}


def error_of(call, *args) -> BadgeInputError:
    with pytest.raises(BadgeInputError) as caught:
        call(*args)
    return caught.value


def count_badge_chunks(data: bytes) -> int:
    return sum(1 for ctype, body in png_chunks(data)
               if ctype in (b"iTXt", b"tEXt") and body.split(b"\x00", 1)[0] in (b"openbadges", b"openbadgecredential"))


def count_badge_elements(data: bytes) -> int:
    import defusedxml.ElementTree as SafeET

    root = SafeET.fromstring(data)
    return len(root.findall(f".//{{{OB2_NS}}}assertion")) + len(root.findall(f".//{{{OB3_NS}}}credential"))


# --- round trips -----------------------------------------------------------------------------

@pytest.mark.parametrize("image_kind", sorted(IMAGES))
@pytest.mark.parametrize("payload_kind", sorted(PAYLOADS))
def test_bake_then_unbake_gives_the_payload_back(image_kind, payload_kind):
    payload, keyword = PAYLOADS[payload_kind]
    baked = bake(IMAGES[image_kind](), payload)
    details = unbake_details(baked)
    assert details is not None
    assert details.payload == payload
    assert details.keyword == keyword
    assert details.format == image_kind
    assert unbake(baked) == payload


@pytest.mark.parametrize("image_kind", sorted(IMAGES))
def test_rebaking_replaces_the_badge(image_kind):
    once = bake(IMAGES[image_kind](), OB2_JSON)
    twice = bake(bake(once, URL), OB3_JSON)
    assert unbake(twice) == OB3_JSON
    count = count_badge_chunks if image_kind == "png" else count_badge_elements
    assert count(once) == 1
    assert count(twice) == 1


@pytest.mark.parametrize("image_kind", sorted(IMAGES))
def test_rebaking_the_same_payload_is_stable(image_kind):
    once = bake(IMAGES[image_kind](), OB2_JSON)
    assert bake(once, OB2_JSON) == once


def test_baked_png_opens_in_pillow_with_the_same_pixels():
    original = pillow_png((17, 9))
    baked = bake(original, OB3_JSON)
    with Image.open(io.BytesIO(original)) as before, Image.open(io.BytesIO(baked), formats=["PNG"]) as after:
        assert after.size == before.size
        assert after.tobytes() == before.tobytes()
        assert after.text["openbadgecredential"] == OB3_JSON


def test_png_badge_chunk_is_uncompressed_itxt_right_after_ihdr():
    baked = bake(pillow_png(), URL)
    chunks = png_chunks(baked)
    assert chunks[0][0] == b"IHDR"
    assert chunks[1] == (b"iTXt", b"openbadges\x00\x00\x00\x00\x00" + URL.encode())
    assert chunks[-1][0] == b"IEND"


def test_bake_drops_a_legacy_text_chunk_too():
    image = handmade_png(chunk(b"tEXt", b"openbadges\x00https://old.example/a"))
    baked = bake(image, OB2_JSON)
    assert count_badge_chunks(baked) == 1
    assert unbake(baked) == OB2_JSON


# --- PNG unbaking ----------------------------------------------------------------------------

def test_itxt_after_idat_is_found():
    image = handmade_png(after_idat=itxt("openbadges", OB2_JSON.encode()))
    assert unbake(image) == OB2_JSON


def test_legacy_text_chunk_is_read_as_latin1():
    image = handmade_png(chunk(b"tEXt", b"openbadges\x00https://issuer.example/a/\xe9"))
    assert unbake(image) == "https://issuer.example/a/é"


def test_compressed_itxt_is_inflated():
    image = handmade_png(itxt("openbadges", OB2_JSON.encode(), compressed=True))
    assert unbake(image) == OB2_JSON


def test_compressed_text_bomb_is_too_large():
    image = handmade_png(itxt("openbadges", b"A" * 5_000_000, compressed=True))
    assert len(image) < 10_000
    assert error_of(unbake, image).code == "too_large"


def test_uncompressed_text_over_256_kib_is_too_large():
    image = handmade_png(itxt("openbadges", b"A" * (300 * 1024)))
    assert error_of(unbake, image).code == "too_large"


def test_pixel_bomb_is_not_decoded():
    image = handmade_png(width=100_000, height=100_000)
    assert len(image) < 500
    assert unbake(image) is None
    baked = bake(image, URL)
    assert unbake(baked) == URL


def test_plain_png_has_no_badge():
    assert unbake(pillow_png()) is None
    assert unbake_details(pillow_png()) is None


@pytest.mark.parametrize("cut", [8, 20, 33, 40, -12, -5, -1])
def test_truncated_png_is_corrupt(cut):
    image = handmade_png(itxt("openbadges", b"{}"))
    assert error_of(unbake, image[:cut]).code == "corrupt_image"


def test_missing_iend_is_corrupt_even_after_a_badge_chunk():
    image = handmade_png(itxt("openbadges", b"{}"))
    assert error_of(unbake, image[:-12]).code == "corrupt_image"


def test_chunk_length_past_the_end_is_corrupt():
    image = SIGNATURE + chunk(b"IHDR", b"\x00" * 13) + struct.pack(">I", 2**31 - 2) + b"IDAT" + b"\x00" * 8
    assert error_of(unbake, image).code == "corrupt_image"


def test_two_chunks_with_the_same_keyword_are_ambiguous():
    image = handmade_png(itxt("openbadges", b'{"id":"a"}'), after_idat=itxt("openbadges", b'{"id":"b"}'))
    error = error_of(unbake, image)
    assert error.code == "ambiguous_badge"
    assert error.params["keyword"] == "openbadges"


def test_an_itxt_and_a_text_with_the_same_keyword_are_ambiguous():
    image = handmade_png(itxt("openbadges", b"{}"), chunk(b"tEXt", b"openbadges\x00https://a.example/"))
    assert error_of(unbake, image).code == "ambiguous_badge"


def test_ob3_keyword_wins_over_ob2():
    image = handmade_png(itxt("openbadges", OB2_JSON.encode()), itxt("openbadgecredential", OB3_JSON.encode()))
    details = unbake_details(image)
    assert details == Baked("png", "openbadgecredential", OB3_JSON, None)


def test_bad_crc_on_the_badge_chunk_is_corrupt():
    body = b"openbadges\x00\x00\x00\x00\x00{}"
    image = handmade_png(chunk(b"iTXt", body, crc=zlib.crc32(b"iTXt" + body) ^ 1))
    assert error_of(unbake, image).code == "corrupt_image"


def test_bad_crc_elsewhere_is_not_checked():
    # Only badge text chunks are CRC-checked (PROTOCOLS.md Decisions): image data is skipped.
    broken = chunk(b"tIME", b"\x07\xe8\x01\x01\x00\x00\x00", crc=0)
    image = handmade_png(broken, itxt("openbadges", b"{}"))
    assert unbake(image) == "{}"


def test_non_utf8_itxt_is_bad_encoding():
    image = handmade_png(itxt("openbadges", b'{"name":"\xff\xfe"}'))
    assert error_of(unbake, image).code == "bad_encoding"


def test_other_text_chunks_are_ignored():
    image = handmade_png(itxt("Comment", b"openbadges"), chunk(b"tEXt", b"openbadgesX\x00nope"))
    assert unbake(image) is None


# --- formats ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("data", "fmt"), [
    (SIGNATURE + b"rest", "png"),
    (b"GIF89a\x01\x00\x01\x00", "gif"),
    (b"GIF87a\x01\x00", "gif"),
    (b"\xff\xd8\xff\xe0\x00\x10JFIF", "jpeg"),
    (b"RIFF\x10\x00\x00\x00WEBPVP8 ", "webp"),
    (b"%PDF-1.7\n", "pdf"),
    (b'  {"id": 1}', "json"),
    (b"[1, 2]", "json"),
    (b"<!DOCTYPE html><html><body><svg></svg></body></html>", "html"),
    (b"<html><script>alert(1)</script></html>", "html"),
    (b'\xef\xbb\xbf<?xml version="1.0"?>\n<!-- made by hand -->\n<svg xmlns="http://www.w3.org/2000/svg"/>', "svg"),
    (b'<svg:svg xmlns:svg="http://www.w3.org/2000/svg"/>', "svg"),
    ('<?xml version="1.0" encoding="UTF-16"?><svg/>'.encode("utf-16"), "svg"),
    (b"", "unknown"),
    (b"hello", "unknown"),
    (b"<note>no image</note>", "unknown"),
])
def test_sniff_format(data, fmt):
    assert sniff_format(data) == fmt


@pytest.mark.parametrize(("data", "fmt"), [
    (b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", "gif"),
    (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", "jpeg"),
    (b"RIFF\x10\x00\x00\x00WEBPVP8 ", "webp"),
    (b"%PDF-1.4\n%%EOF", "pdf"),
    (b"<html><script>alert(1)</script></html>", "html"),
    (b'{"id": "https://issuer.example/a"}', "json"),
    (b"\x00\x01\x02 binary", "unknown"),
    (b"<note>not an image</note>", "xml"),
    (b"<!--" + b"x" * 2000 + b'--><html xmlns="http://www.w3.org/1999/xhtml"><body/></html>', "html"),
])
def test_other_formats_are_not_images(data, fmt):
    for call in (unbake, lambda d: bake(d, URL)):
        error = error_of(call, data)
        assert error.code == "not_an_image"
        assert error.params["format"] == fmt


def test_gif_named_png_is_not_an_image():
    gif = io.BytesIO()
    Image.new("RGB", (2, 2)).save(gif, "GIF")
    error = error_of(unbake, gif.getvalue())
    assert (error.code, error.params) == ("not_an_image", {"format": "gif"})


def test_image_over_32_mib_is_too_large():
    image = SIGNATURE + b"\x00" * (32 * 1024 * 1024)
    assert error_of(unbake, image).code == "too_large"


# --- SVG unbaking ----------------------------------------------------------------------------

def svg_with(inner: str, namespaces: str = f'xmlns:openbadges="{OB2_NS}"') -> bytes:
    return f'<svg xmlns="http://www.w3.org/2000/svg" {namespaces}>{inner}<rect/></svg>'.encode()


@pytest.mark.parametrize("document", [
    (b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
     b'<svg xmlns="http://www.w3.org/2000/svg">&x;</svg>'),
    (b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
     b'<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]><svg xmlns="http://www.w3.org/2000/svg">&c;</svg>'),
    b"<!DOCTYPE svg><svg/>",
    (b'<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">'
     b'<svg xmlns="http://www.w3.org/2000/svg"/>'),
])
def test_unsafe_svg_is_refused(document):
    assert error_of(unbake, document).code == "unsafe_svg"
    assert error_of(bake, document, URL).code == "unsafe_svg"


def test_svg_without_badge_has_none():
    assert unbake(SVG) is None


def test_svg_badge_element_with_neither_text_nor_verify_is_empty():
    assert error_of(unbake, svg_with("<openbadges:assertion/>")).code == "empty_badge"
    assert error_of(unbake, svg_with("<openbadges:assertion>  \n </openbadges:assertion>")).code == "empty_badge"


def test_svg_unbound_prefix_is_corrupt():
    document = b'<svg xmlns="http://www.w3.org/2000/svg"><openbadges:assertion verify="x"/></svg>'
    assert error_of(unbake, document).code == "corrupt_image"


def test_svg_two_assertions_are_ambiguous():
    document = svg_with('<openbadges:assertion verify="https://a.example/1"/>'
                        '<g><openbadges:assertion verify="https://a.example/2"/></g>')
    assert error_of(unbake, document).code == "ambiguous_badge"


def test_svg_any_prefix_is_found():
    document = svg_with(f'<g><ob:credential xmlns:ob="{OB3_NS}"><![CDATA[{CDATA_JSON}]]></ob:credential></g>', "")
    assert unbake_details(document) == Baked("svg", "openbadgecredential", CDATA_JSON, None)


def test_svg_default_namespace_element_is_found():
    document = svg_with(f'<assertion xmlns="{OB2_NS}" verify="{URL}"/>', "")
    assert unbake(document) == URL


def test_svg_text_wins_and_verify_is_reported():
    document = svg_with(f'<openbadges:assertion verify="{URL}"><![CDATA[{CDATA_JSON}]]></openbadges:assertion>')
    assert unbake_details(document) == Baked("svg", "openbadges", CDATA_JSON, URL)


def test_svg_verify_only_gives_the_verify_attribute():
    document = svg_with(f'<openbadges:assertion verify="{OB2_JWS}"/>')
    assert unbake_details(document) == Baked("svg", "openbadges", OB2_JWS, OB2_JWS)


def test_svg_prefers_the_ob3_element():
    document = svg_with(f'<openbadges:assertion verify="{URL}"/><c:credential xmlns:c="{OB3_NS}" verify="{OB3_JWS}"/>')
    assert unbake(document) == OB3_JWS


def test_svg_whose_root_is_not_svg_is_not_an_image():
    error = error_of(unbake, b'<svgish xmlns="http://www.w3.org/2000/svg"><svg/></svgish>')
    assert (error.code, error.params) == ("not_an_image", {"format": "xml"})
    error = error_of(unbake, b'<svg xmlns="urn:not-svg"/>')
    assert error.code == "not_an_image"


def test_svg_malformed_is_corrupt():
    assert error_of(unbake, b'<svg xmlns="http://www.w3.org/2000/svg"><g></svg>').code == "corrupt_image"


def test_svg_huge_cdata_is_too_large():
    document = svg_with("<openbadges:assertion><![CDATA[" + "A" * (10 * 1024 * 1024) + "]]></openbadges:assertion>")
    assert error_of(unbake, document).code == "too_large"


def test_svg_payload_text_is_returned_exactly():
    inner = "<openbadges:assertion>\n  " + "{&quot;a&quot;: 1}" + "\n</openbadges:assertion>"
    assert unbake(svg_with(inner)) == '\n  {"a": 1}\n'


def test_svg_with_many_elements_and_the_badge_last():
    shapes = "".join(f'<g id="g{i}"><rect x="{i}" width="1" height="1">t</rect></g>' for i in range(20_000))
    document = svg_with(shapes + f"<openbadges:assertion><![CDATA[{CDATA_JSON}]]></openbadges:assertion>")
    assert unbake(document) == CDATA_JSON


# --- SVG baking ------------------------------------------------------------------------------

def test_svg_bake_inserts_the_first_child_and_keeps_the_document():
    baked = bake(SVG, OB2_JSON).decode("utf-8")
    assert baked.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<!-- a comment that must survive -->\n<svg ')
    assert f'xmlns:openbadges="{OB2_NS}"' in baked
    rest = baked.split('height="10"', 1)[1]
    assert rest.startswith(f' xmlns:openbadges="{OB2_NS}"><openbadges:assertion verify="{URL}"><![CDATA[')
    assert baked.endswith('</openbadges:assertion><title>Badge</title><circle cx="5" cy="5" r="4" fill="#c00"/></svg>')


def test_svg_bake_jws_uses_verify_and_an_empty_body():
    baked = bake(SVG, OB3_JWS).decode()
    assert f'<openbadges:credential verify="{OB3_JWS}"></openbadges:credential>' in baked
    assert f'xmlns:openbadges="{OB3_NS}"' in baked


def test_svg_bake_url_uses_verify_and_body():
    baked = bake(SVG, URL).decode()
    assert f'<openbadges:assertion verify="{URL}">{URL}</openbadges:assertion>' in baked


def test_svg_bake_ob3_json_has_no_verify():
    baked = bake(SVG, OB3_JSON).decode()
    assert "<openbadges:credential><![CDATA[" in baked


def test_svg_bake_guards_cdata_end():
    payload = json.dumps({"id": "urn:uuid:3", "x": "a]]>b]]>"})
    baked = bake(SVG, payload)
    assert unbake(baked) == payload
    assert count_badge_elements(baked) == 1


def test_svg_bake_self_closing_root():
    baked = bake(b'<svg xmlns="http://www.w3.org/2000/svg"/>', URL)
    assert baked == (f'<svg xmlns="http://www.w3.org/2000/svg" xmlns:openbadges="{OB2_NS}">'
                     f'<openbadges:assertion verify="{URL}">{URL}</openbadges:assertion></svg>').encode()


def test_svg_bake_prefixed_root_and_root_binding_openbadges_elsewhere():
    document = b'<s:svg xmlns:s="http://www.w3.org/2000/svg" xmlns:openbadges="urn:other"><openbadges:x/></s:svg>'
    baked = bake(document, OB2_JSON)
    assert unbake(baked) == OB2_JSON
    assert b"<openbadges:x/>" in baked


def test_svg_bake_reencodes_to_utf8():
    text = '<?xml version="1.0" encoding="ISO-8859-1"?><svg xmlns="http://www.w3.org/2000/svg"><title>Été</title></svg>'
    baked = bake(text.encode("latin-1"), OB3_JSON)
    assert baked.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    assert "<title>Été</title>".encode() in baked
    assert unbake(baked) == OB3_JSON
    utf16 = bake(text.replace("ISO-8859-1", "UTF-16").encode("utf-16"), URL)
    assert utf16.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    assert unbake(utf16) == URL


def test_svg_utf16_unbake():
    document = f'<svg xmlns="http://www.w3.org/2000/svg" xmlns:o="{OB2_NS}"><o:assertion verify="{URL}"/></svg>'
    assert unbake(document.encode("utf-16")) == URL


def test_svg_bake_refuses_characters_xml_cannot_carry():
    assert error_of(bake, SVG, '{"a": "\x01"}').code == "bad_encoding"


def test_svg_long_prolog_is_still_an_svg():
    document = b"<!--" + b"x" * 3000 + b"-->" + SVG.split(b"-->", 1)[1]
    assert sniff_format(document) == "unknown"
    assert unbake(bake(document, URL)) == URL


# --- bake input errors -----------------------------------------------------------------------

def test_bake_refuses_a_payload_over_256_kib():
    payload = json.dumps({"id": "urn:uuid:4", "pad": "x" * (256 * 1024)})
    for image in (pillow_png(), SVG):
        assert error_of(bake, image, payload).code == "too_large"


def test_bake_refuses_an_empty_payload():
    assert error_of(bake, pillow_png(), "  ").code == "empty_badge"


def test_bake_refuses_a_png_whose_first_chunk_is_not_ihdr():
    image = SIGNATURE + chunk(b"tIME", b"\x00" * 7) + chunk(b"IEND", b"")
    assert error_of(bake, image, URL).code == "corrupt_image"


def test_bake_refuses_a_corrupt_png():
    assert error_of(bake, pillow_png()[:-20], URL).code == "corrupt_image"


def test_svg_bake_removes_nested_and_scattered_badge_elements():
    document = svg_with(f'<openbadges:assertion verify="{URL}"><openbadges:assertion>x</openbadges:assertion>'
                        f'</openbadges:assertion><g><c:credential xmlns:c="{OB3_NS}">{{}}</c:credential></g>\n')
    assert error_of(unbake, document).code == "ambiguous_badge"
    baked = bake(document, OB2_JWS)
    assert count_badge_elements(baked) == 1
    assert unbake(baked) == OB2_JWS
    assert b"<g></g>" in baked
