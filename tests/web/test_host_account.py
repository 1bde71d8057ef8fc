"""My account → Applications (app passwords shown once, stored hashed, cut off in one tap), the
data export and deletion of host data, and the admin's figures of partners' pushes."""

from __future__ import annotations

import io
import json
import re
import zipfile
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from tests.conftest import csrf_from
from tests.fakes.moodle_client import MoodleError, Ob20Backpack
from tests.web.host_helpers import *
from tests.web.host_helpers import PASSWORD, app_password, learner
from tests.web.test_counselling import set_role

ANA = "ana@example.org"


@pytest.fixture
def ana(app, outbox, wallet):
    return learner(app, outbox)


def post(client, page: str, action: str, **data):
    data.setdefault("csrf_token", csrf_from(client.get(page).text))
    return client.post(action, data=data)


def test_an_app_password_is_shown_once_and_stored_as_a_hash(app, ana):
    from wallet.db import new_session
    from wallet.models import HostAccess

    secret = app_password(ana, label="Moodle du GRETA")
    assert secret not in ana.get("/compte/applications/").text  # a later visit never shows it again
    with new_session(app) as session:
        [access] = session.scalars(select(HostAccess)).all()
        columns = [str(getattr(access, c.key)) for c in HostAccess.__table__.columns]
    assert all(secret not in value and secret.replace("-", "") not in value for value in columns)
    assert access.hint == secret[-4:] and access.label == "Moodle du GRETA"
    page = ana.get("/compte/applications/").text
    assert "Moodle du GRETA" in page and f"se terminant par {secret[-4:]}" in page


@pytest.mark.parametrize("label, message", [("", "Donnez un nom"), ("x" * 81, "trop long")])
def test_an_app_password_needs_a_short_name(app, ana, label, message):
    response = post(ana, "/compte/applications/", "/compte/applications/mots-de-passe", label=label)
    assert response.status_code == 400 and message in response.text and 'id="app-password"' not in response.text


@pytest.fixture
def unlimited(app):
    """Twenty creations in a row: the creation limit (10 a minute) is not what is tested here."""
    from wallet.app.extensions import limiter

    limiter.enabled = False
    yield
    limiter.enabled = True


def test_twenty_live_app_passwords_at_most(app, ana, unlimited):
    for n in range(20):
        app_password(ana, label=f"Site {n}")
    response = post(ana, "/compte/applications/", "/compte/applications/mots-de-passe", label="Site 21")
    assert response.status_code == 400 and "déjà 20 mots de passe" in response.text


def test_the_password_may_be_typed_without_dashes_or_in_capitals(app, wallet, ana):
    secret = app_password(ana)
    port = urlsplit(wallet).port
    typed = secret.replace("-", " ").upper()
    assert Ob20Backpack(api_url=wallet + "/v2", email=ANA, password=typed, token_port=port).authenticate()


def test_cutting_off_someone_elses_access_is_not_found(app, outbox, wallet, ana):
    from wallet.db import new_session
    from wallet.models import HostAccess

    app_password(ana)
    bob = learner(app, outbox, email="bob@example.org", name="Bob")
    with new_session(app) as session:
        access_id = session.scalar(select(HostAccess.id))
    response = post(bob, "/compte/applications/", f"/compte/applications/{access_id}/couper")
    assert response.status_code == 404
    with new_session(app) as session:
        assert session.get(HostAccess, access_id).revoked_at is None


def test_export_lists_the_applications_without_secrets_and_deletion_removes_them(app, wallet, ana, badges):
    from wallet.db import new_session
    from wallet.models import HostAccess, HostPush, HostToken

    secret = app_password(ana, label="Moodle du centre")
    moodle = Ob20Backpack(api_url=wallet + "/v2", email=ANA, password=secret, token_port=urlsplit(wallet).port)
    moodle.import_badge(badges.ob2_hosted("/badges/assertion/1").url)
    archive = zipfile.ZipFile(io.BytesIO(ana.get("/mes-donnees/export.zip").data))
    text = archive.read("mes-donnees.json").decode()
    [item] = json.loads(text)["partner_applications"]
    assert (item["kind"], item["name"], item["pushes"]) == ("app_password", "Moodle du centre", 1)
    assert secret not in text and moodle.access_token not in text and moodle.refresh_token not in text
    assert post(ana, "/compte/supprimer", "/compte/supprimer", password=PASSWORD, confirm="yes").status_code == 302
    with new_session(app) as session:
        assert session.scalar(select(func.count(HostAccess.id))) == 0
        assert session.scalar(select(func.count(HostToken.id))) == 0
        [push] = session.scalars(select(HostPush)).all()  # the admin's figure stays, without the person
        assert push.user_id is None and push.badge_id is None and push.access_id is None


def test_the_admin_sees_which_partners_push_and_how_often(app, outbox, wallet, ana, badges):
    port = urlsplit(wallet).port
    moodle = Ob20Backpack(api_url=wallet + "/v2", email=ANA, password=app_password(ana), token_port=port)
    moodle.import_badge(badges.ob2_hosted("/badges/assertion/1").url)
    moodle.import_badge(badges.ob2_hosted("/badges/assertion/2").url)
    with pytest.raises(MoodleError, match="existsinbackpack"):
        moodle.import_badge(badges.ob2_hosted("/badges/assertion/2").url)  # a duplicate
    admin = learner(app, outbox, email="admin@example.org", name="Admin")
    assert admin.get("/admin/envois").status_code == 404
    set_role(app, "admin@example.org", "admin")
    page = admin.get("/admin/envois")
    assert page.status_code == 200
    row = page.text.split("<tbody>")[1]
    assert "127.0.0.1" in row and "Open Badges v2.0" in row
    cells = [c.split("<")[0] for c in re.split(r"<td[^>]*>", row)[2:8]]
    assert cells == ["3", "2", "0", "1", "0", "1"]  # pushes, added, not yours, duplicates, refused, learners
