"""On a phone, in a real browser: the learner taps "Connecter", consents on the partner's own page,
comes back to the wallet and sees the partner's badges imported."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from werkzeug.serving import make_server

from tests.browser.helpers import assert_accessible, assert_no_horizontal_overflow
from tests.browser.learner_helpers import signed_in_learner
from tests.fakes.badges import BadgeFactory
from tests.service.connections_helpers import ob3_credentials, register
from wallet.models import utcnow


@pytest.fixture
def wallet_port():
    """The wallet's loopback server, bound before the app exists: BASE_URL — hence the OAuth
    redirect URI registered with the partner — must name its port."""
    target = {}
    server = make_server("127.0.0.1", 0, lambda env, start: target["app"](env, start), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_port, target
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


@pytest.fixture
def app_config(app_config, partner, badgr, wallet_port):
    app_config["FETCH_ALLOW"] = f"{partner.authority},{badgr.authority},{badgr.front.authority}"
    app_config["BASE_URL"] = f"http://127.0.0.1:{wallet_port[0]}"
    return app_config


@pytest.fixture
def live_server(app, wallet_port):
    wallet_port[1]["app"] = app
    return app.config["BASE_URL"]


def test_connect_a_partner_backpack_on_a_phone(phone, live_server, app, partner, outbox):
    factory = BadgeFactory(partner, now=utcnow() - timedelta(days=1))
    partner.add(*ob3_credentials(factory, 3, name="Accueil du public"))
    register(app, partner)
    page = signed_in_learner(phone, live_server, outbox)

    page.goto(live_server + "/connexions/")
    assert_accessible(page)
    assert_no_horizontal_overflow(page)
    page.get_by_role("button", name="Connecter mon compte Partenaire Formation").click()
    page.wait_for_url(partner.origin + "/o/authorize**")
    assert page.get_by_text("Mon portefeuille de badges demande à lire vos badges").is_visible()
    page.get_by_role("button", name="Autoriser").click()

    page.wait_for_url(live_server + "/connexions/retour/**")
    assert page.get_by_role("heading", name="Synchronisation avec Partenaire Formation").is_visible()
    assert page.get_by_text("3 badges importés").is_visible()
    assert page.locator(".result-imported").count() == 3
    assert_accessible(page, in_place=True)  # the callback URL is single-use: check it where it is
    assert_no_horizontal_overflow(page)

    page.get_by_role("link", name="Mes comptes chez les partenaires").click()
    assert page.get_by_text("Connecté", exact=True).is_visible()
    assert page.get_by_role("button", name="Synchroniser").is_visible()
    assert_accessible(page)
    assert_no_horizontal_overflow(page)

    page.goto(live_server + "/badges/")
    assert page.locator(".badge-cards > li").count() == 3


def test_connect_badgr_through_its_web_front_end_then_disconnect(phone, live_server, app, badgr, outbox):
    """Badgr's consent page is on its web front end (another origin than its API): the browser goes
    there and back; the badges come named; disconnecting says what to do on Badgr's side."""
    for name in ("Premiers secours", "Accueil du public"):
        badgr.award(name)
    register(app, badgr)
    page = signed_in_learner(phone, live_server, outbox)

    page.goto(live_server + "/connexions/")
    page.get_by_role("button", name="Connecter mon compte Badgr").click()
    page.wait_for_url(badgr.front.origin + "/auth/oauth2/authorize**")
    assert page.get_by_text("Mon portefeuille de badges demande à lire vos badges").is_visible()
    page.get_by_role("button", name="Autoriser").click()

    page.wait_for_url(live_server + "/connexions/retour/**")
    assert page.get_by_text("2 badges importés").is_visible()
    labels = page.locator(".result-label").all_inner_texts()
    assert sorted(labels) == ["Accueil du public", "Premiers secours"]
    assert_accessible(page, in_place=True)
    assert_no_horizontal_overflow(page)

    page.get_by_role("link", name="Mes comptes chez les partenaires").click()
    page.get_by_role("button", name="Déconnecter", exact=True).click()
    notice = page.get_by_text("ne permet pas de retirer cet accès à distance")
    assert notice.is_visible() and "sur le site de Badgr" in notice.inner_text()
    assert_accessible(page)
    assert_no_horizontal_overflow(page)
