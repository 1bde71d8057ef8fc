"""Client of partner backpacks: OB 3.0 "Open Badges API" and OB 2.1 "Badge Connect" (PROTOCOLS.md §5).

Discovery → dynamic client registration (RFC 7591) → authorization URL with PKCE S256 → token
exchange (client_secret_basic) → paged reads (limit/offset, `Link: rel="next"`, `since`) → refresh →
revocation (RFC 7009). Every request goes through the SafeHttp instance passed in; authlib only
computes (the PKCE challenge). Nothing here touches the database or Flask.

Every failure is a `PartnerError(code, **params)`; the use cases turn codes into French messages.
Codes: unreachable, too_large, not_json, no_protocol, bad_document, url_refused, other_origin,
issuer_mismatch, registration_failed, scope_refused, secret_expired, token_failed, invalid_grant,
unauthorized, partner_down, rate_limited, bad_response.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urljoin, urlsplit, urlunsplit

from authlib.oauth2.rfc7636 import create_s256_code_challenge

from ..openbadges.errors import FetchError

OB3_READ = "https://purl.imsglobal.org/spec/ob/v3p0/scope/credential.readonly"
OB2_READ = "https://purl.imsglobal.org/spec/ob/v2p1/scope/assertion.readonly"
OFFLINE = "offline_access"
READ_SCOPE = {"ob30": OB3_READ, "ob21": OB2_READ}

OB3_DISCOVERY = "/ims/ob/v3p0/discovery"
OB2_MANIFEST = "/.well-known/badgeconnect.json"

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


# ------------------------------------------------------------------------------------- discovery

def discover(http, base_url: str) -> Discovery:
    """Read what the partner speaks: OB 3.0 first, then OB 2.1. Refuses unsafe documents."""
    base = normalize_base_url(base_url)
    try:
        http.check_url(base)
    except FetchError as exc:
        raise PartnerError("url_refused", field="base_url", url=base, reason=exc.reason) from None
    found = _get_document(http, base, base + OB3_DISCOVERY)
    if found is not None:
        return _ob3(http, base, found)
    found = _get_document(http, base, base + OB2_MANIFEST)
    if found is not None:
        return _ob2(http, base, *found)
    raise PartnerError("no_protocol", url=base)


def _get_document(http, base: str, url: str) -> tuple[dict, str] | None:
    """The JSON object at `url` and its final URL; None when the partner does not serve it."""
    try:
        response = http.request("GET", url, headers={"Accept": "application/json"},
                                max_bytes=MAX_DISCOVERY_BYTES)
    except FetchError as exc:
        if exc.reason == "too_large":
            raise PartnerError("too_large", url=url, max_kib=MAX_DISCOVERY_BYTES // 1024) from None
        if exc.reason in ("blocked", "scheme"):
            raise PartnerError("url_refused", field="discovery", url=exc.url) from None
        raise PartnerError("unreachable", url=url, reason=exc.reason) from None
    if response.status in (404, 405, 410, 501):
        return None
    if response.status != 200:
        raise PartnerError("unreachable", url=url, status=response.status)
    if origin_of(response.url) != origin_of(base):
        raise PartnerError("other_origin", field="discovery", url=response.url)
    try:
        document = response.json()
    except ValueError:
        raise PartnerError("not_json", url=url) from None
    if not isinstance(document, dict):
        raise PartnerError("not_json", url=url)
    return document, response.url


def _text(value: Any, limit: int = 200) -> str:
    return value.strip()[:limit] if isinstance(value, str) else ""


def _url(http, base: str, name: str, value: Any, *, required: bool = True) -> str | None:
    """A discovered URL: http(s), fetchable by SafeHttp, on the partner's own origin."""
    if value in (None, "") and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        raise PartnerError("bad_document", field=name)
    value = value.strip()
    if origin_of(value) is None:
        raise PartnerError("url_refused", field=name, url=value[:200])
    try:
        http.check_url(value)
    except FetchError as exc:
        raise PartnerError("url_refused", field=name, url=value[:200], reason=exc.reason) from None
    if origin_of(value) != origin_of(base):
        raise PartnerError("other_origin", field=name, url=value[:200])
    return value


