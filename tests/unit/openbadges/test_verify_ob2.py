"""OB 0.5–2.0 verification against real loopback servers: hosted and signed badges."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import pytest

from tests.fakes.badges import NOW, OB2, RECIPIENT, BadgeFactory, fetcher_for, iso
from tests.fakes.server import FakeServer
from wallet.openbadges import verify


@pytest.fixture
def factory(fake_server):
    return BadgeFactory(fake_server)


def failing(verdict, check_id):
    return [c for c in verdict.checks if c.id == check_id and not c.ok]


# --- hosted ---------------------------------------------------------------------------------------

def test_hosted_badge_from_its_url_is_valid(factory):
    hosted = factory.ob2_hosted()
    verdict = verify(hosted.url, fetch=factory.fetch, now=NOW)
    data = verdict.to_dict()
    assert data["status"] == "valid" and data["valid"] is True
    assert data["version"] == "2.0" and data["proof"] == "hosted"
    assert data["id"] == hosted.url
    assert data["badge"]["name"] == "Premiers secours"
    assert data["badge"]["alignments"] == [{"name": "Compétence A", "url": "https://ref.example/a",
                                            "framework": "Région", "code": "A1"}]
    assert data["issuer"] == {"id": hosted.issuer["id"], "name": "Organisme Formation",
                              "url": factory.url("/")}
    assert data["issued_on"] == hosted.assertion["issuedOn"]
    assert data["recipient"] == {"type": "email", "hashed": True, "matched": None}
    assert verdict.credential.source_format == "url" and verdict.credential.original == hosted.url


def test_submitted_json_only_identifies_the_url(factory):
    """The issuer's copy counts, not the submitted one (PROTOCOLS.md §2.1 step 1)."""
    hosted = factory.ob2_hosted()
    forged = dict(hosted.assertion, recipient={"type": "email", "hashed": False, "identity": "eve@example.org"})
    text = json.dumps(forged)
    verdict = verify(text, fetch=factory.fetch, now=NOW, recipients=["eve@example.org"])
    assert verdict.status.value == "valid"
    assert verdict.to_dict()["recipient"]["matched"] is False
    assert verdict.credential.original == text and verdict.credential.source_format == "json"


def test_hashed_recipient_is_matched_and_kept_out_of_the_json(factory):
    hosted = factory.ob2_hosted()
    verdict = verify(hosted.url, fetch=factory.fetch, now=NOW, recipients=["other@example.org", "ANA@example.org"])
    assert verdict.recipient_matched is True
    assert verdict.matched_identity == "ANA@example.org"
    assert "ANA@example.org" not in json.dumps(verdict.to_dict())


def test_wrong_recipient_does_not_change_the_status(factory):
    hosted = factory.ob2_hosted()
    verdict = verify(hosted.url, fetch=factory.fetch, now=NOW, recipients=["bob@example.org"])
    assert verdict.status.value == "valid"
    assert verdict.to_dict()["recipient"]["matched"] is False
    assert failing(verdict, "recipient")[0].level.value == "warning"


def test_gone_assertion_is_revoked(factory):
    hosted = factory.ob2_hosted()
    factory.server.route("/assertions/1", status=410)
    verdict = verify(hosted.url, fetch=factory.fetch, now=NOW)
    assert verdict.status.value == "revoked"
    assert failing(verdict, "revocation")[0].params["http_status"] == 410


def test_revoked_true_is_revoked_with_its_reason(factory):
    hosted = factory.ob2_hosted()
    factory.server.json("/assertions/1", {"id": hosted.url, "revoked": True, "revocationReason": "Fraude"})
    verdict = verify(hosted.url, fetch=factory.fetch, now=NOW)
    assert verdict.status.value == "revoked"
    check = failing(verdict, "revocation")[0]
    assert check.params["revocationReason"] == "Fraude"
    assert "Fraude" in check.to_dict("fr")["message"]


def test_expired_hosted_badge(factory):
    hosted = factory.ob2_hosted(expires=NOW - timedelta(days=1))
    verdict = verify(hosted.url, fetch=factory.fetch, now=NOW)
    assert verdict.status.value == "expired"
    assert verdict.expires == iso(NOW - timedelta(days=1))


def test_issued_in_the_future_is_invalid(factory):
    hosted = factory.ob2_hosted(issued_on=NOW + timedelta(hours=1))
    verdict = verify(hosted.url, fetch=factory.fetch, now=NOW)
    assert verdict.status.value == "invalid"
    assert failing(verdict, "dates")[0].params["reason"] == "issued_in_future"


