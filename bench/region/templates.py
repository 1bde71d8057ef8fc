"""Template badges of the simulated region: real partner documents, verified by the real verifier.

For every badge class of every partner, one badge of its partner's format (OB 2.0 hosted, OB 2.0
signed, OB 3.0 Data Integrity) is built and verified with `wallet.openbadges.verify` through an
in-memory fetcher that serves the partner's documents at their own https ids. The stored row is
made exactly as the import service makes it (`services.badges.apply_verdict` and the same JSON
fields as `_import_one`). The generator then clones each template for every learner, substituting
the per-badge values, which the template carries as unique markers:

    MK_UUID    the assertion / credential id (a UUID)
    MK_HASH    the recipient's identity hash, MK_SALT its salt
    MK_ISSUED  the issue date (also the DI proof's `created`)
    MK_CHECKED the verification date
    MK_EXPIRES the expiry date (the "expired" variant only)
    MK_SIG     the signature (JWS signature / DI proofValue)

A cloned signed badge keeps a pseudo-signature derived from the seed: signing 2 million badges
would cost an RSA signature each (about 1 ms), and the stored verdict is what every page reads.
Re-verifying them is the worker's bench (issue 17, item 3), not this one.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime

MK_UUID = "7e57ab1e-0000-4000-8000-000000000000"
MK_SALT = "5a175a175a175a17"
MK_EMAIL = "modele@apprenants.region-bench.example"
MK_ISSUED = "2023-07-19T08:17:31"
MK_CHECKED = "2023-07-20T06:43:12"
MK_EXPIRES = "2023-07-19T23:59:59"
OB2 = "https://w3id.org/openbadges/v2"
VC2 = "https://www.w3.org/ns/credentials/v2"
OB3 = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
MULTIKEY = "https://w3id.org/security/multikey/v1"
FORMATS = ("ob2-hosted", "ob2-signed", "ob3")


def mk_hash() -> str:
    return "sha256$" + hashlib.sha256((MK_EMAIL + MK_SALT).encode()).hexdigest()


MK_HASH = mk_hash()


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass
class Partner:
    number: int
    key: str
    name: str
    origin: str
    format: str
    classes: list[BadgeClass] = field(default_factory=list)

    @property
    def issuer_id(self) -> str:
        return f"{self.origin}/issuer" if self.format != "ob3" else f"{self.origin}/ob3/issuer"


@dataclass
class BadgeClass:
    partner: Partner
    slug: str
    name: str
    skill: str
    level: int

    @property
    def id(self) -> str:
        if self.partner.format == "ob3":
            return f"{self.partner.origin}/ob3/achievements/{self.slug}"
        return f"{self.partner.origin}/badges/{self.slug}"


@dataclass
class Template:
    """One stored badge row with markers; `fields` are the Badge columns as the import sets them."""

    badge_class: BadgeClass
    variant: str          # valid | revoked | expired | not_matched
    fields: dict          # column -> value (str with markers, or plain values)
    signing_input: str | None = None   # signed OB 2.0: header segment (the payload is rebuilt per badge)
    payload_json: str | None = None    # signed OB 2.0: the assertion JSON with markers


def class_image(number: int) -> bytes:
    """A small PNG per badge class (the app stores what images.normalize_image makes of it)."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (96, 96), ((number * 47) % 256, (number * 91) % 256, (number * 13) % 256))
    draw = ImageDraw.Draw(image)
    draw.ellipse((12, 12, 84, 84), fill=(250, 250, 250))
    draw.rectangle((36, 36, 60, 60), fill=((number * 29) % 256, 60, 120))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


class Documents:
    """The partners' documents, answered in memory to the real verifier's fetches."""

    def __init__(self) -> None:
        self.docs: dict[str, tuple[bytes, str]] = {}

    def json(self, url: str, doc: dict, content_type: str = "application/ld+json") -> None:
        self.docs[url] = (json.dumps(doc, ensure_ascii=False).encode(), content_type)

    def fetch(self, url: str, accept: str):
        from wallet.openbadges.fetching import Fetched

        found = self.docs.get(url.split("#", 1)[0])
        if found is None:
            return Fetched(url, 404, "text/plain", b"not found")
        return Fetched(url, 200, found[1], found[0])


