"""SECURITY.md T60, end to end: documents on an attacker's host that DECLARE a recognised partner's
BadgeClass and Issuer ids never count for eligibility, and the claim they would support is
refused; a genuine badge from the same partner still counts (control). PROTOCOLS.md Decisions,
Authority: a node counts only as fetched from its own id.

The partner is a real loopback host named in the test referential (tests/web/test_regional.py);
the attacker is a second loopback host, allowed to be fetched like any site on the internet.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from html import unescape

import pytest

from tests.fakes.badges import OB2, BadgeFactory, public_pem, rsa_key
from tests.fakes.server import FakeServer
from tests.service.test_claims import claims
from tests.web.accounts_helpers import post_form, registered_user
from tests.web.test_badges import badges_in_db, png_image, upload
from tests.web.test_regional import LEVEL, aligned_assertion, card, regional_config
from wallet.openbadges import bake

VARIANTS = ("linked", "embedded-issuer", "embedded-badge-and-issuer", "signed-attacker-key", "redirect",
            "widened-origins")


def t60_config(app_config, hosts, attacker, tmp_path, first_attempt: str = "inline"):
    """The regional test referential (two partners), fetches allowed to the attacker's host too."""
    regional_config(app_config, hosts, tmp_path)
    app_config["FETCH_ALLOW"] += f",{attacker.authority}"
    app_config["CLAIM_FIRST_ATTEMPT"] = first_attempt
    return app_config


@pytest.fixture
def app_config(app_config, hosts, attacker, tmp_path):
    return t60_config(app_config, hosts, attacker, tmp_path)


class Forger:
    """Builds on the attacker's host the documents of one T60 variant, aimed at `partner`."""

    def __init__(self, attacker: FakeServer, partner: FakeServer) -> None:
        self.host, self.partner = attacker, partner
        self.factory = BadgeFactory(attacker, now=datetime.now(UTC))
        # The partner's genuine BadgeClass /badges/1 (aligned to Communiquer 1) and Issuer exist.
        aligned_assertion(partner, 1)
        self.badge_id, self.issuer_id = partner.url("/badges/1"), partner.url("/issuer")

    def issuer_copy(self, origins: list[str] | None = None, **extra) -> dict:
        return {"@context": OB2, "type": "Issuer", "id": self.issuer_id, "name": "Partenaire test-partner-one",
                "url": self.partner.url("/"), "email": "contact@example.org",
                "verification": {"type": "VerificationObject",
                                 "allowedOrigins": origins or [self.host.authority]}, **extra}

    def badge_copy(self, issuer, badge_id: str | None = None) -> dict:
        return {"@context": OB2, "type": "BadgeClass", "id": badge_id or self.badge_id, "name": "Communication 1",
                "description": "Communiquer", "image": self.partner.url("/badges/1/image.png"),
                "criteria": {"narrative": "…"}, "issuer": issuer,
                "alignment": [{"targetName": "Communiquer", "targetUrl": LEVEL.format(1)}]}

    def assertion(self, path: str, badge, verification: dict | None = None) -> dict:
        return self.factory.ob2_assertion(self.host.url(path) if verification is None else "urn:uuid:"
                                          "0b6a3c1e-7d2f-4c8a-9e51-3f6d2b1a0c9e", badge,
                                          verification or {"type": "HostedBadge"})

    def hosted(self, path: str, badge) -> dict:
        doc = self.assertion(path, badge)
        self.host.json(path, doc)
        return doc

    def build(self, variant: str) -> dict:
        """What the learner submits: {"url": …} | {"text": …} | {"png": …}."""
        h = self.host
        if variant == "linked":
            h.json("/issuer", self.issuer_copy())
            h.json("/badges/evil", self.badge_copy(h.url("/issuer")))
            return {"url": self.hosted("/assertions/1", h.url("/badges/evil"))["id"]}
        if variant == "embedded-issuer":
            h.json("/badges/own", self.badge_copy(self.issuer_copy(), badge_id=h.url("/badges/own")))
            return {"url": self.hosted("/assertions/2", h.url("/badges/own"))["id"]}
        if variant == "embedded-badge-and-issuer":
            return {"text": json.dumps(self.hosted("/assertions/3", self.badge_copy(self.issuer_copy())))}
        if variant == "signed-attacker-key":
            from wallet.openbadges.proofs import sign_jws

            key = rsa_key("attacker")
            h.json("/keys/1", {"@context": OB2, "type": "CryptographicKey", "id": h.url("/keys/1"),
                               "owner": self.issuer_id, "publicKeyPem": public_pem(key)})
            issuer = self.issuer_copy(publicKey=[h.url("/keys/1")])
            doc = self.assertion("", self.badge_copy(issuer), {"type": "SignedBadge", "creator": h.url("/keys/1")})
            return {"text": sign_jws(doc, key, "RS256")}
        if variant == "redirect":
            h.json("/copies/issuer", self.issuer_copy())
            h.redirect("/go/issuer", "/copies/issuer")
            h.json("/copies/badge", self.badge_copy(h.url("/go/issuer")))
            h.redirect("/go/badge", "/copies/badge")
            return {"url": self.hosted("/assertions/5", h.url("/go/badge"))["id"]}
        if variant == "widened-origins":
            issuer = self.issuer_copy([self.partner.authority, h.authority])
            doc = self.hosted("/assertions/6", self.badge_copy(issuer))
            return {"png": bake(png_image(), json.dumps(doc))}
        raise ValueError(variant)


