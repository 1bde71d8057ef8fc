"""On a phone, in a real browser: the learner creates an app password for their centre's Moodle,
then a Moodle in Badge Connect mode asks for access — the consent page — and pushes a badge; the
learner sees the connected application with its last push and cuts it off. axe-core on each page,
nothing wider than 360 px."""

from __future__ import annotations

import re

from tests.browser.helpers import assert_accessible, assert_no_horizontal_overflow
from tests.browser.learner_helpers import signed_in_learner
from tests.fakes.moodle_client import Ob20Backpack, Ob21Backpack
from tests.web.host_helpers import *


def test_app_password_then_consent_then_cut_off_on_a_phone(phone, wallet, app, outbox, moodle_site, badges):
    moodle_site.route("/admin/oauth2callback.php", "<!doctype html><title>Moodle</title><p>OK</p>",
                      content_type="text/html")
    page = signed_in_learner(phone, wallet, outbox)

    # An app password for the "Open Badges v2.0" mode: shown once, readable on a small screen.
    page.goto(wallet + "/compte/applications/")
    assert_accessible(page)
    assert_no_horizontal_overflow(page)
    page.get_by_label("Pour quel site ?").fill("Moodle de l'AFPA")
    page.get_by_role("button", name="Créer le mot de passe").click()
    secret = page.locator("#app-password").inner_text()
    assert re.fullmatch(r"([a-z2-9]{4}-){4}[a-z2-9]{4}", secret)
    assert page.get_by_text("il ne sera plus jamais affiché").is_visible()
    assert_accessible(page, in_place=True)  # the answer to a POST: checked where it is
    assert_no_horizontal_overflow(page)
    badgr = Ob20Backpack(api_url=wallet + "/v2", email="ana@example.org", password=secret,
                         token_port=int(wallet.rsplit(":", 1)[1]))
    assert badgr.collections() == []

    # A Moodle in Badge Connect mode: the learner is sent to the consent page.
    moodle = Ob21Backpack(web_url=wallet, wwwroot=moodle_site.origin)
    moodle.discover()
    moodle.register()
    page.goto(moodle.login_url())
    assert page.get_by_role("heading", name="Le centre de formation « Centre de formation Exemple » veut "
                                          "déposer des badges dans votre portefeuille").is_visible()
    assert page.get_by_text("Déposer des badges dans votre portefeuille.").is_visible()
    assert_accessible(page)
    assert_no_horizontal_overflow(page)
    page.get_by_role("button", name="Autoriser").click()
    page.wait_for_url(moodle.callback_url + "**")
    moodle.upgrade_token(moodle.code_from(page.url))
    assert moodle.export(badges.ob2_hosted("/badges/assertion/1").assertion)["ok"]

    # Both accesses are listed; the connected application shows its push; one tap cuts it off.
    page.goto(wallet + "/compte/applications/")
    assert page.get_by_role("heading", name="Moodle de l'AFPA").is_visible()
    assert page.get_by_role("heading", name="Centre de formation Exemple").is_visible()
    assert page.get_by_text(re.compile(r"1 badge déposé, le dernier le")).is_visible()
    assert_accessible(page)
    assert_no_horizontal_overflow(page)
    page.get_by_role("button", name="Couper l'accès — Centre de formation Exemple").click()
    assert page.get_by_text("Accès coupé").is_visible()
    assert page.get_by_role("heading", name="Centre de formation Exemple").count() == 0
    assert not moodle.export(badges.ob2_hosted("/badges/assertion/2").assertion)["ok"]
