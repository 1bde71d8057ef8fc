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

PNG: the walker reads every chunk header up to IEND, skipping chunk data by its length (pixels
are never decoded, IDAT never inflated or CRC-checked); only badge text chunks (`iTXt` keyword
`openbadges`/`openbadgecredential`, legacy `tEXt`) are CRC-checked and decoded. The walk is strict:
a chunk running past the end or a missing IEND is `corrupt_image`, even when a badge chunk came
before the damage. When both keywords are present, `openbadgecredential` wins. Baking writes an
uncompressed iTXt right after IHDR and drops every earlier badge chunk and anything after IEND.

SVG: parsed only by defusedxml (DTDs, entities and external references forbidden) in streaming
mode with a parser target that keeps no tree, so memory stays flat whatever the document size.
Badge elements are found anywhere by namespace URI + local name (`{http://openbadges.org}assertion`,
`{https://purl.imsglobal.org/ob/v3p0}credential`), whatever their prefix. Unbaking returns the
element's own text (CDATA) when it is not blank, else its `verify` attribute. Baking edits the
document text in place (the rest of the document is kept byte for byte, re-encoded as UTF-8):
it removes every badge element, declares the namespace on the root (or on the element itself when
the root binds `openbadges` to another namespace) and inserts the element as the root's first child.
The element carries: for a JWS, `verify="<jws>"` and an empty body; for a URL, `verify="<url>"` and
the URL as text; for JSON, the payload in CDATA (`]]>` split across sections) plus, for OB 2.0 JSON
with an http(s) `id` (or `verify.url`), `verify="<id>"`. A payload that XML would alter (a CR, or
whitespace around a JWS) is written as escaped text instead, so it still comes back unchanged.
"""

from __future__ import annotations

import base64
import codecs
import re
import struct
import zlib
from dataclasses import dataclass
from xml.parsers.expat import ExpatError as _ExpatError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import ParseError
from defusedxml.ElementTree import XMLParser as DefusedXMLParser

from .errors import BadgeInputError
from .jsonutil import loads_strict

MAX_IMAGE_BYTES = 32 * 1024 * 1024
MAX_PAYLOAD_BYTES = 256 * 1024
MAX_INFLATE_BYTES = 1024 * 1024

OB2_KEYWORD = "openbadges"
OB3_KEYWORD = "openbadgecredential"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SVG_NS = "http://www.w3.org/2000/svg"
OB2_NS = "http://openbadges.org"
OB3_NS = "https://purl.imsglobal.org/ob/v3p0"
# Element names as expat reports them with namespace_separator "}".
_SVG_NAME = f"{SVG_NS}}}svg"
_BADGE_NAMES = {f"{OB2_NS}}}assertion": OB2_KEYWORD, f"{OB3_NS}}}credential": OB3_KEYWORD}
_KEYWORD_ELEMENT = {OB2_KEYWORD: (OB2_NS, "assertion"), OB3_KEYWORD: (OB3_NS, "credential")}

_JWS_RE = re.compile(r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+$")
_URL_RE = re.compile(r"^https?://\S+$", re.IGNORECASE)
_OB3_TYPES = {"OpenBadgeCredential", "AchievementCredential", "VerifiableCredential"}
_VC_CONTEXTS = {"https://www.w3.org/ns/credentials/v2", "https://www.w3.org/2018/credentials/v1"}


@dataclass(frozen=True, slots=True)
class Baked:
    """A payload found in an image."""

    format: str  # "png" | "svg"
    keyword: str  # "openbadges" (OB 2.0 / legacy) | "openbadgecredential" (OB 3.0)
    payload: str  # what `unbake` returns
    verify: str | None = None  # SVG only: the element's `verify` attribute (a hosted id or a JWS)


def _error(code: str, detail: str, **params: object) -> BadgeInputError:
    return BadgeInputError(code, detail, **params)


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


# --- PNG -------------------------------------------------------------------------------------

_CHUNK_HEAD = struct.Struct(">I4s")
_CRC = struct.Struct(">I")
_MAX_CHUNK_LENGTH = 2**31 - 1
_BADGE_CHUNK_PREFIXES = ((OB3_KEYWORD + "\x00").encode(), (OB2_KEYWORD + "\x00").encode())


def _png_chunks(data: bytes):
    """Yield (type, offset, data length) for each chunk up to and including IEND; strict."""
    if not data.startswith(PNG_SIGNATURE):
        raise _error("corrupt_image", "no PNG signature")
    size = len(data)
    pos = len(PNG_SIGNATURE)
    while True:
        if pos + 12 > size:
            raise _error("corrupt_image", "PNG truncated before IEND", offset=pos)
        length, ctype = _CHUNK_HEAD.unpack_from(data, pos)
        if length > _MAX_CHUNK_LENGTH or pos + 12 + length > size:
            raise _error("corrupt_image", "PNG chunk runs past the end of the file", offset=pos)
        if not ctype.isalpha() or not ctype.isascii():
            raise _error("corrupt_image", "invalid PNG chunk type", offset=pos)
        yield ctype, pos, length
        if ctype == b"IEND":
            return
        pos += 12 + length


def _badge_keyword(data: bytes, ctype: bytes, pos: int, length: int) -> str | None:
    if ctype != b"iTXt" and ctype != b"tEXt":
        return None
    head = data[pos + 8:pos + 8 + min(length, 20)]
    for prefix in _BADGE_CHUNK_PREFIXES:
        if head.startswith(prefix):
            return prefix[:-1].decode("ascii")
    return None


def _decode_text_chunk(data: bytes, ctype: bytes, pos: int, length: int, keyword: str) -> str:
    view = memoryview(data)
    (crc,) = _CRC.unpack_from(data, pos + 8 + length)
    if zlib.crc32(view[pos + 4:pos + 8 + length]) != crc:
        raise _error("corrupt_image", "bad CRC on the badge chunk", keyword=keyword)
    body = bytes(view[pos + 8 + len(keyword) + 1:pos + 8 + length])
    if ctype == b"tEXt":
        if len(body) > MAX_PAYLOAD_BYTES:
            raise _error("too_large", "badge text too large", max_bytes=MAX_PAYLOAD_BYTES)
        return body.decode("latin-1")
    # iTXt after the keyword: compression flag, method, language tag\0, translated keyword\0, text
    if len(body) < 4:
        raise _error("corrupt_image", "truncated iTXt header", keyword=keyword)
    flag, method = body[0], body[1]
    try:
        text_start = body.index(b"\x00", body.index(b"\x00", 2) + 1) + 1
    except ValueError:
        raise _error("corrupt_image", "truncated iTXt header", keyword=keyword) from None
    text = body[text_start:]
    if flag == 1 and method == 0:
        inflater = zlib.decompressobj()
        try:
            text = inflater.decompress(text, MAX_INFLATE_BYTES + 1)
        except zlib.error:
            raise _error("corrupt_image", "bad compressed iTXt", keyword=keyword) from None
        if len(text) > MAX_INFLATE_BYTES or inflater.unconsumed_tail:
            raise _error("too_large", "compressed badge text inflates too much", max_bytes=MAX_INFLATE_BYTES)
        if not inflater.eof:
            raise _error("corrupt_image", "truncated compressed iTXt", keyword=keyword)
    elif flag != 0:
        raise _error("corrupt_image", "unknown iTXt compression", keyword=keyword)
    if len(text) > MAX_PAYLOAD_BYTES:
        raise _error("too_large", "badge text too large", max_bytes=MAX_PAYLOAD_BYTES)
    try:
        return text.decode("utf-8")
    except UnicodeDecodeError:
        raise _error("bad_encoding", "badge text is not UTF-8", keyword=keyword) from None


def _unbake_png(data: bytes) -> Baked | None:
    found: dict[str, tuple[bytes, int, int]] = {}
    for ctype, pos, length in _png_chunks(data):
        keyword = _badge_keyword(data, ctype, pos, length)
        if keyword is not None:
            if keyword in found:
                raise _error("ambiguous_badge", "two badge chunks with the same keyword", keyword=keyword)
            found[keyword] = (ctype, pos, length)
    for keyword in (OB3_KEYWORD, OB2_KEYWORD):
        if keyword in found:
            ctype, pos, length = found[keyword]
            return Baked("png", keyword, _decode_text_chunk(data, ctype, pos, length, keyword))
    return None


def _png_chunk(ctype: bytes, body: bytes) -> bytes:
    return _CHUNK_HEAD.pack(len(body), ctype) + body + _CRC.pack(zlib.crc32(ctype + body))


def _bake_png(data: bytes, payload: str, keyword: str) -> bytes:
    text = _encode_payload(payload)
    chunk = _png_chunk(b"iTXt", keyword.encode("ascii") + b"\x00\x00\x00\x00\x00" + text)
    view = memoryview(data)
    parts: list[bytes | memoryview] = [PNG_SIGNATURE]
    for ctype, pos, length in _png_chunks(data):
        if pos == len(PNG_SIGNATURE):
            if ctype != b"IHDR":
                raise _error("corrupt_image", "the first PNG chunk is not IHDR")
            parts += [view[pos:pos + 12 + length], chunk]
        elif _badge_keyword(data, ctype, pos, length) is None:
            parts.append(view[pos:pos + 12 + length])
    return b"".join(parts)


def _encode_payload(payload: str) -> bytes:
    try:
        text = payload.encode("utf-8")
    except UnicodeEncodeError:
        raise _error("bad_encoding", "the payload cannot be encoded as UTF-8") from None
    if len(text) > MAX_PAYLOAD_BYTES:
        raise _error("too_large", "payload too large to bake", max_bytes=MAX_PAYLOAD_BYTES)
    return text


# --- SVG -------------------------------------------------------------------------------------

class _NotSvg(Exception):
    def __init__(self, tag: str) -> None:
        super().__init__(tag)
        self.tag = tag


@dataclass(slots=True)
class _Element:
    keyword: str
    start: int  # byte offset of "<"
    verify: str | None
    text: str = ""
    end_tag: int = -1  # byte offset of "</" (or of the end of an empty-element tag)


class _SvgScan:
    """Follows the root and the badge elements of a document, keeps nothing else.

    Its handlers go straight onto the pyexpat parser that defusedxml built and armed (DTD, entity
    and external-reference handlers stay defusedxml's): expat reports names as "uri}local", and
    skipping ElementTree's per-element name fixing makes the walk about twice as fast.
    """

    def __init__(self, expat, strict: bool) -> None:
        self.strict = strict  # unbake: refuse a second element of one kind at once
        self.expat = expat
        self.depth = 0
        self.root_start = -1
        self.root_ns: dict[str, str] = {}
        self.elements: list[_Element] = []
        self.seen: set[str] = set()
        self._stack: list[tuple[int, _Element]] = []  # badge elements open, with their depth
        self._open: _Element | None = None  # the badge element whose text is being read
        self._open_depth = 0
        self._parts: list[str] = []
        self._size = 0
        expat.StartElementHandler = self.start
        expat.EndElementHandler = self.end
        expat.StartNamespaceDeclHandler = self.start_ns

    def start_ns(self, prefix: str | None, uri: str | None) -> None:
        if self.depth == 0:
            self.root_ns[prefix or ""] = uri or ""

    def start(self, name: str, attributes: list[str]) -> None:
        self.depth += 1
        if self.depth == 1:
            if name != _SVG_NAME:
                raise _NotSvg(name)
            self.root_start = self.expat.CurrentByteIndex
            return
        if name not in _BADGE_NAMES:
            return
        keyword = _BADGE_NAMES[name]
        if name in self.seen and self.strict:
            raise _error("ambiguous_badge", "two badge elements of the same kind", keyword=keyword)
        self.seen.add(name)
        attrib = dict(zip(attributes[::2], attributes[1::2]))
        verify = attrib.get("verify", attrib.get(name.split("}")[0] + "}verify"))
        element = _Element(keyword, self.expat.CurrentByteIndex, verify)
        self.elements.append(element)
        self._stack.append((self.depth, element))
        if self._open is None:
            self._open, self._open_depth, self._parts, self._size = element, self.depth, [], 0
            # Text matters only inside a badge element: no Python call for any other text.
            self.expat.CharacterDataHandler = self.data

    def data(self, text: str) -> None:
        if self._open is not None and self.depth == self._open_depth:
            self._size += len(text)
            if self._size > MAX_PAYLOAD_BYTES:  # characters: a lower bound of the UTF-8 size
                raise _error("too_large", "badge text too large", max_bytes=MAX_PAYLOAD_BYTES)
            self._parts.append(text)

    def end(self, name: str) -> None:
        if self._stack and self._stack[-1][0] == self.depth:
            self._stack.pop()[1].end_tag = self.expat.CurrentByteIndex
        if self._open is not None and self.depth == self._open_depth:
            self.expat.CharacterDataHandler = None  # pyexpat flushed the buffered text before this call
            self._open.text = "".join(self._parts)
            self._open = None
        self.depth -= 1


def _scan_svg(data: bytes, strict: bool, sniffed: bool) -> _SvgScan:
    parser = DefusedXMLParser(forbid_dtd=True, forbid_entities=True, forbid_external=True)
    scan = _SvgScan(parser.parser, strict)
    try:
        view = memoryview(data)
        for offset in range(0, len(data), 1 << 20):
            parser.feed(view[offset:offset + (1 << 20)])
        parser.parser.Parse(b"", True)  # not close(): its TreeBuilder target saw no element
    except BadgeInputError:
        raise
    except DefusedXmlException as exc:
        raise _error("unsafe_svg", f"forbidden XML construct: {type(exc).__name__}") from None
    except _NotSvg as exc:
        local = exc.tag.rsplit("}", 1)[-1].lower()
        raise _error("not_an_image", "the XML root is not <svg>", format="html" if local == "html" else "xml") from None
    except (ParseError, ValueError, LookupError, UnicodeError, _ExpatError) as exc:
        if not sniffed:
            raise _error("not_an_image", "neither a PNG nor an SVG image", format="unknown") from None
        raise _error("corrupt_image", f"malformed SVG: {exc}"[:200]) from None
    return scan


def _unbake_svg(data: bytes, sniffed: bool) -> Baked | None:
    scan = _scan_svg(data, strict=True, sniffed=sniffed)
    by_keyword = {element.keyword: element for element in scan.elements}
    element = by_keyword.get(OB3_KEYWORD) or by_keyword.get(OB2_KEYWORD)
    if element is None:
        return None
    if element.text.strip():
        payload = element.text
    elif element.verify and element.verify.strip():
        payload = element.verify
    else:
        raise _error("empty_badge", "badge element with neither text nor verify attribute",
                     keyword=element.keyword)
    if len(payload.encode("utf-8", "surrogatepass")) > MAX_PAYLOAD_BYTES:
        raise _error("too_large", "badge text too large", max_bytes=MAX_PAYLOAD_BYTES)
    return Baked("svg", element.keyword, payload, element.verify)


_ENCODING_DECL_RE = re.compile(rb"""^(<\?xml[^>]*?\sencoding\s*=\s*)(["'])([A-Za-z0-9._-]+)\2""")
_START_TAG_RE = re.compile(rb"""<([^\s/>]+)(?:\s+[^\s=/>]+\s*=\s*(?:"[^"]*"|'[^']*'))*\s*(/?)>""")
_XML_ILLEGAL_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def _svg_as_utf8(data: bytes) -> bytes:
    """The document re-encoded as UTF-8 without BOM, its XML declaration saying so."""
    try:
        if data.startswith(codecs.BOM_UTF8):
            text = data[3:].decode("utf-8")
        elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            text = data.decode("utf-16")
        else:
            match = _ENCODING_DECL_RE.match(data[:512])
            text = data.decode(match.group(3).decode("ascii") if match else "utf-8")
    except (UnicodeError, LookupError):
        raise _error("corrupt_image", "the SVG text cannot be decoded") from None
    out = text.encode("utf-8", "surrogatepass")
    return _ENCODING_DECL_RE.sub(lambda m: m.group(1) + m.group(2) + b"UTF-8" + m.group(2), out, count=1)


def _xml_escape(value: str, attribute: bool) -> str:
    value = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")
    if attribute:
        value = value.replace('"', "&quot;").replace("\t", "&#9;").replace("\n", "&#10;")
    return value


def _svg_element(payload: str, keyword: str, kind: str, doc: object, prefix_decl: str) -> bytes:
    local = _KEYWORD_ELEMENT[keyword][1]
    stripped = payload.strip()
    verify = None
    body = ""
    if kind == "jws":
        verify = stripped
        body = "" if payload == stripped else _xml_escape(payload, False)
    elif kind == "url":
        verify, body = stripped, _xml_escape(payload, False)
    else:
        if keyword == OB2_KEYWORD and isinstance(doc, dict):
            verify = _hosted_id(doc)
        if "\r" in payload:  # CDATA cannot carry a CR through XML line-end normalization
            body = _xml_escape(payload, False)
        else:
            body = "<![CDATA[" + payload.replace("]]>", "]]]]><![CDATA[>") + "]]>"
    attrs = prefix_decl + (f' verify="{_xml_escape(verify, True)}"' if verify else "")
    return f"<openbadges:{local}{attrs}>{body}</openbadges:{local}>".encode()


def _hosted_id(doc: dict) -> str | None:
    candidates = [doc.get("id")]
    for name in ("verify", "verification"):
        if isinstance(doc.get(name), dict):
            candidates.append(doc[name].get("url"))
    for candidate in candidates:
        if isinstance(candidate, str) and _URL_RE.match(candidate):
            return candidate
    return None


def _bake_svg(data: bytes, payload: str, keyword: str, kind: str, doc: object, sniffed: bool) -> bytes:
    if _XML_ILLEGAL_RE.search(payload):
        raise _error("bad_encoding", "the payload has characters that XML cannot carry")
    _encode_payload(payload)
    scan = _scan_svg(data, strict=False, sniffed=sniffed)  # safety and root checks on the original
    buf = _svg_as_utf8(data)
    if buf != data:  # re-encoded: the byte offsets changed
        scan = _scan_svg(buf, strict=False, sniffed=True)
    namespace = _KEYWORD_ELEMENT[keyword][0]
    bound = scan.root_ns.get("openbadges")
    on_root = bound is None
    decl = f' xmlns:openbadges="{namespace}"'
    element = _svg_element(payload, keyword, kind, doc, "" if bound == namespace or on_root else decl)

    root = _START_TAG_RE.match(buf, scan.root_start)
    if root is None:  # cannot happen for a document expat accepted
        raise _error("corrupt_image", "unreadable <svg> start tag")
    # The root's start tag ends with its closing "/>" or ">": declare, then insert the first child.
    opening = (decl.encode("ascii") if on_root else b"") + b">" + element
    if root.group(2):  # <svg .../>
        opening += b"</" + root.group(1) + b">"
    edits: list[tuple[int, int, bytes]] = [(root.start(2), root.end(), opening)]
    for old in scan.elements:
        tag = _START_TAG_RE.match(buf, old.start)
        if tag is None:
            raise _error("corrupt_image", "unreadable badge element")
        end = tag.end() if tag.group(2) else buf.index(b">", old.end_tag) + 1
        edits.append((old.start, end, b""))
    edits.sort(key=lambda edit: (edit[0], edit[1]))
    out: list[bytes] = []
    pos = 0
    for start, end, replacement in edits:
        if start < pos:  # a badge element nested in one already removed
            continue
        out += [buf[pos:start], replacement]
        pos = end
    out.append(buf[pos:])
    return b"".join(out)


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
        raise _error("not_an_image", "not bytes", format="unknown")
    if len(data) > MAX_IMAGE_BYTES:
        raise _error("too_large", "image too large", max_bytes=MAX_IMAGE_BYTES)
    fmt = sniff_format(data)
    if fmt in ("png", "svg"):
        return fmt, True
    if fmt == "unknown" and _looks_like_xml(data):
        return "svg", False  # an XML document whose <svg> is past the first KiB, or not SVG at all
    raise _error("not_an_image", "neither a PNG nor an SVG image", format=fmt)


def unbake_details(data: bytes) -> Baked | None:
    """The badge baked into a PNG or SVG image, or None (see the module contract)."""
    data = bytes(data) if not isinstance(data, bytes) and isinstance(data, (bytearray, memoryview)) else data
    fmt, sniffed = _image_format(data)
    if fmt == "png":
        return _unbake_png(data)
    return _unbake_svg(data, sniffed)


def unbake(data: bytes) -> str | None:
    """The payload baked into a PNG or SVG image exactly as baked, or None when there is none."""
    baked = unbake_details(data)
    return baked.payload if baked else None


def bake(image: bytes, payload: str) -> bytes:
    """`image` with `payload` baked in, replacing any badge it carried (see the module contract)."""
    if not isinstance(payload, str):
        raise TypeError("payload must be str")
    if not payload.strip():
        raise _error("empty_badge", "nothing to bake")
    image = bytes(image) if not isinstance(image, bytes) and isinstance(image, (bytearray, memoryview)) else image
    fmt, sniffed = _image_format(image)
    kind, is_ob3, doc = _classify(payload)
    keyword = OB3_KEYWORD if is_ob3 else OB2_KEYWORD
    if fmt == "png":
        return _bake_png(image, payload, keyword)
    return _bake_svg(image, payload, keyword, kind, doc, sniffed)
