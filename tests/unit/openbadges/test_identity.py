"""Recipient identity hashing and matching (PROTOCOLS.md §1.4)."""

from __future__ import annotations

import hashlib

import pytest

from wallet.openbadges.identity import hash_identity, identity_matches

MAYZE = "sha256$7a1a1b3f7d40552e4299180e346e3add12bf9a751a43d9c4ca4518febc2c60c6"
KOSHER = "sha256$b5809d8a92f8858436d7e6b87c12ebc0ae1eac4baecc2c0b913aee2c922ef399"


def test_hash_identity_test_vectors():
    assert hash_identity("mayze", None) == MAYZE
    assert hash_identity("mayze", "") == MAYZE
    assert hash_identity("a@example.com", "Kosher") == KOSHER


def test_hash_identity_md5():
    assert hash_identity("a@example.com", "s", "md5") == "md5$" + hashlib.md5(b"a@example.coms").hexdigest()


def test_hash_identity_refuses_unknown_algorithms():
    with pytest.raises(ValueError):
        hash_identity("a@example.com", None, "sha1")


def test_hashed_identity_matches_and_returns_the_original_candidate():
    assert identity_matches(KOSHER, True, "Kosher", ["b@example.com", "a@example.com"]) == "a@example.com"
    assert identity_matches(KOSHER, True, "Kosher", ["A@Example.COM"]) == "A@Example.COM"
    assert identity_matches(KOSHER, True, "Kosher", iter([" a@example.com "])) == " a@example.com "


def test_upper_case_hex_and_prefix_are_accepted():
    assert identity_matches(KOSHER.upper(), True, "Kosher", ["a@example.com"]) == "a@example.com"


def test_md5_legacy_hash_matches():
    legacy = "md5$" + hashlib.md5(b"ana@example.orgpepper").hexdigest().upper()
    assert identity_matches(legacy, True, "pepper", ["ana@example.org"]) == "ana@example.org"


def test_wrong_salt_or_address_does_not_match():
    assert identity_matches(KOSHER, True, "kosher", ["a@example.com"]) is None
    assert identity_matches(KOSHER, True, None, ["a@example.com"]) is None
    assert identity_matches(KOSHER, True, "Kosher", ["b@example.com"]) is None
    assert identity_matches(KOSHER, True, "Kosher", []) is None


@pytest.mark.parametrize("stored", [
    "sha1$" + hashlib.sha1(b"a@example.comKosher").hexdigest(),
    KOSHER.split("$", 1)[1],
    "sha256$",
    "sha256$ü",
    "",
])
def test_unknown_or_malformed_hashes_never_match(stored):
    assert identity_matches(stored, True, "Kosher", ["a@example.com"]) is None


def test_plain_email_matches_case_insensitively():
    assert identity_matches(" Ana@Example.org ", False, None, ["x@example.org", "ana@example.ORG"]) == "ana@example.ORG"
    assert identity_matches("ana@example.org", False, None, ["bob@example.org"]) is None


def test_plain_url_matches_exactly():
    assert identity_matches("https://example.org/Ana", False, None, ["https://example.org/Ana"]) == "https://example.org/Ana"
    assert identity_matches("https://example.org/Ana", False, None, ["https://example.org/ana"]) is None


def test_plain_empty_identity_never_matches():
    assert identity_matches("  ", False, None, ["", "  "]) is None


def test_non_string_inputs_are_ignored():
    assert identity_matches(None, True, "Kosher", ["a@example.com"]) is None  # type: ignore[arg-type]
    assert identity_matches(KOSHER, True, "Kosher", [None, 3, "a@example.com"]) == "a@example.com"  # type: ignore[list-item]
