"""Cryptographic proofs: Data Integrity (eddsa-rdfc-2022, eddsa-2022, Ed25519Signature2020),
OB 2.0 signed badges (RS256 JWS) and VC-JWT (RS256, ES256, EdDSA).

CONTRACT (pure; keys are resolved by the caller through a fetcher):
- `select_di_proof(credential: dict) -> dict | None`: a supported assertionMethod proof.
- `verify_data_integrity(credential: dict, proof: dict, public_key, store) -> bool`
  (raises ContextNotInStore when canonicalization needs a context the store lacks).
- `sign_data_integrity(credential: dict, private_key, verification_method: str, created: str,
  store) -> dict`: returns a copy with an eddsa-rdfc-2022 DataIntegrityProof (used by tests and by
  the builtin issuer).
- `decode_jws(token: str) -> tuple[dict header, dict payload]` unverified, with caps (64 KiB, alg
  allowlist RS256/ES256/EdDSA, no `crit`, no `none`/HS*); raises BadgeInputError("bad_jws").
- `verify_jws(token: str, public_key) -> bool` (signature only, alg must match key type).
- `sign_jws(payload: dict, private_key, alg: str, kid: str | None = None, jwk: dict | None = None) -> str`.
"""
