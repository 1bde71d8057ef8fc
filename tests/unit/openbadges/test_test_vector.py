"""The 1EdTech Open Badges 3.0 eddsa-rdfc-2022 test vector, read in place from ../shared."""

from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from wallet.openbadges.jsonld import ContextStore, canonize
from wallet.openbadges.keys import (
    b58decode,
    ed25519_from_multikey,
    find_verification_method,
    key_and_controller,
    multikey_from_ed25519,
)
from wallet.openbadges.proofs import select_di_proof, verify_data_integrity

SHARED = Path(__file__).resolve().parents[3] / ".." / "shared"
VECTOR = SHARED / "test-vectors" / "ob3-eddsa-rdfc-2022"

PUBLIC_KEY_HEX = "4bdeafde2ea8beefadd8c699b5c7e0704cf51154d52e17b20b71337ca04cc5a5"
MULTIKEY = "z6MkjZRZv3aez3r18pB1RBFJR1kwUVJ5jHt92JmQwXbd5hwi"
DOCUMENT_SHA256 = "87f65a76d40146205e3b3e06cb0fbd153f97f9ce70372390f52566bb7f9e0773"
PROOF_SHA256 = "d34009cea0dbc1ca941e09dc01c8c9d3e3ce3c5b853f67ee44698dcea10f5d19"
SIGNATURE_HEX = (
    "f7a017acf7d27983267ec362657c0fb08e955549f49dac5bf36a03c4f2c3a4f1"
    "e3738a6c5ecd7ffba7135cb9cd754e6196f4b73082ea8df8e703c8ecd4333503"
)


@pytest.fixture(scope="module")
def store() -> ContextStore:
    return ContextStore.from_dir(SHARED / "jsonld-contexts")


@pytest.fixture
def credential() -> dict:
    return json.loads((VECTOR / "credential-signed.json").read_text(encoding="utf-8"))


@pytest.fixture
def public_key() -> ed25519.Ed25519PublicKey:
    return ed25519.Ed25519PublicKey.from_public_bytes(bytes.fromhex(PUBLIC_KEY_HEX))


def _parts(credential: dict) -> tuple[dict, dict]:
    document = {k: v for k, v in credential.items() if k != "proof"}
    config = {k: v for k, v in credential["proof"].items() if k != "proofValue"}
    config["@context"] = document["@context"]
    return document, config


def test_document_canonicalizes_to_the_published_nquads(store, credential):
    document, _ = _parts(credential)
    canon = canonize(document, store)
    assert canon == (VECTOR / "document-canon.nq").read_text(encoding="utf-8")
    assert hashlib.sha256(canon.encode()).hexdigest() == DOCUMENT_SHA256


def test_proof_config_canonicalizes_to_the_published_nquads(store, credential):
    _, config = _parts(credential)
    canon = canonize(config, store)
    assert canon == (VECTOR / "proof-canon.nq").read_text(encoding="utf-8")
    assert hashlib.sha256(canon.encode()).hexdigest() == PROOF_SHA256


def test_key_and_signature_encodings_match_the_vector(public_key, credential):
    assert multikey_from_ed25519(public_key) == MULTIKEY
    raw = ed25519_from_multikey(MULTIKEY).public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    assert raw.hex() == PUBLIC_KEY_HEX
    assert b58decode(credential["proof"]["proofValue"][1:]).hex() == SIGNATURE_HEX


def test_signature_verifies(store, credential, public_key):
    proof = select_di_proof(credential)
    assert proof is credential["proof"]
    assert verify_data_integrity(credential, proof, public_key, store) is True


def test_key_resolved_from_the_issuer_profile_is_controlled_by_the_issuer(store, credential):
    issuer_id = credential["issuer"]["id"]
    profile = {
        "@context": ["https://www.w3.org/ns/credentials/v2", "https://w3id.org/security/multikey/v1"],
        "id": issuer_id,
        "type": "Profile",
        "verificationMethod": [
            {
                "id": "#" + MULTIKEY,
                "type": "Multikey",
                "controller": issuer_id,
                "publicKeyMultibase": MULTIKEY,
            }
        ],
    }
    method = find_verification_method(profile, credential["proof"]["verificationMethod"])
    key, controller = key_and_controller(method)
    assert controller == issuer_id
    assert verify_data_integrity(credential, credential["proof"], key, store) is True


@pytest.mark.parametrize(
    "path, value",
    [
        (("name",), "Teamwork Badgf"),
        (("credentialSubject", "achievement", "name"), "Teamworl"),
        (("issuer", "id"), "https://example.edu/issuers/565048"),
        (("validFrom",), "2010-01-01T00:00:01Z"),
    ],
)
def test_one_changed_byte_in_the_credential_fails(store, credential, public_key, path, value):
    tampered = copy.deepcopy(credential)
    target = tampered
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    assert verify_data_integrity(tampered, tampered["proof"], public_key, store) is False


@pytest.mark.parametrize("position", [1, 20, -1])
def test_one_changed_char_in_the_proof_value_fails(store, credential, public_key, position):
    value = credential["proof"]["proofValue"]
    index = position % len(value)
    replacement = "2" if value[index] != "2" else "3"
    credential["proof"]["proofValue"] = value[:index] + replacement + value[index + 1 :]
    assert verify_data_integrity(credential, credential["proof"], public_key, store) is False


def test_changed_proof_options_fail(store, credential, public_key):
    credential["proof"]["created"] = "2010-01-01T19:23:25Z"
    assert verify_data_integrity(credential, credential["proof"], public_key, store) is False


def test_another_key_fails(store, credential):
    other = ed25519.Ed25519PrivateKey.generate().public_key()
    assert verify_data_integrity(credential, credential["proof"], other, store) is False
