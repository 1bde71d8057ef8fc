"""Credly downloads on a real https loopback server (tests/fakes/field/tls.py): hosted OB 2.0
assertions and OB 3.0 OpenBadgeCredentials with a did:web issuer.

    with TlsFakeServer() as server:
        credly = CredlyPublic(server)
        award = credly.award("AWS Cloud Practitioner", "ana@example.org")
        award.url                      # /v1/obi/v2/badge_assertions/<uuid>
        credly.credential_text(award)  # the OB 3.0 JSON a learner downloads

Credly cannot be run: this follows published material only (tests/fakes/README.md):
- OB 2.0: the public endpoints `…/v1/obi/v2/badge_assertions/<uuid>`,
  `…/v1/obi/v2/issuers/<uuid>/badge_classes/<uuid>` and `…/v1/obi/v2/issuers/<uuid>` (named by the
  many verifiers that read Credly badges), HostedBadge verification, hashed email recipient;
- OB 3.0: credentials Credly issued and their holders published (learner-credential-wallet issues
  #649, #692, #768): context list with `extensions.json`, id
  `…/api/v1/obi/v3/open_badge_credentials/<uuid>`, `credentialSchema`
  1EdTechJsonSchemaValidator2019, issuer Profile `did:web:www.credly.com:api:v1:obi:v3:issuers:<uuid>`
  (name, email info@credly.com, image with caption, url, description), and a credential-level
  `name` that is the EARNER's name, not the badge's (#692: display the achievement's name).
[UNCONFIRMED] the proof (an `eddsa-rdfc-2022` DataIntegrityProof by a Multikey listed in the
did:web document), the OB 2.0 key order, `issuedOn` with milliseconds, and a revoked OB 2.0
assertion answering 200 with `revoked: true`.
"""

from __future__ import annotations

import json
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

from cryptography.hazmat.primitives.asymmetric import ed25519

from tests.fakes.field.common import HostedAward, badge_png, bake_after_ihdr
from tests.fakes.server import FakeServer

OB2 = "https://w3id.org/openbadges/v2"
OB3_CONTEXTS = ["https://www.w3.org/ns/credentials/v2",
                "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
                "https://purl.imsglobal.org/spec/ob/v3p0/extensions.json"]
SCHEMA = "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_achievementcredential_schema.json"


