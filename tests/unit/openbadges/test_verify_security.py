"""SECURITY.md rows A–D as they concern the verifier: contexts never fetched, forged keys,
refused JWS algorithms, blocked URLs, recipient hash tricks, hostile shapes."""

from __future__ import annotations

import base64
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fakes.badges import NOW, OB2, RECIPIENT, BadgeFactory, rsa_key
from wallet.openbadges import BadgeInputError, Verdict, verify
from wallet.openbadges.identity import hash_identity


@pytest.fixture
def factory(fake_server):
    return BadgeFactory(fake_server)


def test_t22_an_ob2_extension_context_is_never_fetched(factory):
    ctx = factory.url("/ctx.json")
    factory.server.json("/ctx.json", {"@context": {}})
    hosted = factory.ob2_hosted(badge_extra={"@context": [OB2, ctx]})
    verdict = verify(hosted.url, fetch=factory.fetch, now=NOW)
    assert verdict.status.value == "valid"
    assert factory.server.hits["/ctx.json"] == 0


def test_t22_a_proof_context_is_never_fetched(factory):
    ctx = factory.url("/ctx.json")
    factory.server.json("/ctx.json", {"@context": {}})
    doc = json.loads(factory.ob3_di().text)
    doc["@context"].append(ctx)
    verdict = verify(json.dumps(doc), fetch=factory.fetch, now=NOW)
    assert verdict.status.value == "unverifiable"
    assert factory.server.hits["/ctx.json"] == 0


def test_t23_contradictory_inline_context_is_invalid(factory):
    hosted = factory.ob2_hosted()
    factory.server.json("/assertions/1", dict(hosted.assertion, **{"@context": [OB2, {"badge": "@id"}]}))
    verdict = verify(hosted.url, fetch=factory.fetch, now=NOW)
    assert verdict.status.value == "invalid"
    assert [c.params["reason"] for c in verdict.checks if c.id == "context"] == ["unreadable"]


def test_t23_inline_context_that_moves_a_term_away_is_read_as_json_ld_says(factory):
    """`badge` redefined to another vocabulary is no longer the OB badge: the assertion lacks one."""
    hosted = factory.ob2_hosted()
    factory.server.json("/assertions/1", dict(hosted.assertion, **{
        "@context": [OB2, {"badge": {"@id": "http://evil.example/badge", "@type": "@id"}}]}))
    verdict = verify(hosted.url, fetch=factory.fetch, now=NOW)
    assert verdict.status.value == "invalid"
    assert verdict.check("structure").params["field"] == "Assertion.badge"
    assert [c.params["reason"] for c in verdict.checks if c.id == "context"] == ["inline_read"]


def test_t23_harmless_inline_context_is_read(factory):
    hosted = factory.ob2_hosted()
    factory.server.json("/assertions/1", dict(hosted.assertion, **{
        "@context": [OB2, {"note": "http://example.org/note"}], "note": "hello"}))
    verdict = verify(hosted.url, fetch=factory.fetch, now=NOW)
    assert verdict.status.value == "valid"


@pytest.mark.parametrize("identity, salt", [
    (hash_identity("other@x.fr", "s4lt"), "s4lt"),          # someone else's badge
    (hash_identity(RECIPIENT, "other-salt"), "s4lt"),        # wrong salt
    ("other@x.fr", None),                                   # plaintext, someone else
])
def test_t26_someone_elses_badge_is_not_matched(factory, identity, salt):
    recipient = {"type": "email", "hashed": "$" in identity, "identity": identity}
    if salt:
        recipient["salt"] = salt
    hosted = factory.ob2_hosted(recipient=recipient)
    verdict = verify(hosted.url, fetch=factory.fetch, now=NOW, recipients=[RECIPIENT])
    assert verdict.status.value == "valid" and verdict.recipient_matched is False


def test_t26_md5_hash_is_matched(factory):
    hosted = factory.ob2_hosted(recipient={"type": "email", "hashed": True,
                                           "identity": hash_identity(RECIPIENT, None, "md5").upper().replace("MD5$", "md5$")})
    assert verify(hosted.url, fetch=factory.fetch, now=NOW, recipients=[RECIPIENT]).recipient_matched is True


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


