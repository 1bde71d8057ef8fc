"""Open Badge Factory badges as its users receive them, on a real loopback server: hosted OB 2.0
assertions and OB 3.0 credentials (Data Integrity, did:key issuer, hashed emailAddress).

OBF is a closed service: this follows its published material only (tests/fakes/README.md):
- PROTOCOLS.md §6.1: an award's `…/assertion` items carry `json` = the hosted OB 2.0 assertion
  URL; OB 3.0 credentials live at `/obv3/credentials/<40 hex>`, achievements at
  `/obv3/achievements/<badge id>?cid=…&lang=…`, with hashed `emailAddress` identifiers;
- URLs seen in badges OBF published: `/v1/assertion/<40 hex>` (the assertion), `/v1/badge/_/<badge
  id>.png?event=<event id>` (the image), `/v1/badge/_/<badge id>/criteria.html?v=2.0&event=…`;
- an OBF OB 3.0 credential published with its proof (context list with `extensions.json`,
  `awardedDate`, empty `endorsement`, issuer Profile with a `did:key` id, `otherIdentifier`
  systemId and `email`, `credentialStatus` of type `1EdTechRevocationList` at
  `/obv3/revoked/<client id>/<badge id>`, one `eddsa-rdfc-2022` DataIntegrityProof).
[UNCONFIRMED] the `.json` paths of the OB 2.0 BadgeClass and Issuer (`/v1/badge/_/<id>.json`,
`/v1/client/_/<client id>.json?v=2.0`, the first with `&event=…`) follow the published image/criteria
pattern; the revocation list body follows the 1EdTech Revocation List shape; the OB 2.0
`issuedOn` is written as ISO 8601 UTC.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cryptography.hazmat.primitives.asymmetric import ed25519

from tests.fakes.field.common import HostedAward, badge_png, bake_after_ihdr
from tests.fakes.server import FakeServer

OB2 = "https://w3id.org/openbadges/v2"
OB3_CONTEXTS = ["https://www.w3.org/ns/credentials/v2",
                "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
                "https://purl.imsglobal.org/spec/ob/v3p0/extensions.json"]


def _z(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _obf_id(length: int = 15) -> str:
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789"
    return "".join(secrets.choice(alphabet) for _ in range(length))


@dataclass(kw_only=True)
class ObfAward(HostedAward):
    ASSERTION_PATH = "/v1/assertion/{award.hash}.json"
    CREDENTIAL_PATH = "/obv3/credentials/{award.hash}"

    event_id: str
    badge_id: str
    hash: str                # the 40-hex id of the assertion / credential


class ObfPublic:
    def __init__(self, server: FakeServer, now: datetime | None = None, *, client_id: str = "",
                 name: str = "Région Normandie — OBF", key: ed25519.Ed25519PrivateKey | None = None) -> None:
        from wallet.openbadges.keys import did_key_from_ed25519

        self.server = server
        self.now = now or datetime.now(UTC)
        self.client_id = client_id or _obf_id(16)
        self.name = name
        self.key = key or ed25519.Ed25519PrivateKey.generate()
        self.did = did_key_from_ed25519(self.key.public_key())
        self.badges: dict[str, dict] = {}
        self.awards: list[ObfAward] = []

    def url(self, path: str) -> str:
        return self.server.url(path)

    def create_badge(self, name: str, description: str = "", criteria: str = "Réussir l'évaluation finale.",
                     image: bytes | None = None) -> str:
        badge_id = _obf_id(15)
        self.badges[badge_id] = {"name": name, "description": description or f"Badge « {name} »",
                                 "criteria": criteria, "image": image or badge_png((20, 130, 90))}
        return badge_id

    def award(self, badge_id: str, email: str, *, issued: datetime | None = None,
              expires: datetime | None = None) -> ObfAward:
        award = ObfAward(event_id=_obf_id(15), badge_id=badge_id, email=email,
                         hash=hashlib.sha1(secrets.token_bytes(16)).hexdigest(),
                         issued=issued or self.now - timedelta(days=8), expires=expires, salt=_obf_id(10),
                         server=self.server)
        self.awards.append(award)
        self._publish(award)
        return award

    def revoke(self, award: ObfAward) -> None:
        award.revoked = True
        self._publish_revocations(award.badge_id)

    # --- OB 2.0 ------------------------------------------------------------------------------------
    def _badge_url(self, award: ObfAward) -> str:
        return self.url(f"/v1/badge/_/{award.badge_id}.json") + f"?v=2.0&event={award.event_id}"

    def _issuer_url(self, award: ObfAward) -> str:
        return self.url(f"/v1/client/_/{self.client_id}.json") + "?v=2.0"

    def issuer_json(self, award: ObfAward) -> dict:
        return {"@context": OB2, "type": "Issuer", "id": self._issuer_url(award), "name": self.name,
                "url": "https://www.normandie.example.fr", "email": "badges@normandie.example.fr",
                "description": "Badges de la Région délivrés avec Open Badge Factory."}

    def badge_json(self, award: ObfAward) -> dict:
        badge = self.badges[award.badge_id]
        return {"@context": OB2, "type": "BadgeClass", "id": self._badge_url(award), "name": badge["name"],
                "description": badge["description"],
                "image": self.url(f"/v1/badge/_/{award.badge_id}.png") + f"?event={award.event_id}",
                "criteria": {"id": self.url(f"/v1/badge/_/{award.badge_id}/criteria.html")
                             + f"?v=2.0&event={award.event_id}", "narrative": badge["criteria"]},
                "issuer": self._issuer_url(award), "tags": []}

    def assertion_json(self, award: ObfAward) -> dict:
        if award.revoked:
            return {"@context": OB2, "type": "Assertion", "id": award.url, "revoked": True}
        doc = {"@context": OB2, "type": "Assertion", "id": award.url,
               "recipient": {"type": "email", "hashed": True, "salt": award.salt,
                             "identity": award.identity_hash},
               "badge": self._badge_url(award), "verification": {"type": "HostedBadge"},
               "issuedOn": _z(award.issued), "image": self.url(f"/v1/badge/_/{award.badge_id}.png")
               + f"?event={award.event_id}"}
        if award.expires:
            doc["expires"] = _z(award.expires)
        return doc

    def baked_png(self, award: ObfAward) -> bytes:
        return bake_after_ihdr(self.badges[award.badge_id]["image"], "openbadges",
                               json.dumps(self.assertion_json(award), ensure_ascii=False))

    # --- OB 3.0 ------------------------------------------------------------------------------------
    def credential(self, award: ObfAward) -> dict:
        """The signed OpenBadgeCredential of an award (key order as OBF publishes it)."""
        from tests.fakes.badges import store
        from wallet.openbadges.proofs import sign_data_integrity

        badge = self.badges[award.badge_id]
        cid = hashlib.sha256(award.badge_id.encode()).hexdigest()
        credential: dict = {
            "awardedDate": _z(award.issued), "endorsement": [],
            "credentialSubject": {
                "identifier": [{"salt": award.salt, "identityHash": award.identity_hash,
                                "identityType": "emailAddress", "hashed": True, "type": "IdentityObject"}],
                "achievement": {
                    "image": {"id": self.url(f"/obv3/images/badge/{cid}"), "type": "Image"},
                    "criteria": {"narrative": badge["criteria"], "id": self.url(
                        f"/v1/badge/_/{award.badge_id}/criteria.html") + f"?v=2.0&c_id={cid}"},
                    "description": badge["description"], "inLanguage": "fr", "type": ["Achievement"],
                    "name": badge["name"],
                    "id": self.url(f"/obv3/achievements/{award.badge_id}") + f"?cid={cid}&lang=fr"},
                "type": ["AchievementSubject"]},
            "validFrom": _z(award.issued),
            "type": ["VerifiableCredential", "OpenBadgeCredential"],
            "@context": OB3_CONTEXTS,
            "issuer": {"type": ["Profile"], "url": "https://www.normandie.example.fr", "name": self.name,
                       "id": self.did, "otherIdentifier": [{"identifier": self.client_id,
                                                           "identifierType": "systemId", "type": "IdentifierEntry"}],
                       "email": "badges@normandie.example.fr"},
            "credentialStatus": {"id": self.url(f"/obv3/revoked/{self.client_id}/{award.badge_id}"),
                                 "type": "1EdTechRevocationList"},
            "id": award.credential_url,
        }
        if award.expires:
            credential["validUntil"] = _z(award.expires)
        vm = self.did + "#" + self.did[len("did:key:"):]
        return sign_data_integrity(credential, self.key, vm, _z(award.issued + timedelta(minutes=1)), store())

    def credential_text(self, award: ObfAward) -> str:
        return json.dumps(self.credential(award), ensure_ascii=False)

    def baked_credential_png(self, award: ObfAward) -> bytes:
        return bake_after_ihdr(self.badges[award.badge_id]["image"], "openbadgecredential",
                               self.credential_text(award))

    # --- routes ------------------------------------------------------------------------------------
    def _publish(self, award: ObfAward) -> None:
        s = self.server
        s.handler(f"/v1/assertion/{award.hash}.json", lambda r: self._json(self.assertion_json(award)))
        s.handler(f"/v1/badge/_/{award.badge_id}.json", lambda r: self._by_event(r, self.badge_json))
        s.handler(f"/v1/client/_/{self.client_id}.json", lambda r: self._json(self.issuer_json(award)))
        s.route(f"/v1/badge/_/{award.badge_id}.png", self.badges[award.badge_id]["image"], content_type="image/png")
        s.handler(f"/obv3/credentials/{award.hash}", lambda r: self._json(self.credential(award),
                                                                           "application/vc+ld+json"))
        self._publish_revocations(award.badge_id)

    def _publish_revocations(self, badge_id: str) -> None:
        path = f"/obv3/revoked/{self.client_id}/{badge_id}"
        revoked = [{"id": a.credential_url, "revoked": True, "revocationReason": "Révoqué par l'émetteur"}
                   for a in self.awards if a.badge_id == badge_id and a.revoked]
        self.server.json(path, {"id": self.url(path), "revokedCredentials": revoked}, content_type="application/json")

    def _by_event(self, request, build):
        from werkzeug.wrappers import Response

        award = next((a for a in self.awards if a.event_id == request.args.get("event")), None)
        return Response("Not found", status=404) if award is None else self._json(build(award))

    @staticmethod
    def _json(doc: dict, content_type: str = "application/json"):
        from werkzeug.wrappers import Response

        return Response(json.dumps(doc, ensure_ascii=False), content_type=content_type)
