"""Client of partner backpacks: OB 3.0 "Open Badges API" and OB 2.1 "Badge Connect" (PROTOCOLS.md §5).

Discovery (discovery.py) → dynamic client registration (RFC 7591) → authorization URL with PKCE S256 → token
exchange (client_secret_basic) → paged reads (limit/offset, `Link: rel="next"`, `since`) → refresh →
revocation (RFC 7009). Every request goes through the SafeHttp instance passed in; authlib only
computes (the PKCE challenge). Nothing here touches the database or Flask.

Every failure is a `PartnerError(code, **params)`; the use cases turn codes into French messages.
Codes: unreachable, too_large, not_json, no_protocol, bad_document, url_refused, other_origin,
issuer_mismatch, registration_failed, scope_refused, secret_expired, token_failed, invalid_grant,
unauthorized, partner_down, rate_limited, bad_response, unknown_page.

Tolerant of what deployed servers do (PROTOCOLS.md §9.3, badgr-server): the consent page, terms
and privacy links may sit on another https origin than the API (Badgr's web front end); a logo on
another origin is ignored rather than fatal; a registration refused for its scope is tried once
more with the protocol's own read scope; a page may carry its badges under `results`.
"""

from .common import (
    DEFAULT_RETRY_SECONDS,
    MAX_DISCOVERY_BYTES,
    MAX_PAGE_BYTES,
    MAX_RETRY_SECONDS,
    MAX_TOKEN_BYTES,
    OB2_MANIFEST,
    OB2_READ,
    OB3_DISCOVERY,
    OB3_READ,
    OFFLINE,
    PAGE_KEYS,
    PAGE_SIZE,
    READ_SCOPE,
    Discovery,
    Endpoints,
    Page,
    PartnerError,
    Registration,
    Tokens,
    normalize_base_url,
    origin_of,
    retry_after_seconds,
)
from .discovery import discover, metadata_revocation_url, metadata_url
from .oauth import authorization_url, exchange_code, refresh, register, requested_scope, revoke
from .pages import fetch_page, first_page_url, parse_link_header

__all__ = [
    "DEFAULT_RETRY_SECONDS", "MAX_DISCOVERY_BYTES", "MAX_PAGE_BYTES", "MAX_RETRY_SECONDS", "MAX_TOKEN_BYTES",
    "OB2_MANIFEST", "OB2_READ", "OB3_DISCOVERY", "OB3_READ", "OFFLINE", "PAGE_KEYS", "PAGE_SIZE",
    "READ_SCOPE", "Discovery", "Endpoints", "Page", "PartnerError", "Registration", "Tokens",
    "authorization_url", "discover", "exchange_code", "fetch_page", "first_page_url",
    "metadata_revocation_url", "metadata_url", "normalize_base_url", "origin_of", "parse_link_header",
    "refresh", "register", "requested_scope", "retry_after_seconds", "revoke",
]
