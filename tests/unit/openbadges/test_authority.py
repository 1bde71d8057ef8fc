"""Authority of nodes (PROTOCOLS.md Decisions "Authority", SECURITY.md T60): a node that names
itself by an http(s) id counts only as fetched from that id.

Two real loopback servers: `partner` serves a recognised partner's genuine issuer, badge class
and a genuine badge; `attacker` serves documents that DECLARE the partner's ids. No forgery may
come out valid, and no non-valid verdict may name the partner as its issuer.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta

import pytest

from tests.fakes.badges import NOW, OB2, RECIPIENT, VC2, BadgeFactory, ed_key, fetcher_for, iso, rsa_key
from tests.fakes.server import FakeServer
from wallet.openbadges import verify
from wallet.openbadges.nodes import normal_url, same_url


@dataclass
class World:
    partner: BadgeFactory
    attacker: BadgeFactory
    fetch: object
    issuer_id: str
    badge_id: str


@pytest.fixture
def world():
    with FakeServer() as p, FakeServer() as a:
        partner, attacker = BadgeFactory(p), BadgeFactory(a)
        genuine = partner.ob2_hosted()  # /issuer, /badges/1, /assertions/1 on the partner's host
        yield World(partner, attacker, fetcher_for(p, a), genuine.issuer["id"], genuine.badge["id"])


def _attacker_assertion(world: World, badge, path: str = "/assertions/1", **extra) -> str:
    attacker = world.attacker
    assertion = attacker.ob2_assertion(attacker.url(path), badge, {"type": "HostedBadge"}, **extra)
    attacker.server.json(path, assertion)
    return attacker.url(path)


def _forged_issuer(world: World) -> dict:
    """A copy of the partner's issuer that widens its hosted policy to the attacker's origin."""
    return {"@context": OB2, "type": "Issuer", "id": world.issuer_id, "name": "Organisme Formation",
            "url": world.partner.url("/"), "email": "contact@example.org",
            "verification": {"type": "VerificationObject",
                             "allowedOrigins": [world.attacker.server.authority]}}


def _forged_badge(world: World, issuer) -> dict:
    return {"@context": OB2, "type": "BadgeClass", "id": world.badge_id, "name": "Premiers secours",
            "description": "Gestes de premiers secours", "image": world.partner.url("/badges/1/image.png"),
            "criteria": {"narrative": "Réussir la formation"}, "issuer": issuer}


def _refused(verdict, world: World) -> None:
    assert verdict.status.value in ("invalid", "unverifiable"), verdict.checks
    assert verdict.credential.issuer_id != world.issuer_id
    assert verdict.to_dict()["issuer"]["id"] is None


def test_the_partners_own_badge_is_valid_with_its_issuer(world):
    verdict = verify(world.partner.url("/assertions/1"), fetch=world.fetch, now=NOW, recipients=[RECIPIENT])
    assert verdict.status.value == "valid" and verdict.credential.issuer_id == world.issuer_id


def test_linked_badge_class_of_the_partner_on_another_host_is_invalid(world):
    url = _attacker_assertion(world, world.badge_id)
    verdict = verify(url, fetch=world.fetch, now=NOW)
    _refused(verdict, world)
    assert verdict.check("hosted_origin").params["reason"] == "origin"


def test_linked_documents_declaring_the_partners_ids_are_refetched_from_them(world):
    attacker = world.attacker
    attacker.server.json("/issuer", _forged_issuer(world))
    attacker.server.json("/bc", _forged_badge(world, attacker.url("/issuer")))
    url = _attacker_assertion(world, attacker.url("/bc"))
    verdict = verify(url, fetch=world.fetch, now=NOW)
    _refused(verdict, world)
    # The badge class was taken from the partner's own URL, and the partner's genuine issuer
    # (not the attacker's copy) decided the hosted origin.
    assert world.partner.server.hits["/badges/1"] == 1 and attacker.server.hits["/issuer"] == 0
    assert [c.params["reason"] for c in verdict.checks if c.id == "authority"] == ["refetch"]
    assert verdict.check("hosted_origin").params["reason"] == "origin"


def test_embedded_issuer_copy_widening_allowed_origins_is_ignored(world):
    attacker = world.attacker
    attacker.server.json("/bc", dict(_forged_badge(world, _forged_issuer(world)), id=attacker.url("/bc")))
    url = _attacker_assertion(world, attacker.url("/bc"))
    verdict = verify(url, fetch=world.fetch, now=NOW)
    _refused(verdict, world)
    assert world.partner.server.hits["/issuer"] >= 1
    assert verdict.check("hosted_origin").params["reason"] == "origin"


def test_embedded_badge_and_issuer_declaring_the_partners_ids_are_fetched_from_them(world):
    url = _attacker_assertion(world, _forged_badge(world, _forged_issuer(world)))
    verdict = verify(url, fetch=world.fetch, now=NOW)
    _refused(verdict, world)
    assert verdict.check("hosted_origin").params["reason"] == "origin"
    assert world.partner.server.hits["/badges/1"] == 1 and world.partner.server.hits["/issuer"] == 1


def test_pasted_assertion_embedding_the_partners_nodes_is_refused(world):
    badge = _forged_badge(world, _forged_issuer(world))
    url = _attacker_assertion(world, badge)
    pasted = world.attacker.ob2_assertion(url, badge, {"type": "HostedBadge"})
    verdict = verify(json.dumps(pasted), fetch=world.fetch, now=NOW)
    _refused(verdict, world)


def test_open_redirect_on_the_partners_site_does_not_lend_its_authority(world):
    """The attacker's copy declares the partner URL it was reached through: the final URL is the
    attacker's, so the copy says nothing about who it is."""
    partner, attacker = world.partner, world.attacker
    via = partner.url("/out?to=bc")
    partner.server.redirect("/out", attacker.url("/bc"))
    forged = dict(_forged_badge(world, _forged_issuer(world)), id=via)
    attacker.server.json("/bc", forged)
    url = _attacker_assertion(world, via)
    verdict = verify(url, fetch=world.fetch, now=NOW)
    _refused(verdict, world)
    assert verdict.check("authority").params["reason"] == "mismatch"


