"""`wallet demo`: demo partner issuers hosted by the wallet under /demo/partners/…, baked demo
badges to download and upload, and a demo learner — so a newcomer can walk import → eligibility →
claim → issued badge with no outside service. Never in production."""

from __future__ import annotations

import io
import json
import uuid
from datetime import datetime, timedelta
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from flask import Flask
from PIL import Image, ImageDraw

from ..models import utcnow
from ..openbadges.baking import bake
from ..openbadges.identity import hash_identity
from ..openbadges.jsonld import default_store
from ..openbadges.keys import multikey_from_ed25519
from ..openbadges.proofs import sign_data_integrity

DEMO_EMAIL = "demo@exemple.fr"
DEMO_PASSWORD = "essai du portefeuille 2026"
VC2 = "https://www.w3.org/ns/credentials/v2"
OB3 = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
MULTIKEY = "https://w3id.org/security/multikey/v1"
COLORS = ["#0b4f8a", "#1f7a4d", "#8a3b0b", "#5b2d8a", "#13335c", "#7a1f4d"]


class DemoDisabled(Exception):
    """Demo data is not set up here (or this is production)."""


def _keys_path(app: Flask) -> Path:
    return Path(app.instance_path) / "demo_partners.json"


def enabled(app: Flask) -> bool:
    return app.config["ENV"] != "production" and _keys_path(app).is_file()


def seed(app: Flask) -> dict:
    """Create the demo keys and the demo learner (idempotent). Returns what to tell the person."""
    if app.config["ENV"] == "production":
        raise DemoDisabled("production")
    path = _keys_path(app)
    if not path.is_file():
        keys = {}
        for partner in demo_partners(app):
            key = ed25519.Ed25519PrivateKey.generate()
            keys[partner.key] = key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                                                  serialization.NoEncryption()).hex()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(keys))
        path.chmod(0o600)
    from .. import db
    from ..services import accounts

    session = db.new_session(app)
    try:
        accounts.create_demo_learner(session, DEMO_EMAIL, DEMO_PASSWORD, "Camille Démo")
    finally:
        session.close()
    return {"email": DEMO_EMAIL, "password": DEMO_PASSWORD, "page": app.config["BASE_URL"] + "/demo/"}


def _referential(app: Flask):
    from .. import db
    from . import referentials

    session = db.new_session(app)
    try:
        return referentials.current(session, app)
    finally:
        session.close()


def demo_partners(app: Flask):
    return [p for p in _referential(app).partners if p.demo]


def _key(app: Flask, partner_key: str) -> ed25519.Ed25519PrivateKey:
    if not enabled(app):
        raise DemoDisabled("not seeded")
    keys = json.loads(_keys_path(app).read_text())
    if partner_key not in keys:
        raise DemoDisabled(partner_key)
    return ed25519.Ed25519PrivateKey.from_private_bytes(bytes.fromhex(keys[partner_key]))


def _partner_by_slug(app: Flask, slug: str):
    for partner in demo_partners(app):
        for issuer_id in partner.issuer_ids:
            if issuer_id.rstrip("/").endswith("/demo/partners/" + slug):
                return partner, issuer_id
    return None, None


def issuer_profile(app: Flask, slug: str) -> dict | None:
    """The demo partner's OB 3.0 Profile, listing its Multikey (controller = the issuer id)."""
    partner, issuer_id = _partner_by_slug(app, slug)
    if partner is None:
        return None
    key = _key(app, partner.key)
    vm = issuer_id + "#key-1"
    return {"@context": [VC2, OB3, MULTIKEY], "id": issuer_id, "type": ["Profile"], "name": partner.name,
            "url": app.config["BASE_URL"] + "/demo/",
            "verificationMethod": [{"id": vm, "type": "Multikey", "controller": issuer_id,
                                    "publicKeyMultibase": multikey_from_ed25519(key.public_key())}],
            "assertionMethod": [vm]}


def catalogue(app: Flask, lang: str = "fr") -> list[dict]:
    """The demo badges; `skill_level` names the skill and level in `lang` (« S'intégrer — Je pratique »)."""
    referential = _referential(app)
    items = []
    for index, partner in enumerate(p for p in referential.partners if p.demo):
        for entry in partner.catalogue:
            items.append({"partner": partner, "entry": entry, "color": COLORS[index % len(COLORS)],
                          "slug": entry.id.rstrip("/").rsplit("/", 1)[-1],
                          "skill_level": referential.skill_level_name(entry.skill, entry.level, lang)})
    return items


def baked_badge(app: Flask, partner_key: str, slug: str, email: str, now: datetime | None = None) -> bytes | None:
    """A baked PNG holding a signed OB 3.0 credential of that demo badge, issued to `email`."""
    item = next((i for i in catalogue(app) if i["partner"].key == partner_key and i["slug"] == slug), None)
    if item is None:
        return None
    partner, entry = item["partner"], item["entry"]
    issuer_id = partner.issuer_ids[0]
    key = _key(app, partner.key)
    moment = (now or utcnow()).replace(microsecond=0)
    salt = uuid.uuid4().hex[:12]
    credential = {
        "@context": [VC2, OB3], "id": f"urn:uuid:{uuid.uuid4()}",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": {"id": issuer_id, "type": ["Profile"], "name": partner.name},
        "validFrom": _iso(moment - timedelta(minutes=1)), "name": entry.name or slug,
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "identifier": [{"type": "IdentityObject", "identityType": "emailAddress", "hashed": True,
                            "identityHash": hash_identity(email.lower(), salt), "salt": salt}],
            "achievement": {"id": entry.id, "type": ["Achievement"], "name": entry.name or slug,
                            "description": f"Badge de démonstration de {partner.name}.",
                            "criteria": {"narrative": "Badge de démonstration\u00a0: il ne certifie rien."}}},
    }
    signed = sign_data_integrity(credential, key, issuer_id + "#key-1", _iso(moment - timedelta(minutes=1)),
                                 default_store())
    return bake(_image(entry.name or slug, item["color"]), json.dumps(signed, ensure_ascii=False))


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _image(label: str, color: str) -> bytes:
    image = Image.new("RGBA", (256, 256), (255, 255, 255, 0))
    draw = ImageDraw.Draw(image)
    draw.ellipse((16, 16, 240, 240), fill=color)
    draw.ellipse((40, 40, 216, 216), outline="white", width=6)
    draw.text((128, 128), "DÉMO", fill="white", anchor="mm")
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()
