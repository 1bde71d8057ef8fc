"""Recipient identity hashing and matching (OB 2.0 IdentityObject, OB 3.0 identifier list).

CONTRACT:
- `hash_identity(identifier: str, salt: str | None, alg: str = "sha256") -> str` → "sha256$<hex>".
- `identity_matches(identity: str, hashed: bool, salt: str | None, candidates: Iterable[str]) -> str | None`:
  the candidate that matches (tries each as given and lower-cased; hash prefix sha256$/md5$,
  hex in any case), or None.
"""