def _check_issuer(base: str, declared: Any) -> str:
    """The issuer the partner declares must be its base URL (ASVS 10.5.3)."""
    if declared in (None, ""):
        return base
    if not isinstance(declared, str) or declared.rstrip("/") != base:
        raise PartnerError("issuer_mismatch", declared=str(declared)[:200], expected=base)
    return declared


def _ob3(http, base: str, found: tuple[dict, str]) -> Discovery:
    document, _ = found
    info = document.get("info") if isinstance(document.get("info"), dict) else {}
    schemes = ((document.get("components") or {}).get("securitySchemes") or {}) \
        if isinstance(document.get("components"), dict) else {}
    scheme = None
    if isinstance(schemes, dict):
        scheme = schemes.get("OAuth2ACG") or next(
            (s for s in schemes.values() if isinstance(s, dict) and s.get("type") == "oauth2"), None)
    if not isinstance(scheme, dict):
        raise PartnerError("bad_document", field="components.securitySchemes")
    flow = ((scheme.get("flows") or {}).get("authorizationCode")) if isinstance(scheme.get("flows"), dict) else None
    if not isinstance(flow, dict):
        raise PartnerError("bad_document", field="flows.authorizationCode")
    scopes = flow.get("scopes") if isinstance(flow.get("scopes"), dict) else {}
    issuer = _check_issuer(base, scheme.get("x-imssf-issuer") or document.get("issuer")
                           or info.get("x-imssf-issuer"))
    servers = document.get("servers")
    api_base = None
    if isinstance(servers, list) and servers and isinstance(servers[0], dict):
        api_base = servers[0].get("url")
    api_base = _url(http, base, "servers.url", api_base or base + "/ims/ob/v3p0").rstrip("/")

    def both(key: str) -> Any:  # some spec examples put these in the security scheme
        return info.get(key) or scheme.get(key)

    token_url = _url(http, base, "tokenUrl", flow.get("tokenUrl"))
    return Discovery(
        protocol="ob30", base_url=base,
        name=_text(info.get("title")) or _text(scheme.get("x-imssf-name")) or urlsplit(base).netloc,
        api_base=api_base,
        authorization_url=_url(http, base, "authorizationUrl", flow.get("authorizationUrl")),
        token_url=token_url,
        refresh_url=_url(http, base, "refreshUrl", flow.get("refreshUrl"), required=False) or token_url,
        registration_url=_url(http, base, "x-imssf-registrationUrl", scheme.get("x-imssf-registrationUrl")),
        revocation_url=_url(http, base, "x-imssf-revocationUrl",
                            scheme.get("x-imssf-revocationUrl") or flow.get("x-imssf-revocationUrl"),
                            required=False),
        issuer=issuer,
        scopes_offered=tuple(str(s) for s in scopes),
        tos_url=_url(http, base, "termsOfService", both("termsOfService") or scheme.get(
            "x-imssf-termsOfServiceUrl"), required=False),
        privacy_url=_url(http, base, "x-imssf-privacyPolicyUrl", both("x-imssf-privacyPolicyUrl"), required=False),
        image_url=_url(http, base, "x-imssf-image", both("x-imssf-image"), required=False),
        document=document,
    )


