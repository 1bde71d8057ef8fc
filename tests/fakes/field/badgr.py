"""A Badgr server's public Open Badges 2.0 documents (badgr-server @2344c61, the open-source code
Canvas Credentials grew from) on a real loopback server, with its URL layout.

    with FakeServer() as server:
        badgr = BadgrPublic(server)
        issuer = badgr.create_issuer("Mission Locale Rouen")
        badge = badgr.create_badgeclass(issuer, "Travailler en équipe")
        award = badgr.award(badge, "ana@example.org")     # award.url = /public/assertions/<entityId>
        badgr.baked_png(award)                            # the file the learner downloads
        badgr.revoke(award, "Attribué par erreur")

Read in apps/issuer/{models,public_api,public_api_urls,utils}.py and apps/mainsite/{urls,renderers,
settings}.py, never copied:
- ids are `<origin>/public/{issuers|badges|assertions}/<entityId>`, entityIds being a uuid4 in
  url-safe base64 without padding (mainsite.utils.generate_entity_uri);
- the JSON is `get_json(obi_version="2_0")`: OrderedDicts, `verification: {type: HostedBadge}`,
  `criteria: {id?, narrative?}`, `alignment` and `tags` always present (maybe empty), `issuedOn`
  from Python `isoformat()` (`+00:00`, microseconds), the recipient LAST, salted with a uuid4 hex;
- a revoked assertion still answers 200, stripped to `{@context, type, id, revoked: true,
  revocationReason}`;
- rendered by DRF: `application/ld+json` (JSONLDRenderer first) or `application/json`, compact
  separators, non-ASCII kept as UTF-8; an Accept holding `text/html` is redirected to the web app;
- baking (openbadges-bakery `bake`, called from BadgeInstance.save): one iTXt `openbadges` chunk
  right after IHDR holding `json.dumps(get_json("2_0"), indent=2)` (badge and issuer as URLs);
  served from `/public/assertions/<id>/image` → 302 to the media file; 404 once revoked.
"""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from werkzeug.wrappers import Request, Response

from tests.fakes.field.common import badge_png, bake_after_ihdr
from tests.fakes.server import FakeServer

OB2_CONTEXT = "https://w3id.org/openbadges/v2"
WEB_APP = "https://badgr.example/public/"   # BadgrApp.public_pages_redirect


def entity_id() -> str:
    return base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")


@dataclass
class BadgrIssuer:
    entity_id: str
    name: str
    url: str
    email: str
    description: str


@dataclass
class BadgrBadgeClass:
    entity_id: str
    issuer: BadgrIssuer
    name: str
    description: str
    criteria_text: str
    criteria_url: str
    image: bytes
    alignments: tuple[dict, ...] = ()
    tags: tuple[str, ...] = ()


@dataclass
class BadgrAssertion:
    entity_id: str
    badgeclass: BadgrBadgeClass
    email: str
    salt: str
    issued_on: datetime
    expires_at: datetime | None = None
    narrative: str = ""
    evidence: tuple[dict, ...] = ()
    revoked: bool = False
    revocation_reason: str = ""
    baked: bytes = field(default=b"", repr=False)
    origin: str = ""

    @property
    def url(self) -> str:
        return f"{self.origin}/public/assertions/{self.entity_id}"


