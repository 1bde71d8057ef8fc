"""A learner on a phone, in a real browser: the account journey, and every page of the
foundation checked with axe-core and at 360 px, in French and in English."""

from __future__ import annotations

import re

import pytest

from tests.browser.helpers import assert_accessible, assert_no_horizontal_overflow
from tests.conftest import link_from

PASSWORD = "un cheval bleu mange des pommes"


def path_of(link: str) -> str:
    return re.sub(r"^https?://[^/]+", "", link)


def register_and_confirm(page, base, outbox, email="ana@example.org", name="Ana Martin"):
    page.goto(base + "/inscription")
    page.get_by_label("Votre prénom et nom").fill(name)
    page.get_by_label("Adresse e-mail").fill(email)
    page.get_by_label("Mot de passe", exact=True).fill(PASSWORD)
    page.get_by_label("Le même mot de passe, encore une fois").fill(PASSWORD)
    page.get_by_role("button", name="Créer mon portefeuille").click()
    page.wait_for_url("**/verifiez-vos-e-mails")
    page.goto(base + path_of(link_from(outbox[-1].body)))
    page.get_by_role("button", name="Confirmer mon adresse").click()


def log_in(page, base, email="ana@example.org", landing="**/tableau-de-bord"):
    page.goto(base + "/connexion")
    page.get_by_label("Adresse e-mail").fill(email)
    page.get_by_label("Mot de passe", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(landing)


def open_menu(page):
    """Open the signed-in « Menu » (a <details>: the secondary pages and « Se déconnecter »)."""
    page.locator("details.menu > summary").click()


def test_register_confirm_login_second_email_logout_on_a_phone(phone, live_server, outbox):
    page = phone.new_page()
    register_and_confirm(page, live_server, outbox)
    page.wait_for_url("**/connexion")
    assert "est confirmée" in page.content()
    log_in(page, live_server)
    assert page.get_by_role("heading", name="Bonjour Ana Martin").is_visible()

    open_menu(page)
    page.get_by_role("link", name="Mon compte").click()
    page.get_by_label("Ajouter une adresse").fill("ana.old@ecole.example")
    page.get_by_role("button", name="Ajouter", exact=True).click()
    assert page.get_by_text("à confirmer").is_visible()
    page.goto(live_server + path_of(link_from(outbox[-1].body)))
    page.get_by_role("button", name="Confirmer mon adresse").click()
    page.wait_for_url("**/compte/")
    assert page.get_by_text("à confirmer").count() == 0
    assert page.locator(".email-address", has_text="ana.old@ecole.example").is_visible()

    open_menu(page)
    page.get_by_role("button", name="Se déconnecter").click()
    page.wait_for_url("**/connexion")
    page.goto(live_server + "/tableau-de-bord")
    assert "/connexion" in page.url


def test_wrong_password_shows_a_clear_message(phone, live_server, outbox):
    page = phone.new_page()
    register_and_confirm(page, live_server, outbox)
    page.goto(live_server + "/connexion")
    page.get_by_label("Adresse e-mail").fill("ana@example.org")
    page.get_by_label("Mot de passe", exact=True).fill("pas le bon mot de passe")
    page.get_by_role("button", name="Se connecter").click()
    assert page.get_by_role("alert").inner_text().startswith("Adresse e-mail ou mot de passe incorrect")


def _signed_in_pages(base):
    return ["/tableau-de-bord", "/compte/", "/compte/supprimer", "/badges/", "/badges/importer",
            "/badges-regionaux/"]


PUBLIC_PAGES = ["/", "/connexion", "/inscription", "/mot-de-passe-oublie", "/verifiez-vos-e-mails",
                "/mentions-legales", "/cgu", "/confidentialite", "/accessibilite", "/page-qui-n-existe-pas"]


@pytest.mark.parametrize("language", ["fr", "en"])
def test_every_page_is_accessible_and_fits_360px(phone, live_server, outbox, language):
    page = phone.new_page()
    register_and_confirm(page, live_server, outbox)
    token_pages = [path_of(link_from(outbox[-1].body))]
    page.goto(live_server + "/mot-de-passe-oublie")
    page.get_by_label("Adresse e-mail de votre compte").fill("ana@example.org")
    page.get_by_role("button", name="Recevoir un lien").click()
    token_pages.append(path_of(link_from(outbox[-1].body)))
    if language == "en":
        page.goto(live_server + "/connexion")
        page.get_by_role("button", name="English").click()
        assert page.locator("html").get_attribute("lang") == "en"
    for path in PUBLIC_PAGES + token_pages:
        page.goto(live_server + path)
        assert page.locator("html").get_attribute("lang") == language, path
        assert_accessible(page)
        assert_no_horizontal_overflow(page)
    page.set_viewport_size({"width": 393, "height": 727})
    page.goto(live_server + "/connexion")
    page.locator("#f-email").fill("ana@example.org")
    page.locator("#f-password").fill(PASSWORD)
    page.locator("form.card button[type=submit]").click()
    page.wait_for_url("**/tableau-de-bord")
    for path in _signed_in_pages(live_server):
        page.goto(live_server + path)
        assert page.locator("html").get_attribute("lang") == language, path
        assert_accessible(page)
        assert_no_horizontal_overflow(page)


def test_pages_work_without_javascript(browser, live_server, outbox):
    context = browser.new_context(java_script_enabled=False, locale="fr-FR", viewport={"width": 360, "height": 740})
    page = context.new_page()
    register_and_confirm(page, live_server, outbox)
    log_in(page, live_server)
    assert page.get_by_role("heading", name="Bonjour Ana Martin").is_visible()
    context.close()


def test_admin_referential_page_is_accessible_on_desktop(app, desktop, live_server):
    result = app.test_cli_runner().invoke(args=["users", "create-admin", "admin@region.example", "--password",
                                                PASSWORD])
    assert result.exit_code == 0, result.output
    page = desktop.new_page()
    log_in(page, live_server, email="admin@region.example")
    page.goto(live_server + "/admin/referentiel")
    assert page.get_by_role("heading", name="Référentiel régional").is_visible()
    assert_accessible(page)
    assert_no_horizontal_overflow(page)
