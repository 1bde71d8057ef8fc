"""What every step of the host shares: scopes, the clock, secret hashing, partner names.

The clock is injectable: `app.extensions["wallet_host_clock"] = lambda: <aware datetime>` (tests use
it to make tokens and codes expire without sleeping).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from datetime import datetime
from urllib.parse import urlsplit

from flask import current_app

from ...models import utcnow

BC_PREFIX = "https://purl.imsglobal.org/spec/ob/v2p1/scope/"
SCOPE_ASSERTION_READ = BC_PREFIX + "assertion.readonly"
SCOPE_ASSERTION_CREATE = BC_PREFIX + "assertion.create"
SCOPE_PROFILE_READ = BC_PREFIX + "profile.readonly"
# The order is what the manifest offers. Moodle 4.x leaves the FIRST offered scope out of its
# authorization request (badges/classes/oauth2/client.php: array_search() returns false for the
# 'profile' / 'openid' it means to drop, and unset($scopes[false]) removes index 0): with
# assertion.readonly first, Moodle still asks for assertion.create, the scope it needs to push.
BC_SCOPES = (SCOPE_ASSERTION_READ, SCOPE_ASSERTION_CREATE, SCOPE_PROFILE_READ)

# App-password tokens (Moodle's "OB 2.0" mode speaks Badgr's API): Badgr's scope for the backpack.
SCOPE_BADGR_BACKPACK = "rw:backpack"

ACCESS_TOKEN_SECONDS = 3600
REFRESH_TOKEN_DAYS = 90
CODE_SECONDS = 600


def now() -> datetime:
    clock = current_app.extensions.get("wallet_host_clock")
    return clock() if clock else utcnow()


def digest(secret: str) -> str:
    """sha256 hex of a high-entropy secret (tokens, codes, app passwords): a fast, indexed lookup
    key. These secrets are random (≥ 100 bits), so a slow password hash would add nothing."""
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def same_digest(secret: str, stored: str | None) -> bool:
    return stored is not None and hmac.compare_digest(digest(secret), stored)


def new_secret(nbytes: int = 32) -> str:
    return secrets.token_urlsafe(nbytes)


def scope_list(scope: str | None) -> list[str]:
    return [item for item in (scope or "").split() if item]


def host_of(url: str | None) -> str:
    """The host name of a URL (lower-cased), or "" — what the learner and the admin are shown."""
    try:
        return (urlsplit(url or "").hostname or "")[:255]
    except ValueError:
        return ""


def origin(url: str | None) -> str:
    """`scheme://host[:port]` of an http(s) URL (the port only when not the default), or ""."""
    try:
        parts = urlsplit(url or "")
        port = parts.port
    except ValueError:
        return ""
    if parts.scheme not in ("https", "http") or not parts.hostname:
        return ""
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    default = 443 if parts.scheme == "https" else 80
    return f"{parts.scheme}://{host}" + (f":{port}" if port and port != default else "")


def json_object(body: bytes, max_bytes: int) -> tuple[dict | None, str | None]:
    """(the JSON object of a request body, None) or (None, "too_large" | "not_json")."""
    if len(body) > max_bytes:
        return None, "too_large"
    try:
        doc = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None, "not_json"
    return (doc, None) if isinstance(doc, dict) else (None, "not_json")
