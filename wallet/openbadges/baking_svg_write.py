"""SVG baking (the contract is in `wallet.openbadges.baking`; the reading side is baking_svg.py).

The whole document is parsed by the safe scanner of baking_svg (never the early stop), then its
text is edited in place: an existing badge element of the same keyword is replaced, else one is
inserted right after the root start tag, with the namespace declared on the element itself.
"""

from __future__ import annotations

import codecs

from .baked import (
    OB2_KEYWORD,
    encode_payload,
    error,
)
from .baking_svg import _ENCODING_DECL_RE, _KEYWORD_ELEMENT, _START_TAG_RE, _XML_ILLEGAL_RE, _scan_svg


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
        raise error("corrupt_image", "the SVG text cannot be decoded") from None
    out = text.encode("utf-8", "surrogatepass")
    return _ENCODING_DECL_RE.sub(lambda m: m.group(1) + m.group(2) + b"UTF-8" + m.group(2), out, count=1)


def _xml_escape(value: str, attribute: bool) -> str:
    value = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")
    if attribute:
        value = value.replace('"', "&quot;").replace("\t", "&#9;").replace("\n", "&#10;")
    return value


def _svg_element(payload: str, keyword: str, kind: str, hosted_id: str | None, prefix_decl: str) -> bytes:
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
        verify = hosted_id if keyword == OB2_KEYWORD else None
        if "\r" in payload:  # CDATA cannot carry a CR through XML line-end normalization
            body = _xml_escape(payload, False)
        else:
            body = "<![CDATA[" + payload.replace("]]>", "]]]]><![CDATA[>") + "]]>"
    attrs = prefix_decl + (f' verify="{_xml_escape(verify, True)}"' if verify else "")
    return f"<openbadges:{local}{attrs}>{body}</openbadges:{local}>".encode()


def bake_svg(data: bytes, payload: str, keyword: str, kind: str, hosted_id: str | None, sniffed: bool) -> bytes:
    """`data` with its badge elements replaced by one carrying `payload` (module docstring).

    `kind` is json|jws|url|text; `hosted_id` is the http(s) id of an OB 2.0 JSON payload, if any.
    """
    if _XML_ILLEGAL_RE.search(payload):
        raise error("bad_encoding", "the payload has characters that XML cannot carry")
    encode_payload(payload)
    scan = _scan_svg(data, strict=False, sniffed=sniffed)  # safety and root checks on the original
    buf = _svg_as_utf8(data)
    if buf != data:  # re-encoded: the byte offsets changed
        scan = _scan_svg(buf, strict=False, sniffed=True)
    namespace = _KEYWORD_ELEMENT[keyword][0]
    bound = scan.root_ns.get("openbadges")
    on_root = bound is None
    decl = f' xmlns:openbadges="{namespace}"'
    element = _svg_element(payload, keyword, kind, hosted_id, "" if bound == namespace or on_root else decl)

    root = _START_TAG_RE.match(buf, scan.root_start)
    if root is None:  # cannot happen for a document expat accepted
        raise error("corrupt_image", "unreadable <svg> start tag")
    # The root's start tag ends with its closing "/>" or ">": declare, then insert the first child.
    opening = (decl.encode("ascii") if on_root else b"") + b">" + element
    if root.group(2):  # <svg .../>
        opening += b"</" + root.group(1) + b">"
    edits: list[tuple[int, int, bytes]] = [(root.start(2), root.end(), opening)]
    for old in scan.elements:
        tag = _START_TAG_RE.match(buf, old.start)
        if tag is None:
            raise error("corrupt_image", "unreadable badge element")
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

