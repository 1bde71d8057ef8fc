"""Links sent by mail carry no personal data (SECURITY.md T64): an opaque random token, only its
sha256 stored, used once, expiring."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import timedelta
from html import unescape

import pytest
from sqlalchemy import select

from tests.conftest import link_from
from tests.web.accounts_helpers import BASE, PASSWORD, login, logout, post_form, register, registered_user
from wallet.services import mail_links


def _token(mail) -> str:
    return link_from(mail.body).rsplit("/", 1)[1]


def _decoded(token: str) -> bytes:
    return base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))


def _user_and_hash(app):
    from wallet.db import new_session
    from wallet.models import User

    with new_session(app) as s:
        user = s.scalars(select(User)).one()
        return user.id, user.password_hash


def _links_sent(client, app, outbox) -> dict[str, str]:
    """One link of every kind: confirm (registration, added address), reset, unlock."""
    tokens = {}
    register(client)
    tokens["confirm"] = _token(outbox[-1])
    assert post_form(client, link_from(outbox[-1].body).replace(BASE, "")).status_code == 302
    assert login(client).status_code == 302
    post_form(client, "/compte/", "/compte/adresses", email="ana.old@school.example")
    tokens["confirm_added"] = _token(outbox[-1])
    logout(client)
    post_form(client, "/mot-de-passe-oublie", email="ana@example.org")
    tokens["reset"] = _token(outbox[-1])
    post_form(client, "/connexion", "/connexion/deblocage", email="ana@example.org")
    tokens["unlock"] = _token(outbox[-1])
    return tokens


def test_every_mail_link_is_an_opaque_random_token_stored_as_its_hash(client, app, outbox):
    from wallet.db import new_session
    from wallet.models import MailToken

    tokens = _links_sent(client, app, outbox)
    _user_id, password_hash = _user_and_hash(app)
    for kind, token in tokens.items():
        raw = _decoded(token)
        # 256 bits and nothing else: no room for an address, a user id or a date beside them.
        assert len(raw) == 32 and len(token) == 43, kind
        text = raw.decode("latin-1")
        for secret in ("ana@example.org", "ana.old@school.example", "ana%40example.org"):
            assert secret not in token.lower() and secret not in text.lower(), (kind, secret)
        assert "." not in token  # no serializer structure (payload.timestamp.signature)
        with pytest.raises(ValueError):
            json.loads(raw)
        # No fragment of the password hash (the old reset token carried its last 16 characters).
        assert not any(password_hash[i:i + 8] in token for i in range(len(password_hash) - 8)), kind
    assert len(set(tokens.values())) == len(tokens)
    with new_session(app) as s:
        rows = s.scalars(select(MailToken)).all()
        stored = {row.token_hash for row in rows}
        dump = repr([tuple(r.__table__.c) for r in rows]) + repr([vars(r) for r in rows])
    assert {hashlib.sha256(t.encode()).hexdigest() for t in tokens.values()} <= stored
    assert not any(t in dump for t in tokens.values())


def test_a_link_works_once(client, app, outbox):
    register(client)
    path = link_from(outbox[-1].body).replace(BASE, "")
    assert post_form(client, path).status_code == 302
    again = post_form(client, path)
    assert again.status_code == 400 and "Ce lien a déjà servi" in unescape(again.text)


def test_a_new_reset_makes_older_reset_links_unusable(client, app, outbox):
    registered_user(client, outbox)
    logout(client)
    post_form(client, "/mot-de-passe-oublie", email="ana@example.org")
    first = link_from(outbox[-1].body).replace(BASE, "")
    post_form(client, "/mot-de-passe-oublie", email="ana@example.org")
    second = link_from(outbox[-1].body).replace(BASE, "")
    new = "une autre phrase de passe"
    assert post_form(client, second, password=new, password_confirm=new).status_code == 302
    r = post_form(client, first, password="encore une phrase de passe", password_confirm="encore une phrase de passe")
    assert r.status_code == 400 and "déjà servi" in unescape(r.text)
    assert login(client, password=new).status_code == 302


def test_a_refused_password_leaves_the_reset_link_usable(client, app, outbox):
    registered_user(client, outbox)
    logout(client)
    post_form(client, "/mot-de-passe-oublie", email="ana@example.org")
    path = link_from(outbox[-1].body).replace(BASE, "")
    assert post_form(client, path, password="court", password_confirm="court").status_code == 400
    new = "une autre phrase de passe"
    assert post_form(client, path, password=new, password_confirm=new).status_code == 302


@pytest.mark.parametrize(("kind", "hours"), [("confirm", 49), ("reset", 3), ("unlock", 2)])
def test_an_expired_link_is_refused_with_a_clear_message(client, app, outbox, monkeypatch, kind, hours):
    registered_user(client, outbox)
    logout(client)
    if kind == "confirm":
        login(client)
        post_form(client, "/compte/", "/compte/adresses", email="ana.old@school.example")
        logout(client)
    elif kind == "reset":
        post_form(client, "/mot-de-passe-oublie", email="ana@example.org")
    else:
        post_form(client, "/connexion", "/connexion/deblocage", email="ana@example.org")
    path = link_from(outbox[-1].body).replace(BASE, "")
    later = mail_links.utcnow() + timedelta(hours=hours)
    monkeypatch.setattr(mail_links, "utcnow", lambda: later)
    data = {"password": PASSWORD + " neuf", "password_confirm": PASSWORD + " neuf"} if kind == "reset" else {}
    r = post_form(client, path, **data)
    assert r.status_code == 400
    assert "Ce lien a expiré. Demandez-en un nouveau." in unescape(r.text)


def test_an_unknown_token_is_refused(client, app, outbox):
    r = post_form(client, "/confirmer/" + "A" * 43)
    assert r.status_code == 400 and "Ce lien n'est pas valide" in unescape(r.text)


def test_reset_mails_per_address_are_limited_whoever_asks(client, app, outbox):
    from wallet.services.accounts import MAILS_PER_ADDRESS_HOUR

    registered_user(client, outbox)
    logout(client)
    before = len(outbox)
    for n in range(MAILS_PER_ADDRESS_HOUR + 2):  # from several machines: the per-IP limit is not what stops it
        other = app.test_client()
        other.environ_base["REMOTE_ADDR"] = f"192.0.2.{n + 1}"
        assert post_form(other, "/mot-de-passe-oublie", email="ana@example.org").status_code == 200
    assert len(outbox) == before + MAILS_PER_ADDRESS_HOUR


def test_registration_mails_per_address_are_limited_too(client, app, outbox):
    from wallet.services.accounts import MAILS_PER_ADDRESS_HOUR

    registered_user(client, outbox)  # its confirmation mail counts
    logout(client)
    for n in range(MAILS_PER_ADDRESS_HOUR + 2):
        other = app.test_client()
        other.environ_base["REMOTE_ADDR"] = f"192.0.2.{n + 1}"
        assert register(other, name="Quelqu'un").status_code == 302
    subjects = [mail.subject for mail in outbox if mail.to == "ana@example.org"]
    assert len(subjects) == MAILS_PER_ADDRESS_HOUR
    assert subjects[0] == "Confirmez votre adresse e-mail" and all("existe déjà" in s for s in subjects[1:])
