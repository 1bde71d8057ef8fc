"""Badges from the other systems partners issue with — Badgr / Canvas Credentials, Open Badge
Factory (OB 2.0 and OB 3.0) and Credly (OB 2.0 and OB 3.0 with a did:web issuer over https) —
each brought in by URL, baked file and pasted JSON through the web import, `wallet verify` and
the library, with its expected verdict (fakes: tests/fakes/field/, sources: tests/fakes/README.md)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from tests.fakes.field.badgr import BadgrPublic
from tests.fakes.field.credly import CredlyPublic
from tests.fakes.field.harness import HOWS, LEARNER, FieldCase, assert_imported, assert_verifies
from tests.fakes.field.obf import ObfPublic
from tests.fakes.field.tls import TlsFakeServer
from tests.fakes.server import FakeServer
from tests.web.accounts_helpers import registered_user

NOW = datetime.now(UTC)  # the CLI checks against the real clock
CASES = ("badgr-valid", "badgr-expired", "badgr-revoked", "obf-ob2-valid", "obf-ob3-valid", "obf-ob3-revoked",
         "credly-ob2-valid", "credly-ob3-valid")


class Platforms:
    def __init__(self, plain: FakeServer, tls: TlsFakeServer) -> None:
        self.plain, self.tls = plain, tls
        self.badgr = BadgrPublic(plain, NOW)
        self.obf = ObfPublic(plain, NOW)
        self.credly = CredlyPublic(tls, NOW)

    @property
    def allow(self) -> list[str]:
        return [self.plain.authority, self.tls.authority]

    def fetch(self):
        from wallet.http import SafeHttp

        return SafeHttp(allow=self.allow, ca_bundle=self.tls.ca_file).fetch

    def case(self, label: str) -> FieldCase:
        system, _, rest = label.partition("-")
        return getattr(self, f"_{system}")(label, rest)

    def _badgr(self, label: str, state: str) -> FieldCase:
        issuer = self.badgr.create_issuer("Mission Locale Rouen")
        badge = self.badgr.create_badgeclass(issuer, "Travailler en équipe")
        if state == "expired":
            award = self.badgr.award(badge, LEARNER, issued_on=NOW - timedelta(days=400),
                                     expires_at=NOW - timedelta(days=10))
        else:
            award = self.badgr.award(badge, LEARNER)
        case = FieldCase(label, state, badge.name, self.badgr.issuer_json(issuer)["id"], url=award.url,
                         text=json.dumps(self.badgr.assertion_json(award), ensure_ascii=False),
                         png=self.badgr.baked_png(award), issuer_by_url=state != "revoked")
        if state == "revoked":
            self.badgr.revoke(award, "Attribué par erreur")
        return case

    def _obf(self, label: str, rest: str) -> FieldCase:
        version, _, state = rest.partition("-")
        badge_id = self.obf.create_badge("Organiser son travail")
        award = self.obf.award(badge_id, LEARNER)
        if version == "ob2":
            return FieldCase(label, state, "Organiser son travail", self.obf.issuer_json(award)["id"], url=award.url,
                             text=json.dumps(self.obf.assertion_json(award), ensure_ascii=False),
                             png=self.obf.baked_png(award))
        case = FieldCase(label, state, "Organiser son travail", self.obf.did, url=award.credential_url,
                         text=self.obf.credential_text(award), png=self.obf.baked_credential_png(award))
        if state == "revoked":
            self.obf.revoke(award)  # the credential is unchanged; OBF's revocation list names it
        return case

    def _credly(self, label: str, rest: str) -> FieldCase:
        version, _, state = rest.partition("-")
        award = self.credly.award("AWS Cloud Practitioner", LEARNER, expires=NOW + timedelta(days=700))
        if version == "ob2":
            return FieldCase(label, state, award.name, self.credly.issuer_id, url=award.url,
                             text=json.dumps(self.credly.assertion_json(award)), png=self.credly.baked_png(award))
        return FieldCase(label, state, award.name, self.credly.did, url=award.credential_url,
                         text=self.credly.credential_text(award), png=self.credly.baked_credential_png(award))


@pytest.fixture
def platforms():
    with FakeServer() as plain, TlsFakeServer() as tls:
        yield Platforms(plain, tls)


@pytest.fixture
def app_config(app_config, platforms):
    app_config["FETCH_ALLOW"] = ",".join(platforms.allow)
    app_config["CA_BUNDLE"] = platforms.tls.ca_file
    return app_config


@pytest.mark.parametrize("how", HOWS)
@pytest.mark.parametrize("label", CASES)
def test_platform_badge_imported_through_the_web(client, outbox, app, platforms, label, how):
    registered_user(client, outbox)
    assert_imported(client, app, platforms.case(label), how)


@pytest.mark.parametrize("how", HOWS)
@pytest.mark.parametrize("label", CASES)
def test_platform_badge_through_the_cli_and_the_library(platforms, label, how, tmp_path, monkeypatch):
    monkeypatch.setenv("WALLET_FETCH_ALLOW", ",".join(platforms.allow))
    monkeypatch.setenv("WALLET_CA_BUNDLE", platforms.tls.ca_file)
    assert_verifies(platforms.case(label), how, tmp_path, platforms.fetch())


def test_badgr_sends_browsers_to_its_web_app_and_verifiers_the_json(platforms):
    from wallet.http import SafeHttp

    issuer = platforms.badgr.create_issuer("Mission Locale Rouen")
    award = platforms.badgr.award(platforms.badgr.create_badgeclass(issuer, "Accueillir"), LEARNER)
    http = SafeHttp(allow=platforms.allow)
    page = http.request("GET", award.url, headers={"Accept": "text/html"}, allow_redirects=False)
    assert page.status == 302 and page.headers["Location"].startswith("https://badgr.example/public/assertions/")
    doc = http.fetch(award.url, "application/ld+json, application/json")
    assert doc.media_type == "application/ld+json"
    assert list(json.loads(doc.body))[-1] == "recipient"  # get_json() adds the recipient last
    baked = platforms.badgr.baked_png(award)
    assert baked[12:16] == b"IHDR" and baked[37:41] == b"iTXt"  # the badge chunk comes right after IHDR


def test_credly_ob3_names_the_earner_at_the_top_and_the_wallet_shows_the_badge(platforms):
    from tests.fakes.field.harness import library_verdict

    award = platforms.credly.award("AWS Cloud Practitioner", LEARNER, earner="Ana Martin")
    credential = platforms.credly.credential(award)
    assert credential["name"] == "Ana Martin"
    data = library_verdict(FieldCase("c", "valid", award.name, platforms.credly.did,
                                     text=platforms.credly.credential_text(award)), "paste", platforms.fetch())
    assert data["status"] == "valid" and data["badge"]["name"] == "AWS Cloud Practitioner"
