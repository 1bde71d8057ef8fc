"""What verify() accepts: baked PNG/SVG, JSON, JWS, URLs; and what it refuses (BadgeInputError)."""

from __future__ import annotations

import json

import pytest

from tests.fakes.badges import NOW, RECIPIENT, BadgeFactory, plain_png, plain_svg
from wallet.openbadges import BadgeInputError, bake, verify


@pytest.fixture
def factory(fake_server):
    return BadgeFactory(fake_server)


@pytest.mark.parametrize("image", [plain_png, plain_svg], ids=["png", "svg"])
def test_baked_hosted_assertion_json(factory, image):
    hosted = factory.ob2_hosted()
    payload = json.dumps(hosted.assertion)
    verdict = verify(bake(image(), payload), fetch=factory.fetch, now=NOW, recipients=[RECIPIENT])
    assert verdict.status.value == "valid"
    assert verdict.credential.original == payload
    assert verdict.credential.source_format == image.__name__.split("_")[1]
    assert verdict.recipient_matched is True


@pytest.mark.parametrize("image", [plain_png, plain_svg], ids=["png", "svg"])
def test_baked_hosted_url(factory, image):
    hosted = factory.ob2_hosted()
    verdict = verify(bake(image(), hosted.url), fetch=factory.fetch, now=NOW)
    assert verdict.status.value == "valid"
    assert verdict.credential.original == hosted.url


@pytest.mark.parametrize("image", [plain_png, plain_svg], ids=["png", "svg"])
def test_baked_signed_badge(factory, image):
    signed = factory.ob2_signed()
    verdict = verify(bake(image(), signed.token), fetch=factory.fetch, now=NOW)
    assert verdict.status.value == "valid" and verdict.proof == "signed"


@pytest.mark.parametrize("image", [plain_png, plain_svg], ids=["png", "svg"])
def test_baked_ob3_credentials(factory, image):
    di = factory.ob3_di()
    verdict = verify(bake(image(), di.text), fetch=None, now=NOW, contexts=factory.store)
    assert verdict.status.value == "valid" and verdict.credential.original == di.text
    jwt = factory.ob3_jwt()
    verdict = verify(bake(image(), jwt.text), fetch=factory.fetch, now=NOW, contexts=factory.store)
    assert verdict.status.value == "valid" and verdict.proof == "vc-jwt"


def test_hosted_url_answering_a_baked_image(factory):
    hosted = factory.ob2_hosted()
    factory.server.route("/download/badge.png", body=bake(plain_png(), json.dumps(hosted.assertion)),
                         content_type="image/png")
    verdict = verify(factory.url("/download/badge.png"), fetch=factory.fetch, now=NOW)
    assert verdict.status.value == "valid"
    assert verdict.credential.id == hosted.url


def test_hosted_url_answering_an_ob3_credential(factory):
    di = factory.ob3_di()
    factory.server.json("/credentials/1", di.credential, content_type="application/vc+ld+json")
    verdict = verify(factory.url("/credentials/1"), fetch=factory.fetch, now=NOW, contexts=factory.store)
    assert verdict.status.value == "valid" and verdict.version == "3.0"


def test_jws_as_bytes_and_as_text(factory):
    signed = factory.ob2_signed()
    assert verify((signed.token + "\n").encode(), fetch=factory.fetch, now=NOW).status.value == "valid"
    assert verify(signed.token, fetch=factory.fetch, now=NOW).status.value == "valid"


@pytest.mark.parametrize("source, code", [
    (plain_png(), "no_badge"),
    (plain_svg(), "no_badge"),
    (b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", "not_an_image"),
    (b"\x00\x01garbage\xff\xfe", "not_a_badge"),
    ("just some words", "not_a_badge"),
    ('{"hello": "world"}', "not_a_badge"),
    ("[1, 2, 3]", "not_a_badge"),
    ('{"a": 1, "a": 2}', "duplicate_keys"),
    ("{" * 5000, "too_deep"),
])
def test_not_a_badge_raises_badge_input_error(source, code):
    with pytest.raises(BadgeInputError) as raised:
        verify(source, now=NOW)
    assert raised.value.code == code


def test_jws_whose_payload_is_not_a_badge_is_refused(factory):
    from tests.fakes.badges import rsa_key
    from wallet.openbadges.proofs import sign_jws

    token = sign_jws({"hello": "world"}, rsa_key(), "RS256")
    with pytest.raises(BadgeInputError):
        verify(token, fetch=factory.fetch, now=NOW)


def test_naive_now_is_taken_as_utc(factory):
    hosted = factory.ob2_hosted()
    verdict = verify(hosted.url, fetch=factory.fetch, now=NOW.replace(tzinfo=None))
    assert verdict.checked_at == "2025-06-01T12:00:00Z"
