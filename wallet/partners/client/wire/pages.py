"""Reading a partner's badges: paged GETs (limit/offset, `Link: rel="next"`, X-Total-Count, since)
and the envelopes deployed servers use."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from ....openbadges.errors import FetchError
from .common import (
    MAX_PAGE_BYTES,
    PAGE_KEYS,
    PAGE_SIZE,
    Endpoints,
    Page,
    PartnerError,
    _json_object,
    _raise_for_busy,
    _text,
    origin_of,
)


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
    if not any(key in body for key in PAGE_KEYS[endpoints.protocol]):
        # Counting it as an empty page would move `since` past badges never read.
        raise PartnerError("unknown_page", keys=", ".join(sorted(str(k)[:40] for k in body)[:8]) or "{}")
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
    for assertion in _as_list(body.get("assertions")) + _as_list(body.get("results")):
        if isinstance(assertion, dict):
            items.append((_label(assertion), json.dumps(assertion, ensure_ascii=False)))
        elif isinstance(assertion, str):
            items.append(("assertion", assertion))
    for token in _as_list(body.get("signedAssertions")):
        if isinstance(token, str):
            items.append(("assertion", token))
    return items


def _as_list(value: Any) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _label(document: dict) -> str:
    """The document's own name, if it has one (a hosted OB 2.0 assertion has none: its badge's name
    is known once it is verified); never its URL."""
    name = document.get("name")
    if isinstance(name, str) and name.strip():
        return name.strip()[:120]
    return "badge"


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
