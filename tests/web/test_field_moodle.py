"""Moodle 4.5 badges (tests/fakes/field/moodle.py), as a learner brings them in: by their hosted
URL, as the baked PNG Moodle lets them download, and as pasted JSON — through the web import,
`wallet verify` and the library. Every badge that is not revoked or expired is `valid`, with the
issuer id Moodle serves at issuer_json.php (PROTOCOLS.md §9.1, Decisions: JSON-LD reading, 410)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.fakes.field.harness import HOWS, LEARNER, FieldCase, assert_imported, assert_verifies
from tests.fakes.field.moodle import MoodleSite
from tests.fakes.server import FakeServer
from tests.web.accounts_helpers import registered_user

NOW = datetime.now(UTC)  # the CLI checks against the real clock: the site is dated from it
CASES = ("valid", "valid-expires", "expired", "revoked")


@pytest.fixture
def moodle():
    with FakeServer() as server:
        yield MoodleSite(server, now=NOW)


@pytest.fixture
def app_config(app_config, moodle):
    app_config["FETCH_ALLOW"] = moodle.server.authority
    return app_config


def moodle_case(site: MoodleSite, label: str) -> FieldCase:
    badge = site.create_badge("Communiquer à l'oral", criteria="* Présenter son projet devant le groupe",
                              alignments=({"targetName": "Communiquer",
                                           "targetUrl": "https://region.example/competences/communiquer"},))
    if label == "valid":
        issued = site.award(badge, LEARNER)
    elif label == "valid-expires":
        issued = site.award(badge, LEARNER, expires=NOW + timedelta(days=365))
    elif label == "expired":
        issued = site.award(badge, LEARNER, issued=NOW - timedelta(days=400), expires=NOW - timedelta(days=35))
    else:
        issued = site.award(badge, LEARNER)
    case = FieldCase(f"moodle-{label}", status=label.split("-")[0], name=badge.name,
                     issuer_id=site.issuer_url(badge), url=issued.assertion_url, text=issued.text,
                     png=site.baked_png(issued), issuer_by_url=label != "revoked")
    if label == "revoked":
        site.revoke(issued)  # the learner kept the file and the JSON; the site answers 410 now
    return case


@pytest.mark.parametrize("how", HOWS)
@pytest.mark.parametrize("label", CASES)
def test_moodle_badge_imported_through_the_web(client, outbox, app, moodle, label, how):
    registered_user(client, outbox)
    assert_imported(client, app, moodle_case(moodle, label), how)


@pytest.mark.parametrize("how", HOWS)
@pytest.mark.parametrize("label", CASES)
def test_moodle_badge_through_the_cli_and_the_library(moodle, label, how, tmp_path, monkeypatch):
    from wallet.http import SafeHttp

    monkeypatch.setenv("WALLET_FETCH_ALLOW", moodle.server.authority)
    assert_verifies(moodle_case(moodle, label), how, tmp_path, SafeHttp(allow=[moodle.server.authority]).fetch)


def test_the_wire_format_is_moodles(moodle):
    """The fake speaks what Moodle prints: PHP json_encode escapes, aliases, offsets, 410 body."""
    import urllib.request

    badge = moodle.create_badge("Organiser son travail")
    issued = moodle.award(badge, LEARNER, expires=NOW + timedelta(days=30))
    with urllib.request.urlopen(issued.assertion_url) as answer:
        body = answer.read().decode()
        assert answer.headers["Content-Type"] == "application/json; charset=utf-8"
    assert body.startswith('{"recipient":{"identity":"sha256$')
    assert '"verify":{"type":"hosted","url":"http:\\/\\/' in body and "&obversion=2" in body
    assert '"@context":"https:\\/\\/w3id.org\\/openbadges\\/v2","type":"Assertion"' in body
    assert body.isascii() and "d\\u00e9livr\\u00e9 sur Moodle" in body
    assert issued.assertion["issuedOn"][-6:] in ("+01:00", "+02:00")
    assert issued.assertion["badge"]["image"].startswith("data:image/png;base64,")
    assert issued.assertion["badge"]["issuer"]["id"].endswith(f"/badges/issuer_json.php?id={badge.id}")
    baked = moodle.baked_png(issued)
    assert baked.endswith(b"IEND\xaeB`\x82") and baked.count(b"iTXtopenbadges\x00") == 1
    assert baked.index(b"iTXtopenbadges") > baked.index(b"IDAT")
    moodle.revoke(issued)
    try:
        urllib.request.urlopen(issued.assertion_url)
        raise AssertionError("a revoked Moodle badge answers 410")
    except urllib.error.HTTPError as gone:
        assert gone.code == 410
        assert gone.read().decode() == ('{"id":"' + moodle.assertion_url(issued.hash, None).replace("/", "\\/")
                                        + '","revoked":true}')


def test_moodles_alignments_reach_the_verdict(moodle):
    """Moodle writes `alignments`, a key no context defines: read as `alignment` (terms.FIELD_SLIPS),
    so a Moodle badge aligned on the regional framework can count (rules.py reads alignments)."""
    case = moodle_case(moodle, "valid")
    from tests.fakes.badges import fetcher_for
    from tests.fakes.field.harness import library_verdict

    verdict = library_verdict(case, "url", fetcher_for(moodle.server))
    assert verdict["status"] == "valid"
    assert verdict["badge"]["alignments"] == [{"name": "Communiquer", "url": "https://region.example/competences/communiquer",
                                              "framework": None, "code": None}]
