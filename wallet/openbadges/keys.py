"""Public keys: multibase/multicodec, did:key, did:web, Multikey and JWK documents.

CONTRACT:
- `b58decode(s) / b58encode(b)` (base58btc, Bitcoin alphabet), `multibase_decode(s) -> bytes`
  ('z' base58btc, 'u' base64url without padding), `b64url_decode(s) / b64url_encode(b)`.
- `ed25519_from_multikey(value: str) -> Ed25519PublicKey` (multicodec 0xed01 prefix).
- `multikey_from_ed25519(pub) -> str` ("z6Mk…").
- `did_key_document(did: str) -> dict` (pure; Ed25519 did:key only; the fragment is the same
  multibase value: `did:key:z6Mk…#z6Mk…`).
- `did_web_url(did: str) -> str` (did:web:host%3Aport:path → https://host:port/path/did.json;
  no path → https://host/.well-known/did.json). A fragment or query on the DID URL is ignored.
- `find_verification_method(document: dict, vm_id: str) -> dict | None`: searches
  `verificationMethod` and embedded objects of `assertionMethod`; relative ids (`#key-1`) are taken
  against the document's `id`.
- `is_assertion_method(document, vm_id) -> bool`: the method is listed (by id or embedded) under
  `assertionMethod`.
- `public_key_from_method(method: dict)` → cryptography public key from publicKeyMultibase
  (Ed25519 Multikey / Ed25519VerificationKey2020), publicKeyBase58 (Ed25519VerificationKey2018),
  publicKeyJwk or publicKeyPem (OB 2.0 CryptographicKey).
- `key_and_controller(method: dict) -> (public key, controller id | None)` (`controller`, or the
  OB 2.0 `owner`).
- `public_key_from_jwk(jwk: dict)` (RSA ≥ 2048 bits, EC P-256, OKP Ed25519; a JWK holding private
  members such as `d` is refused), `jwk_from_public_key(key) -> dict`, `public_key_from_pem(pem)`.
- Every failure raises `UnusableKey` (a ValueError) with a short English reason.
"""

from __future__ import annotations

import base64
import binascii
import re
from urllib.parse import unquote

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

PublicKey = rsa.RSAPublicKey | ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey

_B58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_B58_INDEX = {c: i for i, c in enumerate(_B58_ALPHABET)}
_B58_MAX_CHARS = 4096  # keys and signatures are far shorter; base58 decoding is quadratic
_ED25519_MULTICODEC = b"\xed\x01"
_PRIVATE_JWK_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})
_MIN_RSA_BITS = 2048

DID_CONTEXT = "https://www.w3.org/ns/did/v1"
MULTIKEY_CONTEXT = "https://w3id.org/security/multikey/v1"


class UnusableKey(ValueError):
    """A key, key document or identifier that cannot be used."""


# --- encodings ------------------------------------------------------------------------------


def b58encode(data: bytes) -> str:
    number = int.from_bytes(data, "big")
    chars = []
    while number:
        number, rest = divmod(number, 58)
        chars.append(_B58_ALPHABET[rest])
    zeros = len(data) - len(data.lstrip(b"\0"))
    return "1" * zeros + "".join(reversed(chars))


