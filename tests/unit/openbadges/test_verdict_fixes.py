"""Verdict errors found by replaying other projects' test material (issue 12 item 4), and the
input cap that belongs to the caller (item 5)."""

from __future__ import annotations

import json

import pytest

from tests.fakes.badges import NOW, OB2, RECIPIENT, VC2, BadgeFactory, plain_png
from wallet.cli import main
from wallet.openbadges import BadgeInputError, bake, verify
from wallet.openbadges.identity import hash_identity
from wallet.openbadges.messages import render_error


@pytest.fixture
def factory(fake_server):
    return BadgeFactory(fake_server)


def test_ob_0_5_assertion_without_issued_on_is_valid(factory):
    """OB 0.5 makes `issued_on` optional."""
    doc = {"recipient": hash_identity(RECIPIENT, "pepper"), "salt": "pepper",
           "badge": {"version": "0.5.0", "name": "Très ancien", "image": factory.url("/i.png"),
                     "description": "OB 0.5", "criteria": factory.url("/criteria"),
                     "issuer": {"origin": factory.url("").rstrip("/"), "name": "Pionnier"}}}
    factory.server.json("/old.json", doc, content_type="application/json")
    verdict = verify(factory.url("/old.json"), fetch=factory.fetch, now=NOW, recipients=[RECIPIENT])
    assert verdict.status.value == "valid" and verdict.version == "0.5"
    assert verdict.recipient_matched is True and verdict.issued_on is None


def test_ob_1_0_assertion_with_a_bare_string_recipient_is_invalid(factory):
    """OB 1.0 needs an IdentityObject; a bare string is the 0.5 shape."""
    badge = factory.ob2_badgeclass(factory.ob2_issuer()["id"])
    doc = {"uid": "abc", "recipient": hash_identity(RECIPIENT, "s"), "badge": badge["id"],
           "verify": {"type": "hosted", "url": factory.url("/a/1.json")}, "issuedOn": "2015-01-01"}
    factory.server.json("/a/1.json", doc, content_type="application/json")
    verdict = verify(factory.url("/a/1.json"), fetch=factory.fetch, now=NOW)
    assert verdict.status.value == "invalid" and verdict.version == "1.0"
    assert verdict.check("structure").params == {"reason": "wrong_type", "field": "Assertion.recipient",
                                                 "expected": "IdentityObject"}


ENDORSEMENT_OB2 = {"@context": OB2, "type": "Endorsement", "id": "https://e.example/endorsements/1",
                   "claim": {"id": "https://issuer.example/issuer", "endorsementComment": "Sérieux"},
                   "issuer": "https://e.example/issuer", "issuedOn": "2024-01-01T00:00:00Z",
                   "verification": {"type": "HostedBadge"}}
ENDORSEMENT_OB3 = {"@context": [VC2, "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"],
                   "type": ["VerifiableCredential", "EndorsementCredential"], "id": "urn:uuid:1",
                   "issuer": {"id": "https://e.example/issuer", "type": ["Profile"]},
                   "validFrom": "2024-01-01T00:00:00Z",
                   "credentialSubject": {"id": "https://issuer.example/issuer", "type": ["EndorsementSubject"]}}


@pytest.mark.parametrize("doc", [ENDORSEMENT_OB2, ENDORSEMENT_OB3], ids=["ob2", "ob3"])
def test_an_endorsement_is_said_to_be_one_not_called_invalid(factory, doc):
    for source in (json.dumps(doc), "by-url"):
        if source == "by-url":
            factory.server.json("/endorsement", doc)
            source = factory.url("/endorsement")
        with pytest.raises(BadgeInputError) as raised:
            verify(source, fetch=factory.fetch, now=NOW)
        assert raised.value.code == "endorsement"
    assert "recommandation" in render_error("endorsement", "fr")
    assert "endorsement of a badge" in render_error("endorsement", "en")


def test_the_cli_exits_2_on_an_endorsement(tmp_path, capsys):
    path = tmp_path / "endorsement.json"
    path.write_text(json.dumps(ENDORSEMENT_OB2))
    assert main(["verify", str(path), "--json"]) == 2
    out = json.loads(capsys.readouterr().out)
    assert out["status"] == "error" and out["error"] == "endorsement"


def test_revoked_hosted_badge_keeps_its_authoritative_issuer(factory):
    """A 410 with the learner's baked copy: the issuer is established from the badge class's and
    issuer's own ids and its hosted policy, so eligibility says `revoked`, not `not_a_partner`."""
    hosted = factory.ob2_hosted()
    factory.server.route("/assertions/1", b'{"revoked": true}', status=410)
    verdict = verify(json.dumps(hosted.assertion), fetch=factory.fetch, now=NOW, recipients=[RECIPIENT])
    assert verdict.status.value == "revoked"
    assert verdict.credential.issuer_id == hosted.issuer["id"]
    assert verdict.credential.name == "Premiers secours"


def test_revoked_stub_naming_its_badge_keeps_the_issuer(factory):
    hosted = factory.ob2_hosted()
    factory.server.json("/assertions/1", {"@context": OB2, "id": hosted.url, "revoked": True,
                                          "badge": hosted.badge["id"]})
    verdict = verify(hosted.url, fetch=factory.fetch, now=NOW)
    assert verdict.status.value == "revoked" and verdict.credential.issuer_id == hosted.issuer["id"]


def test_revoked_badge_of_another_origin_does_not_borrow_an_issuer(factory, hosts):
    """A 410 on an attacker's host naming a partner's badge class: revoked, but the partner's
    issuer is not attached (its hosted policy does not cover the attacker's host)."""
    hosted = factory.ob2_hosted()
    other = hosts[0]
    other.route("/a", status=410)
    copy = dict(hosted.assertion, id=other.url("/a"))
    from tests.fakes.badges import fetcher_for

    verdict = verify(json.dumps(copy), fetch=fetcher_for(factory.server, other), now=NOW)
    assert verdict.status.value == "revoked" and verdict.credential.issuer_id is None


def test_revoked_url_alone_has_no_issuer(factory):
    hosted = factory.ob2_hosted()
    factory.server.route("/assertions/1", status=410)
    verdict = verify(hosted.url, fetch=factory.fetch, now=NOW)
    assert verdict.status.value == "revoked" and verdict.credential.issuer_id is None


def test_cli_verifies_a_5_mb_baked_png(factory, tmp_path, capsys):
    """The core's default cap is baking's image cap: a large real badge image is verified."""
    import struct
    import zlib

    hosted = factory.ob2_hosted()
    png = plain_png()
    filler = struct.pack(">I", 5 * 1024 * 1024) + b"zzZz" + b"\0" * (5 * 1024 * 1024)
    filler += struct.pack(">I", zlib.crc32(b"zzZz" + b"\0" * (5 * 1024 * 1024)))
    big = png[:-12] + filler + png[-12:]
    path = tmp_path / "big.png"
    path.write_bytes(bake(big, hosted.url))
    assert path.stat().st_size > 5 * 1024 * 1024
    code = main(["verify", str(path), "--json"])
    out = json.loads(capsys.readouterr().out)
    assert out["status"] != "error", out
    assert code in (0, 1)
    with pytest.raises(BadgeInputError) as raised:
        verify(path.read_bytes(), max_bytes=2 * 1024 * 1024)
    assert raised.value.code == "too_large"

