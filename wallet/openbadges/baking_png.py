"""PNG unbaking and baking (the contract is in `wallet.openbadges.baking`).

The walker reads every chunk header up to IEND, skipping chunk data by its length (pixels are
never decoded, IDAT never inflated or CRC-checked); only badge text chunks (`iTXt` keyword
`openbadges`/`openbadgecredential`, legacy `tEXt`) are CRC-checked and decoded. The walk is strict:
a chunk running past the end or a missing IEND is `corrupt_image`, even when a badge chunk came
before the damage. When both keywords are present, `openbadgecredential` wins. Baking writes an
uncompressed iTXt right after IHDR and drops every earlier badge chunk and anything after IEND.
"""

from __future__ import annotations

import struct
import zlib

from .baked import (
    MAX_INFLATE_BYTES,
    MAX_PAYLOAD_BYTES,
    OB2_KEYWORD,
    OB3_KEYWORD,
    PNG_SIGNATURE,
    Baked,
    error,
)

_CHUNK_HEAD = struct.Struct(">I4s")
_CRC = struct.Struct(">I")
_MAX_CHUNK_LENGTH = 2**31 - 1
_BADGE_CHUNK_PREFIXES = ((OB3_KEYWORD + "\x00").encode(), (OB2_KEYWORD + "\x00").encode())


def _png_chunks(data: bytes):
    """Yield (type, offset, data length) for each chunk up to and including IEND; strict."""
    if not data.startswith(PNG_SIGNATURE):
        raise error("corrupt_image", "no PNG signature")
    size = len(data)
    pos = len(PNG_SIGNATURE)
    while True:
        if pos + 12 > size:
            raise error("corrupt_image", "PNG truncated before IEND", offset=pos)
        length, ctype = _CHUNK_HEAD.unpack_from(data, pos)
        if length > _MAX_CHUNK_LENGTH or pos + 12 + length > size:
            raise error("corrupt_image", "PNG chunk runs past the end of the file", offset=pos)
        if not ctype.isalpha() or not ctype.isascii():
            raise error("corrupt_image", "invalid PNG chunk type", offset=pos)
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
        raise error("corrupt_image", "bad CRC on the badge chunk", keyword=keyword)
    body = bytes(view[pos + 8 + len(keyword) + 1:pos + 8 + length])
    if ctype == b"tEXt":
        if len(body) > MAX_PAYLOAD_BYTES:
            raise error("too_large", "badge text too large", max_bytes=MAX_PAYLOAD_BYTES)
        return body.decode("latin-1")
    # iTXt after the keyword: compression flag, method, language tag\0, translated keyword\0, text
    if len(body) < 4:
        raise error("corrupt_image", "truncated iTXt header", keyword=keyword)
    flag, method = body[0], body[1]
    try:
        text_start = body.index(b"\x00", body.index(b"\x00", 2) + 1) + 1
    except ValueError:
        raise error("corrupt_image", "truncated iTXt header", keyword=keyword) from None
    text = body[text_start:]
    if flag == 1 and method == 0:
        inflater = zlib.decompressobj()
        try:
            text = inflater.decompress(text, MAX_INFLATE_BYTES + 1)
        except zlib.error:
            raise error("corrupt_image", "bad compressed iTXt", keyword=keyword) from None
        if len(text) > MAX_INFLATE_BYTES or inflater.unconsumed_tail:
            raise error("too_large", "compressed badge text inflates too much", max_bytes=MAX_INFLATE_BYTES)
        if not inflater.eof:
            raise error("corrupt_image", "truncated compressed iTXt", keyword=keyword)
    elif flag != 0:
        raise error("corrupt_image", "unknown iTXt compression", keyword=keyword)
    if len(text) > MAX_PAYLOAD_BYTES:
        raise error("too_large", "badge text too large", max_bytes=MAX_PAYLOAD_BYTES)
    try:
        return text.decode("utf-8")
    except UnicodeDecodeError:
        raise error("bad_encoding", "badge text is not UTF-8", keyword=keyword) from None


def unbake_png(data: bytes) -> Baked | None:
    """The badge text chunk of a PNG (OB 3.0 keyword first), or None."""
    found: dict[str, tuple[bytes, int, int]] = {}
    for ctype, pos, length in _png_chunks(data):
        keyword = _badge_keyword(data, ctype, pos, length)
        if keyword is not None:
            if keyword in found:
                raise error("ambiguous_badge", "two badge chunks with the same keyword", keyword=keyword)
            found[keyword] = (ctype, pos, length)
    for keyword in (OB3_KEYWORD, OB2_KEYWORD):
        if keyword in found:
            ctype, pos, length = found[keyword]
            return Baked("png", keyword, _decode_text_chunk(data, ctype, pos, length, keyword))
    return None


def _png_chunk(ctype: bytes, body: bytes) -> bytes:
    return _CHUNK_HEAD.pack(len(body), ctype) + body + _CRC.pack(zlib.crc32(ctype + body))


def bake_png(data: bytes, text: bytes, keyword: str) -> bytes:
    """`data` with an uncompressed iTXt `keyword` chunk carrying `text` (UTF-8) right after IHDR."""
    chunk = _png_chunk(b"iTXt", keyword.encode("ascii") + b"\x00\x00\x00\x00\x00" + text)
    view = memoryview(data)
    parts: list[bytes | memoryview] = [PNG_SIGNATURE]
    for ctype, pos, length in _png_chunks(data):
        if pos == len(PNG_SIGNATURE):
            if ctype != b"IHDR":
                raise error("corrupt_image", "the first PNG chunk is not IHDR")
            parts += [view[pos:pos + 12 + length], chunk]
        elif _badge_keyword(data, ctype, pos, length) is None:
            parts.append(view[pos:pos + 12 + length])
    return b"".join(parts)