class BadgrPublic:
    def __init__(self, server: FakeServer, now: datetime | None = None) -> None:
        self.server = server
        self.now = now or datetime.now(UTC)

    @property
    def origin(self) -> str:  # OriginSetting.HTTP
        return self.server.origin

    # --- what an issuer's staff does ---------------------------------------------------------------
    def create_issuer(self, name: str, *, url: str = "https://mission-locale.example.fr",
                      email: str = "contact@mission-locale.example.fr", description: str = "") -> BadgrIssuer:
        issuer = BadgrIssuer(entity_id(), name, url, email, description or f"{name} (Badgr)")
        self._serve(f"/public/issuers/{issuer.entity_id}", lambda: self.issuer_json(issuer))
        return issuer

    def create_badgeclass(self, issuer: BadgrIssuer, name: str, *, description: str = "",
                          criteria_text: str = "Participer à l'atelier et réaliser la mise en situation.",
                          criteria_url: str = "", image: bytes | None = None, **extra) -> BadgrBadgeClass:
        badge = BadgrBadgeClass(entity_id(), issuer, name, description or f"Badge « {name} »", criteria_text,
                                criteria_url, image or badge_png((150, 60, 40)), **extra)
        self._serve(f"/public/badges/{badge.entity_id}", lambda: self.badgeclass_json(badge))
        self.server.route(f"/public/badges/{badge.entity_id}/image", badge.image, content_type="image/png")
        return badge

    def award(self, badge: BadgrBadgeClass, email: str, *, issued_on: datetime | None = None,
              expires_at: datetime | None = None, **extra) -> BadgrAssertion:
        moment = issued_on or self.now - timedelta(days=12)  # timezone.now(): microseconds kept
        award = BadgrAssertion(entity_id(), badge, email, uuid.uuid4().hex, moment, expires_at,
                               origin=self.origin, **extra)
        # BadgeInstance.save(): bake the badge class image with the unversioned (2_0) JSON.
        award.baked = bake_after_ihdr(badge.image, "openbadges", json.dumps(self.assertion_json(award), indent=2))
        path = f"/public/assertions/{award.entity_id}"
        self._serve(path, lambda: self.assertion_json(award))
        media = f"/media/uploads/badges/assertion-{award.entity_id}.png"
        self.server.route(media, award.baked, content_type="image/png")
        self.server.handler(path + "/image", lambda request: (
            Response(status=404) if award.revoked else Response(status=302, headers={"Location": self.origin + media})))
        return award

    def revoke(self, award: BadgrAssertion, reason: str = "") -> None:
        award.revoked, award.revocation_reason = True, reason

    def baked_png(self, award: BadgrAssertion) -> bytes:
        return award.baked

    # --- get_json(obi_version="2_0") -----------------------------------------------------------------
    def issuer_json(self, issuer: BadgrIssuer) -> dict:
        return {"@context": OB2_CONTEXT, "type": "Issuer", "id": f"{self.origin}/public/issuers/{issuer.entity_id}",
                "name": issuer.name, "url": issuer.url, "email": issuer.email, "description": issuer.description}

    def badgeclass_json(self, badge: BadgrBadgeClass) -> dict:
        doc: dict = {"@context": OB2_CONTEXT, "type": "BadgeClass",
                     "id": f"{self.origin}/public/badges/{badge.entity_id}", "name": badge.name,
                     "description": badge.description,
                     "issuer": f"{self.origin}/public/issuers/{badge.issuer.entity_id}",
                     "image": f"{self.origin}/public/badges/{badge.entity_id}/image", "criteria": {}}
        if badge.criteria_url:
            doc["criteria"]["id"] = badge.criteria_url
        if badge.criteria_text:
            doc["criteria"]["narrative"] = badge.criteria_text
        doc["alignment"] = [dict(a) for a in badge.alignments]
        doc["tags"] = list(badge.tags)
        return doc

    def assertion_json(self, award: BadgrAssertion) -> dict:
        if award.revoked:
            return {"@context": OB2_CONTEXT, "type": "Assertion", "id": award.url, "revoked": True,
                    "revocationReason": award.revocation_reason or ""}
        doc: dict = {"@context": OB2_CONTEXT, "type": "Assertion", "id": award.url,
                     "badge": f"{self.origin}/public/badges/{award.badgeclass.entity_id}",
                     "image": f"{award.url}/image", "verification": {"type": "HostedBadge"}}
        if award.evidence:
            doc["evidence"] = [{"type": "Evidence", **e} for e in award.evidence]
        if award.narrative:
            doc["narrative"] = award.narrative
        doc["issuedOn"] = award.issued_on.isoformat()
        if award.expires_at:
            doc["expires"] = award.expires_at.isoformat()
        doc["recipient"] = {"hashed": True, "type": "email",
                            "identity": "sha256$" + hashlib.sha256((award.email + award.salt).encode()).hexdigest(),
                            "salt": award.salt}
        return doc

    # --- DRF rendering and JSONComponentView.get ----------------------------------------------------
    def _serve(self, path: str, build) -> None:
        def view(request: Request) -> Response:
            accept = request.headers.get("Accept", "application/json")
            if "text/html" in accept:
                return Response(status=302, headers={"Location": WEB_APP + path.removeprefix("/public/")})
            media = "application/ld+json" if "application/ld+json" in accept or "*/*" in accept else "application/json"
            body = json.dumps(build(), ensure_ascii=False, separators=(",", ":"))
            return Response(body.encode("utf-8"), content_type=media)

        self.server.handler(path, view)
