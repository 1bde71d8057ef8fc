"""Accounts as a person uses them: register, confirm, log in, several addresses, reset, delete."""

from __future__ import annotations

import re
import time
from html import unescape

import pytest
from sqlalchemy import select

from tests.conftest import csrf_from, link_from
from tests.web.accounts_helpers import (
    BASE,
    PASSWORD,
    confirm_last_mail,
    login,
    logout,
    post_form,
    register,
    registered_user,
)

CSRF_VALUE = r'name="csrf_token" value="[^"]+"'


def _db(app):
    from wallet.db import new_session

    return new_session(app)


def _users(app):
    from wallet.models import User

    with _db(app) as s:
        return s.scalars(select(User)).all()


def test_register_confirm_login_add_second_email_and_logout(client, outbox, app):
    assert register(client).headers["Location"].endswith("/verifiez-vos-e-mails")
    assert outbox[-1].to == "ana@example.org" and "/confirmer/" in outbox[-1].body
    assert confirm_last_mail(client, outbox).status_code == 302
    assert login(client).headers["Location"].endswith("/tableau-de-bord")
    assert "Bonjour Ana Martin" in client.get("/tableau-de-bord").text

    r = post_form(client, "/compte/", "/compte/adresses", email="Ana.Old@School.example")
    assert r.status_code == 302
    page = client.get("/compte/").text
    assert "Ana.Old@school.example" in page and "à confirmer" in page
    assert confirm_last_mail(client, outbox).status_code == 302
    page = client.get("/compte/").text
    assert page.count("confirmée") >= 2 and "à confirmer" not in page

    assert logout(client).status_code == 302
    assert client.get("/tableau-de-bord").status_code == 302  # back to login


def test_confirmation_link_get_changes_nothing(client, outbox, app):
    register(client)
    path = link_from(outbox[-1].body).replace(BASE, "")
    assert client.get(path).status_code == 200
    with _db(app) as s:
        from wallet.models import Email

        assert s.scalars(select(Email)).one().verified_at is None


def _flip_signature(token: str) -> str:
    """Change the first character of the signature (the last characters of a base64 HMAC may
    carry padding bits, so changing them does not always change the signature)."""
    head, _, signature = token.rpartition(".")
    first = "B" if signature[0] != "B" else "C"
    return f"{head}.{first}{signature[1:]}"


@pytest.mark.parametrize("mutate", [_flip_signature, lambda t: "garbage", lambda t: t + "."])
def test_tampered_confirmation_link_is_refused(client, outbox, app, mutate):
    register(client)
    token = link_from(outbox[-1].body).rsplit("/", 1)[1]
    r = post_form(client, "/confirmer/" + mutate(token))
    assert r.status_code == 400
    assert "Ce lien n'est pas valide" in unescape(r.text)
    from wallet.models import Email

    with _db(app) as s:
        assert s.scalars(select(Email)).one().verified_at is None


def test_expired_confirmation_link_is_refused(app_config, client, outbox, app):
    register(client)
    app.config["CONFIRM_MAX_AGE"] = -1
    r = confirm_last_mail(client, outbox)
    assert r.status_code == 400 and "Ce lien a expiré" in unescape(r.text)


def test_duplicate_email_gets_the_same_answer_and_the_owner_is_told(client, outbox, app):
    registered_user(client, outbox)
    logout(client)
    first = register(client, name="Quelqu'un d'autre")
    assert first.status_code == 302 and first.headers["Location"].endswith("/verifiez-vos-e-mails")
    assert len(_users(app)) == 1
    assert "existe déjà" in outbox[-1].subject


@pytest.mark.parametrize("password, message", [
    ("court", "trop court"),
    ("azertyuiop123", "trop courant"),
    ("aaaaaaaaaaaaaaaa", "trop courant"),
    ("x" * 100_000, "trop long"),
    ("ana martin est là", "contient votre nom"),
])
def test_weak_or_huge_password_is_refused_and_writes_nothing(client, app, password, message):
    started = time.perf_counter()
    r = register(client, password=password)
    assert r.status_code == 400
    assert message in unescape(r.text)
    assert _users(app) == []
    assert "x" * 1000 not in unescape(r.text)  # the password is never echoed
    del started


def test_mismatched_passwords_and_bad_email(client, app):
    r = post_form(client, "/inscription", display_name="Ana", email="ana@example.org", password=PASSWORD,
                  password_confirm=PASSWORD + "!")
    assert r.status_code == 400 and "pas identiques" in unescape(r.text)
    r = register(client, email="pas-une-adresse")
    assert r.status_code == 400 and "adresse e-mail n'est pas valide" in unescape(r.text)
    assert _users(app) == []


