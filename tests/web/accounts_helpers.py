"""Small steps a person takes, expressed as test-client calls (CSRF read from each form)."""

from __future__ import annotations

from tests.conftest import csrf_from, link_from

PASSWORD = "un cheval bleu mange des pommes"
BASE = "http://127.0.0.1:5000"


def post_form(client, page: str, action: str | None = None, **data):
    page_resp = client.get(page)
    data.setdefault("csrf_token", csrf_from(page_resp.text))
    return client.post(action or page, data=data)


def register(client, email="ana@example.org", name="Ana Martin", password=PASSWORD):
    return post_form(client, "/inscription", display_name=name, email=email, password=password,
                     password_confirm=password)


def confirm_last_mail(client, outbox):
    path = link_from(outbox[-1].body).replace(BASE, "")
    return post_form(client, path)


def login(client, email="ana@example.org", password=PASSWORD):
    return post_form(client, "/connexion", email=email, password=password)


def logout(client):
    return post_form(client, "/compte/", "/deconnexion")


def registered_user(client, outbox, email="ana@example.org", name="Ana Martin"):
    """Register, confirm and log in."""
    assert register(client, email=email, name=name).status_code == 302
    assert confirm_last_mail(client, outbox).status_code == 302
    assert login(client, email=email).status_code == 302
