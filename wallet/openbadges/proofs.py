"""Cryptographic proofs: Data Integrity (eddsa-rdfc-2022, eddsa-2022, Ed25519Signature2020),
OB 2.0 signed badges (RS256 JWS) and VC-JWT (RS256, ES256, EdDSA).

CONTRACT (pure; keys are resolved by the caller through a fetcher):
- `di_proofs(credential: dict) -> list[dict]`: every supported assertionMethod proof (a list or a
  single proof); `select_di_proof(credential) -> dict | None`: the first of them. Supported:
  DataIntegrityProof with cryptosuite eddsa-rdfc-2022 (also eddsa-2022 and the spec typo
  eddsa-rdf-2022) and the legacy Ed25519Signature2020 (no cryptosuite).
- `verify_data_integrity(credential: dict, proof: dict, public_key, store) -> bool`
  (raises ContextNotInStore when canonicalization needs a context the store lacks; a document that
  is not valid JSON-LD, or that uses a term no context defines, verifies False).
- `sign_data_integrity(credential: dict, private_key, verification_method: str, created: str,
  store) -> dict`: returns a copy with an eddsa-rdfc-2022 DataIntegrityProof (used by tests and by
  the builtin issuer). A credential whose @context does not define the Data Integrity terms (VCDM
  1.1) gets `https://w3id.org/security/data-integrity/v2` appended to its @context first, as
  jsonld-signatures does. Raises JsonLdFailure / ContextNotInStore for a document it cannot sign.
- `decode_jws(token: str) -> tuple[dict header, dict payload]` unverified, with caps (64 KiB, alg
  allowlist RS256/ES256/EdDSA, no `crit`, header members only alg/kid/jwk/typ/cty, no private
  `jwk`, no duplicate JSON members); raises BadgeInputError("bad_jws", reason=…).
- `verify_jws(token: str, public_key) -> bool` (signature only; RSA ≥ 2048 bits only with RS256,
  EC P-256 only with ES256, Ed25519 only with EdDSA). A malformed token raises like decode_jws.
- `sign_jws(payload: dict, private_key, alg: str, kid: str | None = None, jwk: dict | None = None,
  typ: str | None = None) -> str`.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature

from .errors import BadgeInputError
from .jsonld import ContextStore, JsonLdFailure, canonize
from .jsonutil import loads_unique
from .keys import UnusableKey, b58decode, b58encode, b64url_decode, b64url_encode

DI_CRYPTOSUITES = frozenset({"eddsa-rdfc-2022", "eddsa-2022", "eddsa-rdf-2022"})
DI_V2_CONTEXT = "https://w3id.org/security/data-integrity/v2"
# Contexts that define DataIntegrityProof and cryptosuite.
_DI_TERM_CONTEXTS = frozenset(
    {"https://www.w3.org/ns/credentials/v2", DI_V2_CONTEXT, "https://w3id.org/security/data-integrity/v1"}
)

JWS_MAX_CHARS = 64 * 1024
JWS_ALGS = frozenset({"RS256", "ES256", "EdDSA"})
_JWS_HEADER_MEMBERS = frozenset({"alg", "kid", "jwk", "typ", "cty"})
_JWS_SHAPE = re.compile(r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+$")
_PRIVATE_JWK_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})


# --- Data Integrity -------------------------------------------------------------------------


def _is_supported_di(proof: Any) -> bool:
    if not isinstance(proof, dict) or proof.get("proofPurpose") != "assertionMethod":
        return False
    kind = proof.get("type")
    if kind == "DataIntegrityProof":
        return proof.get("cryptosuite") in DI_CRYPTOSUITES
    return kind == "Ed25519Signature2020"


def di_proofs(credential: dict) -> list[dict]:
    proof = credential.get("proof") if isinstance(credential, dict) else None
    candidates = proof if isinstance(proof, list) else [proof]
    return [p for p in candidates if _is_supported_di(p)]


def select_di_proof(credential: dict) -> dict | None:
    found = di_proofs(credential)
    return found[0] if found else None


def _hash_data(document: dict, proof_config: dict, store: ContextStore) -> bytes:
    # Proof hash FIRST, then document hash (vc-di-eddsa §3.3.4 "Hashing").
    return (
        hashlib.sha256(canonize(proof_config, store).encode("utf-8")).digest()
        + hashlib.sha256(canonize(document, store).encode("utf-8")).digest()
    )


def _unsecured(credential: dict) -> dict:
    return {k: v for k, v in credential.items() if k != "proof"}


def _proof_config(proof: dict, context: Any) -> dict:
    config = {k: v for k, v in proof.items() if k != "proofValue"}
    config["@context"] = context
    return config


def verify_data_integrity(credential: dict, proof: dict, public_key: Any, store: ContextStore) -> bool:
    if not isinstance(credential, dict) or not _is_supported_di(proof):
        return False
    if not isinstance(public_key, ed25519.Ed25519PublicKey):
        return False
    value = proof.get("proofValue")
    if not isinstance(value, str) or not value.startswith("z") or len(value) > 200:
        return False
    try:
        signature = b58decode(value[1:])
    except UnusableKey:
        return False
    if len(signature) != 64:
        return False
    document = _unsecured(credential)
    try:
        data = _hash_data(document, _proof_config(proof, document.get("@context")), store)
    except JsonLdFailure:
        return False
    try:
        public_key.verify(signature, data)
    except InvalidSignature:
        return False
    return True


def _defines_di_terms(context: Any) -> bool:
    items = context if isinstance(context, list) else [context]
    return any(isinstance(item, str) and item in _DI_TERM_CONTEXTS for item in items)


def sign_data_integrity(
    credential: dict,
    private_key: ed25519.Ed25519PrivateKey,
    verification_method: str,
    created: str,
    store: ContextStore,
) -> dict:
    if not isinstance(private_key, ed25519.Ed25519PrivateKey):
        raise TypeError("eddsa-rdfc-2022 needs an Ed25519 private key")
    document = _unsecured(credential)
    context = document.get("@context")
    if context is None:
        raise JsonLdFailure("the credential has no @context")
    if not _defines_di_terms(context):
        document["@context"] = (context if isinstance(context, list) else [context]) + [DI_V2_CONTEXT]
    proof = {
        "type": "DataIntegrityProof",
        "cryptosuite": "eddsa-rdfc-2022",
        "created": created,
        "verificationMethod": verification_method,
        "proofPurpose": "assertionMethod",
    }
    data = _hash_data(document, _proof_config(proof, document["@context"]), store)
    proof["proofValue"] = "z" + b58encode(private_key.sign(data))
    return {**document, "proof": proof}


# --- JWS ------------------------------------------------------------------------------------


def _bad(reason: str, detail: str = "") -> BadgeInputError:
    return BadgeInputError("bad_jws", detail or reason, reason=reason)


def _json_object(segment: str, what: str) -> dict:
    try:
        raw = b64url_decode(segment)
        value = loads_unique(raw.decode("utf-8"))
    except (UnusableKey, UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise _bad(f"{what}_not_json", f"{what} is not base64url JSON: {exc}") from None
    if not isinstance(value, dict):
        raise _bad(f"{what}_not_object", f"{what} is not a JSON object")
    return value


def _check_header(header: dict) -> None:
    alg = header.get("alg")
    if alg not in JWS_ALGS:
        raise _bad("alg_not_allowed", f"alg {alg!r} is not one of {sorted(JWS_ALGS)}")
    if "crit" in header:
        raise _bad("crit_header", "the crit header is not supported")
    extra = set(header) - _JWS_HEADER_MEMBERS
    if extra:
        raise _bad("header_not_allowed", f"header members not allowed: {sorted(extra)}")
    for name in ("kid", "typ", "cty"):
        if name in header and not isinstance(header[name], str):
            raise _bad("header_not_allowed", f"header {name} must be a string")
    if "jwk" in header:
        jwk = header["jwk"]
        if not isinstance(jwk, dict):
            raise _bad("header_not_allowed", "header jwk must be an object")
        if _PRIVATE_JWK_MEMBERS & set(jwk):
            raise _bad("private_jwk", "header jwk holds private key members")


def _split(token: str) -> tuple[str, str, str]:
    if not isinstance(token, str):
        raise _bad("not_a_string", "a JWS must be text")
    token = token.strip()
    if len(token) > JWS_MAX_CHARS:
        raise _bad("too_large", f"JWS longer than {JWS_MAX_CHARS} characters")
    if not _JWS_SHAPE.match(token):
        raise _bad("not_compact_jws", "not a compact JWS (header.payload.signature)")
    header, payload, signature = token.split(".")
    return header, payload, signature


def decode_jws(token: str) -> tuple[dict, dict]:
    """Header and payload, NOT verified (caps and allowlists applied)."""
    header_b64, payload_b64, _ = _split(token)
    header = _json_object(header_b64, "header")
    _check_header(header)
    if not payload_b64:
        raise _bad("payload_not_json", "detached payloads are not supported")
    return header, _json_object(payload_b64, "payload")


def _key_matches(alg: str, key: Any) -> bool:
    if alg == "RS256":
        return isinstance(key, rsa.RSAPublicKey) and key.key_size >= 2048
    if alg == "ES256":
        return isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP256R1)
    if alg == "EdDSA":
        return isinstance(key, ed25519.Ed25519PublicKey)
    return False


def verify_jws(token: str, public_key: Any) -> bool:
    """True only when the signature is valid for `public_key` under the token's (allowed) alg."""
    header, _ = decode_jws(token)
    header_b64, payload_b64, signature_b64 = _split(token)
    alg = header["alg"]
    if not _key_matches(alg, public_key):
        return False
    try:
        signature = b64url_decode(signature_b64)
    except UnusableKey:
        return False
    signing_input = f"{header_b64}.{payload_b64}".encode("ascii")
    try:
        if alg == "RS256":
            public_key.verify(signature, signing_input, padding.PKCS1v15(), hashes.SHA256())
        elif alg == "ES256":
            if len(signature) != 64:
                return False
            der = encode_dss_signature(
                int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
            )
            public_key.verify(der, signing_input, ec.ECDSA(hashes.SHA256()))
        else:
            public_key.verify(signature, signing_input)
    except InvalidSignature:
        return False
    return True


def sign_jws(
    payload: dict,
    private_key: Any,
    alg: str,
    kid: str | None = None,
    jwk: dict | None = None,
    typ: str | None = None,
) -> str:
    header: dict[str, Any] = {"alg": alg}
    if kid is not None:
        header["kid"] = kid
    if jwk is not None:
        header["jwk"] = jwk
    if typ is not None:
        header["typ"] = typ
    _check_header(header)
    if not _key_matches(alg, private_key.public_key()):
        raise TypeError(f"{alg} cannot be used with a {type(private_key).__name__}")
    compact = {"separators": (",", ":"), "ensure_ascii": False}
    signing_input = (
        b64url_encode(json.dumps(header, **compact).encode("utf-8"))
        + "."
        + b64url_encode(json.dumps(payload, **compact).encode("utf-8"))
    )
    data = signing_input.encode("ascii")
    if alg == "RS256":
        signature = private_key.sign(data, padding.PKCS1v15(), hashes.SHA256())
    elif alg == "ES256":
        r, s = decode_dss_signature(private_key.sign(data, ec.ECDSA(hashes.SHA256())))
        signature = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    else:
        signature = private_key.sign(data)
    return f"{signing_input}.{b64url_encode(signature)}"
