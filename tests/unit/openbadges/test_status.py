"""Revocation lists and bitstring status lists (pure)."""

from __future__ import annotations

import base64
import gzip

import pytest

from wallet.openbadges.status import (
    StatusListError,
    bitstring_bit,
    encode_bitstring,
    onedtech_revoked,
    revocation_list_entry,
)


def test_ob2_revocation_list_entries():
    doc = {"revokedAssertions": ["urn:a", {"id": "urn:b", "revocationReason": "Fraude"}, {"uid": "u-1"}, 7]}
    assert revocation_list_entry(doc, "urn:a") == {"id": "urn:a", "revocationReason": None}
    assert revocation_list_entry(doc, "urn:b")["revocationReason"] == "Fraude"
    assert revocation_list_entry(doc, "urn:c", uid="u-1")["id"] == "u-1"
    assert revocation_list_entry(doc, "urn:c") is None
    assert revocation_list_entry({}, "urn:a") is None


@pytest.mark.parametrize("key", ["revokedCredentials", "revokedCredential"])
def test_1edtech_list_accepts_both_key_names(key):
    doc = {key: [{"id": "urn:a", "revocationReason": "r"}, {"id": "urn:b", "revoked": False}]}
    assert onedtech_revoked(doc, "urn:a") == {"id": "urn:a", "revocationReason": "r"}
    assert onedtech_revoked(doc, "urn:b") is None
    assert onedtech_revoked(doc, "urn:c") is None


def test_bitstring_round_trip_msb_first():
    encoded = encode_bitstring({0, 9, 131071})
    assert encoded.startswith("u") and "=" not in encoded
    assert [bitstring_bit(encoded, i) for i in (0, 1, 8, 9, 131071)] == [True, False, False, True, True]
    raw = gzip.decompress(base64.urlsafe_b64decode(encoded[1:] + "=" * (-len(encoded[1:]) % 4)))
    assert raw[0] == 0x80 and raw[1] == 0x40 and len(raw) == 16384


@pytest.mark.parametrize("encoded, index", [
    (encode_bitstring(set(), size=64), 64),
    (encode_bitstring(set(), size=64), -1),
    ("u!!!", 0),
    ("u" + base64.urlsafe_b64encode(b"not gzip").decode().rstrip("="), 0),
    (None, 0),
])
def test_bitstring_errors(encoded, index):
    with pytest.raises(StatusListError):
        bitstring_bit(encoded, index)


def test_bitstring_decompression_is_capped():
    bomb = "u" + base64.urlsafe_b64encode(gzip.compress(b"\0" * (17 * 1024 * 1024))).decode().rstrip("=")
    with pytest.raises(StatusListError):
        bitstring_bit(bomb, 0)
