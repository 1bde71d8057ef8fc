"""Recipient identity hashing and matching (OB 2.0 IdentityObject, OB 3.0 identifier list).

CONTRACT:
- `hash_identity(identifier: str, salt: str | None, alg: str = "sha256") -> str` → "sha256$<hex>"
  (lower-case hex of H(utf8(identifier) + utf8(salt or ""))); `alg` is "sha256" or the legacy
  "md5"; anything else raises ValueError (a programming error, not bad input).
- `identity_matches(identity: str, hashed: bool, salt: str | None, candidates: Iterable[str]) -> str | None`:
  the ORIGINAL candidate string that matches, or None.
  - hashed: the stored hash is stripped and lower-cased; its algorithm comes from the prefix
    `sha256$` / `md5$` (any other prefix never matches); each candidate is tried as given, stripped
    and lower-cased, compared with `hmac.compare_digest`.
  - plain: whitespace is stripped; email addresses (containing "@") compare case-insensitively,
    other identifiers (URLs, telephone numbers) exactly.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable

ALGORITHMS = ("sha256", "md5")


def hash_identity(identifier: str, salt: str | None, alg: str = "sha256") -> str:
    """The OB IdentityHash of `identifier`: "<alg>$<hex>", the salt appended to the identifier."""
    if alg not in ALGORITHMS:
        raise ValueError(f"unsupported identity hash algorithm: {alg!r}")
    digest = hashlib.new(alg, (identifier + (salt or "")).encode("utf-8"), usedforsecurity=False)
    return f"{alg}${digest.hexdigest()}"


def _variants(candidate: str) -> list[str]:
    variants = [candidate]
    for value in (candidate.strip(), candidate.strip().lower()):
        if value not in variants:
            variants.append(value)
    return variants


def identity_matches(identity: str, hashed: bool, salt: str | None,
                     candidates: Iterable[str]) -> str | None:
    """The candidate (as given) that the recipient identity designates, or None."""
    if not isinstance(identity, str):
        return None
    if salt is not None and not isinstance(salt, str):
        return None
    stored = identity.strip()
    if hashed:
        stored = stored.lower()
        alg, sep, hexdigest = stored.partition("$")
        if not sep or alg not in ALGORITHMS or not hexdigest:
            return None
        expected = stored.encode("utf-8")
        for candidate in candidates:
            if not isinstance(candidate, str):
                continue
            for value in _variants(candidate):
                # bytes: compare_digest refuses non-ASCII str, and the stored hash is untrusted.
                if hmac.compare_digest(hash_identity(value, salt, alg).encode("ascii"), expected):
                    return candidate
        return None
    if not stored:
        return None
    is_email = "@" in stored
    for candidate in candidates:
        if not isinstance(candidate, str):
            continue
        value = candidate.strip()
        if is_email:
            if value.lower() == stored.lower():
                return candidate
        elif value == stored:
            return candidate
    return None