def test_a_redirect_that_lands_on_another_id_is_followed_to_that_id(world):
    """A document reached by a redirect that declares another id is taken from that id."""
    attacker = world.attacker
    attacker.server.redirect("/go", attacker.url("/bc"))
    attacker.server.json("/bc", _forged_badge(world, _forged_issuer(world)))
    url = _attacker_assertion(world, attacker.url("/go"))
    verdict = verify(url, fetch=world.fetch, now=NOW)
    _refused(verdict, world)
    assert world.partner.server.hits["/badges/1"] == 1


def test_a_copy_that_still_declares_another_id_is_invalid(world):
    attacker = world.attacker
    attacker.server.json("/bc1", dict(_forged_badge(world, world.issuer_id), id=attacker.url("/bc2")))
    attacker.server.json("/bc2", dict(_forged_badge(world, world.issuer_id), id=attacker.url("/bc3")))
    url = _attacker_assertion(world, attacker.url("/bc1"))
    verdict = verify(url, fetch=world.fetch, now=NOW)
    assert verdict.status.value == "invalid"
    assert [c.params["reason"] for c in verdict.checks if c.id == "authority"] == ["refetch", "mismatch"]


def test_embedded_node_whose_id_cannot_be_fetched_is_unverifiable(world):
    world.partner.server.route("/badges/1", b"", status=503)
    url = _attacker_assertion(world, _forged_badge(world, world.issuer_id))
    verdict = verify(url, fetch=world.fetch, now=NOW)
    assert verdict.status.value == "unverifiable" and verdict.credential.issuer_id is None


def test_signed_with_the_attackers_key_under_the_partners_declared_ids(world):
    from tests.fakes.badges import public_pem
    from wallet.openbadges.proofs import sign_jws

    attacker = world.attacker
    evil = rsa_key("attacker")
    attacker.server.json("/key", {"@context": OB2, "type": "CryptographicKey", "id": attacker.url("/key"),
                                  "owner": world.issuer_id, "publicKeyPem": public_pem(evil)})
    issuer = dict(_forged_issuer(world), publicKey=[attacker.url("/key")])
    for creator in (attacker.url("/key"), None):
        verification = {"type": "SignedBadge", **({"creator": creator} if creator else {})}
        claims = attacker.ob2_assertion("urn:uuid:7d0f7c2e-1111-4c7e-9a52-0d8a3f0e6b11",
                                        _forged_badge(world, issuer), verification)
        verdict = verify(sign_jws(claims, evil, "RS256"), fetch=world.fetch, now=NOW)
        _refused(verdict, world)
        assert verdict.status.value == "invalid"


def test_signed_key_document_must_be_the_one_at_its_own_id(world):
    """A genuine issuer lists its key URL; a copy of the key served elsewhere does not count."""
    from tests.fakes.badges import public_pem
    from wallet.openbadges.proofs import sign_jws

    partner = world.partner
    key = rsa_key()
    partner.ob2_signed(key=key)
    # The partner's key URL now redirects to a key document on the attacker's host.
    evil = rsa_key("attacker")
    world.attacker.server.json("/keys/1", {"@context": OB2, "type": "CryptographicKey",
                                           "id": partner.url("/keys/1"), "owner": partner.url("/issuer"),
                                           "publicKeyPem": public_pem(evil)})
    partner.server.redirect("/keys/1", world.attacker.url("/keys/1"))
    claims = partner.ob2_assertion("urn:uuid:9d0f7c2e-2222-4c7e-9a52-0d8a3f0e6b11", partner.url("/badges/1"),
                                   {"type": "SignedBadge", "creator": partner.url("/keys/1")})
    verdict = verify(sign_jws(claims, evil, "RS256"), fetch=world.fetch, now=NOW)
    assert verdict.status.value == "invalid" and verdict.check("authority").params["reason"] == "mismatch"


