"""Discovery: what a partner speaks (OB 3.0 service description, OB 2.1 manifest), checked before
anything is sent to it; and its authorization server's RFC 8414 metadata (for revocation)."""

from __future__ import annotations

import dataclasses
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from ....openbadges.errors import FetchError
from .common import (
    AS_METADATA,
    MAX_DISCOVERY_BYTES,
    OB2_MANIFEST,
    OB3_DISCOVERY,
    Discovery,
    PartnerError,
    _json_object,
    _text,
    normalize_base_url,
    origin_of,
)


def discover(http, base_url: str) -> Discovery:
    """Read what the partner speaks: OB 3.0 first, then OB 2.1. Refuses unsafe documents."""
    base = normalize_base_url(base_url)
    try:
        http.check_url(base)
    except FetchError as exc:
        raise PartnerError("url_refused", field="base_url", url=base, reason=exc.reason) from None
    found = _get_document(http, base, base + OB3_DISCOVERY)
    if found is not None:
        discovery = _ob3(http, base, found)
    else:
        found = _get_document(http, base, base + OB2_MANIFEST)
        if found is None:
            raise PartnerError("no_protocol", url=base)
        discovery = _ob2(http, base, *found)
    if discovery.revocation_url is None:
        revocation = metadata_revocation_url(http, discovery.issuer)
        discovery = dataclasses.replace(discovery, revocation_url=revocation)
    return discovery


def metadata_url(issuer: str) -> str:
    """RFC 8414 §3.1: the well-known segment goes between the host and the issuer's path."""
    parts = urlsplit(issuer)
    return urlunsplit((parts.scheme, parts.netloc, AS_METADATA + parts.path.rstrip("/"), "", ""))


def metadata_revocation_url(http, issuer: str) -> str | None:
    """The `revocation_endpoint` of the authorization server's metadata (RFC 8414), or None when
    there is none, or it is not usable: metadata for another issuer (§3.3), a revocation URL off
    the issuer's origin or refused by SafeHttp. Never raises: revoking is best effort."""
    try:
        response = http.request("GET", metadata_url(issuer), headers={"Accept": "application/json"},
                                max_bytes=MAX_DISCOVERY_BYTES, allow_redirects=False)
    except FetchError:
        return None
    document = _json_object(response) if response.status == 200 else None
    if document is None or str(document.get("issuer", "")).rstrip("/") != issuer.rstrip("/"):
        return None
    try:
        return _url(http, issuer, "revocation_endpoint", document.get("revocation_endpoint"), required=False)
    except PartnerError:
        return None


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


def _url(http, base: str, name: str, value: Any, *, required: bool = True,
         elsewhere: str = "refuse") -> str | None:
    """A discovered URL: http(s) and acceptable to SafeHttp (https outside the allow list), on the
    partner's own origin. `elsewhere` says what another origin gets: "refuse" (every URL the
    wallet sends a secret or a token to), "accept" (pages the learner's browser opens: the consent
    page, terms, privacy) or "ignore" (the logo: None, the partner is registered without it)."""
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
        if elsewhere == "accept":
            return value
        if elsewhere == "ignore":
            return None
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
        authorization_url=_url(http, base, "authorizationUrl", flow.get("authorizationUrl"),
                               elsewhere="accept"),
        token_url=token_url,
        refresh_url=_url(http, base, "refreshUrl", flow.get("refreshUrl"), required=False) or token_url,
        registration_url=_url(http, base, "x-imssf-registrationUrl", scheme.get("x-imssf-registrationUrl")),
        revocation_url=_url(http, base, "x-imssf-revocationUrl",
                            scheme.get("x-imssf-revocationUrl") or flow.get("x-imssf-revocationUrl"),
                            required=False),
        issuer=issuer,
        scopes_offered=tuple(str(s) for s in scopes),
        tos_url=_url(http, base, "termsOfService", both("termsOfService") or scheme.get(
            "x-imssf-termsOfServiceUrl"), required=False, elsewhere="accept"),
        privacy_url=_url(http, base, "x-imssf-privacyPolicyUrl", both("x-imssf-privacyPolicyUrl"), required=False,
                         elsewhere="accept"),
        image_url=_url(http, base, "x-imssf-image", both("x-imssf-image"), required=False, elsewhere="ignore"),
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
        authorization_url=_url(http, base, "authorizationUrl", api.get("authorizationUrl"),
                               elsewhere="accept"),
        token_url=token_url, refresh_url=token_url,
        registration_url=_url(http, base, "registrationUrl", api.get("registrationUrl")),
        revocation_url=_url(http, base, "tokenRevocationUrl", api.get("tokenRevocationUrl"), required=False),
        issuer=issuer, scopes_offered=tuple(str(s) for s in scopes),
        tos_url=_url(http, base, "termsOfServiceUrl", api.get("termsOfServiceUrl"), required=False,
                     elsewhere="accept"),
        privacy_url=_url(http, base, "privacyPolicyUrl", api.get("privacyPolicyUrl"), required=False,
                         elsewhere="accept"),
        image_url=_url(http, base, "image", api.get("image"), required=False, elsewhere="ignore"),
        document=document,
    )