def test_issued_within_the_leeway_is_valid(factory):
    hosted = factory.ob2_hosted(issued_on=NOW + timedelta(seconds=30))
    assert verify(hosted.url, fetch=factory.fetch, now=NOW).status.value == "valid"


def test_assertion_hosted_on_another_origin_is_invalid(fake_server):
    """SECURITY.md T25: a forged assertion claiming a trusted issuer."""
    with FakeServer() as attacker:
        factory = BadgeFactory(fake_server)
        hosted = factory.ob2_hosted()
        forged = dict(hosted.assertion, id=attacker.url("/a/1"))
        attacker.json("/a/1", forged)
        verdict = verify(attacker.url("/a/1"), fetch=fetcher_for(fake_server, attacker), now=NOW)
    assert verdict.status.value == "invalid"
    check = failing(verdict, "hosted_origin")[0]
    assert check.params["reason"] == "origin" and check.params["origin"] == attacker.authority


def test_allowed_origins_policy_admits_another_origin(fake_server):
    with FakeServer() as other:
        factory = BadgeFactory(fake_server)
        hosted = factory.ob2_hosted(issuer_extra={"verification": {
            "type": "VerificationObject", "allowedOrigins": [other.authority]}})
        other.json("/a/1", dict(hosted.assertion, id=other.url("/a/1")))
        verdict = verify(other.url("/a/1"), fetch=fetcher_for(fake_server, other), now=NOW)
    assert verdict.status.value == "valid"


def test_starts_with_policy_is_enforced(factory):
    hosted = factory.ob2_hosted(issuer_extra={"verification": {
        "type": "VerificationObject", "startsWith": factory.url("/official/")}})
    verdict = verify(hosted.url, fetch=factory.fetch, now=NOW)
    assert verdict.status.value == "invalid"
    assert failing(verdict, "hosted_origin")[0].params["reason"] == "starts_with"
    ok = factory.ob2_hosted("/official/1", issuer_extra={"verification": {
        "type": "VerificationObject", "startsWith": [factory.url("/official/")]}})
    assert verify(ok.url, fetch=factory.fetch, now=NOW).status.value == "valid"


def test_issuer_down_is_unverifiable():
    with FakeServer() as server:
        factory = BadgeFactory(server)
        hosted = factory.ob2_hosted()
    verdict = verify(json.dumps(hosted.assertion), fetch=factory.fetch, now=NOW)
    assert verdict.status.value == "unverifiable"
    assert failing(verdict, "fetch")[0].params["url"] == hosted.url
    assert verdict.issued_on is None  # never reported from unauthenticated data


@pytest.mark.parametrize("status, expected", [(500, "unverifiable"), (503, "unverifiable"),
                                              (429, "unverifiable"), (408, "unverifiable"),
                                              (404, "invalid"), (403, "invalid")])
def test_badgeclass_5xx_is_unverifiable_and_4xx_invalid(factory, status, expected):
    hosted = factory.ob2_hosted()
    factory.server.route("/badges/1", status=status)
    verdict = verify(hosted.url, fetch=factory.fetch, now=NOW)
    assert verdict.status.value == expected
    assert failing(verdict, "fetch")[0].params["status"] == status


def test_assertion_404_is_invalid_and_500_unverifiable(factory):
    hosted = factory.ob2_hosted()
    factory.server.route("/assertions/1", status=404)
    assert verify(hosted.url, fetch=factory.fetch, now=NOW).status.value == "invalid"
    other = factory.ob2_hosted("/assertions/2")
    factory.server.route("/assertions/2", status=502)
    assert verify(other.url, fetch=factory.fetch, now=NOW).status.value == "unverifiable"


@pytest.mark.parametrize("status", [429, 408])
def test_assertion_rate_limited_or_timed_out_is_unverifiable_not_invalid(factory, status):
    """A partner's server saying "not now" (429, 408) must not turn a real badge "Invalide"."""
    hosted = factory.ob2_hosted()
    factory.server.route("/assertions/1", status=status)
    verdict = verify(hosted.url, fetch=factory.fetch, now=NOW)
    assert verdict.status.value == "unverifiable"
    assert failing(verdict, "fetch")[0].params["status"] == status


def test_declared_id_is_refetched_once(factory):
    hosted = factory.ob2_hosted()
    factory.server.json("/alias", hosted.assertion)  # declares /assertions/1
    verdict = verify(factory.url("/alias"), fetch=factory.fetch, now=NOW)
    assert verdict.status.value == "valid"
    assert verdict.credential.id == hosted.url
    assert factory.server.hits["/assertions/1"] == 1


