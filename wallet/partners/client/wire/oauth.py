"""OAuth 2.0 with a partner: dynamic client registration (RFC 7591), the authorization URL (PKCE
S256), token exchange and refresh (client_secret_basic), revocation (RFC 7009)."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

from authlib.oauth2.rfc7636 import create_s256_code_challenge

from ....openbadges.errors import FetchError
from .common import (
    MAX_TOKEN_BYTES,
    OFFLINE,
    READ_SCOPE,
    Discovery,
    Endpoints,
    PartnerError,
    Registration,
    Tokens,
    _json_object,
    _raise_for_busy,
    _text,
)


def register(http, discovery: Discovery, *, redirect_uri: str, client_name: str, client_uri: str,
             logo_uri: str, tos_uri: str, policy_uri: str, software_id: str, software_version: str,
             now: datetime | None = None) -> Registration:
    """Dynamic client registration (RFC 7591), no initial access token.

    Asks the read scope plus offline_access. A server that refuses a scope (badgr-server refuses
    the whole request for anything but its Badge Connect scopes) is asked ONCE more with the read
    scope alone. Copes with a reduced scope as long as the read scope is granted."""
    body = {
        "client_name": client_name, "client_uri": client_uri, "logo_uri": logo_uri, "tos_uri": tos_uri,
        "policy_uri": policy_uri, "software_id": software_id, "software_version": software_version,
        "redirect_uris": [redirect_uri], "token_endpoint_auth_method": "client_secret_basic",
        "grant_types": ["authorization_code", "refresh_token"], "response_types": ["code"],
    }
    scope = f"{discovery.read_scope} {OFFLINE}"
    status, answer = _register_once(http, discovery, {**body, "scope": scope})
    if _refused_scope(status, answer):
        scope = discovery.read_scope
        status, answer = _register_once(http, discovery, {**body, "scope": scope})
        if _refused_scope(status, answer):
            raise PartnerError("scope_refused", error=_reason(answer) or scope)
    if status not in (200, 201):
        raise PartnerError("registration_failed", status=status, error=_reason(answer) or f"HTTP {status}")
    client_id = answer.get("client_id")
    secret = answer.get("client_secret")
    if not isinstance(client_id, str) or not client_id or not isinstance(secret, str) or not secret:
        raise PartnerError("registration_failed", status=status, error="no client_id/client_secret")
    granted = answer.get("scope") if isinstance(answer.get("scope"), str) else scope
    if discovery.read_scope not in granted.split():
        raise PartnerError("scope_refused", error=granted[:200])
    expires = answer.get("client_secret_expires_at")
    moment = now or datetime.now(UTC)
    if isinstance(expires, (int, float)) and expires and expires <= moment.timestamp():
        raise PartnerError("secret_expired")
    return Registration(client_id, secret, " ".join(s for s in granted.split() if s in scope.split()))


def _register_once(http, discovery: Discovery, body: dict) -> tuple[int, dict]:
    try:
        response = http.request("POST", discovery.registration_url, json=body,
                                headers={"Accept": "application/json"}, max_bytes=MAX_TOKEN_BYTES,
                                allow_redirects=False)
    except FetchError as exc:
        raise PartnerError("unreachable", url=discovery.registration_url, reason=exc.reason) from None
    return response.status, _json_object(response) or {}


def _refused_scope(status: int, answer: dict) -> bool:
    """RFC 7591 §3.2.2 says invalid_client_metadata (some servers answer invalid_scope); badgr-server
    answers {"error": "scope: Scope offline_access not valid …"} and a DRF field error names `scope`."""
    if status != 400:
        return False
    if answer.get("error") in ("invalid_scope", "invalid_client_metadata") or "scope" in answer:
        return True
    text = f"{answer.get('error', '')} {answer.get('error_description', '')}".lower()
    return "scope" in text


def _reason(answer: dict) -> str:
    """The partner's own explanation, short: error_description, error, or a DRF field error."""
    for key in ("error_description", "error"):
        if isinstance(answer.get(key), str) and answer[key].strip():
            return _text(answer[key], 200)
    for key, value in answer.items():
        first = value[0] if isinstance(value, list) and value else value
        if isinstance(first, str):
            return _text(f"{key}: {first}", 200)
    return ""


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
