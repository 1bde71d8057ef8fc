"""OB 3.0 verification: Data Integrity (VCDM 2.0 and 1.1), VC-JWT (RS256, ES256), key
provenance, status lists and dates, against real loopback servers."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from tests.fakes.badges import NOW, RECIPIENT, BadgeFactory, ed_key
from wallet.openbadges import verify


@pytest.fixture
def factory(fake_server):
    return BadgeFactory(fake_server)


def failing(verdict, check_id):
    return [c for c in verdict.checks if c.id == check_id and not c.ok]


def run(factory, source, **kwargs):
    kwargs.setdefault("now", NOW)
    kwargs.setdefault("contexts", factory.store)
    return verify(source, fetch=factory.fetch, **kwargs)


# --- Data Integrity -------------------------------------------------------------------------------

@pytest.mark.parametrize("vcdm", ["2.0", "1.1"])
@pytest.mark.parametrize("issuer_kind", ["did:key", "https"])
def test_data_integrity_credential_is_valid(factory, vcdm, issuer_kind):
    badge = factory.ob3_di(vcdm=vcdm, issuer_kind=issuer_kind)
    verdict = run(factory, badge.text.encode(), recipients=[RECIPIENT])
    data = verdict.to_dict()
    assert data["status"] == "valid", verdict.checks
    assert data["version"] == "3.0" and data["proof"] == "eddsa-rdfc-2022"
    assert data["badge"]["name"] == "Travail en équipe" and data["badge"]["tags"] == ["coopération"]
    assert data["badge"]["image"] == factory.url("/achievements/1/image.png")
    assert data["issuer"]["id"] == badge.issuer_id
    assert data["recipient"] == {"type": "email", "hashed": True, "matched": True}


def test_offline_did_key_credential_is_still_valid(factory):
    badge = factory.ob3_di()
    verdict = verify(badge.text, fetch=None, now=NOW)  # the default context store
    assert verdict.status.value == "valid"
    assert factory.server.hits == {}


def test_tampered_credential_is_invalid(factory):
    badge = factory.ob3_di()
    forged = json.loads(badge.text)
    forged["credentialSubject"]["achievement"]["name"] = "Expert certifié"
    verdict = run(factory, json.dumps(forged))
    assert verdict.status.value == "invalid"
    assert failing(verdict, "proof")[0].params["reason"] == "bad_signature"
    assert verdict.issued_on is None


def test_key_not_controlled_by_the_issuer_is_invalid(factory):
    """A valid signature by someone else's key, the issuer field pointing elsewhere."""
    key = ed_key()
    _, vm = factory.did_key_issuer(key)
    issuer = {"id": factory.url("/issuers/1"), "type": ["Profile"], "name": "Région"}
    signed = factory.sign_di(factory.achievement_credential(issuer), key, vm)
    verdict = run(factory, json.dumps(signed))
    assert verdict.status.value == "invalid"
    assert failing(verdict, "key_owner")[0].params["reason"] == "controller_mismatch"


def test_https_key_whose_controller_is_another_issuer_is_invalid(factory):
    key = ed_key()
    issuer_id, vm = factory.https_profile_issuer(key, controller="https://attacker.example/me")
    issuer = {"id": issuer_id, "type": ["Profile"], "name": "Région"}
    signed = factory.sign_di(factory.achievement_credential(issuer), key, vm)
    assert run(factory, json.dumps(signed)).status.value == "invalid"


def test_unknown_proof_context_is_unverifiable_naming_the_url(factory):
    badge = factory.ob3_di()
    doc = json.loads(badge.text)
    doc["@context"].append("https://example.org/contexts/unknown-v1.json")
    verdict = run(factory, json.dumps(doc))
    assert verdict.status.value == "unverifiable"
    check = failing(verdict, "context")[0]
    assert check.params["url"] == "https://example.org/contexts/unknown-v1.json"
    assert "https://example.org/contexts/unknown-v1.json" in check.to_dict("en")["message"]


def test_key_document_unreachable_is_unverifiable(factory):
    badge = factory.ob3_di(issuer_kind="https")
    factory.server.route("/issuers/1", status=500)
    assert run(factory, badge.text).status.value == "unverifiable"


def test_credential_without_proof_is_invalid(factory):
    doc = json.loads(factory.ob3_di().text)
    del doc["proof"]
    verdict = run(factory, json.dumps(doc))
    assert verdict.status.value == "invalid" and verdict.proof == "none"