def test_second_id_mismatch_is_invalid(factory):
    hosted = factory.ob2_hosted()
    factory.server.json("/alias", hosted.assertion)
    factory.server.json("/assertions/1", dict(hosted.assertion, id=factory.url("/assertions/elsewhere")))
    verdict = verify(factory.url("/alias"), fetch=factory.fetch, now=NOW)
    assert verdict.status.value == "invalid"
    assert [c.params["reason"] for c in failing(verdict, "hosted_id")] == ["refetch", "mismatch"]
    assert factory.server.hits["/assertions/elsewhere"] == 0


def test_missing_required_field_names_it(factory):
    hosted = factory.ob2_hosted(badge_extra={"description": ""})
    verdict = verify(hosted.url, fetch=factory.fetch, now=NOW)
    assert verdict.status.value == "invalid"
    assert failing(verdict, "structure")[0].params["field"] == "BadgeClass.description"


def test_badge_json_without_hosted_url_is_invalid():
    doc = {"@context": OB2, "type": "Assertion", "id": "urn:uuid:1", "badge": "urn:x",
           "recipient": {"type": "email", "hashed": False, "identity": RECIPIENT},
           "verification": {"type": "HostedBadge"}, "issuedOn": "2024-01-01T00:00:00Z"}
    verdict = verify(json.dumps(doc), now=NOW)
    assert verdict.status.value == "invalid"
    assert failing(verdict, "structure")[0].params["reason"] == "no_hosted_url"


def test_unknown_extension_context_is_only_a_warning(factory):
    hosted = factory.ob2_hosted(badge_extra={"extensions:x": {
        "@context": "https://example.org/unknown-extension/context.json", "type": ["Extension"]}})
    verdict = verify(hosted.url, fetch=factory.fetch, now=NOW)
    assert verdict.status.value == "valid"
    warning = failing(verdict, "context")[0]
    assert warning.level.value == "warning"
    assert warning.params["url"] == "https://example.org/unknown-extension/context.json"


def test_legacy_1_0_hosted_badge_is_upgraded(factory):
    server = factory.server
    issuer = {"name": "Vieil Émetteur", "url": factory.url("/"), "email": "a@example.org"}
    badge = {"name": "Ancien badge", "description": "OB 1.0", "image": factory.url("/img.png"),
             "criteria": factory.url("/criteria"), "issuer": factory.url("/v1/issuer")}
    assertion = {"uid": "abc", "recipient": factory.recipient(), "badge": factory.url("/v1/badge"),
                 "verify": {"type": "hosted", "url": factory.url("/v1/assertion")},
                 "issuedOn": int((NOW - timedelta(days=3)).timestamp())}
    server.json("/v1/issuer", issuer, content_type="application/json")
    server.json("/v1/badge", badge, content_type="application/json")
    server.json("/v1/assertion", assertion, content_type="application/json")
    verdict = verify(json.dumps(assertion), fetch=factory.fetch, now=NOW, recipients=[RECIPIENT])
    data = verdict.to_dict("en")
    assert data["status"] == "valid" and data["version"] == "1.0"
    assert data["badge"]["name"] == "Ancien badge" and data["badge"]["criteria"]["url"] == factory.url("/criteria")
    assert data["issued_on"] == iso(NOW - timedelta(days=3))
    assert data["recipient"]["matched"] is True


# --- signed ---------------------------------------------------------------------------------------

def test_signed_badge_is_valid(factory):
    signed = factory.ob2_signed()
    verdict = verify(signed.token, fetch=factory.fetch, now=NOW, recipients=[RECIPIENT])
    data = verdict.to_dict()
    assert data["status"] == "valid" and data["proof"] == "signed"
    assert data["recipient"]["matched"] is True
    assert verdict.credential.source_format == "jws"


def test_signed_badge_key_taken_from_issuer_public_keys(factory):
    signed = factory.ob2_signed(creator=False)
    assert verify(signed.token, fetch=factory.fetch, now=NOW).status.value == "valid"


def _tamper(token: str, **changes) -> str:
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims.update(changes)
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{forged}.{signature}"


def test_tampered_signed_badge_is_invalid(factory):
    signed = factory.ob2_signed()
    verdict = verify(_tamper(signed.token, issuedOn="2020-01-01T00:00:00Z"), fetch=factory.fetch, now=NOW)
    assert verdict.status.value == "invalid"
    assert failing(verdict, "proof")[0].params["reason"] == "bad_signature"


