"""Reading OB 1.1 / 2.0 through the JSON-LD context (issue 12 item 2, PROTOCOLS.md Decisions).

The fast alias-table reading must say exactly what pyld's compaction says, on what real issuers
send and on documents generated with every spelling the OB v2 context allows.
"""

from __future__ import annotations

import copy
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fakes.badges import CONTEXTS_DIR, NOW, OB2, BadgeFactory
from wallet.openbadges import verify
from wallet.openbadges.jsonld import ContextStore
from wallet.openbadges.terms import ComplexContext, canonical_json, read

STORE = ContextStore.from_dir(CONTEXTS_DIR)
OBI = "https://w3id.org/openbadges#"

MOODLE_LIKE = {
    "@context": OB2, "type": "Assertion", "id": "https://lms.example/badges/assertion.php?b=ab12&obversion=2",
    "recipient": {"identity": "sha256$" + "0" * 64, "type": "email", "hashed": True, "salt": "s"},
    "badge": {"@context": OB2, "type": "BadgeClass", "id": "https://lms.example/badges/badge_json.php?id=3",
              "name": "Communiquer", "description": "…", "image": "data:image/png;base64,iVBORw0KGgo=",
              "criteria": {"id": "https://lms.example/badges/badgeclass.php?id=3", "narrative": "…"},
              "issuer": {"@context": OB2, "type": "Issuer", "id": "https://lms.example/badges/issuer_json.php?id=3",
                         "name": "Centre", "url": "https://lms.example", "email": "c@lms.example"},
              "alignment": [{"targetName": "Communiquer", "targetUrl": "https://ref.example/c"}],
              "tags": ["oral"]},
    "verify": {"type": "hosted", "url": "https://lms.example/badges/assertion.php?b=ab12&obversion=2"},
    "issuedOn": "2026-11-02T10:14:06+0100", "expires": "2027-11-02T10:14:06+0100",
    "evidence": "https://lms.example/badges/evidence.php?id=1",
}


def both(doc):
    return read(doc, STORE, method="aliases"), read(doc, STORE, method="pyld")


@pytest.mark.parametrize("doc", [
    MOODLE_LIKE,
    {"@context": OB2, "type": "RevocationList", "id": "https://x.example/r",
     "revokedAssertions": ["https://x.example/a/1", {"id": "https://x.example/a/2", "revocationReason": "erreur"}]},
    {"@context": OB2, "id": "https://x.example/a", "revoked": True, "revocationReason": "erreur"},
    {"@context": "https://w3id.org/openbadges/v1", "type": "Assertion", "uid": "1",
     "verify": {"type": "signed", "url": "https://x.example/key"}, "badge": "https://x.example/b",
     "recipient": {"type": "email", "identity": "a@x.example", "hashed": False}, "issuedOn": "2016-01-01"},
    {"@context": [OB2, "https://w3id.org/openbadges/extensions/applyLinkExtension/context.json"],
     "type": "BadgeClass", "id": "https://x.example/b",
     "extensions:ApplyLink": {"@context": "https://w3id.org/openbadges/extensions/applyLinkExtension/context.json",
                              "type": ["Extension", "extensions:ApplyLink"], "url": "https://apply.example"}},
    {"@context": OB2, "@type": "obi:Assertion", "@id": "https://x.example/a", "obi:verify": {"@type": "obi:HostedBadge"},
     OBI + "badge": {"@id": "https://x.example/b"}, "undefinedKey": 1, "tags": ["one"]},
], ids=["moodle", "revocation-list", "revoked-stub", "ob1.1-signed", "extension", "compact-iris"])
def test_aliases_and_pyld_read_the_same(doc):
    aliases, pyld = both(doc)
    assert aliases.method == "aliases" and pyld.method == "pyld"
    assert canonical_json(aliases) == canonical_json(pyld)


def test_moodle_aliases_are_read_as_the_specification_names():
    doc = read(MOODLE_LIKE, STORE).doc
    assert doc["verification"] == {"type": "HostedBadge", "url": MOODLE_LIKE["verify"]["url"]}
    assert "verify" not in doc
    assert doc["badge"]["issuer"]["id"] == "https://lms.example/badges/issuer_json.php?id=3"
    assert doc["badge"]["tags"] == "oral"  # one value: compacted, read with as_list


def test_moodles_alignments_are_read_as_alignment():
    """PROTOCOLS.md §9: Moodle writes `alignments`, which no context defines."""
    doc = dict(MOODLE_LIKE["badge"], alignments=MOODLE_LIKE["badge"]["alignment"])
    del doc["alignment"]
    aliases, pyld = both(doc)
    assert canonical_json(aliases) == canonical_json(pyld)
    assert aliases.doc["alignment"] == {"targetName": "Communiquer", "targetUrl": "https://ref.example/c"}
    both_keys = dict(doc, alignment={"targetName": "Autre", "targetUrl": "https://ref.example/o"})
    assert read(both_keys, STORE).doc["alignment"]["targetName"] == "Autre"  # never a second value


def test_undefined_keys_are_dropped_and_foreign_iris_never_look_like_terms():
    doc = read({"@context": [OB2, {"name": "http://evil.example/name"}], "type": "BadgeClass",
                "name": "Faux", "bogus": 1}, STORE).doc
    assert "name" not in doc and "bogus" not in doc


