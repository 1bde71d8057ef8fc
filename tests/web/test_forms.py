"""Forms that help: registration says every problem next to its field (tied to it for screen
readers), the login form is filled in with the address just confirmed, Region staff land on their
console, and the file picker is ours (a label styled as a button, in French, working without script)."""

from __future__ import annotations

import re
from html import unescape as html_unescape

import pytest

from tests.conftest import plain
from tests.web.accounts_helpers import PASSWORD, confirm_last_mail, login, logout, post_form, register
from tests.web.test_counselling import set_role


def unescape(page: str) -> str:
    """The page as text to compare with, French no-break spaces as plain ones."""
    return plain(html_unescape(page))


def _input(page: str, name: str) -> str:
    match = re.search(rf'<input id="f-{name}"[^>]*>', page, re.DOTALL)
    assert match, name
    return match.group(0)


def _error(page: str, name: str) -> str | None:
    match = re.search(rf'<p class="field-error" id="f-{name}-error">(.*?)</p>', page, re.DOTALL)
    return re.sub(r"<[^>]+>", "", match.group(1)).strip() if match else None


def test_every_registration_problem_is_said_next_to_its_field(client, app):
    r = post_form(client, "/inscription", display_name="  ", email="pas-une-adresse", password="court",
                  password_confirm="autre")
    assert r.status_code == 400
    page = unescape(r.text)
    assert _error(page, "display_name") == "Erreur : Indiquez votre prénom ou votre nom (120 caractères au plus)."
    assert _error(page, "email").startswith("Erreur : Cette adresse e-mail n'est pas valide.")
    assert _error(page, "password").startswith("Erreur : Ce mot de passe est trop court")
    assert _error(page, "password_confirm") is None  # said once the password itself is acceptable
    for name in ("display_name", "email", "password"):
        tag = _input(page, name)
        assert 'aria-invalid="true"' in tag
        described = re.search(r'aria-describedby="([^"]+)"', tag).group(1).split()
        assert described[0] == f"f-{name}-error", described
    assert 'aria-invalid' not in _input(page, "password_confirm")
    # One summary at the top, each item a link to its field; no other message up there.
    summary = re.search(r'<div class="notice notice-error error-summary" role="alert" id="form-error"[^>]*>(.*?)</div>',
                        page, re.DOTALL).group(1)
    assert "3 points sont à corriger" in summary
    assert re.findall(r'href="#f-([a-z_]+)"', summary) == ["display_name", "email", "password"]
    assert page.count('role="alert"') == 1
    # What was typed stays (never the passwords).
    assert 'value="pas-une-adresse"' in _input(page, "email") and "value=" not in _input(page, "password")


def test_a_mismatched_confirmation_is_said_by_that_field(client, app):
    r = post_form(client, "/inscription", display_name="Ana Martin", email="ana@example.org", password=PASSWORD,
                  password_confirm=PASSWORD + "!")
    page = unescape(r.text)
    assert r.status_code == 400
    assert _error(page, "password_confirm") == "Erreur : Les deux mots de passe ne sont pas identiques."
    assert [name for name in ("display_name", "email", "password") if _error(page, name)] == []
    assert "Un point est à corriger" in page
    assert 'value="Ana Martin"' in _input(page, "display_name")


def test_after_confirming_the_login_form_holds_the_address(client, outbox):
    register(client, email="Ana.Martin@Example.org")
    r = confirm_last_mail(client, outbox)
    assert r.headers["Location"] == "/connexion"  # the address is not put in the URL
    page = unescape(client.get("/connexion").text)
    assert 'value="Ana.Martin@example.org"' in _input(page, "email")
    assert " autofocus" in _input(page, "password")
    # Once only: a later visit starts empty.
    assert "value=" not in _input(unescape(client.get("/connexion").text), "email")


@pytest.mark.parametrize(("role", "landing"), [("learner", "/tableau-de-bord"), ("admin", "/admin/tableau-de-bord"),
                                               ("counsellor", "/tableau-de-bord")])
def test_where_each_role_lands_after_login(client, outbox, app, role, landing):
    register(client)
    confirm_last_mail(client, outbox)
    set_role(app, "ana@example.org", role)
    assert login(client).headers["Location"] == landing
    logout(client)
    # A page asked for first still wins.
    page = client.get("/connexion?next=/badges/").text
    from tests.conftest import csrf_from

    r = client.post("/connexion?next=/badges/", data={"csrf_token": csrf_from(page), "email": "ana@example.org",
                                                      "password": PASSWORD})
    assert r.headers["Location"] == "/badges/"


def test_confirm_while_logged_in_goes_to_the_account(client, outbox):
    register(client)
    confirm_last_mail(client, outbox)
    login(client)
    post_form(client, "/compte/", "/compte/adresses", email="ana.old@school.example")
    assert confirm_last_mail(client, outbox).headers["Location"] == "/compte/"


@pytest.mark.parametrize(("path", "role", "input_id", "button", "empty"), [
    ("/badges/importer", "learner", "f-files", "Choisir des images", "Aucune image choisie"),
    ("/admin/referentiel", "admin", "f-file", "Choisir un fichier", "Aucun fichier choisi"),
    ("/admin/referentiel/apercu", "admin", "f-file", "Choisir un fichier", "Aucun fichier choisi"),
])
def test_file_pickers_are_ours_and_in_french(client, outbox, app, path, role, input_id, button, empty):
    register(client)
    confirm_last_mail(client, outbox)
    set_role(app, "ana@example.org", role)
    login(client)
    page = unescape(client.get(path).text)
    tag = _input(page, input_id.removeprefix("f-"))
    assert 'class="file-input"' in tag and 'type="file"' in tag
    assert f"{input_id}-names" in re.search(r'aria-describedby="([^"]+)"', tag).group(1).split()
    assert f'<label for="{input_id}" class="button button-secondary file-button" aria-hidden="true">{button}</label>' in page
    assert f'<p class="file-names hint" id="{input_id}-names" role="status" data-none="{empty}">{empty}</p>' in page
    assert '<script src="/static/file-picker.js" defer></script>' in page
    post_form(client, path, "/langue", locale="en", next=path)
    english = unescape(client.get(path).text)
    assert "Choose" in english and "Choisir" not in english.split('id="contenu"', 1)[1].split("</main>")[0]
