"""The builtin Region issuer's Ed25519 signing keys, kept in one JSON file (WALLET_ISSUER_KEY_FILE).

- Development and tests: the file defaults to `<instance>/issuer_keys.json` and is created on first
  use (mode 600), then reused.
- Production: the file is REQUIRED (with the builtin issuer). A missing, unreadable or malformed
  file stops the app at startup (`IssuerKeyError`, a ConfigError); it is never replaced silently,
  since a new key would make every credential issued so far unverifiable.

File format (several keys allow a rotation: every key is published, the `current` one signs):

    {"format": "wallet-issuer-keys/1", "current": "key-1",
     "keys": [{"id": "key-1", "type": "Ed25519", "seed": "<base64url of the 32-byte private seed>",
               "created": "2026-01-05T10:00:00Z"}]}

    keys = keys_for(app)                  # cached per app
    keys.current.id, keys.current.private_key, keys.current.public_multibase
"""

from __future__ import annotations

import json
import logging
import os
import stat
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from ..app.settings import ConfigError
from ..openbadges.keys import UnusableKey, b64url_decode, b64url_encode, multikey_from_ed25519

FORMAT = "wallet-issuer-keys/1"
DEFAULT_NAME = "issuer_keys.json"
MAX_FILE_BYTES = 64 * 1024

log = logging.getLogger("wallet.keys.issuer_keys")
_create_lock = threading.Lock()


class IssuerKeyError(ConfigError):
    """The issuer key file is missing, unreadable or malformed (the message says what to do)."""


@dataclass(frozen=True, slots=True)
class IssuerKey:
    id: str                                   # the fragment of the verification method: "key-1"
    private_key: ed25519.Ed25519PrivateKey
    created: str

    @property
    def public_key(self) -> ed25519.Ed25519PublicKey:
        return self.private_key.public_key()

    @property
    def public_multibase(self) -> str:
        """The Multikey value (`z6Mk…`) published in the issuer Profile."""
        return multikey_from_ed25519(self.public_key)


@dataclass(frozen=True, slots=True)
class IssuerKeys:
    keys: tuple[IssuerKey, ...]
    current_id: str

    @property
    def current(self) -> IssuerKey:
        return next(k for k in self.keys if k.id == self.current_id)


def _now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _seed(key: ed25519.Ed25519PrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                             serialization.NoEncryption())


def parse_keys(data: Mapping[str, Any], where: str = "issuer key file") -> IssuerKeys:
    """Validate the decoded JSON of a key file. Raises IssuerKeyError."""
    if not isinstance(data, Mapping) or data.get("format") != FORMAT:
        raise IssuerKeyError(f"{where}: not a {FORMAT} document.")
    entries = data.get("keys")
    if not isinstance(entries, list) or not entries:
        raise IssuerKeyError(f"{where}: no keys.")
    keys: list[IssuerKey] = []
    for entry in entries:
        if not isinstance(entry, Mapping) or entry.get("type") != "Ed25519":
            raise IssuerKeyError(f"{where}: every key must be an Ed25519 key.")
        key_id = entry.get("id")
        if not isinstance(key_id, str) or not key_id or not all(c.isalnum() or c in "-_." for c in key_id):
            raise IssuerKeyError(f"{where}: a key id must be a short name such as 'key-1'.")
        if any(k.id == key_id for k in keys):
            raise IssuerKeyError(f"{where}: the key id {key_id!r} appears twice.")
        try:
            seed = b64url_decode(str(entry.get("seed", "")))
        except UnusableKey:
            seed = b""
        if len(seed) != 32:
            raise IssuerKeyError(f"{where}: the key {key_id!r} has no valid 32-byte seed.")
        keys.append(IssuerKey(key_id, ed25519.Ed25519PrivateKey.from_private_bytes(seed),
                              str(entry.get("created") or "")))
    current = data.get("current")
    if not any(k.id == current for k in keys):
        raise IssuerKeyError(f"{where}: 'current' must name one of the keys.")
    return IssuerKeys(tuple(keys), str(current))


def load_keys(path: str | os.PathLike[str]) -> IssuerKeys:
    """Read and validate a key file. Raises IssuerKeyError (never creates anything)."""
    path = Path(path)
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise IssuerKeyError(
            f"The issuer key file {path} does not exist. Restore it from your backup, or create it "
            f"once with `python -m wallet.keys.issuer_keys create {path}` (never replace it on a live service)."
        ) from None
    except OSError as exc:
        raise IssuerKeyError(f"The issuer key file {path} cannot be read ({exc.strerror}).") from None
    if len(raw) > MAX_FILE_BYTES:
        raise IssuerKeyError(f"The issuer key file {path} is too large to be a key file.")
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise IssuerKeyError(f"The issuer key file {path} is not valid JSON.") from None
    keys = parse_keys(data, where=str(path))
    try:
        mode = path.stat().st_mode
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            log.warning("issuer key file %s is readable by other users; chmod 600 it", path)
    except OSError:
        pass
    return keys


def create_keys(path: str | os.PathLike[str]) -> IssuerKeys:
    """Create a new key file with one fresh key (mode 600). Refuses to overwrite an existing file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    key = ed25519.Ed25519PrivateKey.generate()
    document = {"format": FORMAT, "current": "key-1",
                "keys": [{"id": "key-1", "type": "Ed25519", "seed": b64url_encode(_seed(key)),
                          "created": _now()}]}
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise IssuerKeyError(f"The issuer key file {path} already exists; it is never replaced.") from None
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(document, handle, indent=2)
        handle.write("\n")
    os.chmod(path, 0o600)  # whatever the umask was
    log.info("created the builtin issuer key file %s", path)
    return parse_keys(document, where=str(path))


def key_file_path(config: Mapping[str, Any]) -> Path | None:
    """The configured file, else `<instance>/issuer_keys.json` outside production, else None."""
    configured = config.get("ISSUER_KEY_FILE")
    if configured:
        return Path(str(configured))
    if config.get("ENV") == "production":
        return None
    folder = config.get("_INSTANCE_PATH")
    return Path(str(folder)) / DEFAULT_NAME if folder else None


def load_for_config(config: Mapping[str, Any]) -> IssuerKeys:
    """The keys an app with this configuration uses: created on first use outside production,
    required in production. Raises IssuerKeyError."""
    path = key_file_path(config)
    if path is None:
        raise IssuerKeyError("WALLET_ISSUER_KEY_FILE is required in production with the builtin issuer "
                             "(the Region's Ed25519 signing keys).")
    if config.get("ENV") == "production":
        return load_keys(path)
    with _create_lock:
        if not path.exists():
            try:
                return create_keys(path)
            except IssuerKeyError:
                pass  # another process created it first: read theirs
        return load_keys(path)


def keys_for(app: Any) -> IssuerKeys:
    """The app's issuer keys, loaded once (see `load_for_config`)."""
    cached = app.extensions.get("wallet_issuer_keys")
    if cached is None:
        cached = load_for_config(app.config)
        app.extensions["wallet_issuer_keys"] = cached
    return cached


def main(argv: list[str] | None = None) -> int:
    """`python -m wallet.keys.issuer_keys create PATH` (refuses an existing file) | `show PATH`."""
    import sys

    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2 or args[0] not in ("create", "show"):
        print("usage: python -m wallet.keys.issuer_keys create|show PATH", file=sys.stderr)
        return 2
    try:
        keys = create_keys(args[1]) if args[0] == "create" else load_keys(args[1])
    except IssuerKeyError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    for key in keys.keys:
        print(f"{key.id}\t{key.public_multibase}\t{key.created}{'  (current)' if key.id == keys.current_id else ''}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