def test_login_answers_alike_for_unknown_email_and_wrong_password(client, outbox):
    registered_user(client, outbox)
    logout(client)
    wrong = login(client, password="not the password at all")
    unknown = login(client, email="nobody@example.org", password="not the password at all")
    assert wrong.status_code == unknown.status_code == 400
    assert wrong.text.replace("ana@example.org", "X").count("incorrect") == unknown.text.count("incorrect") == 1


def test_reset_answers_alike_and_link_works_once(client, outbox, app):
    registered_user(client, outbox)
    logout(client)
    before = len(outbox)
    unknown = post_form(client, "/mot-de-passe-oublie", email="nobody@example.org")
    known = post_form(client, "/mot-de-passe-oublie", email="ana@example.org")
    assert unknown.status_code == known.status_code == 200
    # The same page but for the CSRF token, which carries the second it was made in.
    assert re.sub(CSRF_VALUE, "", unknown.text) == re.sub(CSRF_VALUE, "", known.text)
    assert len(outbox) == before + 1
    path = link_from(outbox[-1].body).replace(BASE, "")
    new = "une autre phrase de passe"
    r = post_form(client, path, password=new, password_confirm=new)
    assert r.status_code == 302
    assert login(client, password=PASSWORD).status_code == 400
    assert login(client, password=new).status_code == 302
    logout(client)
    again = post_form(client, path, password="encore une autre phrase", password_confirm="encore une autre phrase")
    assert again.status_code == 400 and "Ce lien a déjà servi" in unescape(again.text)


@pytest.mark.parametrize("target", [
    "//evil.example", "\\\\evil.example", "/\\evil.example", "https://evil.example", "javascript:alert(1)",
    "%2F%2Fevil.example", "/////evil.com", "/%5Cevil.example", "/ok\r\nSet-Cookie:x=1",
])
def test_malformed_next_falls_back_to_the_dashboard(client, outbox, target):
    registered_user(client, outbox)
    logout(client)
    page = client.get("/connexion", query_string={"next": target})
    r = client.post("/connexion", data={"csrf_token": csrf_from(page.text), "email": "ana@example.org",
                                         "password": PASSWORD, "next": target})
    assert r.status_code == 302
    assert r.headers["Location"] in ("/tableau-de-bord", "http://localhost/tableau-de-bord")


def test_safe_next_is_followed(client, outbox):
    registered_user(client, outbox)
    logout(client)
    r = client.get("/compte/")
    assert r.status_code == 302 and "next=/compte/" in r.headers["Location"]
    page = client.get(r.headers["Location"])
    r = client.post("/connexion", data={"csrf_token": csrf_from(page.text), "email": "ana@example.org",
                                         "password": PASSWORD, "next": "/compte/"})
    assert r.headers["Location"].endswith("/compte/")


def test_session_cookie_replayed_after_logout_is_refused(client, outbox, app):
    registered_user(client, outbox)
    cookie = client.get_cookie("wallet_session").value
    logout(client)
    other = app.test_client()
    other.set_cookie("wallet_session", cookie)
    assert other.get("/tableau-de-bord").status_code == 302


def test_password_change_ends_other_sessions_but_not_this_one(client, outbox, app):
    registered_user(client, outbox)
    second = app.test_client()
    assert login(second).status_code == 302
    new = "mon nouveau mot de passe"
    r = post_form(client, "/compte/", "/compte/mot-de-passe", current_password=PASSWORD, password=new,
                  password_confirm=new)
    assert r.status_code == 302
    assert client.get("/tableau-de-bord").status_code == 200
    assert second.get("/tableau-de-bord").status_code == 302


def test_wrong_current_password_changes_nothing(client, outbox):
    registered_user(client, outbox)
    r = post_form(client, "/compte/", "/compte/mot-de-passe", current_password="wrong wrong wrong",
                  password="mon nouveau mot de passe", password_confirm="mon nouveau mot de passe")
    assert r.status_code == 400 and "actuel est incorrect" in unescape(r.text)
    logout(client)
    assert login(client).status_code == 302


def test_address_confirmed_by_another_account_is_refused_with_a_way_back(client, outbox, app):
    registered_user(client, outbox, email="ana@example.org")
    logout(client)
    bob = app.test_client()
    registered_user(bob, outbox, email="bob@example.org", name="Bob Durand")
    post_form(bob, "/compte/", "/compte/adresses", email="ana@example.org")
    r = confirm_last_mail(bob, outbox)
    assert r.status_code == 400
    assert "déjà confirmée sur un autre compte" in unescape(r.text) and "Mot de passe oublié" in unescape(r.text)


