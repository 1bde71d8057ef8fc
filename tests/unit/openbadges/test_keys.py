"""Keys: base58/multibase, did:key, did:web, verification methods, JWK and PEM."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from wallet.openbadges.keys import (
    UnusableKey,
    b58decode,
    b58encode,
    did_key_document,
    did_key_from_ed25519,
    did_web_url,
    ed25519_from_multikey,
    find_verification_method,
    is_assertion_method,
    jwk_from_public_key,
    key_and_controller,
    multibase_decode,
    multikey_from_ed25519,
    public_key_from_jwk,
    public_key_from_method,
    public_key_from_pem,
)


def _raw(key: ed25519.Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


# --- encodings ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data, text",
    [
        (b"", ""),
        (b"\0", "1"),
        (b"\0\0\x01", "112"),
        (b"hello world", "StV1DL6CwTryKyV"),
        (b"\xff" * 4, "7YXq9G"),
    ],
)
def test_base58btc_known_values(data, text):
    assert b58encode(data) == text
    assert b58decode(text) == data


@pytest.mark.parametrize("text", ["0", "O", "I", "l", "abc+", "x" * 5000])
def test_base58btc_refuses_bad_input(text):
    with pytest.raises(UnusableKey):
        b58decode(text)


def test_multibase():
    assert multibase_decode("z" + b58encode(b"\x00abc")) == b"\x00abc"
    assert multibase_decode("u" + _b64(b"\xfb\xffabc")) == b"\xfb\xffabc"
    for bad in ("", "f616263", "mYWJj", "u***", "uA"):
        with pytest.raises(UnusableKey):
            multibase_decode(bad)


# --- Multikey / did:key ---------------------------------------------------------------------


def test_did_key_round_trip():
    key = ed25519.Ed25519PrivateKey.generate().public_key()
    multikey = multikey_from_ed25519(key)
    assert multikey.startswith("z6Mk")
    did = did_key_from_ed25519(key)
    assert did == "did:key:" + multikey
    document = did_key_document(did + "#" + multikey)
    assert document["id"] == did
    vm_id = f"{did}#{multikey}"
    assert is_assertion_method(document, vm_id)
    method = find_verification_method(document, vm_id)
    public, controller = key_and_controller(method)
    assert controller == did
    assert _raw(public) == _raw(key)
    assert _raw(ed25519_from_multikey(multikey)) == _raw(key)


@pytest.mark.parametrize(
    "did",
    [
        "did:key:z" + b58encode(b"\xe7\x01" + b"\x02" * 33),  # secp256k1
        "did:key:z" + b58encode(b"\xed\x01" + b"\x02" * 31),  # too short
        "did:key:u" + _b64(b"\xed\x01" + b"\x02" * 32),  # not base58btc for did:key
        "did:web:example.com",
        "did:key:z0OIl",
    ],
)
def test_did_key_refuses_other_keys(did):
    with pytest.raises(UnusableKey):
        did_key_document(did)


# --- did:web --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "did, url",
    [
        ("did:web:example.com", "https://example.com/.well-known/did.json"),
        ("did:web:example.com:user:alice", "https://example.com/user/alice/did.json"),
        ("did:web:localhost%3A8443", "https://localhost:8443/.well-known/did.json"),
        ("did:web:w3c-ccg.github.io:user:alice", "https://w3c-ccg.github.io/user/alice/did.json"),
        ("did:web:example.com#key-1", "https://example.com/.well-known/did.json"),
        ("did:web:example.com:issuers:1#key-1", "https://example.com/issuers/1/did.json"),
    ],
)
def test_did_web_url(did, url):
    assert did_web_url(did) == url


@pytest.mark.parametrize(
    "did",
    [
        "did:web:",
        "did:key:z6Mk",
        "did:web:exa mple.com",
        "did:web:example.com%2Fevil",
        "did:web:user@example.com",
        "did:web:example.com:..:x",
        "did:web:example.com:%2E%2E",
        "did:web:example.com::x",
        "did:web:example.com:a%2Fb",
        "https://example.com",
    ],
)
def test_did_web_refuses_bad_dids(did):
    with pytest.raises(UnusableKey):
        did_web_url(did)


# --- verification methods -------------------------------------------------------------------


def _multikey() -> str:
    return multikey_from_ed25519(ed25519.Ed25519PrivateKey.generate().public_key())


def test_find_verification_method_relative_and_embedded():
    one, two = _multikey(), _multikey()
    document = {
        "id": "https://iss.example/issuers/1",
        "verificationMethod": [
            {
                "id": "#key-1",
                "type": "Multikey",
                "controller": "https://iss.example/issuers/1",
                "publicKeyMultibase": one,
            }
        ],
        "assertionMethod": [
            "#key-1",
            {"id": "https://iss.example/issuers/1#key-2", "type": "Multikey", "publicKeyMultibase": two},
        ],
    }
    assert (
        find_verification_method(document, "https://iss.example/issuers/1#key-1")["publicKeyMultibase"] == one
    )
    assert find_verification_method(document, "#key-1")["publicKeyMultibase"] == one
    assert find_verification_method(document, "#key-2")["publicKeyMultibase"] == two
    assert find_verification_method(document, "https://other.example/issuers/1#key-1") is None
    assert find_verification_method(document, "#key-3") is None
    assert is_assertion_method(document, "https://iss.example/issuers/1#key-1")
    assert is_assertion_method(document, "#key-2")
    assert not is_assertion_method(
        {"id": "x", "verificationMethod": document["verificationMethod"]}, "x#key-1"
    )
    assert find_verification_method({"verificationMethod": "junk"}, "#key-1") is None
    assert find_verification_method("junk", "#key-1") is None


def test_ob2_cryptographic_key_with_pem_and_owner():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
    pem = key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()
    public, owner = key_and_controller(
        {
            "type": "CryptographicKey",
            "id": "https://iss.example/key",
            "owner": "https://iss.example/issuer",
            "publicKeyPem": pem,
        }
    )
    assert owner == "https://iss.example/issuer"
    assert public.public_numbers() == key.public_numbers()


def test_ed25519_verification_key_2018_base58():
    key = ed25519.Ed25519PrivateKey.generate().public_key()
    method = {"type": "Ed25519VerificationKey2018", "publicKeyBase58": b58encode(_raw(key))}
    assert _raw(public_key_from_method(method)) == _raw(key)


@pytest.mark.parametrize(
    "method",
    [
        {},
        {"publicKeyMultibase": "z123"},
        {"publicKeyPem": "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----"},
        {"publicKeyBase58": "abc"},
        "junk",
    ],
)
def test_unusable_methods(method):
    with pytest.raises(UnusableKey):
        public_key_from_method(method)


# --- JWK and PEM ----------------------------------------------------------------------------


@pytest.fixture(
    params=[
        lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048),
        lambda: ec.generate_private_key(ec.SECP256R1()),
        lambda: ed25519.Ed25519PrivateKey.generate(),
    ],
    ids=["RSA", "EC-P256", "Ed25519"],
)
def private_key(request):
    return request.param()


def _same(a, b) -> bool:
    fmt = (serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return a.public_bytes(*fmt) == b.public_bytes(*fmt)


def test_jwk_round_trip(private_key):
    public = private_key.public_key()
    jwk = jwk_from_public_key(public)
    assert "d" not in jwk
    assert _same(public_key_from_jwk(jwk), public)
    assert _same(public_key_from_method({"type": "JsonWebKey2020", "publicKeyJwk": jwk}), public)


def test_pem_round_trip(private_key):
    public = private_key.public_key()
    pem = public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    assert _same(public_key_from_pem(pem.decode()), public)


def test_jwk_holding_a_private_key_is_refused(private_key):
    jwk = jwk_from_public_key(private_key.public_key())
    with pytest.raises(UnusableKey, match="private"):
        public_key_from_jwk(dict(jwk, d="AAAA"))
    with pytest.raises(UnusableKey, match="private"):
        public_key_from_jwk({"kty": "oct", "k": "c2VjcmV0"})


def test_private_pem_is_not_a_public_key(private_key):
    pem = private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    with pytest.raises(UnusableKey):
        public_key_from_pem(pem.decode())


@pytest.mark.parametrize(
    "jwk",
    [
        {"kty": "EC", "crv": "P-384", "x": _b64(b"\1" * 48), "y": _b64(b"\1" * 48)},
        {"kty": "EC", "crv": "P-256", "x": _b64(b"\1" * 32), "y": _b64(b"\1" * 32)},  # not on the curve
        {"kty": "EC", "crv": "P-256", "x": _b64(b"\1" * 31)},
        {"kty": "OKP", "crv": "Ed448", "x": _b64(b"\1" * 57)},
        {"kty": "OKP", "crv": "Ed25519", "x": _b64(b"\1" * 31)},
        {"kty": "RSA", "n": "!!", "e": "AQAB"},
        {"kty": "RSA", "e": "AQAB"},
        {"kty": "oct"},
        {},
        [],
    ],
)
def test_unusable_jwks(jwk):
    with pytest.raises(UnusableKey):
        public_key_from_jwk(jwk)


def test_short_rsa_and_other_curves_are_refused():
    weak = rsa.generate_private_key(public_exponent=65537, key_size=1024).public_key()
    with pytest.raises(UnusableKey, match="too short"):
        public_key_from_jwk(jwk_from_public_key(weak))
    p384 = ec.generate_private_key(ec.SECP384R1()).public_key()
    pem = p384.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()
    with pytest.raises(UnusableKey, match="curve"):
        public_key_from_pem(pem)