def _ob2(http, base: str, document: dict, fetched_from: str) -> Discovery:
    declared = document.get("id")
    if declared not in (None, "") and declared != fetched_from:
        raise PartnerError("issuer_mismatch", declared=str(declared)[:200], expected=fetched_from)
    apis = document.get("badgeConnectAPI")
    api = apis[0] if isinstance(apis, list) and apis and isinstance(apis[0], dict) else None
    if api is None:
        raise PartnerError("bad_document", field="badgeConnectAPI")
    issuer = _check_issuer(base, api.get("issuer"))
    scopes = api.get("scopesOffered") if isinstance(api.get("scopesOffered"), list) else []
    token_url = _url(http, base, "tokenUrl", api.get("tokenUrl"))
    return Discovery(
        protocol="ob21", base_url=base, name=_text(api.get("name")) or urlsplit(base).netloc,
        api_base=_url(http, base, "apiBase", api.get("apiBase")).rstrip("/"),
        authorization_url=_url(http, base, "authorizationUrl", api.get("authorizationUrl")),
        token_url=token_url, refresh_url=token_url,
        registration_url=_url(http, base, "registrationUrl", api.get("registrationUrl")),
        revocation_url=_url(http, base, "tokenRevocationUrl", api.get("tokenRevocationUrl"), required=False),
        issuer=issuer, scopes_offered=tuple(str(s) for s in scopes),
        tos_url=_url(http, base, "termsOfServiceUrl", api.get("termsOfServiceUrl"), required=False),
        privacy_url=_url(http, base, "privacyPolicyUrl", api.get("privacyPolicyUrl"), required=False),
        image_url=_url(http, base, "image", api.get("image"), required=False),
        document=document,
    )


# ---------------------------------------------------------------------------------- registration

def register(http, discovery: Discovery, *, redirect_uri: str, client_name: str, client_uri: str,
             logo_uri: str, tos_uri: str, policy_uri: str, software_id: str, software_version: str,
             now: datetime | None = None) -> Registration:
    """Dynamic client registration (RFC 7591), no initial access token. Copes with a reduced scope
    as long as the read scope is granted."""
    scope = f"{discovery.read_scope} {OFFLINE}"
    body = {
        "client_name": client_name, "client_uri": client_uri, "logo_uri": logo_uri, "tos_uri": tos_uri,
        "policy_uri": policy_uri, "software_id": software_id, "software_version": software_version,
        "redirect_uris": [redirect_uri], "scope": scope, "token_endpoint_auth_method": "client_secret_basic",
        "grant_types": ["authorization_code", "refresh_token"], "response_types": ["code"],
    }
    try:
        response = http.request("POST", discovery.registration_url, json=body,
                                headers={"Accept": "application/json"}, max_bytes=MAX_TOKEN_BYTES,
                                allow_redirects=False)
    except FetchError as exc:
        raise PartnerError("unreachable", url=discovery.registration_url, reason=exc.reason) from None
    answer = _json_object(response)
    if response.status not in (200, 201):
        raise PartnerError("registration_failed", status=response.status,
                           error=_text((answer or {}).get("error"), 80))
    client_id = (answer or {}).get("client_id")
    secret = (answer or {}).get("client_secret")
    if not isinstance(client_id, str) or not client_id or not isinstance(secret, str) or not secret:
        raise PartnerError("registration_failed", status=response.status, error="no client_id/client_secret")
    granted = answer.get("scope") if isinstance(answer.get("scope"), str) else scope
    if discovery.read_scope not in granted.split():
        raise PartnerError("scope_refused", scope=granted[:200])
    expires = answer.get("client_secret_expires_at")
    moment = now or datetime.now(UTC)
    if isinstance(expires, (int, float)) and expires and expires <= moment.timestamp():
        raise PartnerError("secret_expired")
    return Registration(client_id, secret, " ".join(s for s in granted.split() if s in scope.split()))


# ---------------------------------------------------------------------------------- authorization

def authorization_url(authorization_endpoint: str, *, client_id: str, redirect_uri: str, scope: str,
                      state: str, code_verifier: str) -> str:
    """The partner's consent page URL (response_type=code, PKCE S256)."""
    params = {
        "response_type": "code", "client_id": client_id, "redirect_uri": redirect_uri, "scope": scope,
        "state": state, "code_challenge": create_s256_code_challenge(code_verifier),
        "code_challenge_method": "S256",
    }
    parts = urlsplit(authorization_endpoint)
    query = parse_qsl(parts.query, keep_blank_values=True) + list(params.items())
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), ""))