def test_primary_email_cannot_be_removed_and_others_can(client, outbox, app):
    registered_user(client, outbox)
    post_form(client, "/compte/", "/compte/adresses", email="old@example.org")
    from wallet.models import Email

    with _db(app) as s:
        ids = {e.address: e.id for e in s.scalars(select(Email))}
    r = post_form(client, "/compte/", "/compte/adresses/retirer", email_id=str(ids["ana@example.org"]))
    assert r.status_code == 400 and "adresse principale" in unescape(r.text)
    r = post_form(client, "/compte/", "/compte/adresses/retirer", email_id=str(ids["old@example.org"]))
    assert r.status_code == 302
    assert "old@example.org" not in client.get("/compte/").text


def test_another_learners_email_id_is_not_found(client, outbox, app):
    registered_user(client, outbox)
    bob = app.test_client()
    registered_user(bob, outbox, email="bob@example.org", name="Bob Durand")
    from wallet.models import Email

    with _db(app) as s:
        bob_email = s.scalar(select(Email).where(Email.normalized == "bob@example.org"))
    for action in ("/compte/adresses/retirer", "/compte/adresses/renvoyer", "/compte/adresses/principale"):
        r = post_form(client, "/compte/", action, email_id=str(bob_email.id))
        assert r.status_code == 404, action
    with _db(app) as s:
        assert s.get(Email, bob_email.id) is not None


def test_delete_account_removes_every_row(client, outbox, app):
    registered_user(client, outbox)
    r = post_form(client, "/compte/supprimer", password=PASSWORD)  # box not ticked
    assert r.status_code == 400 and len(_users(app)) == 1
    r = post_form(client, "/compte/supprimer", password="wrong password here", confirm="yes")
    assert r.status_code == 400 and len(_users(app)) == 1
    r = post_form(client, "/compte/supprimer", password=PASSWORD, confirm="yes")
    assert r.status_code == 302
    from wallet.models import AuditEvent, Email

    with _db(app) as s:
        assert s.scalars(select(Email)).all() == []
        assert s.scalars(select(AuditEvent)).all() == []
    assert _users(app) == []
    assert login(client).status_code == 400


def test_language_switch_to_english_and_back(client):
    page = client.get("/connexion")
    assert "Se connecter" in page.text and '<html lang="fr">' in page.text
    client.post("/langue", data={"csrf_token": csrf_from(page.text), "locale": "en", "next": "/connexion"})
    page = client.get("/connexion")
    assert '<html lang="en">' in page.text and "Log in" in page.text


def test_login_is_rate_limited_per_account_with_retry_after(client, outbox):
    registered_user(client, outbox)
    logout(client)
    # The successful login of registered_user() counts too: 5 attempts a minute per account.
    statuses = [login(client, password=f"wrong password {i}").status_code for i in range(6)]
    assert statuses[:4] == [400] * 4
    assert statuses[4:] == [429, 429]
    r = login(client, password="wrong password again")
    assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0
    assert "Trop de tentatives" in unescape(r.text)


def test_healthz(client):
    r = client.get("/healthz")
    assert r.status_code == 200 and r.get_json() == {"status": "ok"}


def test_cookies_are_httponly_and_samesite_lax(client, outbox):
    register(client)
    r = login(client, email="ana@example.org")
    cookie = r.headers.get("Set-Cookie", "")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_create_admin_command(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["users", "create-admin", "admin@region.example", "--password",
                                 "la region normande admin"])
    assert result.exit_code == 0, result.output
    users = _users(app)
    assert [u.role for u in users] == ["admin"]
    result = runner.invoke(args=["users", "create-admin", "weak@region.example", "--password", "court"])
    assert result.exit_code != 0 and "password_too_short" in result.output


def test_pages_have_a_plain_text_title(client, outbox):
    registered_user(client, outbox)
    import re

    for path in ("/tableau-de-bord", "/compte/", "/badges/", "/badges-regionaux/", "/connexions/",
                 "/partages/", "/accompagnement/", "/mes-donnees/"):
        page = client.get(path).text
        match = re.search(r"<title>([^<]*)</title>", page)
        assert match and "Mon portefeuille de badges" in match.group(1), path


def test_the_last_admin_cannot_delete_their_account(app, client):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["users", "create-admin", "admin@region.example", "--password",
                               "la region normande admin"]).exit_code == 0
    assert login(client, email="admin@region.example", password="la region normande admin").status_code == 302
    r = post_form(client, "/compte/supprimer", password="la region normande admin", confirm="yes")
    assert r.status_code == 400 and "dernier compte administrateur" in unescape(r.text)
    assert [u.role for u in _users(app)] == ["admin"]
    assert runner.invoke(args=["users", "create-admin", "other.admin@region.example", "--password",
                               "une autre phrase de passe"]).exit_code == 0
    r = post_form(client, "/compte/supprimer", password="la region normande admin", confirm="yes")
    assert r.status_code == 302 and [u.role for u in _users(app)] == ["admin"]
