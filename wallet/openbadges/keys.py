"""Public keys: multibase/multicodec, did:key, did:web, Multikey and JWK documents.

CONTRACT:
- `b58decode(s) / b58encode(b)`, `multibase_decode(s) -> bytes` ('z' base58btc, 'u' base64url).
- `ed25519_from_multikey(value: str) -> Ed25519PublicKey` (multicodec 0xed01 prefix).
- `multikey_from_ed25519(pub) -> str` ("z6Mk…").
- `did_key_document(did: str) -> dict` (pure).
- `did_web_url(did: str) -> str` (did:web:host%3Aport:path → https://host:port/path/did.json).
- `find_verification_method(document: dict, vm_id: str) -> dict | None`.
- `public_key_from_method(method: dict)` → cryptography public key from publicKeyMultibase,
  publicKeyJwk or publicKeyPem.
"""
