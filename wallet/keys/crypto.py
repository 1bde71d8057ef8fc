"""Encryption at rest for partner secrets: OAuth tokens, DCR client secrets, PKCE verifiers (T34).

Keys come from the `TOKEN_KEYS` setting: comma-separated Fernet keys. The FIRST key encrypts; every
key decrypts (MultiFernet), so a new key is rolled in by putting it first and keeping the old one
second until every stored value has been re-encrypted.

    token = encrypt(app, "secret")       # app, app.config, or any mapping with TOKEN_KEYS
    decrypt(app, token) == "secret"      # TokenDecryptError when no configured key fits
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

__all__ = ["TokenDecryptError", "TokenKeyError", "decrypt", "encrypt", "rotate"]


class TokenKeyError(RuntimeError):
    """TOKEN_KEYS is missing or holds something that is not a Fernet key."""


class TokenDecryptError(ValueError):
    """A stored value could not be decrypted with any configured key (wrong key, or tampered)."""

    def __init__(self) -> None:
        super().__init__("stored secret cannot be decrypted with the configured WALLET_TOKEN_KEYS "
                         "(wrong key, a key removed too early, or a tampered value)")


def _config(app_or_config: Any) -> Mapping[str, Any]:
    config = getattr(app_or_config, "config", app_or_config)
    if not isinstance(config, Mapping):
        raise TypeError("encrypt/decrypt need a Flask app or its config mapping")
    return config


@lru_cache(maxsize=8)
def _fernet(keys: str) -> MultiFernet:
    items = [item.strip() for item in keys.split(",") if item.strip()]
    if not items:
        raise TokenKeyError("WALLET_TOKEN_KEYS is empty: set one or more comma-separated Fernet keys.")
    try:
        return MultiFernet([Fernet(item.encode("ascii")) for item in items])
    except (ValueError, UnicodeEncodeError) as exc:
        raise TokenKeyError("WALLET_TOKEN_KEYS holds a value that is not a Fernet key "
                            "(32 url-safe base64-encoded bytes).") from exc


def _multi(app_or_config: Any) -> MultiFernet:
    raw = _config(app_or_config).get("TOKEN_KEYS") or ""
    if isinstance(raw, (list, tuple)):
        raw = ",".join(str(item) for item in raw)
    return _fernet(str(raw))


def encrypt(app_or_config: Any, text: str) -> str:
    """Encrypt `text` with the first configured key; the result is ASCII text."""
    return _multi(app_or_config).encrypt(text.encode("utf-8")).decode("ascii")


def decrypt(app_or_config: Any, token: str) -> str:
    """Decrypt a value made by `encrypt` with any configured key. Raises TokenDecryptError."""
    try:
        return _multi(app_or_config).decrypt(token.encode("ascii")).decode("utf-8")
    except (InvalidToken, UnicodeError, AttributeError) as exc:
        raise TokenDecryptError() from exc


def rotate(app_or_config: Any, token: str) -> str:
    """Re-encrypt a stored value with the first key (after a key rotation)."""
    try:
        return _multi(app_or_config).rotate(token.encode("ascii")).decode("ascii")
    except (InvalidToken, UnicodeError, AttributeError) as exc:
        raise TokenDecryptError() from exc
