"""Data Integrity proofs and JWS (OB 2.0 signed badges, VC-JWT): signing, verifying, refusing."""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from wallet.openbadges.errors import BadgeInputError
from wallet.openbadges.jsonld import ContextNotInStore, ContextStore, canonize
from wallet.openbadges.keys import b58encode, did_key_from_ed25519
from wallet.openbadges.proofs import (
    DI_V2_CONTEXT,
    decode_jws,
    di_proofs,
    select_di_proof,
    sign_data_integrity,
    sign_jws,
    verify_data_integrity,
    verify_jws,
)

SHARED = Path(__file__).resolve().parents[3] / ".." / "shared"
VCDM2 = "https://www.w3.org/ns/credentials/v2"
VCDM1 = "https://www.w3.org/2018/credentials/v1"
OB303 = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
ED2020 = "https://w3id.org/security/suites/ed25519-2020/v1"
CREATED = "2025-01-10T00:00:00Z"


@pytest.fixture(scope="module")
def store() -> ContextStore:
    return ContextStore.from_dir(SHARED / "jsonld-contexts")


@pytest.fixture(scope="module")
def ed_key() -> ed25519.Ed25519PrivateKey:
    return ed25519.Ed25519PrivateKey.generate()


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def ec_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _credential(context: list[str], vcdm1: bool = False) -> dict:
    credential = {
        "@context": context,
        "id": "urn:uuid:6f1c7a52-1f0b-4d8e-9a37-0d4f1b2c3e4f",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": {"id": "https://iss.example/issuers/1", "type": ["Profile"], "name": "Région Normandie"},
        "name": "Premiers secours",
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "identifier": [
                {
                    "type": "IdentityObject",
                    "identityType": "emailAddress",
                    "hashed": False,
                    "identityHash": "ana@example.org",
                }
            ],
            "achievement": {
                "id": "https://iss.example/ach/7",
                "type": ["Achievement"],
                "name": "Premiers secours",
                "description": "Gestes de premiers secours",
                "criteria": {"narrative": "Formation suivie"},
            },
        },
    }
    credential["issuanceDate" if vcdm1 else "validFrom"] = CREATED
    return credential


def _vm(key: ed25519.Ed25519PrivateKey) -> str:
    did = did_key_from_ed25519(key.public_key())
    return f"{did}#{did.split(':')[-1]}"


def _sign_by_hand(credential: dict, key: ed25519.Ed25519PrivateKey, proof: dict, store) -> dict:
    """An independent signer (for suites the wallet only verifies): sha256(canon cfg) || sha256(canon doc)."""
    document = {k: v for k, v in credential.items() if k != "proof"}
    config = dict(proof, **{"@context": document["@context"]})
    data = (
        hashlib.sha256(canonize(config, store).encode()).digest()
        + hashlib.sha256(canonize(document, store).encode()).digest()
    )
    return dict(document, proof=dict(proof, proofValue="z" + b58encode(key.sign(data))))


# --- Data Integrity -------------------------------------------------------------------------


def test_signed_vcdm2_credential_verifies(store, ed_key):
    signed = sign_data_integrity(_credential([VCDM2, OB303]), ed_key, _vm(ed_key), CREATED, store)
    proof = signed["proof"]
    assert proof["type"] == "DataIntegrityProof" and proof["cryptosuite"] == "eddsa-rdfc-2022"
    assert proof["proofPurpose"] == "assertionMethod" and proof["created"] == CREATED
    assert signed["@context"] == [VCDM2, OB303]
    assert verify_data_integrity(signed, proof, ed_key.public_key(), store) is True


def test_signing_does_not_change_the_input(store, ed_key):
    credential = _credential([VCDM1, OB303], vcdm1=True)
    before = copy.deepcopy(credential)
    sign_data_integrity(credential, ed_key, _vm(ed_key), CREATED, store)
    assert credential == before


def test_vcdm1_credential_gets_the_data_integrity_context_and_verifies(store, ed_key):
    signed = sign_data_integrity(_credential([VCDM1, OB303], vcdm1=True), ed_key, _vm(ed_key), CREATED, store)
    assert signed["@context"] == [VCDM1, OB303, DI_V2_CONTEXT]
    assert verify_data_integrity(signed, signed["proof"], ed_key.public_key(), store) is True
    tampered = copy.deepcopy(signed)
    tampered["credentialSubject"]["achievement"]["name"] = "Premiers secourt"
    assert verify_data_integrity(tampered, tampered["proof"], ed_key.public_key(), store) is False