def _iso(prefix: str) -> str:
    return prefix + "Z"


def _moment(prefix: str) -> datetime:
    return datetime.fromisoformat(prefix).replace(tzinfo=UTC)


def build_templates(partners: list[Partner], seed: int, log=print) -> tuple[list[Template], dict[int, bytes]]:
    """Verify one badge per (class, variant) and return the templates and each class's stored image."""
    from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

    from wallet.openbadges import verify
    from wallet.openbadges.jsonld import ContextStore
    from wallet.openbadges.keys import multikey_from_ed25519
    from wallet.openbadges.proofs import sign_data_integrity, sign_jws
    from wallet.services import images

    from ..fixtures import context_store_dir

    store = ContextStore.from_dir(context_store_dir())
    docs = Documents()
    stored_images: dict[int, bytes] = {}
    templates: list[Template] = []
    now = _moment(MK_CHECKED)
    recipient = {"type": "email", "hashed": True, "salt": MK_SALT, "identity": MK_HASH}
    rsa_key = None
    number = 0
    for partner in partners:
        if partner.format == "ob2-signed" and rsa_key is None:
            rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        ed_key = ed25519.Ed25519PrivateKey.from_private_bytes(
            hashlib.sha256(f"{seed}:partner:{partner.number}".encode()).digest())
        issuer_id = partner.issuer_id
        if partner.format == "ob3":
            vm = issuer_id + "#key-1"
            docs.json(issuer_id, {"@context": [VC2, OB3, MULTIKEY], "id": issuer_id, "type": ["Profile"],
                                  "name": partner.name, "url": partner.origin + "/",
                                  "verificationMethod": [{"id": vm, "type": "Multikey", "controller": issuer_id,
                                                          "publicKeyMultibase": multikey_from_ed25519(
                                                              ed_key.public_key())}],
                                  "assertionMethod": [vm]})
        else:
            issuer = {"@context": OB2, "type": "Issuer", "id": issuer_id, "name": partner.name,
                      "url": partner.origin + "/", "email": f"badges@{partner.origin.split('//')[1]}"}
            if partner.format == "ob2-signed":
                key_id = f"{partner.origin}/keys/1"
                issuer["publicKey"] = key_id
                docs.json(key_id, {"@context": OB2, "type": "CryptographicKey", "id": key_id, "owner": issuer_id,
                                   "publicKeyPem": _pem(rsa_key)})
            docs.json(issuer_id, issuer)
        for badge_class in partner.classes:
            number += 1
            png = class_image(number)
            normalized = images.normalize_image(png)
            stored_images[id(badge_class)] = normalized[0]
            image_url = badge_class.id + "/image.png"
            docs.docs[image_url] = (png, "image/png")
            description = (f"Le badge « {badge_class.name} » atteste une compétence observée en situation "
                           f"chez {partner.name}.")
            criteria = ("Avoir réalisé les activités du parcours et été observé par un formateur ou un tuteur "
                        "sur au moins deux séances.")
            variants = ["valid"]
            if partner.format == "ob2-hosted":
                variants += ["revoked", "expired", "not_matched"]
            if partner.format == "ob3":
                achievement = {"id": badge_class.id, "type": ["Achievement"], "name": badge_class.name,
                               "description": description, "criteria": {"narrative": criteria},
                               "image": {"id": image_url, "type": "Image"},
                               "tag": [badge_class.skill]}
                credential = {
                    "@context": [VC2, OB3], "id": f"urn:uuid:{MK_UUID}",
                    "type": ["VerifiableCredential", "OpenBadgeCredential"],
                    "issuer": {"id": issuer_id, "type": ["Profile"], "name": partner.name,
                               "url": partner.origin + "/"},
                    "validFrom": _iso(MK_ISSUED), "name": badge_class.name,
                    "credentialSubject": {"type": ["AchievementSubject"], "identifier": [
                        {"type": "IdentityObject", "identityType": "emailAddress", "hashed": True,
                         "identityHash": MK_HASH, "salt": MK_SALT}], "achievement": achievement}}
                signed = sign_data_integrity(credential, ed_key, issuer_id + "#key-1", _iso(MK_ISSUED), store)
                text = json.dumps(signed, ensure_ascii=False)
                templates.append(_template(badge_class, "valid", text, verify(text, fetch=docs.fetch,
                                           recipients=(MK_EMAIL,), now=now), normalized))
                continue
            docs.json(badge_class.id, {"@context": OB2, "type": "BadgeClass", "id": badge_class.id,
                                       "name": badge_class.name, "description": description, "image": image_url,
                                       "criteria": {"narrative": criteria}, "issuer": issuer_id,
                                       "tags": [badge_class.skill]})
            for variant in variants:
                assertion_id = (f"{partner.origin}/assertions/{MK_UUID}" if partner.format == "ob2-hosted"
                                else f"urn:uuid:{MK_UUID}")
                assertion = {"@context": OB2, "type": "Assertion", "id": assertion_id, "recipient": recipient,
                             "badge": badge_class.id, "issuedOn": _iso(MK_ISSUED),
                             "verification": {"type": "HostedBadge"} if partner.format == "ob2-hosted"
                             else {"type": "SignedBadge", "creator": f"{partner.origin}/keys/1"},
                             "evidence": [{"narrative": "Observé en situation de travail."}]}
                if variant == "revoked":
                    assertion["revoked"] = True
                    assertion["revocationReason"] = "Délivré par erreur"
                if variant == "expired":
                    assertion["expires"] = _iso(MK_EXPIRES)
                recipients = () if variant == "not_matched" else (MK_EMAIL,)
                if partner.format == "ob2-hosted":
                    docs.json(assertion_id, assertion)
                    text = json.dumps(assertion, ensure_ascii=False)
                    verdict = verify(text, fetch=docs.fetch, recipients=recipients, now=now)
                    templates.append(_template(badge_class, variant, text, verdict, normalized))
                else:
                    token = sign_jws(assertion, rsa_key, "RS256")
                    verdict = verify(token, fetch=docs.fetch, recipients=recipients, now=now)
                    tpl = _template(badge_class, variant, token, verdict, normalized)
                    header, _payload, _sig = token.split(".")
                    tpl.signing_input = header
                    tpl.payload_json = json.dumps(assertion, separators=(",", ":"), ensure_ascii=False)
                    templates.append(tpl)
        log(f"  templates: {partner.key} ({partner.format}) verified")
    return templates, stored_images