def _ms(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _z(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


@dataclass(kw_only=True)
class CredlyAward(HostedAward):
    """A badge Credly awarded from its badge template `template_id` to `earner` (the name Credly
    writes as the OB 3.0 credential's `name`)."""

    ASSERTION_PATH = "/v1/obi/v2/badge_assertions/{award.id}"
    CREDENTIAL_PATH = "/api/v1/obi/v3/open_badge_credentials/{award.id}"

    id: str
    template_id: str
    name: str
    earner: str


class CredlyPublic:
    def __init__(self, server: FakeServer, now: datetime | None = None, *, issuer_name: str = "Amazon Web Services",
                 key: ed25519.Ed25519PrivateKey | None = None) -> None:
        self.server = server
        self.now = now or datetime.now(UTC)
        self.issuer_uuid = str(uuid.uuid4())
        self.issuer_name = issuer_name
        self.key = key or ed25519.Ed25519PrivateKey.generate()
        self.image = badge_png((230, 140, 20))
        host = quote(f"{server.host}:{server.port}", safe="")
        self.did = f"did:web:{host}:api:v1:obi:v3:issuers:{self.issuer_uuid}"
        server.handler(f"/v1/obi/v2/issuers/{self.issuer_uuid}", lambda r: self._json(self.issuer_json()))
        server.handler(f"/api/v1/obi/v3/issuers/{self.issuer_uuid}/did.json",
                       lambda r: self._json(self.did_document(), "application/did+json"))
        self.awards: list[CredlyAward] = []

    @property
    def issuer_id(self) -> str:
        return self.server.url(f"/v1/obi/v2/issuers/{self.issuer_uuid}")

    def award(self, name: str, email: str, *, earner: str = "Ana Martin", issued: datetime | None = None,
              expires: datetime | None = None) -> CredlyAward:
        award = CredlyAward(id=str(uuid.uuid4()), template_id=str(uuid.uuid4()), name=name, email=email,
                            earner=earner, issued=issued or self.now - timedelta(days=40), expires=expires,
                            salt=secrets.token_hex(8), server=self.server)
        self.awards.append(award)
        s = self.server
        s.handler(f"/v1/obi/v2/badge_assertions/{award.id}", lambda r: self._json(self.assertion_json(award)))
        s.handler(f"/v1/obi/v2/issuers/{self.issuer_uuid}/badge_classes/{award.template_id}",
                  lambda r: self._json(self.badge_class_json(award)))
        s.route(f"/images/{award.template_id}/image.png", self.image, content_type="image/png")
        s.handler(f"/api/v1/obi/v3/open_badge_credentials/{award.id}",
                  lambda r: self._json(self.credential(award), "application/vc+ld+json"))
        return award

    def revoke(self, award: CredlyAward) -> None:
        award.revoked = True

    # --- OB 2.0 ------------------------------------------------------------------------------------
    def issuer_json(self) -> dict:
        return {"@context": OB2, "type": "Issuer", "id": self.issuer_id, "name": self.issuer_name,
                "url": "https://aws.example.com/certification", "email": "info@credly.com",
                "image": self.server.url("/images/issuer/logo.png")}

    def badge_class_json(self, award: CredlyAward) -> dict:
        return {"@context": OB2, "type": "BadgeClass",
                "id": self.server.url(f"/v1/obi/v2/issuers/{self.issuer_uuid}/badge_classes/{award.template_id}"),
                "name": award.name, "description": f"Earners of the {award.name} badge know the basics.",
                "image": self.server.url(f"/images/{award.template_id}/image.png"),
                "criteria": {"id": self.server.url(f"/org/aws/badge/{award.template_id}")},
                "issuer": self.issuer_id, "tags": ["Cloud", "AWS"], "alignment": []}

    def assertion_json(self, award: CredlyAward) -> dict:
        doc: dict = {"@context": OB2, "type": "Assertion", "id": award.url,
                     "badge": self.server.url(f"/v1/obi/v2/issuers/{self.issuer_uuid}/badge_classes/{award.template_id}"),
                     "recipient": {"type": "email", "hashed": True, "salt": award.salt,
                                   "identity": award.identity_hash},
                     "issuedOn": _ms(award.issued), "verification": {"type": "HostedBadge"}}
        if award.expires:
            doc["expires"] = _ms(award.expires)
        if award.revoked:
            doc.update({"revoked": True, "revocationReason": "Revoked by issuer"})
        return doc

    def baked_png(self, award: CredlyAward) -> bytes:
        return bake_after_ihdr(self.image, "openbadges", json.dumps(self.assertion_json(award)))

    # --- OB 3.0 ------------------------------------------------------------------------------------
    def did_document(self) -> dict:
        from wallet.openbadges.keys import multikey_from_ed25519

        vm = self.did + "#key-1"
        return {"@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
                "id": self.did, "verificationMethod": [{
                    "id": vm, "type": "Multikey", "controller": self.did,
                    "publicKeyMultibase": multikey_from_ed25519(self.key.public_key())}],
                "assertionMethod": [vm]}

    def credential(self, award: CredlyAward) -> dict:
        from tests.fakes.badges import store
        from wallet.openbadges.proofs import sign_data_integrity

        credential: dict = {
            "@context": OB3_CONTEXTS, "id": award.credential_url,
            "type": ["VerifiableCredential", "OpenBadgeCredential"],
            "credentialSchema": [{"id": SCHEMA, "type": "1EdTechJsonSchemaValidator2019"}],
            "issuer": {"type": ["Profile"], "id": self.did, "name": self.issuer_name, "email": "info@credly.com",
                       "image": {"id": self.server.url("/images/issuer/logo.png"), "type": "Image",
                                 "caption": f"Logo of {self.issuer_name}"},
                       "url": "https://aws.example.com/certification",
                       "description": f"{self.issuer_name} certifications."},
            "validFrom": _z(award.issued),
            "name": award.earner,  # sic: Credly writes the earner's name here (LCW #692)
            "credentialSubject": {
                "type": ["AchievementSubject"],
                "identifier": [{"type": "IdentityObject", "identityType": "emailAddress", "hashed": True,
                                "identityHash": award.identity_hash, "salt": award.salt}],
                "achievement": {
                    "id": self.server.url(f"/org/aws/badge/{award.template_id}"), "type": ["Achievement"],
                    "name": award.name, "description": f"Earners of the {award.name} badge know the basics.",
                    "criteria": {"narrative": "Pass the exam."},
                    "image": {"id": self.server.url(f"/images/{award.template_id}/image.png"), "type": "Image"}}},
        }
        if award.expires:
            credential["validUntil"] = _z(award.expires)
        return sign_data_integrity(credential, self.key, self.did + "#key-1", _z(award.issued), store())

    def credential_text(self, award: CredlyAward) -> str:
        return json.dumps(self.credential(award), ensure_ascii=False, indent=2)

    def baked_credential_png(self, award: CredlyAward) -> bytes:
        return bake_after_ihdr(self.image, "openbadgecredential", self.credential_text(award))

    @staticmethod
    def _json(doc: dict, content_type: str = "application/json"):
        from werkzeug.wrappers import Response

        return Response(json.dumps(doc, ensure_ascii=False), content_type=content_type)