def test_vcdm1_proof_without_data_integrity_terms_fails_closed(store, ed_key):
    signed = sign_data_integrity(_credential([VCDM1, OB303], vcdm1=True), ed_key, _vm(ed_key), CREATED, store)
    signed["@context"] = [VCDM1, OB303]  # the cryptosuite term is then undefined
    assert verify_data_integrity(signed, signed["proof"], ed_key.public_key(), store) is False


@pytest.mark.parametrize(
    "change",
    [
        lambda c: c.__setitem__("name", "Premiers secourz"),
        lambda c: c["issuer"].__setitem__("id", "https://evil.example/issuers/1"),
        lambda c: c["credentialSubject"]["identifier"][0].__setitem__("identityHash", "eve@example.org"),
        lambda c: c.__setitem__("validUntil", "2030-01-01T00:00:00Z"),
        lambda c: c["proof"].__setitem__("verificationMethod", "did:key:z6Mkother#z6Mkother"),
        lambda c: c["proof"].__setitem__("created", "2025-01-10T00:00:01Z"),
    ],
)
def test_any_change_breaks_the_proof(store, ed_key, change):
    signed = sign_data_integrity(_credential([VCDM2, OB303]), ed_key, _vm(ed_key), CREATED, store)
    change(signed)
    assert verify_data_integrity(signed, signed["proof"], ed_key.public_key(), store) is False


def test_unsigned_junk_with_an_undefined_term_fails(store, ed_key):
    signed = sign_data_integrity(
        _credential([VCDM1, OB303, DI_V2_CONTEXT], vcdm1=True), ed_key, _vm(ed_key), CREATED, store
    )
    signed["unsignedClaim"] = "pyld would drop this term silently"
    assert verify_data_integrity(signed, signed["proof"], ed_key.public_key(), store) is False


@pytest.mark.parametrize(
    "proof_value",
    [
        "",
        "5x9aCBY",
        "z",
        "z0OIl",
        "u" + "A" * 86,
        "z" + b58encode(b"\x01" * 63),
        "z" + b58encode(b"\x01" * 65),
    ],
)
def test_malformed_proof_values_fail(store, ed_key, proof_value):
    signed = sign_data_integrity(_credential([VCDM2, OB303]), ed_key, _vm(ed_key), CREATED, store)
    signed["proof"]["proofValue"] = proof_value
    assert verify_data_integrity(signed, signed["proof"], ed_key.public_key(), store) is False


def test_wrong_or_non_ed25519_key_fails(store, ed_key, rsa_key, ec_key):
    signed = sign_data_integrity(_credential([VCDM2, OB303]), ed_key, _vm(ed_key), CREATED, store)
    for key in (
        ed25519.Ed25519PrivateKey.generate().public_key(),
        rsa_key.public_key(),
        ec_key.public_key(),
        None,
    ):
        assert verify_data_integrity(signed, signed["proof"], key, store) is False


def test_context_missing_from_the_store_is_reported(store, ed_key):
    signed = sign_data_integrity(_credential([VCDM2, OB303]), ed_key, _vm(ed_key), CREATED, store)
    signed["@context"] = [VCDM2, "https://unknown.example/ctx.json"]
    with pytest.raises(ContextNotInStore) as caught:
        verify_data_integrity(signed, signed["proof"], ed_key.public_key(), store)
    assert caught.value.url == "https://unknown.example/ctx.json"


@pytest.mark.parametrize("suite", ["eddsa-2022", "eddsa-rdf-2022", "eddsa-rdfc-2022"])
def test_cryptosuite_aliases_verify(store, ed_key, suite):
    proof = {
        "type": "DataIntegrityProof",
        "cryptosuite": suite,
        "created": CREATED,
        "verificationMethod": _vm(ed_key),
        "proofPurpose": "assertionMethod",
    }
    signed = _sign_by_hand(_credential([VCDM2, OB303]), ed_key, proof, store)
    assert select_di_proof(signed) is signed["proof"]
    assert verify_data_integrity(signed, signed["proof"], ed_key.public_key(), store) is True


def test_legacy_ed25519signature2020_verifies(store, ed_key):
    proof = {
        "type": "Ed25519Signature2020",
        "created": CREATED,
        "verificationMethod": _vm(ed_key),
        "proofPurpose": "assertionMethod",
    }
    signed = _sign_by_hand(_credential([VCDM1, OB303, ED2020], vcdm1=True), ed_key, proof, store)
    assert select_di_proof(signed) is signed["proof"]
    assert verify_data_integrity(signed, signed["proof"], ed_key.public_key(), store) is True
    signed["name"] = "Autre"
    assert verify_data_integrity(signed, signed["proof"], ed_key.public_key(), store) is False