def _pem(key) -> str:
    from cryptography.hazmat.primitives import serialization

    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def _template(badge_class: BadgeClass, variant: str, text: str, verdict, image: tuple[bytes, str]) -> Template:
    """The row `services.badges._import_one` stores for this verdict (same code for the verdict part)."""
    from wallet.models import Badge
    from wallet.services.badges import _payload_format, apply_verdict, credential_key

    expected = {"valid": "valid", "not_matched": "valid", "revoked": "revoked", "expired": "expired"}[variant]
    if verdict.status.value != expected:
        failed = [c.to_dict("en") for c in verdict.checks if not c.ok]
        raise SystemExit(f"region: template {badge_class.id} ({variant}) verified as {verdict.status.value}, "
                         f"expected {expected}: {failed}")
    badge = Badge()
    apply_verdict(badge, verdict)
    credential = verdict.credential
    fields = {
        "credential_key": credential_key(verdict), "credential_id": credential.id, "source": "url",
        "source_url": None, "payload": credential.original or text, "payload_format": None,
        "version": badge.version, "name": badge.name, "description": badge.description,
        "issuer_id": badge.issuer_id, "issuer_name": badge.issuer_name, "badge_class_id": badge.badge_class_id,
        "status": badge.status, "matched": badge.matched,
        "recipient": json.dumps([{"type": i.type, "identity": i.identity, "hashed": i.hashed, "salt": i.salt}
                                 for i in credential.identities]),
        "details": json.dumps({
            "evidence": [{"id": e.id, "name": e.name, "narrative": e.narrative, "description": e.description}
                         for e in credential.evidence],
            "narrative": credential.narrative, "issuer_url": credential.issuer_url}),
        "verdict": badge.verdict, "facts": badge.facts, "rules_version": badge.rules_version,
        "image": image[0], "image_type": image[1],
    }
    fields["payload_format"] = _payload_format(fields["payload"])
    return Template(badge_class, variant, fields)
