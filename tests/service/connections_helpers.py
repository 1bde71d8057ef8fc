"""Helpers shared by the partner-backpack tests (service, web, browser)."""

from __future__ import annotations

import io
import uuid
from urllib.parse import parse_qsl, urlsplit

from PIL import Image
from sqlalchemy import select

from tests.fakes.badges import BadgeFactory
from tests.fakes.partner import FakePartner
from wallet.db import new_session
from wallet.models import Connection, Email, User, utcnow
from wallet.partners import client as service

RECIPIENT = "ana@example.org"


def png(color=(20, 90, 160), size=(32, 32)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, format="PNG")
    return out.getvalue()


def serve_assets(partner: FakePartner) -> None:
    """The partner's logo and the badge images its credentials name."""
    partner.route("/logo.png", png(), content_type="image/png")
    partner.route("/achievements/1/image.png", png((200, 120, 0)), content_type="image/png")
    partner.route("/badges/1/image.png", png((0, 120, 60)), content_type="image/png")


def make_learner(app, email: str = RECIPIENT, name: str = "Ana Martin") -> User:
    session = new_session(app)
    try:
        user = User(display_name=name, password_hash="x")
        user.emails.append(Email(address=email, normalized=email.lower(), is_primary=True, verified_at=utcnow()))
        session.add(user)
        session.commit()
        return user
    finally:
        session.close()


def ob3_credentials(factory: BadgeFactory, count: int, name: str = "Travail en équipe") -> list[str]:
    """`count` distinct OB 3.0 credentials (did:key, Data Integrity: they verify offline)."""
    return [factory.ob3_di(id=f"urn:uuid:{uuid.uuid4()}", name=f"{name} {i + 1}").credential
            for i in range(count)]


def register(app, partner: FakePartner):
    session = new_session(app)
    try:
        return service.register_backpack(session, partner.origin, app.extensions["wallet_http"], app.config)
    finally:
        session.close()


def authorize(partner: FakePartner, url: str) -> dict[str, str]:
    """What a browser does on the partner's side in auto-approve mode: GET the consent URL and
    read the redirect back to the wallet. Returns the callback's query parameters."""
    partner.auto_approve = True
    parts = urlsplit(url)
    assert f"{parts.hostname}:{parts.port}" == partner.authority
    response = partner.flask.test_client().get(parts.path + "?" + parts.query)
    assert response.status_code == 302, response.get_data(as_text=True)
    return dict(parse_qsl(urlsplit(response.headers["Location"]).query))


def callback_path(partner: FakePartner, url: str) -> str:
    partner.auto_approve = True
    parts = urlsplit(url)
    response = partner.flask.test_client().get(parts.path + "?" + parts.query)
    assert response.status_code == 302, response.get_data(as_text=True)
    location = urlsplit(response.headers["Location"])
    return location.path + "?" + location.query


def connect(app, user: User, partner: FakePartner, backpack_id: int, now=None):
    """Start the flow, consent, come back: the finished SyncResult."""
    session = new_session(app)
    try:
        url = service.start_connect(session, user, backpack_id, app.config, now=now)
        args = authorize(partner, url)
        return service.finish_connect(session, user, backpack_id, args, app.extensions["wallet_http"],
                                      app.config, now=now)
    finally:
        session.close()


def http_of(app):
    return app.extensions["wallet_http"]


def connection_of(session, user) -> Connection | None:
    """The learner's connection, read afresh."""
    session.rollback()  # a new read: SQLite keeps an open read transaction on its old snapshot
    return session.scalar(select(Connection).where(Connection.user_id == user.id))