def test_proof_selection(store, ed_key):
    good = {"type": "DataIntegrityProof", "cryptosuite": "eddsa-rdfc-2022", "proofPurpose": "assertionMethod"}
    other_purpose = dict(good, proofPurpose="authentication")
    other_suite = dict(good, cryptosuite="ecdsa-sd-2023")
    rsa2018 = {"type": "RsaSignature2018", "proofPurpose": "assertionMethod"}
    assert select_di_proof({"proof": [other_purpose, other_suite, rsa2018, good]}) is good
    assert di_proofs({"proof": [good, other_purpose, good]}) == [good, good]
    assert select_di_proof({"proof": other_suite}) is None
    assert select_di_proof({"proof": "z123"}) is None
    assert select_di_proof({}) is None
    assert verify_data_integrity({"proof": other_suite}, other_suite, ed_key.public_key(), store) is False


def test_any_one_proof_of_a_set_can_verify(store, ed_key):
    signed = sign_data_integrity(_credential([VCDM2, OB303]), ed_key, _vm(ed_key), CREATED, store)
    broken = dict(signed["proof"], proofValue="z" + b58encode(b"\x07" * 64))
    signed["proof"] = [broken, signed["proof"]]
    results = [verify_data_integrity(signed, p, ed_key.public_key(), store) for p in di_proofs(signed)]
    assert results == [False, True]


def test_signing_needs_an_ed25519_key(store, rsa_key):
    with pytest.raises(TypeError):
        sign_data_integrity(_credential([VCDM2, OB303]), rsa_key, "did:key:x#x", CREATED, store)


# --- JWS ------------------------------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _b64json(value) -> str:
    return _b64(json.dumps(value).encode())


ASSERTION = {
    "@context": "https://w3id.org/openbadges/v2",
    "type": "Assertion",
    "id": "urn:uuid:1",
    "verification": {"type": "SignedBadge", "creator": "https://iss.example/key"},
}


@pytest.fixture(params=["RS256", "ES256", "EdDSA"])
def alg_key(request, rsa_key, ec_key, ed_key):
    return request.param, {"RS256": rsa_key, "ES256": ec_key, "EdDSA": ed_key}[request.param]


def test_jws_round_trip(alg_key):
    alg, key = alg_key
    token = sign_jws(ASSERTION, key, alg, kid="https://iss.example/key", typ="JWT")
    header, payload = decode_jws(token)
    assert header == {"alg": alg, "kid": "https://iss.example/key", "typ": "JWT"}
    assert payload == ASSERTION
    assert verify_jws(token, key.public_key()) is True


def test_vc_jwt_payload_with_vc_claim_decodes(ec_key):
    token = sign_jws(
        {"iss": "https://iss.example", "vc": {"type": ["VerifiableCredential"]}}, ec_key, "ES256"
    )
    assert decode_jws(token)[1]["vc"] == {"type": ["VerifiableCredential"]}


def test_tampered_payload_fails(alg_key):
    alg, key = alg_key
    header, _, signature = sign_jws(ASSERTION, key, alg).split(".")
    forged = f"{header}.{_b64json(dict(ASSERTION, id='urn:uuid:2'))}.{signature}"
    assert verify_jws(forged, key.public_key()) is False


def test_tampered_signature_fails(alg_key):
    alg, key = alg_key
    token = sign_jws(ASSERTION, key, alg)
    head, sig = token.rsplit(".", 1)
    raw = bytearray(base64.urlsafe_b64decode(sig + "=" * (-len(sig) % 4)))
    raw[5] ^= 0x01
    assert verify_jws(f"{head}.{_b64(bytes(raw))}", key.public_key()) is False


def test_key_of_another_type_never_verifies(rsa_key, ec_key, ed_key):
    tokens = {
        "RS256": sign_jws(ASSERTION, rsa_key, "RS256"),
        "ES256": sign_jws(ASSERTION, ec_key, "ES256"),
        "EdDSA": sign_jws(ASSERTION, ed_key, "EdDSA"),
    }
    keys = {"RS256": rsa_key.public_key(), "ES256": ec_key.public_key(), "EdDSA": ed_key.public_key()}
    for alg, token in tokens.items():
        for key_alg, key in keys.items():
            assert verify_jws(token, key) is (alg == key_alg)


def test_token_claiming_another_alg_fails(rsa_key, ed_key):
    # An EdDSA signature presented under an RS256 header, checked with the RSA key.
    _, payload, signature = sign_jws(ASSERTION, ed_key, "EdDSA").split(".")
    token = f"{_b64json({'alg': 'RS256'})}.{payload}.{signature}"
    assert verify_jws(token, rsa_key.public_key()) is False


def test_short_rsa_key_is_not_accepted():
    weak = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    header = _b64json({"alg": "RS256"})
    payload = _b64json(ASSERTION)
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    signature = weak.sign(f"{header}.{payload}".encode(), padding.PKCS1v15(), hashes.SHA256())
    assert verify_jws(f"{header}.{payload}.{_b64(signature)}", weak.public_key()) is False