@pytest.mark.parametrize("mutate, field", [
    (lambda d: d["@context"].reverse(), "@context[0]"),
    (lambda d: d["credentialSubject"]["achievement"].pop("criteria"), "credentialSubject.achievement.criteria"),
    (lambda d: d["credentialSubject"].pop("identifier"), "credentialSubject.id | credentialSubject.identifier"),
    (lambda d: d.pop("validFrom"), "validFrom"),
])
def test_malformed_credential_names_the_field(factory, mutate, field):
    doc = json.loads(factory.ob3_di().text)
    mutate(doc)
    verdict = run(factory, json.dumps(doc))
    assert verdict.status.value == "invalid"
    assert failing(verdict, "structure")[0].params["field"] == field


# --- VC-JWT ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("alg", ["RS256", "ES256"])
@pytest.mark.parametrize("vcdm", ["2.0", "1.1"])
def test_vc_jwt_is_valid(factory, alg, vcdm):
    badge = factory.ob3_jwt(alg=alg, vcdm=vcdm)
    verdict = run(factory, badge.text, recipients=[RECIPIENT])
    assert verdict.status.value == "valid", verdict.checks
    assert verdict.proof == "vc-jwt"
    assert verdict.recipient_matched is True
    assert factory.server.hits["/.well-known/jwks.json"] == 1


def test_vc_jwt_with_published_jwk_header_is_valid(factory):
    badge = factory.ob3_jwt(header="jwk")
    assert run(factory, badge.text).status.value == "valid"


def test_vc_jwt_key_not_published_is_invalid(factory):
    badge = factory.ob3_jwt(header="jwk", publish=False)
    factory.jwks()  # an empty key set
    verdict = run(factory, badge.text)
    assert verdict.status.value == "invalid"
    assert failing(verdict, "key_owner")[0].params["reason"] == "not_published"


def test_vc_jwt_without_any_jwks_is_invalid(factory):
    badge = factory.ob3_jwt(publish=False)
    assert run(factory, badge.text).status.value == "invalid"


def test_vc_jwt_published_for_another_issuer_is_invalid(factory):
    badge = factory.ob3_jwt(jwk_extra={"iss": "https://other.example/issuer"})
    verdict = run(factory, badge.text)
    assert verdict.status.value == "invalid"
    assert failing(verdict, "key_owner")[0].params["reason"] == "iss_mismatch"


def test_vc_jwt_jwks_server_error_is_unverifiable(factory):
    badge = factory.ob3_jwt()
    factory.server.route("/.well-known/jwks.json", status=503)
    assert run(factory, badge.text).status.value == "unverifiable"


@pytest.mark.parametrize("claim", ["iss", "jti", "sub", "nbf"])
def test_vc_jwt_claims_must_match_the_credential(factory, claim):
    value = 12345 if claim == "nbf" else "urn:other"
    badge = factory.ob3_jwt(claims_extra={claim: value})
    verdict = run(factory, badge.text)
    assert verdict.status.value == "invalid"
    assert failing(verdict, "proof")[0].params["claim"] == claim


def test_tampered_vc_jwt_is_invalid(factory):
    badge = factory.ob3_jwt()
    header, payload, signature = badge.text.split(".")
    flipped = signature[:-2] + ("A" if signature[-2] != "A" else "B") + signature[-1]
    verdict = run(factory, f"{header}.{payload}.{flipped}")
    assert verdict.status.value == "invalid"


def test_jwt_with_alg_none_is_an_invalid_badge(factory):
    import base64

    badge = factory.ob3_jwt()
    _, payload, _ = badge.text.split(".")
    header = base64.urlsafe_b64encode(b'{"alg":"none"}').rstrip(b"=").decode()
    verdict = run(factory, f"{header}.{payload}.c2ln")
    assert verdict.status.value == "invalid"
    assert failing(verdict, "proof")[0].params["reason"] == "refused_jws"


def test_one_valid_proof_is_enough(factory):
    """A DI proof inside a VC-JWT whose key is not published: the DI proof carries it."""
    from wallet.openbadges.proofs import sign_jws

    di = factory.ob3_di()
    token = sign_jws(di.credential, factory.ob3_jwt(publish=False).extra["key"], "RS256", kid="key-1")
    factory.jwks()
    verdict = run(factory, token)
    assert verdict.status.value == "valid"
    assert verdict.proof == "eddsa-rdfc-2022"
    assert [c.level.value for c in failing(verdict, "key_owner")] == ["warning"]


# --- status lists ---------------------------------------------------------------------------------

