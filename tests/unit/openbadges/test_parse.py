"""Input detection, version detection, legacy upgrade and normalization (PROTOCOLS.md §0–§1)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from tests.fakes.badges import OB2, OB3, VC1, VC2, plain_png
from wallet.openbadges import BadgeInputError, bake
from wallet.openbadges.parse import (
    detect,
    detect_version,
    normalize_ob2,
    normalize_ob3,
    parse_time,
    upgrade_assertion,
)

JWS = "eyJhbGciOiJSUzI1NiJ9.eyJhIjoxfQ.c2lnbmF0dXJl"


@pytest.mark.parametrize("source, kind, fmt", [
    ("https://iss.example/a/1", "url", "url"),
    ("  http://iss.example/a/1\n", "url", "url"),
    (JWS, "jws", "jws"),
    ('{"@context": "x"}', "json", "json"),
    (b'{"@context": "x"}', "json", "json"),
    (b"\xef\xbb\xbf{\"a\": 1}", "json", "json"),
    ((JWS + "\n").encode(), "jws", "jws"),
    (b"https://iss.example/a/1", "url", "url"),
])
def test_detect_kinds(source, kind, fmt):
    payload = detect(source)
    assert (payload.kind, payload.source_format) == (kind, fmt)


def test_detect_baked_png_keeps_the_payload_exactly():
    text = '{"@context": "https://w3id.org/openbadges/v2", "id": "https://x.example/a"}'
    payload = detect(bake(plain_png(), text))
    assert payload.kind == "json" and payload.source_format == "png" and payload.text == text


@pytest.mark.parametrize("source, code", [
    (plain_png(), "no_badge"),
    (b"\xff\xd8\xff\xe0jpeg", "not_an_image"),
    ("hello", "not_a_badge"),
    ("ftp://x.example/a", "not_a_badge"),
    (b"\x00" * 10, "not_a_badge"),
    (12, "not_a_badge"),
    ("x" * (33 * 1024 * 1024), "too_large"),
])
def test_detect_refuses(source, code):
    with pytest.raises(BadgeInputError) as raised:
        detect(source)
    assert raised.value.code == code


@pytest.mark.parametrize("doc, version", [
    ({"@context": OB2, "type": "Assertion"}, "2.0"),
    ({"@context": "https://openbadgespec.org/v2/context.json"}, "2.0"),
    ({"@context": [OB2, "https://w3id.org/openbadges/extensions/exampleExtension/context.json"]}, "2.0"),
    ({"@context": "https://w3id.org/openbadges/v1"}, "1.1"),
    ({"recipient": "sha256$abc", "salt": "s", "badge": {"name": "x"}}, "0.5"),
    ({"recipient": {"type": "email"}, "verify": {"type": "hosted", "url": "https://x"}}, "1.0"),
    ({"@context": [VC2, OB3], "type": ["VerifiableCredential", "OpenBadgeCredential"]}, "3.0"),
    ({"@context": [VC1, OB3], "type": ["VerifiableCredential", "AchievementCredential"]}, "3.0"),
    ({"@context": [OB3, VC2], "type": ["VerifiableCredential", "OpenBadgeCredential"]}, "3.0"),
    ({"@context": [VC2], "type": ["VerifiableCredential"]}, None),
    ({"hello": "world"}, None),
    ({"@context": "https://schema.org"}, None),
    ([1, 2], None),
])
def test_detect_version(doc, version):
    assert detect_version(doc) == version


def test_upgrade_0_5():
    doc = {"recipient": "sha256$ABC", "salt": "pepper", "issued_on": "2013-02-18",
           "badge": {"version": "0.5.0", "name": "Old", "image": "/img.png", "description": "d",
                     "criteria": "https://x.example/c",
                     "issuer": {"origin": "https://x.example", "name": "X", "contact": "a@x.example"}}}
    out = upgrade_assertion(doc, "0.5", "https://x.example/a/1")
    assert out["id"] == "https://x.example/a/1"
    assert out["recipient"] == {"type": "email", "identity": "sha256$ABC", "hashed": True, "salt": "pepper"}
    assert out["issuedOn"] == "2013-02-18T00:00:00Z"
    assert out["badge"]["type"] == "BadgeClass"
    assert out["badge"]["issuer"]["id"] == "https://x.example" and out["badge"]["issuer"]["email"] == "a@x.example"
    assert out["verification"] == {"type": "HostedBadge"}
    assert "salt" not in out and doc["salt"] == "pepper"  # the original is untouched


def test_upgrade_1_0_hosted_and_signed():
    hosted = {"uid": "1", "recipient": {"type": "email", "hashed": False, "identity": "a@x"},
              "badge": "https://x/b", "verify": {"type": "hosted", "url": "https://x/a/1"},
              "issuedOn": 1700000000}
    out = upgrade_assertion(hosted, "1.0")
    assert out["id"] == "https://x/a/1" and out["type"] == "Assertion"
    assert out["issuedOn"] == "2023-11-14T22:13:20Z"
    signed = dict(hosted, verify={"type": "signed", "url": "https://x/key.pem"})
    assert upgrade_assertion(signed, "1.0")["verification"] == {"type": "SignedBadge",
                                                                "creator": "https://x/key.pem"}


def test_upgrade_1_1_replaces_the_context():
    doc = {"@context": "https://w3id.org/openbadges/v1", "type": "Assertion", "id": "https://x/a",
           "verify": {"type": "hosted", "url": "https://x/a"}}
    out = upgrade_assertion(doc, "1.1")
    assert out["@context"] == OB2 and out["verification"]["type"] == "HostedBadge"


@pytest.mark.parametrize("value, expected", [
    ("2024-05-01T10:00:00Z", datetime(2024, 5, 1, 10, tzinfo=UTC)),
    ("2024-05-01T12:00:00+02:00", datetime(2024, 5, 1, 10, tzinfo=UTC)),
    ("2024-05-01", datetime(2024, 5, 1, tzinfo=UTC)),
    (1714557600, datetime(2024, 5, 1, 10, tzinfo=UTC)),
    ("1714557600", datetime(2024, 5, 1, 10, tzinfo=UTC)),
    ("not a date", None), (True, None), (None, None), (1e300, None),
])
def test_parse_time(value, expected):
    assert parse_time(value) == expected


def test_normalize_ob2_fields():
    assertion = {"id": "https://x/a", "issuedOn": "2024-05-01T10:00:00Z", "expires": "2026-05-01T10:00:00Z",
                 "recipient": {"type": "email", "hashed": True, "salt": "s", "identity": "sha256$ab"},
                 "evidence": ["https://x/ev/1", {"id": "https://x/ev/2", "narrative": "n"}],
                 "narrative": "did it"}
    badge = {"id": "https://x/b", "name": "N", "description": "<b>D</b>",
             "image": {"id": "data:image/png;base64,AAAA"}, "criteria": {"id": "https://x/c", "narrative": "C"},
             "tags": ["t1", 2], "alignment": {"targetName": "A", "targetUrl": "https://r/a"}}
    issuer = {"id": "https://x/i", "name": {"@value": "Org"}, "url": "https://x"}
    c = normalize_ob2(assertion, badge, issuer)
    assert (c.name, c.description, c.image) == ("N", "<b>D</b>", "data:image/png;base64,AAAA")
    assert (c.criteria_url, c.criteria_narrative) == ("https://x/c", "C")
    assert c.tags == ("t1",) and c.alignments[0].url == "https://r/a" and c.alignments[0].code is None
    assert (c.issuer_id, c.issuer_name, c.issuer_url) == ("https://x/i", "Org", "https://x")
    assert c.expires == "2026-05-01T10:00:00Z"
    assert c.identities[0].hashed is True and c.identities[0].salt == "s"
    assert [e.id for e in c.evidence] == ["https://x/ev/1", "https://x/ev/2"]


def test_normalize_ob3_prefers_the_achievement_display():
    credential = {"id": "urn:uuid:1", "name": "Credential name", "issuer": "did:key:z6Mk",
                  "validFrom": "2025-01-10T00:00:00Z", "validUntil": "2026-01-10T00:00:00Z",
                  "credentialSubject": {"id": "did:example:1", "identifier": [
                      {"identityType": "emailAddress", "hashed": False, "identityHash": "a@x"}],
                      "achievement": {"id": "https://x/ach", "name": "Achievement", "description": "d",
                                      "criteria": {"narrative": "n"}, "tag": ["t"],
                                      "image": {"id": "https://x/i.png", "type": "Image"},
                                      "alignment": [{"targetName": "A", "targetUrl": "https://r",
                                                     "targetCode": "C1"}]}}}
    c = normalize_ob3(credential, proof="vc-jwt")
    assert (c.name, c.image, c.badge_id, c.issuer_id) == ("Achievement", "https://x/i.png", "https://x/ach",
                                                          "did:key:z6Mk")
    assert c.tags == ("t",) and c.alignments[0].code == "C1"
    assert (c.issued_on, c.expires) == ("2025-01-10T00:00:00Z", "2026-01-10T00:00:00Z")
    assert c.identities[0].type == "email" and c.subject_id == "did:example:1"
    assert json.dumps(c.tags)  # plain JSON-safe values


def test_the_input_cap_belongs_to_the_caller():
    """Item 5 of issue 12: the library's default is baking's image cap; a caller sets its own."""
    from wallet.openbadges.baking import MAX_IMAGE_BYTES
    from wallet.openbadges.parse import MAX_INPUT_BYTES

    assert MAX_INPUT_BYTES == MAX_IMAGE_BYTES
    text = "https://issuer.example/a/" + "x" * 2000
    assert detect(text).kind == "url"
    with pytest.raises(BadgeInputError) as raised:
        detect(text, max_bytes=1000)
    assert raised.value.code == "too_large" and raised.value.params["max_bytes"] == 1000