def test_revocation_list_not_at_its_own_id_leaves_the_status_unknown(world):
    partner = world.partner
    signed = partner.ob2_signed()
    partner.server.json("/revocations", {"@context": OB2, "type": "RevocationList",
                                         "id": world.attacker.url("/revocations"), "revokedAssertions": []})
    world.attacker.server.json("/revocations", {"@context": OB2, "type": "RevocationList",
                                                "id": world.attacker.url("/elsewhere"), "revokedAssertions": []})
    verdict = verify(signed.token, fetch=world.fetch, now=NOW)
    assert verdict.status.value == "unverifiable"
    assert verdict.credential.issuer_id == partner.url("/issuer")  # authentic: the issuer is known


def test_ob3_key_claiming_the_partner_as_controller_must_be_listed_by_the_partner(world):
    from wallet.openbadges.keys import multikey_from_ed25519

    partner, attacker = world.partner, world.attacker
    issuer_id, _ = partner.https_profile_issuer(ed_key("partner"), path="/profile")
    evil = ed_key("attacker")
    vm = attacker.url("/key#1")
    attacker.server.json("/key", {"@context": [VC2, "https://w3id.org/security/multikey/v1"],
                                  "id": attacker.url("/key"), "verificationMethod": [{
                                      "id": vm, "type": "Multikey", "controller": issuer_id,
                                      "publicKeyMultibase": multikey_from_ed25519(evil.public_key())}]})
    credential = attacker.achievement_credential({"id": issuer_id, "type": ["Profile"], "name": "Partenaire"})
    signed = attacker.sign_di(credential, evil, vm)
    verdict = verify(json.dumps(signed), fetch=world.fetch, now=NOW)
    assert verdict.status.value == "invalid" and verdict.credential.issuer_id is None
    assert verdict.check("key_owner").params["reason"] == "controller_unconfirmed"


def test_ob3_jwt_under_the_partners_id_with_a_key_it_does_not_publish(world):
    ob3 = world.partner.ob3_jwt(publish=False)   # a key named by `kid` under the partner's id
    world.partner.jwks()                         # the partner's key set does not hold it
    verdict = verify(ob3.text, fetch=world.fetch, now=NOW)
    assert verdict.status.value == "invalid" and verdict.credential.issuer_id is None
    assert verdict.check("key_owner").params["reason"] == "not_published"


@pytest.mark.parametrize("a, b, same", [
    ("https://x.example/a#key", "https://x.example/a", True),
    ("HTTPS://X.example:443/a", "https://x.example/a", True),
    ("http://x.example:80/", "http://x.example", True),
    ("https://x.example/a?b=1&obversion=2", "https://x.example/a?b=1", False),
    ("https://x.example/a", "http://x.example/a", False),
    ("https://x.example:8443/a", "https://x.example/a", False),
    ("https://x.example/A", "https://x.example/a", False),
])
def test_same_url_ignores_only_what_does_not_name_another_resource(a, b, same):
    assert same_url(a, b) is same and (normal_url(a) == normal_url(b)) is same


def test_expired_partner_badge_keeps_its_dates_and_issuer(world):
    partner = world.partner
    hosted = partner.ob2_hosted(path="/assertions/2", expires=NOW - timedelta(days=1))
    verdict = verify(hosted.url, fetch=world.fetch, now=NOW)
    assert verdict.status.value == "expired" and verdict.credential.issuer_id == world.issuer_id
    assert verdict.expires == iso(NOW - timedelta(days=1))


@pytest.mark.parametrize("kind", ["1edtech", "bitstring"])
def test_ob3_status_list_not_at_its_own_id_leaves_the_status_unknown(world, kind):
    partner, attacker = world.partner, world.attacker
    path = "/status/1edtech" if kind == "1edtech" else "/status/bits"
    status = partner.onedtech_list([]) if kind == "1edtech" else partner.bitstring_list(set())
    ob3 = partner.ob3_di(status=status)
    assert verify(ob3.text, fetch=world.fetch, now=NOW).status.value == "valid"
    # The partner's URL now serves a list that declares another id (the attacker's copy).
    if kind == "1edtech":
        attacker.onedtech_list([])
    else:
        attacker.bitstring_list(set())
    copy = world.fetch(attacker.url(path), "application/json")
    partner.server.route(path, copy.body, content_type=copy.content_type)
    verdict = verify(ob3.text, fetch=world.fetch, now=NOW)
    assert verdict.status.value == "unverifiable", verdict.checks
    assert [c.params["reason"] for c in verdict.checks if c.id == "revocation"] == ["list_not_at_its_id"]