def submit(client, forged: dict):
    if "png" in forged:
        return upload(client, ("communication.png", forged["png"]))
    return upload(client, **forged)


def communiquer(client) -> str:
    return card(unescape(client.get("/badges-regionaux/").text), "Communiquer — Je pratique")


@pytest.mark.parametrize("variant", VARIANTS)
def test_forged_partner_badge_never_counts_and_the_claim_is_refused(client, outbox, app, hosts, attacker, variant):
    one, _two = hosts
    forger = Forger(attacker, one)
    registered_user(client, outbox)
    upload(client, text=aligned_assertion(one, 2))   # one genuine partner badge: 1 of the 2 needed
    assert submit(client, forger.build(variant)).status_code == 200

    forged = [b for b in badges_in_db(app) if b.credential_id != one.url("/assertions/2")]
    assert len(forged) == 1, "the forged badge is stored (and shown) with its verdict"
    assert forged[0].status != "valid"
    assert "1 sur 2" in communiquer(client) and "Vous pouvez le demander" not in communiquer(client)
    refused = post_form(client, "/demandes/nouvelle/communiquer-1", recipient="ana@example.org")
    assert refused.status_code == 400 and "conditions" in unescape(refused.text)
    assert claims(app) == []

    # Control: a second genuine badge from the same partner makes the learner eligible.
    upload(client, text=aligned_assertion(one, 3))
    assert "Vous pouvez le demander" in communiquer(client)
    accepted = post_form(client, "/demandes/nouvelle/communiquer-1", recipient="ana@example.org")
    assert accepted.status_code == 303
    [claim] = claims(app)
    evidence = {item["credential_id"] for item in json.loads(claim.evidence)["badges"]}
    assert evidence == {one.url("/assertions/2"), one.url("/assertions/3")}


@pytest.mark.parametrize("variant", VARIANTS)
def test_forged_partner_badge_is_invalid_for_the_library(hosts, attacker, variant):
    from wallet.http import SafeHttp
    from wallet.openbadges import verify

    one, _two = hosts
    forged = Forger(attacker, one).build(variant)
    source = forged.get("url") or forged.get("text") or forged["png"]
    fetch = SafeHttp(allow=[one.authority, attacker.authority]).fetch
    data = verify(source, fetch=fetch, recipients=("ana@example.org",)).to_dict("fr")
    assert data["status"] == "invalid", [c for c in data["checks"] if not c["ok"]]
    assert data["valid"] is False


def test_the_partner_documents_were_fetched_from_their_own_ids(hosts, attacker):
    """The authority rule really went to the partner: the copies on the attacker's host were
    only hints (the partner served its BadgeClass and Issuer to the verifier)."""
    from wallet.http import SafeHttp
    from wallet.openbadges import verify

    one, _two = hosts
    forged = Forger(attacker, one).build("embedded-badge-and-issuer")
    before = one.hits["/badges/1"], one.hits["/issuer"]
    verify(forged["text"], fetch=SafeHttp(allow=[one.authority, attacker.authority]).fetch)
    assert one.hits["/badges/1"] > before[0] and one.hits["/issuer"] > before[1]


def test_a_genuine_expired_partner_badge_is_not_mistaken_for_a_forgery(client, outbox, app, hosts, attacker):
    """Sanity of the fixture: the partner's own documents verify (so the refusals above are about
    authority, not about a broken partner)."""
    one, _two = hosts
    registered_user(client, outbox)
    past = datetime.now(UTC) - timedelta(days=1)
    upload(client, text=aligned_assertion(one, 4, issued_on=past - timedelta(days=30), expires=past))
    [badge] = badges_in_db(app)
    assert (badge.status, badge.issuer_id) == ("expired", one.url("/issuer"))