def _reason(token) -> str:
    with pytest.raises(BadgeInputError) as caught:
        decode_jws(token)
    assert caught.value.code == "bad_jws"
    return caught.value.params["reason"]


def test_alg_none_is_refused(rsa_key):
    token = f"{_b64json({'alg': 'none'})}.{_b64json(ASSERTION)}."
    assert _reason(token) == "not_compact_jws"  # empty signature: not even the right shape
    token = f"{_b64json({'alg': 'none'})}.{_b64json(ASSERTION)}.AAAA"
    assert _reason(token) == "alg_not_allowed"
    with pytest.raises(BadgeInputError):
        verify_jws(token, rsa_key.public_key())


def test_hs256_keyed_with_the_rsa_public_key_is_refused(rsa_key):
    pem = rsa_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    signing_input = f"{_b64json({'alg': 'HS256', 'typ': 'JWT'})}.{_b64json(ASSERTION)}"
    mac = hmac.new(pem, signing_input.encode(), hashlib.sha256).digest()
    token = f"{signing_input}.{_b64(mac)}"
    assert _reason(token) == "alg_not_allowed"
    with pytest.raises(BadgeInputError):
        verify_jws(token, rsa_key.public_key())


@pytest.mark.parametrize("alg", ["HS256", "HS512", "RS512", "PS256", "ES384", "Ed25519", "none", None, 1])
def test_other_algs_are_refused(alg):
    assert _reason(f"{_b64json({'alg': alg})}.{_b64json(ASSERTION)}.AAAA") == "alg_not_allowed"


def test_crit_header_is_refused():
    assert (
        _reason(f"{_b64json({'alg': 'RS256', 'crit': ['cnf'], 'cnf': 1})}.{_b64json(ASSERTION)}.AAAA")
        == "crit_header"
    )


@pytest.mark.parametrize("member", ["jku", "x5u", "x5c", "b64", "zip", "cnf"])
def test_header_members_outside_the_allowlist_are_refused(member):
    header = {"alg": "RS256", member: "https://evil.example/keys"}
    assert _reason(f"{_b64json(header)}.{_b64json(ASSERTION)}.AAAA") == "header_not_allowed"


def test_private_jwk_in_header_is_refused(ec_key):
    numbers = ec_key.private_numbers()
    jwk = {
        "kty": "EC",
        "crv": "P-256",
        "x": "AA",
        "y": "AA",
        "d": _b64(numbers.private_value.to_bytes(32, "big")),
    }
    assert _reason(f"{_b64json({'alg': 'ES256', 'jwk': jwk})}.{_b64json(ASSERTION)}.AAAA") == "private_jwk"
    with pytest.raises(BadgeInputError):
        sign_jws(ASSERTION, ec_key, "ES256", jwk=jwk)


def test_oversized_token_is_refused():
    token = f"{_b64json({'alg': 'RS256'})}.{_b64json({'junk': 'x' * 70_000})}.AAAA"
    assert _reason(token) == "too_large"


@pytest.mark.parametrize(
    "token, reason",
    [
        ("", "not_compact_jws"),
        ("a.b", "not_compact_jws"),
        ("a.b.c.d", "not_compact_jws"),
        ("a+b.c.d", "not_compact_jws"),
        ("eyJhbGciOiJSUzI1NiJ9==.e30.AAAA", "not_compact_jws"),
        (f"{_b64(b'not json')}.e30.AAAA", "header_not_json"),
        (f"{_b64json(['RS256'])}.e30.AAAA", "header_not_object"),
        (_b64(b'{"alg":"RS256","alg":"none"}') + ".e30.AAAA", "header_not_json"),
        (f"{_b64json({'alg': 'RS256'})}.{_b64(b'[1]')}.AAAA", "payload_not_object"),
        (f"{_b64json({'alg': 'RS256'})}.{_b64(b'NaN')}.AAAA", "payload_not_json"),
        (f"{_b64json({'alg': 'RS256'})}..AAAA", "payload_not_json"),
        (f"{_b64json({'alg': 'RS256', 'kid': 5})}.e30.AAAA", "header_not_allowed"),
        (b"bytes.are.refused", "not_a_string"),
    ],
)
def test_malformed_tokens_are_refused(token, reason):
    assert _reason(token) == reason


def test_sign_jws_refuses_a_key_that_does_not_fit_the_alg(rsa_key, ed_key):
    with pytest.raises(TypeError):
        sign_jws(ASSERTION, ed_key, "RS256")
    with pytest.raises(BadgeInputError):
        sign_jws(ASSERTION, rsa_key, "HS256")
