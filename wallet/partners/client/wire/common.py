"""What every step of the partner-backpack client shares: constants, PartnerError, origins, the
data it passes between steps, and small response helpers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

OB3_READ = "https://purl.imsglobal.org/spec/ob/v3p0/scope/credential.readonly"
OB2_READ = "https://purl.imsglobal.org/spec/ob/v2p1/scope/assertion.readonly"
OFFLINE = "offline_access"
READ_SCOPE = {"ob30": OB3_READ, "ob21": OB2_READ}

OB3_DISCOVERY = "/ims/ob/v3p0/discovery"
OB2_MANIFEST = "/.well-known/badgeconnect.json"
AS_METADATA = "/.well-known/oauth-authorization-server"  # RFC 8414 §3

# The keys under which a page may hold badges; a page with none of them is not understood.
PAGE_KEYS = {
    "ob30": ("credential", "credentials", "compactJwsString", "compactJwsStrings"),
    "ob21": ("assertions", "signedAssertions", "results"),  # results: badgr-server's bcv1
}

MAX_DISCOVERY_BYTES = 256 * 1024
MAX_PAGE_BYTES = 8 * 1024 * 1024
MAX_TOKEN_BYTES = 64 * 1024
PAGE_SIZE = 50
DEFAULT_RETRY_SECONDS = 30 * 60  # OB 3.0 §6.5: without Retry-After, retry in 30 min
MAX_RETRY_SECONDS = 7 * 24 * 3600


class PartnerError(Exception):
    """Something the partner said or did that stops the current step."""

    def __init__(self, code: str, **params: Any) -> None:
        self.code = code
        self.params = params
        super().__init__(f"{code}: {params}" if params else code)

    @property
    def retry_after(self) -> int | None:
        value = self.params.get("retry_after")
        return int(value) if isinstance(value, (int, float)) else None


# --------------------------------------------------------------------------------------- origins

Origin = tuple[str, str, int]


def origin_of(url: str) -> Origin | None:
    """(scheme, host, port) of an http(s) URL, or None for anything else."""
    if not isinstance(url, str) or not url or any(ord(c) <= 0x20 or ord(c) == 0x7F for c in url):
        return None
    try:
        parts = urlsplit(url)
        port = parts.port
        host = parts.hostname
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not host or "@" in parts.netloc or "\\" in url:
        return None
    return scheme, host.lower(), port or (443 if scheme == "https" else 80)


def normalize_base_url(url: str) -> str:
    """The partner's base URL without query, fragment or trailing slash. Raises PartnerError."""
    url = (url or "").strip()
    if origin_of(url) is None or len(url) > 2000:
        raise PartnerError("url_refused", field="base_url", url=url[:200])
    parts = urlsplit(url)
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), parts.path.rstrip("/"), "", ""))


# ---------------------------------------------------------------------------------------- models

@dataclass(frozen=True)
class Discovery:
    protocol: str  # ob30 | ob21
    base_url: str
    name: str
    api_base: str
    authorization_url: str
    token_url: str
    refresh_url: str
    registration_url: str
    revocation_url: str | None
    issuer: str
    scopes_offered: tuple[str, ...]
    tos_url: str | None
    privacy_url: str | None
    image_url: str | None
    document: dict = field(default_factory=dict, compare=False)

    @property
    def read_scope(self) -> str:
        return READ_SCOPE[self.protocol]


@dataclass(frozen=True)
class Registration:
    client_id: str
    client_secret: str
    scope: str


@dataclass(frozen=True)
class Tokens:
    access_token: str
    refresh_token: str | None
    expires_in: int | None
    scope: str


@dataclass(frozen=True)
class Page:
    """One page of a partner's badges: (label, text) pairs to import, and where to go next."""

    items: list[tuple[str, str]]
    next_url: str | None
    total: int | None


@dataclass(frozen=True)
class Endpoints:
    """What a request needs to know of a registered partner (a PartnerBackpack row fits)."""

    protocol: str
    base_url: str
    api_base: str
    token_url: str
    revocation_url: str | None
    client_id: str


def _text(value: Any, limit: int = 200) -> str:
    return value.strip()[:limit] if isinstance(value, str) else ""


# ------------------------------------------------------------------------------------- helpers

def _json_object(response) -> dict | None:
    try:
        value = response.json()
    except (ValueError, UnicodeDecodeError):
        return None
    return value if isinstance(value, dict) else None


def retry_after_seconds(headers: Mapping[str, str], now: datetime | None = None) -> int | None:
    """Retry-After as seconds (delta-seconds or an HTTP date), bounded; None when absent/invalid."""
    value = (headers.get("Retry-After") or "").strip()
    if not value:
        return None
    if value.isdigit():
        return min(int(value), MAX_RETRY_SECONDS)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    seconds = int((moment - (now or datetime.now(UTC))).total_seconds())
    return max(0, min(seconds, MAX_RETRY_SECONDS))


def _raise_for_busy(response) -> None:
    if response.status == 429 or (response.status == 503 and "Retry-After" in response.headers):
        raise PartnerError("rate_limited", status=response.status,
                           retry_after=retry_after_seconds(response.headers) or DEFAULT_RETRY_SECONDS)
    if response.status >= 500:
        seconds = retry_after_seconds(response.headers)
        if seconds is not None:
            raise PartnerError("rate_limited", status=response.status, retry_after=seconds)
        raise PartnerError("partner_down", status=response.status)