@pytest.mark.parametrize("header", [{"alg": "HS256"}, {"alg": "none"},
                                    {"alg": "RS256", "crit": ["cnf"], "cnf": 1},
                                    {"alg": "RS256", "jku": "https://evil.example/jwks"}])
def test_t28_refused_jws_headers_make_an_invalid_badge(factory, header):
    signed = factory.ob2_signed()
    _, payload, signature = signed.token.split(".")
    verdict = verify(f"{_b64(header)}.{payload}.{signature}", fetch=factory.fetch, now=NOW)
    assert verdict.status.value == "invalid"
    assert factory.server.hits["/keys/1"] == 0


def test_t28_attacker_jwk_header_is_not_trusted(factory):
    from wallet.openbadges.keys import jwk_from_public_key
    from wallet.openbadges.proofs import sign_jws

    genuine = factory.ob3_jwt()  # publishes the issuer's real key
    attacker = rsa_key("attacker")
    forged = sign_jws(dict(genuine.credential, iss=genuine.issuer_id), attacker, "RS256",
                      jwk=jwk_from_public_key(attacker.public_key()))
    verdict = verify(forged, fetch=factory.fetch, now=NOW, contexts=factory.store)
    assert verdict.status.value == "invalid"


def test_t12_blocked_url_is_unverifiable_and_never_contacted(factory):
    hosted = factory.ob2_hosted()
    doc = dict(hosted.assertion, id="https://169.254.169.254/latest/meta-data/")
    verdict = verify(json.dumps(doc), fetch=factory.fetch, now=NOW)
    assert verdict.status.value == "unverifiable"
    assert [c.params["reason"] for c in verdict.checks if c.id == "fetch"] == ["blocked"]


def test_refresh_service_is_never_followed(factory):
    badge = factory.ob3_di(refreshService={"id": factory.url("/refresh"), "type": "1EdTechCredentialRefresh"})
    verdict = verify(badge.text, fetch=factory.fetch, now=NOW, contexts=factory.store)
    assert verdict.status.value == "valid"
    assert factory.server.hits["/refresh"] == 0


JSON_VALUES = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=20),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                                         max_size=3),
                           max_leaves=8)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(path=st.sampled_from([(), ("credentialSubject",), ("credentialSubject", "achievement"), ("issuer",),
                             ("proof",)]),
       key=st.sampled_from(["@context", "type", "id", "issuer", "validFrom", "validUntil", "credentialSubject",
                            "achievement", "identifier", "proof", "credentialStatus", "name", "criteria",
                            "verificationMethod", "proofValue"]),
       value=JSON_VALUES)
def test_hostile_shapes_give_a_verdict_never_a_crash(path, key, value):
    """Any mutation of a credential ends as a Verdict or a BadgeInputError, never a crash."""
    doc = json.loads(_VALID_DI)
    node = doc
    for step in path:
        node = node.get(step) if isinstance(node, dict) else None
    if isinstance(node, dict):
        node[key] = value
    try:
        verdict = verify(json.dumps(doc), fetch=None, now=NOW)
    except BadgeInputError:
        return
    assert isinstance(verdict, Verdict)
    assert json.loads(json.dumps(verdict.to_dict("en")))["status"] == verdict.status.value


def _valid_di() -> str:
    from tests.fakes.badges import ed_key, iso, store
    from wallet.openbadges.keys import did_key_from_ed25519
    from wallet.openbadges.proofs import sign_data_integrity

    key = ed_key("fuzz")
    did = did_key_from_ed25519(key.public_key())
    credential = {
        "@context": ["https://www.w3.org/ns/credentials/v2",
                     "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"],
        "id": "urn:uuid:1", "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": {"id": did, "type": ["Profile"], "name": "F"}, "validFrom": iso(NOW),
        "credentialSubject": {"type": ["AchievementSubject"], "id": "did:example:1", "achievement": {
            "id": "https://x.example/a", "type": ["Achievement"], "name": "A", "description": "D",
            "criteria": {"narrative": "N"}}}}
    return json.dumps(sign_data_integrity(credential, key, did + "#" + did[8:], iso(NOW), store()))


_VALID_DI = _valid_di()
