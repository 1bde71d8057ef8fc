"""Revocation and status: OB 2.0 RevocationList, 1EdTechRevocationList, BitstringStatusList.

CONTRACT (pure):
- `revocation_list_entry(list_doc: dict, assertion_id: str, uid: str | None) -> dict | None`
  (OB 2.0 `revokedAssertions`: id strings or {id|uid, revocationReason}).
- `onedtech_revoked(list_doc: dict, credential_id: str) -> dict | None` (`revokedCredential` or
  `revokedCredentials`, entries {id, revoked?, revocationReason?}).
- `bitstring_bit(encoded_list: str, index: int) -> bool` (multibase 'u' base64url of gzip, MSB
  first; caps the decompressed size), `encode_bitstring(bits: set[int], size: int = 131072) -> str`.

The found entry is returned as a small dict `{"id": …, "revocationReason": … | None}` so callers
can report the reason; None means "not in the list".
"""

from __future__ import annotations

import base64
import gzip
import zlib

# A W3C bitstring is at least 16 KiB (131072 bits); real lists stay far below 16 MiB uncompressed.
MAX_BITSTRING_BYTES = 16 * 1024 * 1024
MAX_ENCODED_CHARS = 2 * 1024 * 1024


class StatusListError(ValueError):
    """The encoded list cannot be decoded, or the index is outside it."""


def _entries(value: object) -> list[object]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _reason(entry: dict) -> str | None:
    reason = entry.get("revocationReason")
    return reason if isinstance(reason, str) else None


def revocation_list_entry(list_doc: dict, assertion_id: str, uid: str | None = None) -> dict | None:
    """The OB 2.0 RevocationList entry that revokes `assertion_id` (or the legacy `uid`)."""
    wanted = {v for v in (assertion_id, uid) if v}
    for entry in _entries(list_doc.get("revokedAssertions")):
        if isinstance(entry, str) and entry in wanted:
            return {"id": entry, "revocationReason": None}
        if isinstance(entry, dict):
            ids = {entry.get("id"), entry.get("uid")} - {None}
            if ids & wanted:
                return {"id": entry.get("id") or entry.get("uid"), "revocationReason": _reason(entry)}
    return None


def onedtech_revoked(list_doc: dict, credential_id: str) -> dict | None:
    """The 1EdTechRevocationList entry revoking `credential_id` (`revoked` true or absent)."""
    entries = _entries(list_doc.get("revokedCredentials")) + _entries(list_doc.get("revokedCredential"))
    for entry in entries:
        if isinstance(entry, str) and entry == credential_id:
            return {"id": entry, "revocationReason": None}
        if isinstance(entry, dict) and entry.get("id") == credential_id:
            if entry.get("revoked", True) is False:
                continue
            return {"id": credential_id, "revocationReason": _reason(entry)}
    return None


def _decode(encoded_list: str) -> bytes:
    if not isinstance(encoded_list, str) or len(encoded_list) > MAX_ENCODED_CHARS:
        raise StatusListError("encoded list missing or too large")
    text = encoded_list.removeprefix("u")  # legacy: no prefix
    try:
        compressed = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError) as exc:
        raise StatusListError("encoded list is not base64url") from exc
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)  # gzip framing
    try:
        data = inflater.decompress(compressed, MAX_BITSTRING_BYTES + 1)
    except zlib.error as exc:
        raise StatusListError("encoded list is not gzip") from exc
    if len(data) > MAX_BITSTRING_BYTES or inflater.unconsumed_tail:
        raise StatusListError("bitstring too large")
    return data


def bitstring_bit(encoded_list: str, index: int) -> bool:
    """Bit `index` of a BitstringStatusList (`u` + base64url(gzip(bits))), MSB first."""
    data = _decode(encoded_list)
    if not isinstance(index, int) or index < 0 or index // 8 >= len(data):
        raise StatusListError("index outside the list")
    return bool(data[index // 8] & (0x80 >> (index % 8)))


def encode_bitstring(bits: set[int], size: int = 131072) -> str:
    """The `encodedList` value for a list of `size` bits with `bits` set (for tests and issuers)."""
    data = bytearray((size + 7) // 8)
    for i in bits:
        if not 0 <= i < size:
            raise StatusListError("index outside the list")
        data[i // 8] |= 0x80 >> (i % 8)
    compressed = gzip.compress(bytes(data), mtime=0)
    return "u" + base64.urlsafe_b64encode(compressed).decode("ascii").rstrip("=")