def requested_scope(protocol: str, granted: str = "") -> str:
    """The smallest scope: read only, plus offline_access when the registration kept it (T36)."""
    read = READ_SCOPE[protocol]
    if granted and OFFLINE not in granted.split():
        return read
    return f"{read} {OFFLINE}"


def _basic(client_id: str, client_secret: str) -> str:
    # RFC 6749 §2.3.1: each part is form-urlencoded before base64.
    raw = f"{quote(client_id, safe='')}:{quote(client_secret, safe='')}"
    return "Basic " + base64.b64encode(raw.encode("utf-8")).decode("ascii")


def _token_request(http, endpoints: Endpoints, client_secret: str, form: dict[str, str],
                   url: str | None = None) -> Tokens:
    url = url or endpoints.token_url
    try:
        response = http.request("POST", url, data=form, max_bytes=MAX_TOKEN_BYTES, allow_redirects=False,
                                headers={"Authorization": _basic(endpoints.client_id, client_secret),
                                         "Accept": "application/json"})
    except FetchError as exc:
        raise PartnerError("partner_down", reason=exc.reason) from None
    _raise_for_busy(response)
    answer = _json_object(response) or {}
    if response.status != 200:
        error = _text(answer.get("error"), 60)
        if error == "invalid_grant":
            raise PartnerError("invalid_grant")
        raise PartnerError("token_failed", status=response.status, error=error)
    access = answer.get("access_token")
    if not isinstance(access, str) or not access or str(answer.get("token_type", "")).lower() != "bearer":
        raise PartnerError("token_failed", status=response.status, error="no bearer access_token")
    refresh = answer.get("refresh_token")
    expires = answer.get("expires_in")
    return Tokens(access, refresh if isinstance(refresh, str) and refresh else None,
                  int(expires) if isinstance(expires, (int, float)) and expires > 0 else None,
                  answer.get("scope") if isinstance(answer.get("scope"), str) else form.get("scope", ""))


def exchange_code(http, endpoints: Endpoints, client_secret: str, *, code: str, redirect_uri: str,
                  code_verifier: str, scope: str) -> Tokens:
    return _token_request(http, endpoints, client_secret, {
        "grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri,
        "scope": scope, "code_verifier": code_verifier})


def refresh(http, endpoints: Endpoints, client_secret: str, refresh_token: str, scope: str,
            refresh_url: str | None = None) -> Tokens:
    return _token_request(http, endpoints, client_secret, {
        "grant_type": "refresh_token", "refresh_token": refresh_token, "scope": scope}, url=refresh_url)


def revoke(http, endpoints: Endpoints, client_secret: str, token: str, hint: str) -> bool:
    """RFC 7009 revocation; True when the partner answered 200. Never raises."""
    if not endpoints.revocation_url:
        return False
    try:
        response = http.request("POST", endpoints.revocation_url, max_bytes=MAX_TOKEN_BYTES,
                                allow_redirects=False,
                                data={"token": token, "token_type_hint": hint},
                                headers={"Authorization": _basic(endpoints.client_id, client_secret)})
    except FetchError:
        return False
    return response.status == 200


# -------------------------------------------------------------------------------------- reading

def first_page_url(endpoints: Endpoints, since: str | None = None, limit: int = PAGE_SIZE) -> str:
    path = "/credentials" if endpoints.protocol == "ob30" else "/assertions"
    params = {"limit": str(limit), "offset": "0"}
    if since:
        params["since"] = since
    return endpoints.api_base + path + "?" + urlencode(params)