@pytest.mark.parametrize("key_name", ["revokedCredentials", "revokedCredential"])
def test_1edtech_revocation_list_revokes(factory, key_name):
    status = factory.onedtech_list(["urn:uuid:5b4a2c1e-8e0b-4d1c-9f2a-7c6d5e4f3a21"], key_name)
    badge = factory.ob3_di(status=status)
    verdict = run(factory, badge.text)
    assert verdict.status.value == "revoked"
    assert failing(verdict, "revocation")[0].params["revocationReason"] == "Erreur d'attribution"


def test_1edtech_list_without_the_credential_is_valid(factory):
    badge = factory.ob3_di(status=factory.onedtech_list(["urn:uuid:someone-else"]))
    assert run(factory, badge.text).status.value == "valid"


def test_1edtech_list_down_is_unverifiable(factory):
    status = factory.onedtech_list([])
    factory.server.route("/status/1edtech", status=500)
    badge = factory.ob3_di(status=status)
    assert run(factory, badge.text).status.value == "unverifiable"


@pytest.mark.parametrize("purpose, expected", [("revocation", "revoked"), ("suspension", "suspended")])
def test_bitstring_status_list(factory, purpose, expected):
    badge = factory.ob3_di(status=factory.bitstring_list({42}, purpose=purpose, index=42))
    assert run(factory, badge.text).status.value == expected


def test_bitstring_bit_not_set_is_valid(factory):
    badge = factory.ob3_di(status=factory.bitstring_list({41, 43}, index=42))
    verdict = run(factory, badge.text)
    assert verdict.status.value == "valid"


def test_tampered_status_list_is_unverifiable(factory):
    badge = factory.ob3_di(status=factory.bitstring_list({42}, index=42, tamper=True))
    verdict = run(factory, badge.text)
    assert verdict.status.value == "unverifiable"
    assert failing(verdict, "revocation")[0].params["reason"] == "list_not_authentic"


def test_expired_status_list_is_unverifiable(factory):
    status = factory.bitstring_list(set(), index=42, valid_until=NOW - timedelta(hours=1))
    badge = factory.ob3_di(status=status)
    assert run(factory, badge.text).status.value == "unverifiable"


def test_revocation_not_reported_for_unauthentic_credential(factory):
    status = factory.onedtech_list(["urn:uuid:5b4a2c1e-8e0b-4d1c-9f2a-7c6d5e4f3a21"])
    doc = json.loads(factory.ob3_di(status=status).text)
    doc["name"] = "changed"
    verdict = run(factory, json.dumps(doc))
    assert verdict.status.value == "invalid"
    assert factory.server.hits["/status/1edtech"] == 0


# --- dates ----------------------------------------------------------------------------------------

def test_expired_credential(factory):
    badge = factory.ob3_di(valid_until=NOW - timedelta(days=1))
    verdict = run(factory, badge.text)
    assert verdict.status.value == "expired"
    assert failing(verdict, "dates")[0].params["reason"] == "expired"


def test_not_yet_valid_credential(factory):
    badge = factory.ob3_di(valid_from=NOW + timedelta(days=2))
    assert run(factory, badge.text).status.value == "not_yet_valid"


def test_expired_vc_jwt_vcdm_1_1(factory):
    badge = factory.ob3_jwt(vcdm="1.1", valid_until=NOW - timedelta(days=1))
    assert run(factory, badge.text).status.value == "expired"


def test_revoked_wins_over_expired(factory):
    badge = factory.ob3_di(valid_until=NOW - timedelta(days=1), status=factory.bitstring_list({42}, index=42))
    assert run(factory, badge.text).status.value == "revoked"


def test_wrong_recipient_keeps_status_valid(factory):
    badge = factory.ob3_di()
    verdict = run(factory, badge.text, recipients=["bob@example.org"])
    assert verdict.status.value == "valid" and verdict.recipient_matched is False
    assert verdict.matched_identity is None


def test_mailto_subject_id_matches(factory):
    badge = factory.ob3_di(subject_id="mailto:Ana@Example.org", email="someone@example.org")
    verdict = run(factory, badge.text, recipients=[RECIPIENT.upper()])
    assert verdict.recipient_matched is True


def test_vc_jwt_exp_claim_counts_when_the_credential_has_no_end_date(factory):
    badge = factory.ob3_jwt(claims_extra={"exp": int((NOW - timedelta(days=1)).timestamp())})
    assert run(factory, badge.text).status.value == "expired"
