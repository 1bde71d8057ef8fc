"""The Badge Connect 2.1 provider API (PROTOCOLS.md §5.2): manifest, `assertions`, `profile`.

Every answer carries `status {error, statusCode, statusText}`. A successful POST /assertions is
that status alone, with NO `result` key: Moodle 4.5 (badges/classes/backpack_api2p1_mapping.php)
replaces the whole answer by `result` when there is one, and then finds no `status.statusCode`.
Moodle reads the manifest's LAST `badgeConnectAPI` element, every key ending in `Url`, `apiBase`
and `scopesOffered` (lib/classes/oauth2/discovery/imsbadgeconnect.php), so there is one element.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from ...models import Badge, User
from .common import BC_SCOPES, json_object

CONTEXT = "https://purl.imsglobal.org/spec/ob/v2p1/ob_v2p1.jsonld"
OB2_CONTEXT = "https://w3id.org/openbadges/v2"
API_PATH = "/ims/ob/v2p1"
MAX_BODY = 256 * 1024
DEFAULT_LIMIT, MAX_LIMIT = 50, 100
OB2_VERSIONS = ("0.5", "1.0", "1.1", "2.0")


def manifest(base_url: str, *, name: str, urls: dict[str, str]) -> dict[str, Any]:
    """`urls`: image, termsOfService, privacyPolicy, registration, authorization, token, tokenRevocation."""
    return {
        "@context": CONTEXT,
        "id": base_url + "/.well-known/badgeconnect.json",
        "badgeConnectAPI": [{
            "name": name,
            "image": urls["image"],
            "apiBase": base_url + API_PATH,
            "version": "v2p1",
            "termsOfServiceUrl": urls["termsOfService"],
            "privacyPolicyUrl": urls["privacyPolicy"],
            "scopesOffered": list(BC_SCOPES),
            "registrationUrl": urls["registration"],
            "authorizationUrl": urls["authorization"],
            "tokenUrl": urls["token"],
            "tokenRevocationUrl": urls["tokenRevocation"],
        }],
    }


def status(code: int = 200, text: str = "OK", error: str | None = None) -> dict[str, Any]:
    return {"status": {"error": error, "statusCode": code, "statusText": text}}


def post_payload(body: bytes) -> tuple[str | None, str | None]:
    """(what to import, None) or (None, error code) from a `POST <apiBase>/assertions` body:
    `{"assertion": {...}}` or `{"signedAssertion": "<JWS>"}` (both given: the signed one wins)."""
    doc, problem = json_object(body, MAX_BODY)
    if doc is None:
        return None, problem
    signed, assertion = doc.get("signedAssertion"), doc.get("assertion")
    if isinstance(signed, str) and signed.strip():
        return signed.strip(), None
    if isinstance(assertion, dict) and assertion:
        return json.dumps(assertion), None
    if isinstance(assertion, str) and assertion.strip().startswith(("https://", "http://")):
        return assertion.strip(), None
    return None, "no_assertion"


@dataclass(frozen=True, slots=True)
class Page:
    assertions: list[Any]
    signed: list[str]
    total: int
    limit: int
    offset: int


def page_params(limit: str | None, offset: str | None) -> tuple[int, int] | None:
    try:
        size = int(limit) if limit not in (None, "") else DEFAULT_LIMIT
        start = int(offset) if offset not in (None, "") else 0
    except ValueError:
        return None
    if size < 1 or start < 0:
        return None
    return min(size, MAX_LIMIT), start


def list_assertions(session: Session, user: User, limit: int, offset: int, since=None) -> Page:
    """The learner's OB 2.x badges that are THEIRS (matched to a confirmed address), newest first,
    each exactly as stored: JSON as `assertions`, compact JWS as `signedAssertions`."""
    conditions = [Badge.owner_id == user.id, Badge.matched.is_(True), Badge.version.in_(OB2_VERSIONS)]
    if since is not None:
        conditions.append(Badge.checked_at > since)
    total = session.scalar(select(func.count(Badge.id)).where(*conditions)) or 0
    rows = session.scalars(select(Badge).where(*conditions).order_by(Badge.checked_at.desc(), Badge.id.desc())
                           .offset(offset).limit(limit))
    assertions, signed = [], []
    for badge in rows:
        if badge.payload_format == "jws":
            signed.append(badge.payload.strip())
            continue
        try:
            doc = json.loads(badge.payload) if badge.payload_format == "json" else None
        except ValueError:
            doc = None
        assertions.append(doc if isinstance(doc, dict) else badge.credential_id)
    session.commit()
    return Page(assertions, signed, total, limit, offset)


def owner(session: Session, token) -> User | None:
    """The learner whose wallet a Badge Connect access token opens."""
    return session.get(User, token.access.user_id)


def profile(session: Session, user: User) -> dict[str, Any]:
    """The learner as an OB 2.0 Profile: display name and confirmed addresses (primary first)."""
    user = session.get(User, user.id, options=[selectinload(User.emails)])
    emails = [e.address for e in sorted(user.emails, key=lambda e: not e.is_primary) if e.confirmed]
    doc: dict[str, Any] = {"@context": OB2_CONTEXT, "type": "Profile", "name": user.display_name}
    if emails:
        doc["email"] = emails[0] if len(emails) == 1 else emails
    session.commit()
    return doc