def fetch_page(http, endpoints: Endpoints, access_token: str, url: str) -> Page:
    """GET one page. Raises PartnerError unauthorized (401), rate_limited (Retry-After),
    partner_down (network, 5xx) or bad_response."""
    if origin_of(url) != origin_of(endpoints.base_url):
        raise PartnerError("other_origin", field="next", url=url[:200])
    accept = "application/ld+json, application/json" if endpoints.protocol == "ob30" else "application/json"
    try:
        response = http.request("GET", url, max_bytes=MAX_PAGE_BYTES, allow_redirects=False,
                                headers={"Authorization": f"Bearer {access_token}", "Accept": accept})
    except FetchError as exc:
        raise PartnerError("partner_down", reason=exc.reason) from None
    _raise_for_busy(response)
    if response.status in (401, 403):
        raise PartnerError("unauthorized", status=response.status)
    if response.status != 200:
        raise PartnerError("bad_response", status=response.status)
    body = _json_object(response)
    if body is None:
        raise PartnerError("bad_response", status=response.status, error="not a JSON object")
    items = _ob3_items(body) if endpoints.protocol == "ob30" else _ob2_items(body)
    return Page(items, _next_url(endpoints, url, response, len(items)), _total(response))


def _ob3_items(body: dict) -> list[tuple[str, str]]:
    items: list[tuple[str, str]] = []
    for key in ("credential", "credentials"):
        for credential in _as_list(body.get(key)):
            if isinstance(credential, dict):
                items.append((_label(credential), json.dumps(credential, ensure_ascii=False)))
            elif isinstance(credential, str):  # some hosts put compact JWS here too
                items.append(("credential", credential))
    for key in ("compactJwsString", "compactJwsStrings"):
        for token in _as_list(body.get(key)):
            if isinstance(token, str):
                items.append(("credential", token))
    return items


def _ob2_items(body: dict) -> list[tuple[str, str]]:
    status = body.get("status")
    if isinstance(status, dict):
        code = status.get("statusCode")
        if status.get("error") or (isinstance(code, int) and code != 200):
            raise PartnerError("bad_response", status=code, error=_text(status.get("statusText"), 60))
    items: list[tuple[str, str]] = []
    for assertion in _as_list(body.get("assertions")):
        if isinstance(assertion, dict):
            items.append((_label(assertion), json.dumps(assertion, ensure_ascii=False)))
        elif isinstance(assertion, str):
            items.append((assertion[:120], assertion))
    for token in _as_list(body.get("signedAssertions")):
        if isinstance(token, str):
            items.append(("assertion", token))
    return items


def _as_list(value: Any) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _label(document: dict) -> str:
    name = document.get("name")
    if isinstance(name, str) and name.strip():
        return name.strip()[:120]
    identifier = document.get("id")
    return identifier[:120] if isinstance(identifier, str) else "badge"


_LINK = re.compile(r'<([^>]*)>\s*((?:;\s*[^;,]*)*)')


def parse_link_header(value: str) -> dict[str, str]:
    """rel → URL from an RFC 8288 Link header."""
    links: dict[str, str] = {}
    for match in _LINK.finditer(value or ""):
        target, params = match.group(1), match.group(2)
        rel = re.search(r';\s*rel\s*=\s*"?([^";]+)"?', params)
        if rel:
            for name in rel.group(1).split():
                links.setdefault(name.lower(), target)
    return links


def _total(response) -> int | None:
    value = response.headers.get("X-Total-Count", "").strip()
    return int(value) if value.isdigit() else None


def _next_url(endpoints: Endpoints, url: str, response, count: int) -> str | None:
    links = parse_link_header(response.headers.get("Link", ""))
    if "next" in links:
        target = urljoin(url, links["next"])
        # Follow `next` only on the partner's own origin: the bearer token goes with it.
        return target if origin_of(target) == origin_of(endpoints.base_url) else None
    total = _total(response)
    if total is None or count == 0:
        return None
    query = dict(parse_qsl(urlsplit(url).query))
    try:
        offset, limit = int(query.get("offset", "0")), int(query.get("limit", str(PAGE_SIZE)))
    except ValueError:
        return None
    if offset + count >= total:
        return None
    query["offset"] = str(offset + count)
    query.setdefault("limit", str(limit))
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), ""))


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
