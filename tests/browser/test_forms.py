"""Forms on a 360×640 phone: registration errors next to their fields, the login form filled in
after confirming, the admin's landing, and a file picker that speaks French (with and without
JavaScript)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.app_shell_helpers import SMALL_PHONE
from tests.browser.helpers import assert_accessible, assert_no_horizontal_overflow
from tests.browser.learner_helpers import signed_in_learner
from tests.browser.test_accounts_flow import PASSWORD, register_and_confirm
from tests.browser.test_wallet import baked_file


@pytest.fixture
def app_config(app_config, host):
    app_config["FETCH_ALLOW"] = host.authority
    return app_config


def test_registration_errors_sit_by_their_fields(phone360, live_server):
    page = phone360.new_page()
    page.goto(live_server + "/inscription")
    page.get_by_label("Votre prénom et nom").fill("Ana Martin")
    page.get_by_label("Adresse e-mail").fill("ana@")
    page.get_by_label("Mot de passe", exact=True).fill("court")
    page.get_by_role("button", name="Créer mon portefeuille").click()
    email = page.get_by_label("Adresse e-mail")
    password = page.get_by_label("Mot de passe", exact=True)
    expect(email).to_have_attribute("aria-invalid", "true")
    expect(password).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Votre prénom et nom")).not_to_have_attribute("aria-invalid", "true")
    # Each message is the field's description, so a screen reader says it with the field.
    expect(email).to_have_accessible_description(
        "Erreur : Cette adresse e-mail n'est pas valide. Vérifiez-la (exemple : prenom.nom@exemple.fr). "
        "Utilisez de préférence l'adresse à laquelle vous recevez vos badges.")
    # … and it is shown right there, between the label and the input.
    message = page.locator("#f-email-error").bounding_box()
    assert page.locator("label[for=f-email]").bounding_box()["y"] < message["y"] < email.bounding_box()["y"]
    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("2 points sont à corriger")
    summary.get_by_role("link", name="Mot de passe", exact=False).click()
    expect(password).to_be_focused()
    assert_accessible(page, in_place=True)
    assert_no_horizontal_overflow(page)


def test_confirmed_address_fills_the_login_form_and_admin_lands_on_the_console(app, phone360, live_server,
                                                                                outbox):
    page = phone360.new_page()
    register_and_confirm(page, live_server, outbox, email="staff@region.example", name="Léa Staff")
    page.wait_for_url("**/connexion")
    expect(page.get_by_label("Adresse e-mail")).to_have_value("staff@region.example")
    expect(page.get_by_label("Mot de passe", exact=True)).to_be_focused()
    from tests.web.test_counselling import set_role

    set_role(app, "staff@region.example", "admin")
    page.get_by_label("Mot de passe", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url("**/admin/tableau-de-bord")
    expect(page.get_by_role("heading", name="Tableau de bord", exact=True)).to_be_visible()


def test_the_file_picker_is_french_and_names_the_chosen_file(phone360, live_server, outbox, factory, host,
                                                          tmp_path):
    page = signed_in_learner(phone360, live_server, outbox)
    page.goto(live_server + "/badges/importer")
    button = page.locator("label.file-button")
    expect(button).to_have_text("Choisir des images")
    expect(button).to_be_visible()
    expect(page.get_by_text("Aucune image choisie")).to_be_visible()
    native = page.get_by_label("Des images de badges")
    expect(native).to_have_css("opacity", "0")  # the browser's own « Choose Files » is never seen
    with page.expect_file_chooser() as chooser:
        button.click()
    chooser.value.set_files(str(baked_file(tmp_path, factory, host, name="premiers-secours.png")))
    expect(page.locator("#f-files-names")).to_have_text("premiers-secours.png")
    assert_accessible(page, in_place=True)
    assert_no_horizontal_overflow(page)
    page.get_by_role("button", name="Importer et vérifier").click()
    expect(page.get_by_text("Importé", exact=True)).to_be_visible()


def test_the_file_picker_works_without_javascript(browser, live_server, outbox, factory, host, tmp_path):
    context = browser.new_context(java_script_enabled=False, locale="fr-FR", viewport=SMALL_PHONE)
    page = signed_in_learner(context, live_server, outbox)
    page.goto(live_server + "/badges/importer")
    expect(page.locator("label.file-button")).to_be_visible()
    with page.expect_file_chooser() as chooser:
        page.locator("label.file-button").click()
    chooser.value.set_files(str(baked_file(tmp_path, factory, host, name="premiers-secours.png")))
    page.get_by_role("button", name="Importer et vérifier").click()
    expect(page.get_by_text("Importé", exact=True)).to_be_visible()
    context.close()

