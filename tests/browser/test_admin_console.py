"""The Region staff console on a desktop screen, and « Mes données » on a phone, in a real browser:
accessible (axe-core) and, on the phone, fitting 360 px."""

from __future__ import annotations

import io
import json
import zipfile

from tests.browser.helpers import assert_accessible, assert_no_horizontal_overflow
from tests.browser.test_accounts_flow import log_in, register_and_confirm
from tests.web.accounts_helpers import PASSWORD

ADMIN, ADMIN_PASSWORD = "admin@region.example", "la region normande admin"


def test_the_admin_console_on_a_desktop(app, desktop, live_server, outbox):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["users", "create-admin", ADMIN, "--password", ADMIN_PASSWORD]).exit_code == 0
    page = desktop.new_page()
    page.goto(live_server + "/connexion")
    page.get_by_label("Adresse e-mail").fill(ADMIN)
    page.get_by_label("Mot de passe", exact=True).fill(ADMIN_PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url("**/tableau-de-bord")

    page.goto(live_server + "/admin/tableau-de-bord")
    assert page.get_by_role("heading", name="Tableau de bord").is_visible()
    assert page.get_by_role("heading", name="Connexion à l'émetteur").is_visible()
    assert_accessible(page)

    page.get_by_role("link", name="Personnes et rôles").click()
    page.get_by_label("Adresse e-mail de la personne").fill("claire@example.org")
    page.get_by_role("button", name="Envoyer l'invitation").click()
    assert page.get_by_role("heading", name="Invitation créée").is_visible()
    assert outbox[-1].to == "claire@example.org"
    assert_accessible(page)

    page.get_by_role("link", name="Partenaires et catalogue").click()
    assert page.get_by_role("heading", name="Émetteurs partenaires reconnus").is_visible()
    assert_accessible(page)
    page.get_by_label("Clé (lettres minuscules, chiffres, tirets)").fill("greta-caen")
    page.get_by_label("Nom de l'organisation").fill("GRETA Caen")
    page.get_by_label("Identifiant d'émetteur (URL ou DID)", exact=True).fill("https://greta.example/issuer")
    page.get_by_role("button", name="Ajouter le partenaire").click()
    assert page.get_by_text("Nouvelle version du référentiel en vigueur").is_visible()
    assert page.get_by_role("heading", name="GRETA Caen").is_visible()

    page.get_by_role("link", name="Ce qui change pour les personnes").click()
    assert_accessible(page)
    page.get_by_label("Ou son contenu").fill(_current_text(app))
    page.get_by_role("button", name="Voir ce qui change").click()
    assert page.get_by_role("heading", name="Avec la nouvelle version").is_visible()
    assert page.get_by_role("button", name="Publier").is_visible()
    assert_accessible(page)


def _current_text(app) -> str:
    from wallet.db import new_session
    from wallet.services import referentials

    session = new_session(app)
    try:
        return referentials.latest(session).content
    finally:
        session.close()


def test_my_data_on_a_phone(phone, live_server, outbox):
    page = phone.new_page()
    register_and_confirm(page, live_server, outbox)
    log_in(page, live_server)
    page.goto(live_server + "/mes-donnees/")
    assert page.get_by_role("heading", name="Mes données", exact=True).is_visible()
    assert_accessible(page)
    assert_no_horizontal_overflow(page)
    with page.expect_download() as info:
        page.get_by_role("link", name="Télécharger mes données (ZIP)").click()
    with open(info.value.path(), "rb") as handle:
        archive = zipfile.ZipFile(io.BytesIO(handle.read()))
    assert json.loads(archive.read("mes-donnees.json"))["profile"]["display_name"] == "Ana Martin"

    page.goto(live_server + "/confidentialite")
    assert page.get_by_role("heading", name="Combien de temps").is_visible()
    assert_accessible(page)
    assert_no_horizontal_overflow(page)

    page.goto(live_server + "/mes-donnees/")
    page.get_by_role("link", name="Supprimer mon compte…").click()
    page.get_by_label("Votre mot de passe").fill(PASSWORD)
    page.get_by_label("Je veux supprimer définitivement mon compte").check()
    page.get_by_role("button", name="Supprimer définitivement").click()
    assert page.get_by_text("Votre compte et vos données ont été supprimés.").is_visible()
