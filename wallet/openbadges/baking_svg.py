"""SVG unbaking (the contract is in `wallet.openbadges.baking`; baking is in baking_svg_write.py).

Parsing: only defusedxml's expat parser (DTDs, entities and external references forbidden), in
streaming mode, with handlers that keep no tree, so memory stays flat whatever the document size.
Badge elements are found anywhere by namespace URI + local name (`{http://openbadges.org}assertion`,
`{https://purl.imsglobal.org/ob/v3p0}credential`), whatever their prefix. Unbaking returns the
element's own text (CDATA) when it is not blank, else its `verify` attribute.

Early stop (unbake only). A document of at least FAST_PATH_MIN_BYTES in an ASCII-compatible
encoding (UTF-8, US-ASCII, ISO-8859-1) is parsed by the safe parser only up to a decision point:
the end of the root start tag, then the end of each top-level badge element (at most
_MAX_DECISIONS times). At a decision point the rest of the bytes is searched, without parsing, for
anything that could make a badge element:
- `<p:` for every prefix p bound in scope to a badge namespace (even when an inner declaration
  shadows it for now), and always `<openbadges:` (an unbound `openbadges` prefix must still be
  reported as corrupt); `<assertion` / `<credential` when the default namespace is so bound;
- when `xmlns` occurs in the rest at all: either badge namespace URI as literal bytes, or a
  namespace declaration whose value holds a character reference (`&#…;` could spell a URI).
Element names cannot be escaped and a new binding needs a literal `xmlns` attribute, so when
none of these occurs, no badge element can follow. The parse stops only if, in addition, the
document ends with the root's end tag (a truncated upload is still parsed to the end and reported
as `corrupt_image`). Any hit — including a false positive in a comment, CDATA or text — just
lets the streaming parse go on (to the next decision point, or to the end) with the same checks
as before.

The jump (unbake only, same documents). At the first decision point, before the rule above,
`svg_jump.plan_jump` searches the root's content for the badge element's start tag, skipping
comments, CDATA sections and processing instructions, and provided no `xmlns` occurs outside them
(so every element sees the root's bindings; the module says why this is exact for a well-formed
document). When it finds no badge element, the parse stops there. When it finds exactly one, a
second safe parser reads the prolog and root start tag again followed directly by that element,
and stops at its end tag: a 5 MB document with its badge last costs one pass of C byte searches
instead of a full parse. Anything it cannot decide (a namespace declaration inside the root, two
badge elements, an unclosed section, `<!` that is no comment or CDATA, an unbound `openbadges:`
tag), and any error while parsing the element alone, falls back to the parse described above, so
errors keep the codes a full parse gives.

Safety is unchanged: a DTD or an entity declaration can only appear before the root element, which
the safe parser has always read by the first decision point; expat never fetches anything else,
and the bytes skipped are never interpreted, only searched.
Trade-off (documented, accepted): in such a large document, a well-formedness error located after
the decision point (say a mismatched tag deep inside, with the root end tag present) — or, with
the jump, anywhere in the parts it skips before and after the badge element — is not detected,
and the badge (or None) is returned. openbadges-bakery parses the whole document with minidom and
would refuse it. Smaller documents are always parsed to the end.

Baking edits the document text in place (the rest of the document is kept byte for byte,
re-encoded as UTF-8): it removes every badge element, declares the namespace on the root (or on the
element itself when the root binds `openbadges` to another namespace) and inserts the element as the
root's first child. The element carries: for a JWS, `verify="<jws>"` and an empty body; for a URL,
`verify="<url>"` and the URL as text; for JSON, the payload in CDATA (`]]>` split across sections)
plus, for OB 2.0 JSON with an http(s) `id` (or `verify.url`), `verify="<id>"`. A payload that XML
would alter (a CR, or whitespace around a JWS) is written as escaped text instead, so it still comes
back unchanged.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from xml.parsers.expat import ExpatError as _ExpatError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import ParseError
from defusedxml.ElementTree import XMLParser as DefusedXMLParser

from .baked import (
    MAX_PAYLOAD_BYTES,
    OB2_KEYWORD,
    OB2_NS,
    OB3_KEYWORD,
    OB3_NS,
    SVG_NS,
    Baked,
    error,
)
from .errors import BadgeInputError
from .svg_jump import NO_BADGE, Jump, plan_jump

FAST_PATH_MIN_BYTES = 64 * 1024  # smaller documents are always parsed to the end
_MAX_DECISIONS = 4
_FEED_BYTES = 256 * 1024
_ELEMENT_FEED_BYTES = 16 * 1024  # a badge element alone: stop soon after its end tag
# Element names as expat reports them with namespace_separator "}".
_SVG_NAME = f"{SVG_NS}}}svg"
_BADGE_NAMES = {f"{OB2_NS}}}assertion": OB2_KEYWORD, f"{OB3_NS}}}credential": OB3_KEYWORD}
_BADGE_NAMESPACES = (OB2_NS, OB3_NS)
_JUMP_BADGES = {OB2_NS: ("assertion", OB2_KEYWORD), OB3_NS: ("credential", OB3_KEYWORD)}
_KEYWORD_ELEMENT = {OB2_KEYWORD: (OB2_NS, "assertion"), OB3_KEYWORD: (OB3_NS, "credential")}
# Encodings in which every ASCII character is the same single byte (bytes searches are exact).
_ASCII_COMPATIBLE = {"utf-8": "utf-8", "utf8": "utf-8", "us-ascii": "utf-8", "ascii": "utf-8",
                     "iso-8859-1": "latin-1", "iso8859-1": "latin-1", "latin-1": "latin-1", "latin1": "latin-1"}
_WS = b" \t\r\n"
_TAIL_BYTES = 4096

_ENCODING_DECL_RE = re.compile(rb"""^(<\?xml[^>]*?\sencoding\s*=\s*)(["'])([A-Za-z0-9._-]+)\2""")
_START_TAG_RE = re.compile(rb"""<([^\s/>]+)(?:\s+[^\s=/>]+\s*=\s*(?:"[^"]*"|'[^']*'))*\s*(/?)>""")
_NS_DECL_WITH_REFERENCE_RE = re.compile(rb"""xmlns(?::[^\s=/>]*)?\s*=\s*(?:"[^"&]*&|'[^'&]*&)""")
_XML_ILLEGAL_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


class _NotSvg(Exception):
    def __init__(self, tag: str) -> None:
        super().__init__(tag)
        self.tag = tag


class _Stop(Exception):
    """Raised by a handler: the rest of the document cannot change what unbake returns."""


class _Jump(Exception):
    """Raised at the root decision point: the only badge element starts at `offset` (svg_jump)."""

    def __init__(self, root_end: int, offset: int, end: int) -> None:
        super().__init__(offset)
        self.root_end, self.offset, self.end = root_end, offset, end


@dataclass(slots=True)
class _Element:
    keyword: str
    start: int  # byte offset of "<"
    verify: str | None
    text: str = ""
    end_tag: int = -1  # byte offset of "</" (or of the end of an empty-element tag)


def _fast_codec(data: bytes) -> str | None:
    """The codec of the document's names when it may stop early (see the module docstring)."""
    if len(data) < FAST_PATH_MIN_BYTES or data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return None
    head = data[3:515] if data.startswith(codecs.BOM_UTF8) else data[:512]
    if b"\x00" in head[:4]:  # UTF-16/32 without a BOM
        return None
    match = _ENCODING_DECL_RE.match(head)
    return _ASCII_COMPATIBLE.get(match.group(3).decode("ascii").lower()) if match else "utf-8"


class _SvgScan:
    """Follows the root and the badge elements of a document, keeps nothing else.

    Its handlers go straight onto the pyexpat parser that defusedxml built and armed (DTD, entity
    and external-reference handlers stay defusedxml's): expat reports names as "uri}local", and
    skipping ElementTree's per-element name fixing makes the walk about twice as fast.
    With `data` (unbake of a large document), it raises _Stop at a decision point after which the
    rest of `data` cannot hold a badge element (module docstring).
    """

    def __init__(self, expat, strict: bool, data: bytes | None = None, codec: str = "utf-8", *,
                 jump: bool = False, until_closed: bool = False) -> None:
        self.strict = strict  # unbake: refuse a second element of one kind at once
        self._jump = jump and data is not None  # may raise _Jump at the root decision point
        self._until_closed = until_closed  # raise _Stop once the (outermost) badge element closes
        self.expat = expat
        self.depth = 0
        self.root_start = -1
        self.root_ns: dict[str, str] = {}
        self.elements: list[_Element] = []
        self.seen: set[str] = set()
        self.stopped = False  # set by _scan_svg when a decision point ended the parse
        self._stack: list[tuple[int, _Element]] = []  # badge elements open, with their depth
        self._open: _Element | None = None  # the badge element whose text is being read
        self._open_depth = 0
        self._parts: list[str] = []
        self._size = 0
        self._data = data
        self._codec = codec
        self._decisions_left = _MAX_DECISIONS if data is not None else 0
        self._bindings: dict[str, list[str]] = {}  # prefix ("" = default) -> URIs in scope, innermost last
        self._root_name = b""
        self._root_empty = False
        expat.StartElementHandler = self.start
        expat.EndElementHandler = self.end
        expat.StartNamespaceDeclHandler = self.start_ns
        if data is not None:
            expat.EndNamespaceDeclHandler = self.end_ns

    def start_ns(self, prefix: str | None, uri: str | None) -> None:
        if self.depth == 0:
            self.root_ns[prefix or ""] = uri or ""
        if self._data is not None:
            self._bindings.setdefault(prefix or "", []).append(uri or "")

    def end_ns(self, prefix: str | None) -> None:
        uris = self._bindings.get(prefix or "")
        if uris:
            uris.pop()

    def start(self, name: str, attributes: list[str]) -> None:
        self.depth += 1
        if self.depth == 1:
            if name != _SVG_NAME:
                raise _NotSvg(name)
            self.root_start = self.expat.CurrentByteIndex
            if self._decisions_left:
                self._decide_after_root()
            return
        if name not in _BADGE_NAMES:
            return
        keyword = _BADGE_NAMES[name]
        if name in self.seen and self.strict:
            raise error("ambiguous_badge", "two badge elements of the same kind", keyword=keyword)
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
                raise error("too_large", "badge text too large", max_bytes=MAX_PAYLOAD_BYTES)
            self._parts.append(text)

    def end(self, name: str) -> None:
        closed = False
        if self._stack and self._stack[-1][0] == self.depth:
            self._stack.pop()[1].end_tag = self.expat.CurrentByteIndex
            closed = not self._stack
        if self._open is not None and self.depth == self._open_depth:
            self.expat.CharacterDataHandler = None  # pyexpat flushed the buffered text before this call
            self._open.text = "".join(self._parts)
            self._open = None
        self.depth -= 1
        if closed and self._until_closed:
            raise _Stop
        if closed and self._decisions_left:
            self._decide_after_badge(self.expat.CurrentByteIndex)

    # --- decision points (unbake of a large document only) ----------------------------------

    def _decide_after_root(self) -> None:
        tag = _START_TAG_RE.match(self._data, self.root_start)
        if tag is None:  # not expected for a tag expat accepted: parse on
            self._decisions_left = 0
            return
        self._root_name, self._root_empty = tag.group(1), bool(tag.group(2))
        if self._jump:
            self._try_jump(tag.end())
        self._decide(tag.end())

    def _try_jump(self, pos: int) -> None:
        """Stop, or jump to the only badge element, when svg_jump can tell from the bytes alone."""
        end = self._root_end_tag(pos)
        if end < 0:
            return
        plan = plan_jump(self._data, pos, end, self.root_ns, self._codec, _JUMP_BADGES)
        if plan == NO_BADGE:
            raise _Stop
        if isinstance(plan, Jump):
            raise _Jump(pos, plan.offset, end)

    def _root_end_tag(self, pos: int) -> int:
        """The offset of the root's end tag when data[pos:] ends with it (else -1)."""
        if self._root_empty or not self._rest_closes_root(pos):
            return -1
        data = self._data
        return data.rfind(b"</", max(pos, len(data) - _TAIL_BYTES))

    def _decide_after_badge(self, index: int) -> None:
        # expat gives the offset of "</" for an end tag, the offset just past "/>" for an empty tag.
        data = self._data
        if data.startswith(b"</", index):
            end = data.find(b">", index) + 1
        else:
            end = index if data[index - 2:index] == b"/>" else 0
        if end <= 0:
            self._decisions_left = 0
            return
        self._decide(end)

    def _decide(self, pos: int) -> None:
        self._decisions_left -= 1
        if not self._rest_may_hold_badge(pos):
            raise _Stop

    def _rest_may_hold_badge(self, pos: int) -> bool:
        """False only when data[pos:] ends the root and cannot contain a badge element."""
        data = self._data
        if not self._rest_closes_root(pos):
            return True
        needles = {b"<openbadges:"}
        for prefix, uris in self._bindings.items():
            # Any binding in scope counts, not only the innermost: an inner rebinding may end.
            if any(uri in _BADGE_NAMESPACES for uri in uris):
                if not prefix:
                    needles.update((b"<assertion", b"<credential"))
                    continue
                try:
                    needles.add(b"<" + prefix.encode(self._codec) + b":")
                except UnicodeEncodeError:
                    return True
        if any(data.find(needle, pos) != -1 for needle in needles):
            return True
        if data.find(b"xmlns", pos) == -1:  # no namespace declaration in the rest
            return False
        return (any(data.find(uri.encode("ascii"), pos) != -1 for uri in _BADGE_NAMESPACES)
                or _NS_DECL_WITH_REFERENCE_RE.search(data, pos) is not None)

    def _rest_closes_root(self, pos: int) -> bool:
        data = self._data
        tail = data[max(pos, len(data) - _TAIL_BYTES):].rstrip(_WS)
        if self._root_empty:  # <svg .../>: nothing but white space may follow
            return len(data) - pos <= _TAIL_BYTES and not tail
        start = tail.rfind(b"</")
        return start != -1 and tail.endswith(b">") and tail[start + 2:-1].rstrip(_WS) == self._root_name


def _scan_svg(data: bytes, strict: bool, sniffed: bool, early_stop: bool = False,
              jump: bool = False) -> _SvgScan:
    parser = DefusedXMLParser(forbid_dtd=True, forbid_entities=True, forbid_external=True)
    codec = _fast_codec(data) if early_stop else None
    scan = _SvgScan(parser.parser, strict, data if codec else None, codec or "utf-8", jump=jump)
    try:
        view = memoryview(data)
        for offset in range(0, len(data), _FEED_BYTES):
            parser.feed(view[offset:offset + _FEED_BYTES])
        parser.parser.Parse(b"", True)  # not close(): its TreeBuilder target saw no element
    except _Stop:
        scan.stopped = True
    except _Jump as where:
        element_scan = _scan_badge_element(data, where.root_end, where.offset, where.end)
        # Anything unexpected in the element alone: the whole document is parsed, as without a jump.
        return element_scan or _scan_svg(data, strict, sniffed, early_stop=True, jump=False)
    except BadgeInputError:
        raise
    except DefusedXmlException as exc:
        raise error("unsafe_svg", f"forbidden XML construct: {type(exc).__name__}") from None
    except _NotSvg as exc:
        local = exc.tag.rsplit("}", 1)[-1].lower()
        raise error("not_an_image", "the XML root is not <svg>", format="html" if local == "html" else "xml") from None
    except (ParseError, ValueError, LookupError, UnicodeError, _ExpatError) as exc:
        if not sniffed:
            raise error("not_an_image", "neither a PNG nor an SVG image", format="unknown") from None
        raise error("corrupt_image", f"malformed SVG: {exc}"[:200]) from None
    return scan


def _scan_badge_element(data: bytes, root_end: int, offset: int, end: int) -> _SvgScan | None:
    """The scan of the prolog and root start tag (data[:root_end]) followed directly by the badge
    element that starts at `offset`, parsed by the same safe parser up to that element's end; None
    when that element does not parse (the caller then parses the whole document)."""
    parser = DefusedXMLParser(forbid_dtd=True, forbid_entities=True, forbid_external=True)
    scan = _SvgScan(parser.parser, strict=True, until_closed=True)
    view = memoryview(data)
    try:
        parser.feed(view[:root_end])
        for start in range(offset, end, _ELEMENT_FEED_BYTES):
            parser.feed(view[start:min(start + _ELEMENT_FEED_BYTES, end)])
    except _Stop:
        for element in scan.elements:  # offsets in the document, for the record
            element.start += offset - root_end
            element.end_tag += offset - root_end
        scan.stopped = True
        return scan
    except (BadgeInputError, DefusedXmlException, _NotSvg, ParseError, ValueError, LookupError, UnicodeError,
            _ExpatError):
        return None
    return None  # the element did not end before the root's end tag


def unbake_svg(data: bytes, sniffed: bool) -> Baked | None:
    """The badge of an SVG document (OB 3.0 element first), or None; `sniffed`: `<svg` seen early."""
    scan = _scan_svg(data, strict=True, sniffed=sniffed, early_stop=True, jump=True)
    by_keyword = {element.keyword: element for element in scan.elements}
    element = by_keyword.get(OB3_KEYWORD) or by_keyword.get(OB2_KEYWORD)
    if element is None:
        return None
    if element.text.strip():
        payload = element.text
    elif element.verify and element.verify.strip():
        payload = element.verify
    else:
        raise error("empty_badge", "badge element with neither text nor verify attribute",
                     keyword=element.keyword)
    if len(payload.encode("utf-8", "surrogatepass")) > MAX_PAYLOAD_BYTES:
        raise error("too_large", "badge text too large", max_bytes=MAX_PAYLOAD_BYTES)
    return Baked("svg", element.keyword, payload, element.verify)