def test_key_not_listed_by_the_issuer_is_invalid(factory):
    signed = factory.ob2_signed(listed=False)
    verdict = verify(signed.token, fetch=factory.fetch, now=NOW)
    assert verdict.status.value == "invalid"
    assert failing(verdict, "key_owner")[0].params["reason"] == "not_listed"


def test_key_owned_by_someone_else_is_invalid(factory):
    signed = factory.ob2_signed(owner="https://attacker.example/issuer")
    verdict = verify(signed.token, fetch=factory.fetch, now=NOW)
    assert verdict.status.value == "invalid"
    assert failing(verdict, "key_owner")[0].params["reason"] == "owner_mismatch"


@pytest.mark.parametrize("entry", ["id", "object"])
def test_signed_badge_in_revocation_list_is_revoked(factory, entry):
    aid = "urn:uuid:2f6c2c0c-1f7a-4b8e-9a52-0d8a3f0e6b11"
    revoked = aid if entry == "id" else {"id": aid, "revocationReason": "Erreur"}
    signed = factory.ob2_signed(revoked=(revoked,))
    verdict = verify(signed.token, fetch=factory.fetch, now=NOW)
    assert verdict.status.value == "revoked"
    if entry == "object":
        assert failing(verdict, "revocation")[0].params["revocationReason"] == "Erreur"


def test_revoked_wins_over_expired(factory):
    aid = "urn:uuid:2f6c2c0c-1f7a-4b8e-9a52-0d8a3f0e6b11"
    signed = factory.ob2_signed(revoked=(aid,), expires=NOW - timedelta(days=1))
    assert verify(signed.token, fetch=factory.fetch, now=NOW).status.value == "revoked"


def test_revocation_list_down_is_unverifiable_but_dated(factory):
    signed = factory.ob2_signed()
    factory.server.route("/revocations", status=500)
    verdict = verify(signed.token, fetch=factory.fetch, now=NOW)
    assert verdict.status.value == "unverifiable"
    assert [c.id for c in verdict.checks if c.id == "proof" and c.ok]  # authentic
    assert verdict.issued_on is not None


def test_expired_beats_unknown_revocation_status(factory):
    signed = factory.ob2_signed(expires=NOW - timedelta(days=1))
    factory.server.route("/revocations", status=500)
    assert verify(signed.token, fetch=factory.fetch, now=NOW).status.value == "expired"


def test_signing_key_unreachable_is_unverifiable(factory):
    signed = factory.ob2_signed()
    factory.server.route("/keys/1", status=503)
    assert verify(signed.token, fetch=factory.fetch, now=NOW).status.value == "unverifiable"


def test_offline_hosted_badge_is_unverifiable(factory):
    hosted = factory.ob2_hosted()
    verdict = verify(json.dumps(hosted.assertion), fetch=None, now=NOW)
    assert verdict.status.value == "unverifiable"
    assert failing(verdict, "fetch")[0].params["reason"] == "offline"
    assert factory.server.hits["/assertions/1"] == 0


def test_legacy_0_5_hosted_badge(factory):
    from wallet.openbadges.identity import hash_identity

    doc = {"recipient": hash_identity(RECIPIENT, "pepper"), "salt": "pepper", "issued_on": "2013-02-18",
           "badge": {"version": "0.5.0", "name": "Très ancien", "image": factory.url("/i.png"),
                     "description": "OB 0.5", "criteria": factory.url("/criteria"),
                     "issuer": {"origin": factory.url("").rstrip("/"), "name": "Pionnier",
                                "contact": "a@example.org"}}}
    factory.server.json("/old.json", doc, content_type="application/json")
    verdict = verify(factory.url("/old.json"), fetch=factory.fetch, now=NOW, recipients=[RECIPIENT])
    data = verdict.to_dict()
    assert data["status"] == "valid" and data["version"] == "0.5"
    assert data["issuer"]["name"] == "Pionnier" and data["recipient"]["matched"] is True


def test_verification_policy_given_as_an_iri_is_fetched(factory):
    factory.server.json("/policy", {"type": "VerificationObject", "allowedOrigins": "elsewhere.example"})
    hosted = factory.ob2_hosted(issuer_extra={"verification": factory.url("/policy")})
    verdict = verify(hosted.url, fetch=factory.fetch, now=NOW)
    assert verdict.status.value == "invalid"
    assert failing(verdict, "hosted_origin")[0].params["allowed"] == ["elsewhere.example"]
    assert factory.server.hits["/policy"] == 1