def b58decode(text: str) -> bytes:
    if not isinstance(text, str) or len(text) > _B58_MAX_CHARS:
        raise UnusableKey("base58: not a string, or too long")
    number = 0
    for char in text:
        digit = _B58_INDEX.get(char)
        if digit is None:
            raise UnusableKey(f"base58: invalid character {char!r}")
        number = number * 58 + digit
    zeros = len(text) - len(text.lstrip("1"))
    body = number.to_bytes((number.bit_length() + 7) // 8, "big") if number else b""
    return b"\0" * zeros + body


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Strict base64url without padding (RFC 7515 §2)."""
    if not isinstance(text, str) or not re.fullmatch(r"[A-Za-z0-9_-]*", text) or len(text) % 4 == 1:
        raise UnusableKey("base64url: invalid")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise UnusableKey("base64url: invalid") from exc


def multibase_decode(value: str) -> bytes:
    if not isinstance(value, str) or not value:
        raise UnusableKey("multibase: empty")
    if value[0] == "z":
        return b58decode(value[1:])
    if value[0] == "u":
        return b64url_decode(value[1:])
    raise UnusableKey(f"multibase: unsupported base {value[0]!r}")


# --- Ed25519 Multikey and did:key -----------------------------------------------------------


def ed25519_from_multikey(value: str) -> ed25519.Ed25519PublicKey:
    raw = multibase_decode(value)
    if not raw.startswith(_ED25519_MULTICODEC) or len(raw) != 34:
        raise UnusableKey("multikey: not an Ed25519 public key (multicodec 0xed01, 32 bytes)")
    return ed25519.Ed25519PublicKey.from_public_bytes(raw[2:])


def multikey_from_ed25519(public_key: ed25519.Ed25519PublicKey) -> str:
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return "z" + b58encode(_ED25519_MULTICODEC + raw)


def did_key_from_ed25519(public_key: ed25519.Ed25519PublicKey) -> str:
    return "did:key:" + multikey_from_ed25519(public_key)


def did_key_document(did: str) -> dict:
    """The DID document of an Ed25519 did:key (DID URL fragments are ignored)."""
    bare = did.split("#", 1)[0]
    if not bare.startswith("did:key:z"):
        raise UnusableKey("did:key: expected did:key:z…")
    value = bare[len("did:key:") :]
    ed25519_from_multikey(value)  # validates
    vm_id = f"{bare}#{value}"
    return {
        "@context": [DID_CONTEXT, MULTIKEY_CONTEXT],
        "id": bare,
        "verificationMethod": [
            {"id": vm_id, "type": "Multikey", "controller": bare, "publicKeyMultibase": value}
        ],
        "authentication": [vm_id],
        "assertionMethod": [vm_id],
        "capabilityDelegation": [vm_id],
        "capabilityInvocation": [vm_id],
    }


# --- did:web --------------------------------------------------------------------------------

_HOST = re.compile(
    r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,62})(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}))*(?::[0-9]{1,5})?$"
)
_SEGMENT = re.compile(r"^[A-Za-z0-9._~!$&'()*+,;=@%-]+$")


def did_web_url(did: str) -> str:
    """Where a did:web document lives (DID Web method spec §3.2)."""
    bare = did.split("#", 1)[0].split("?", 1)[0]
    if not bare.startswith("did:web:"):
        raise UnusableKey("did:web: expected did:web:…")
    parts = bare[len("did:web:") :].split(":")
    host = unquote(parts[0])
    if not _HOST.match(host):
        raise UnusableKey(f"did:web: bad host {parts[0]!r}")
    segments = parts[1:]
    for segment in segments:
        decoded = unquote(segment)
        if not _SEGMENT.match(segment) or decoded in (".", "..") or "/" in decoded or "?" in decoded:
            raise UnusableKey(f"did:web: bad path segment {segment!r}")
    path = "/".join(segments) if segments else ".well-known"
    return f"https://{host}/{path}/did.json"


# --- finding a verification method in a controller document --------------------------------


def _absolute(ref: str, base: str) -> str:
    if ref.startswith("#") and base:
        return base.split("#", 1)[0] + ref
    return ref


def _methods(document: dict, relation: str) -> list:
    value = document.get(relation)
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def find_verification_method(document: dict, vm_id: str) -> dict | None:
    if not isinstance(document, dict) or not isinstance(vm_id, str):
        return None
    base = document.get("id") if isinstance(document.get("id"), str) else ""
    wanted = _absolute(vm_id, base)
    for relation in ("verificationMethod", "assertionMethod"):
        for method in _methods(document, relation):
            method_id = method.get("id") if isinstance(method, dict) else None
            if isinstance(method_id, str) and _absolute(method_id, base) == wanted:
                return method
    return None


def is_assertion_method(document: dict, vm_id: str) -> bool:
    if not isinstance(document, dict) or not isinstance(vm_id, str):
        return False
    base = document.get("id") if isinstance(document.get("id"), str) else ""
    wanted = _absolute(vm_id, base)
    for item in _methods(document, "assertionMethod"):
        ref = item.get("id") if isinstance(item, dict) else item
        if isinstance(ref, str) and _absolute(ref, base) == wanted:
            return True
    return False


# --- public keys from key documents ---------------------------------------------------------


def public_key_from_method(method: dict) -> PublicKey:
    if not isinstance(method, dict):
        raise UnusableKey("verification method: not an object")
    if isinstance(method.get("publicKeyMultibase"), str):
        return ed25519_from_multikey(method["publicKeyMultibase"])
    if isinstance(method.get("publicKeyJwk"), dict):
        return public_key_from_jwk(method["publicKeyJwk"])
    if isinstance(method.get("publicKeyPem"), str):
        return public_key_from_pem(method["publicKeyPem"])
    if isinstance(method.get("publicKeyBase58"), str):
        raw = b58decode(method["publicKeyBase58"])
        if len(raw) != 32:
            raise UnusableKey("publicKeyBase58: not a 32-byte Ed25519 key")
        return ed25519.Ed25519PublicKey.from_public_bytes(raw)
    raise UnusableKey("verification method: no publicKeyMultibase, publicKeyJwk or publicKeyPem")


def key_and_controller(method: dict) -> tuple[PublicKey, str | None]:
    controller = method.get("controller", method.get("owner")) if isinstance(method, dict) else None
    return public_key_from_method(method), controller if isinstance(controller, str) else None


def _check_key(key: object) -> PublicKey:
    if isinstance(key, rsa.RSAPublicKey):
        if key.key_size < _MIN_RSA_BITS:
            raise UnusableKey(f"RSA key too short ({key.key_size} bits)")
        return key
    if isinstance(key, ec.EllipticCurvePublicKey):
        if not isinstance(key.curve, ec.SECP256R1):
            raise UnusableKey(f"EC curve not supported: {key.curve.name}")
        return key
    if isinstance(key, ed25519.Ed25519PublicKey):
        return key
    raise UnusableKey(f"key type not supported: {type(key).__name__}")


def public_key_from_pem(pem: str) -> PublicKey:
    if not isinstance(pem, str) or len(pem) > 16384:
        raise UnusableKey("PEM: not a string, or too long")
    try:
        key = serialization.load_pem_public_key(pem.strip().encode("ascii"))
    except (ValueError, UnicodeEncodeError, UnsupportedAlgorithm) as exc:
        raise UnusableKey("PEM: not a public key") from exc
    return _check_key(key)


def _jwk_int(jwk: dict, name: str) -> int:
    value = jwk.get(name)
    if not isinstance(value, str):
        raise UnusableKey(f"JWK: missing {name}")
    return int.from_bytes(b64url_decode(value), "big")


def _jwk_bytes(jwk: dict, name: str, size: int) -> bytes:
    value = jwk.get(name)
    raw = b64url_decode(value) if isinstance(value, str) else b""
    if len(raw) != size:
        raise UnusableKey(f"JWK: {name} must be {size} bytes")
    return raw


def public_key_from_jwk(jwk: dict) -> PublicKey:
    if not isinstance(jwk, dict):
        raise UnusableKey("JWK: not an object")
    private = _PRIVATE_JWK_MEMBERS & set(jwk)
    if private:
        raise UnusableKey(f"JWK: holds private or secret members ({', '.join(sorted(private))})")
    kty = jwk.get("kty")
    try:
        if kty == "RSA":
            key: object = rsa.RSAPublicNumbers(_jwk_int(jwk, "e"), _jwk_int(jwk, "n")).public_key()
        elif kty == "EC":
            if jwk.get("crv") != "P-256":
                raise UnusableKey(f"JWK: EC curve not supported: {jwk.get('crv')!r}")
            point = b"\x04" + _jwk_bytes(jwk, "x", 32) + _jwk_bytes(jwk, "y", 32)
            key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
        elif kty == "OKP":
            if jwk.get("crv") != "Ed25519":
                raise UnusableKey(f"JWK: OKP curve not supported: {jwk.get('crv')!r}")
            key = ed25519.Ed25519PublicKey.from_public_bytes(_jwk_bytes(jwk, "x", 32))
        else:
            raise UnusableKey(f"JWK: key type not supported: {kty!r}")
    except UnusableKey:
        raise
    except (ValueError, UnsupportedAlgorithm) as exc:  # e.g. a point not on the curve
        raise UnusableKey(f"JWK: invalid {kty} key") from exc
    return _check_key(key)


def _uint(number: int, size: int | None = None) -> str:
    length = size or max(1, (number.bit_length() + 7) // 8)
    return b64url_encode(number.to_bytes(length, "big"))


def jwk_from_public_key(key: PublicKey) -> dict:
    """The public JWK of a key (no `kid`; add one if needed)."""
    if isinstance(key, rsa.RSAPublicKey):
        numbers = key.public_numbers()
        return {"kty": "RSA", "n": _uint(numbers.n), "e": _uint(numbers.e)}
    if isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP256R1):
        numbers = key.public_numbers()
        return {"kty": "EC", "crv": "P-256", "x": _uint(numbers.x, 32), "y": _uint(numbers.y, 32)}
    if isinstance(key, ed25519.Ed25519PublicKey):
        raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return {"kty": "OKP", "crv": "Ed25519", "x": b64url_encode(raw)}
    raise UnusableKey(f"key type not supported: {type(key).__name__}")