@pytest.mark.parametrize("method", ["aliases", "pyld"])
def test_two_spellings_of_one_property_are_refused(method):
    from wallet.openbadges.jsonld import JsonLdFailure

    doc = dict(MOODLE_LIKE, **{"obi:badge": "https://elsewhere.example/b"})
    with pytest.raises(JsonLdFailure):
        read(doc, STORE, method=method)


def test_two_spellings_make_the_badge_invalid(fake_server):
    factory = BadgeFactory(fake_server)
    hosted = factory.ob2_hosted()
    fake_server.json("/assertions/1", dict(hosted.assertion, **{"obi:badge": factory.url("/other")}))
    verdict = verify(hosted.url, fetch=factory.fetch, now=NOW)
    assert verdict.status.value == "invalid" and verdict.check("context").params["reason"] == "unreadable"


def test_inline_and_unknown_contexts():
    with pytest.raises(ComplexContext):
        read({"@context": [OB2, {"x": "http://x/"}], "type": "Assertion"}, STORE, method="aliases")
    reading = read({"@context": [OB2, "https://unknown.example/ctx"], "type": "Assertion"}, STORE)
    assert reading.method == "aliases" and reading.warnings == ({"reason": "unknown", "url": "https://unknown.example/ctx"},)


def test_documents_without_context_are_left_to_the_legacy_upgrade():
    doc = {"recipient": "sha256$ab", "badge": {"name": "x"}}
    assert read(doc, STORE).doc is doc and read(doc, STORE).method == "none"


# --- generated spellings --------------------------------------------------------------------

# Each property of MOODLE_LIKE, spelled every way the OB v2 context allows.
KEY_SPELLINGS = {
    "id": ["id", "@id"], "type": ["type", "@type"],
    "verify": ["verify", "verification", "obi:verify", OBI + "verify"],
    "badge": ["badge", "obi:badge", OBI + "badge"],
    "recipient": ["recipient", "obi:recipient"],
    "issuedOn": ["issuedOn", "obi:issueDate"],
    "expires": ["expires", "sec:expiration", "https://w3id.org/security#expiration"],
    "evidence": ["evidence", "obi:evidence"],
    "name": ["name", "schema:name", "http://schema.org/name"],
    "identity": ["identity", "obi:identityHash"],
    "tags": ["tags", "schema:keywords"],
}
TYPE_SPELLINGS = {"hosted": ["hosted", "HostedBadge", "obi:HostedBadge", OBI + "HostedBadge"],
                  "Assertion": ["Assertion", "obi:Assertion"], "BadgeClass": ["BadgeClass", "obi:BadgeClass"],
                  "Issuer": ["Issuer", "obi:Issuer"]}


@st.composite
def respelled(draw, node=MOODLE_LIKE, depth=0):
    out = {}
    for key, value in node.items():
        name = draw(st.sampled_from(KEY_SPELLINGS.get(key, [key])))
        if isinstance(value, dict):
            value = draw(respelled(value, depth + 1))
            if draw(st.booleans()):
                value.pop("@context", None)
        elif key == "type" and value in TYPE_SPELLINGS:
            value = draw(st.sampled_from(TYPE_SPELLINGS[value]))
        if key not in ("@context", "id", "type") and not isinstance(value, list) and draw(st.booleans()):
            value = [value]
        out[name] = value
    return out


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(respelled())
def test_every_spelling_reads_like_pyld_and_like_the_plain_document(doc):
    aliases, pyld = both(doc)
    assert canonical_json(aliases) == canonical_json(pyld)
    assert aliases.doc == read(MOODLE_LIKE, STORE).doc


def test_reading_never_changes_the_callers_document():
    doc = copy.deepcopy(MOODLE_LIKE)
    read(doc, STORE)
    read(doc, STORE, method="pyld")
    assert doc == MOODLE_LIKE


# --- through the verifier ------------------------------------------------------------------

def test_hosted_badge_written_with_the_contexts_aliases_is_valid(fake_server):
    """Moodle writes `verify: {type: hosted, url}` (PROTOCOLS.md §9.1)."""
    factory = BadgeFactory(fake_server)
    hosted = factory.ob2_hosted()
    moodle = {k: v for k, v in hosted.assertion.items() if k != "verification"}
    moodle["verify"] = {"type": "hosted", "url": hosted.url}
    fake_server.json("/assertions/1", moodle)
    for source in (hosted.url, json.dumps(moodle)):
        verdict = verify(source, fetch=factory.fetch, now=NOW)
        assert verdict.status.value == "valid", verdict.checks
        assert verdict.credential.issuer_id == hosted.issuer["id"]


def test_signed_badge_with_aliases_is_valid(fake_server):
    from tests.fakes.badges import rsa_key
    from wallet.openbadges.proofs import sign_jws

    factory = BadgeFactory(fake_server)
    signed = factory.ob2_signed()
    claims = {("verify" if k == "verification" else k): v for k, v in signed.assertion.items()}
    claims["verify"] = {"type": "signed", "creator": factory.url("/keys/1")}
    claims["obi:issueDate"] = claims.pop("issuedOn")
    verdict = verify(sign_jws(claims, rsa_key(), "RS256"), fetch=factory.fetch, now=NOW)
    assert verdict.status.value == "valid", verdict.checks
