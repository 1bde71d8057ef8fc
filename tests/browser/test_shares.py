"""Sharing in a real browser: a learner shares a badge from a phone; an employer with no account
opens the link on a phone with JavaScript off and on a desktop, reads the verdict and checks the
recipient. axe-core and the 360 px layout check run on every page of the feature."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from tests.browser.helpers import assert_accessible, assert_no_horizontal_overflow
from tests.browser.learner_helpers import signed_in_learner, upload_baked_badge
from tests.browser.test_wallet import baked_file


@pytest.fixture
def app_config(app_config, host):
    app_config["FETCH_ALLOW"] = host.authority
    app_config["RATELIMIT_ENABLED"] = True
    return app_config


@pytest.fixture
def shared_path(phone, live_server, outbox, factory, host, tmp_path):
    """A learner uploads a badge on a phone and shares it; returns the public path of the link."""
    page = signed_in_learner(phone, live_server, outbox)
    upload_baked_badge(page, live_server, baked_file(tmp_path, factory, host))
    page.goto(live_server + "/badges/")
    page.get_by_role("link", name="Premiers secours").click()
    page.get_by_role("link", name="Partager", exact=True).click()
    assert page.get_by_role("checkbox", name="Premiers secours").is_checked()
    assert_accessible(page)
    assert_no_horizontal_overflow(page)
    page.get_by_label("Pour qui ? (facultatif)").fill("Pour la boulangerie Dupont")
    page.get_by_label("7 jours").check()
    page.get_by_role("button", name="Créer le lien").click()
    page.wait_for_url("**/lien")
    link = page.get_by_label("Lien à envoyer").input_value()
    assert "/p/" in link
    assert page.get_by_role("img", name="QR code du lien de partage").is_visible()
    assert page.get_by_role("button", name="Ajouter à mon profil LinkedIn").is_visible()
    assert_accessible(page)
    assert_no_horizontal_overflow(page)
    page.get_by_role("link", name="Mes partages").first.click()
    assert page.get_by_role("heading", name="Pour la boulangerie Dupont").is_visible()
    assert_accessible(page)
    assert_no_horizontal_overflow(page)
    page.close()
    return urlsplit(link).path


def _watch_requests(page, live_server) -> list[str]:
    seen: list[str] = []
    page.on("request", lambda request: seen.append(request.url))
    return seen


def test_employer_on_a_phone_without_javascript(shared_path, live_server, new_context, playwright, phone):
    context = new_context(**playwright.devices["Pixel 5"], locale="fr-FR", timezone_id="Europe/Paris",
                          java_script_enabled=False)
    page = context.new_page()
    seen = _watch_requests(page, live_server)
    page.goto(live_server + shared_path)
    verdict = page.locator(".verdict").inner_text()
    assert "Badge authentique" in verdict and "Organisme Formation" in verdict and "Ana Martin" in verdict
    assert page.get_by_role("heading", name="Premiers secours").is_visible()
    assert page.locator(".site-header").inner_text().strip() == "Vérification d'un badge — Région Normandie"
    page.get_by_label("Adresse e-mail du candidat").fill("ANA@example.org")
    page.get_by_role("button", name="Vérifier l'adresse").click()
    assert page.get_by_text("Oui : ce badge a bien été délivré à cette adresse e-mail.").is_visible()
    assert page.get_by_label("Adresse e-mail du candidat").input_value() == ""
    assert all(url.startswith((live_server, "data:")) for url in seen), seen
    # axe-core and the layout check need JavaScript: run them on the same page in a phone with it.
    checked = phone.new_page()
    checked.goto(live_server + shared_path)
    assert_accessible(checked)
    assert_no_horizontal_overflow(checked)


def test_employer_on_a_desktop(shared_path, live_server, desktop):
    page = desktop.new_page()
    seen = _watch_requests(page, live_server)
    page.goto(live_server + shared_path)
    assert "Badge authentique" in page.locator(".verdict").inner_text()
    page.get_by_label("Adresse e-mail du candidat").fill("quelqu.un@ailleurs.example")
    page.get_by_role("button", name="Vérifier l'adresse").click()
    assert page.get_by_text("Non : ce badge n'a pas été délivré à cette adresse e-mail", exact=False).is_visible()
    page.get_by_role("button", name="Vérifier à nouveau").click()
    assert page.get_by_text("Vérification refaite à l'instant.").is_visible()
    assert all(url.startswith((live_server, "data:")) for url in seen), seen
    assert_accessible(page)
    assert_no_horizontal_overflow(page)
