"""A fake Badgr / Canvas Credentials (API v2, PROTOCOLS.md §6.2) on a real loopback server.

    with FakeBadgr() as badgr:
        backend = BadgrIssuer(SafeHttp(allow=[badgr.authority], read_timeout=0.5, deadline=1),
                              base_url=badgr.base_url, token=badgr.token,
                              badgeclasses={"organiser-1": badgr.badgeclass})
        badgr.fail_next(3); badgr.stall_next(); badgr.reject_token()  # see tests/fakes/issuer_base.py
        badgr.count("ana@example.org")                                 # awards made

Endpoints: POST /v2/badgeclasses/{entityId}/assertions (Bearer token; honours
allowDuplicateAwards: false with Badgr's own 400 message), GET the same path ?recipient=<email>.
Each award is served as a hosted OB 2.0 assertion at its `openBadgeId`
(/public/assertions/{entityId}), with its BadgeClass and Issuer, on the same origin.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from werkzeug.wrappers import Request, Response

from tests.fakes.issuer_base import FakeIssuer, iso

DUPLICATE_MESSAGE = "A previous award of this badge already exists for this recipient."


@dataclass
class BadgrAward:
    entity_id: str
    badge: str                     # the BadgeClass entityId
    recipient: str
    open_badge_id: str
    salt: str
    issued_on: str
    revoked: bool = False


class FakeBadgr(FakeIssuer):
    awards: list[BadgrAward]

    def __init__(self, token: str = "badgr-token-value", badgeclasses: tuple[str, ...] = ("BCLASS1",),
                 issuer_entity: str = "ISSUER1") -> None:
        super().__init__(badgeclasses)
        self.token = token
        self.issuer_entity = issuer_entity
        self.award_requests: list[dict] = []
        self._token_ok = True
        for entity in badgeclasses:
            self.server.handler(f"/v2/badgeclasses/{entity}/assertions", self._assertions)

    @property
    def badgeclass(self) -> str:
        return self.badges[0]

    def reject_token(self) -> None:
        with self.lock:
            self._token_ok = False

    # --- endpoints ------------------------------------------------------------------------------
    def _assertions(self, request: Request) -> Response:
        with self.lock:
            authorized = self._token_ok and self.bearer(request) == self.token
        if not authorized:
            return self.json_response({"detail": "Authentication credentials were not provided."}, status=401)
        entity = request.path.split("/")[-2]
        if request.method == "GET":
            return self._list(request, entity)
        if request.method != "POST":
            return Response("method not allowed", status=405)
        return self._issuing_call(request, self.award_requests, lambda body: self._create(entity, body))

    def _create(self, entity: str, body: dict) -> Response:
        recipient = body.get("recipient") or {}
        email = str(recipient.get("identity") or "").strip().lower()
        if not email or recipient.get("type", "email") != "email":
            return self._envelope([], success=False, status=400, errors=["recipient: this field is required."])
        with self.lock:
            duplicate = any(a.recipient == email and a.badge == entity and not a.revoked
                            for a in self.awards)
        if duplicate and body.get("allowDuplicateAwards", True) is False:
            return self._envelope([], success=False, status=400, errors=[DUPLICATE_MESSAGE])
        award = self._award(entity, email, body.get("issuedOn") or iso(datetime.now(UTC)))
        return self._envelope([self._result(award)], status=201)

    def _award(self, entity: str, email: str, issued_on: str) -> BadgrAward:
        entity_id = secrets.token_urlsafe(12).replace("-", "a").replace("_", "b")
        salt = secrets.token_hex(8)
        url = self.publish_ob2(issuer_path=f"/public/issuers/{self.issuer_entity}", issuer_name="Région (Badgr)",
                               badge_path=f"/public/badges/{entity}", badge_name="Badge régional Badgr",
                               assertion_path=f"/public/assertions/{entity_id}", email=email, salt=salt,
                               issued_on=datetime.fromisoformat(issued_on))
        award = BadgrAward(entity_id, entity, email, url, salt, issued_on)
        with self.lock:
            self.awards.append(award)
        return award

    def _result(self, award: BadgrAward) -> dict:
        from wallet.openbadges.identity import hash_identity

        return {"entityType": "Assertion", "entityId": award.entity_id, "openBadgeId": award.open_badge_id,
                "badgeclass": award.badge, "badgeclassOpenBadgeId": self.url(f"/public/badges/{award.badge}"),
                "issuer": self.issuer_entity, "image": self.url("/image.png"),
                "recipient": {"identity": hash_identity(award.recipient, award.salt), "hashed": True,
                              "type": "email", "plaintextIdentity": award.recipient},
                "issuedOn": award.issued_on, "revoked": award.revoked, "revocationReason": None,
                "acceptance": "Unaccepted"}

    def _list(self, request: Request, entity: str) -> Response:
        wanted = request.args.get("recipient", "").strip().lower()
        with self.lock:
            awards = [a for a in self.awards if a.badge == entity and (not wanted or a.recipient == wanted)]
        return self._envelope([self._result(a) for a in awards])

    def _envelope(self, result: list, *, success: bool = True, status: int = 200,
                  errors: list[str] | None = None) -> Response:
        doc = {"status": {"success": success, "description": "ok" if success else "error"},
               "result": result}
        if errors:
            doc["validationErrors"] = errors
            doc["fieldErrors"] = {}
        return self.json_response(doc, status=status)
