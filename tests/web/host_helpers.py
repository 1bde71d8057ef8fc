"""Fixtures for the host tests: the wallet served for real on loopback (werkzeug in a thread, as
tests/browser does), with BASE_URL set to its own address so that the manifest, the token URL and
the Link headers name it; a Moodle site (a FakeServer that serves Moodle's hosted badges, made by
tests/fakes/badges.py BadgeFactory); learners with confirmed addresses.

    pytest_plugins-free use: `from tests.web.host_helpers import *` in a test module.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from werkzeug.serving import make_server

from tests.conftest import csrf_from, link_from
from tests.web.accounts_helpers import PASSWORD

__all__ = [
    "PASSWORD",
    "Clock",
    "app_config",
    "app_password",
    "badges",
    "clock",
    "learner",
    "moodle_site",
    "wallet",
    "wallet_socket",
]


@pytest.fixture
def moodle_site(host):
    """The training centre's Moodle: its wwwroot, where its hosted badges live (the loopback
    badge host of tests/conftest.py)."""
    return host


@pytest.fixture
def badges(factory):
    """Moodle's hosted badges, dated now (tests/conftest.py's `factory`, served by `host`)."""
    return factory


@pytest.fixture
def wallet_socket():
    """A listening socket for the wallet, made before the app so the app can know its own URL."""
    target = {}
    server = make_server("127.0.0.1", 0, lambda environ, start: target["app"](environ, start), threaded=True)
    yield server, target
    server.server_close()


@pytest.fixture
def app_config(app_config, wallet_socket, moodle_site):
    server, _target = wallet_socket
    app_config["BASE_URL"] = f"http://127.0.0.1:{server.server_port}"
    app_config["FETCH_ALLOW"] = moodle_site.authority
    return app_config


@pytest.fixture
def wallet(app, wallet_socket):
    """The base URL of the live wallet (no trailing slash)."""
    server, target = wallet_socket
    target["app"] = app
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    yield app.config["BASE_URL"]
    server.shutdown()
    thread.join(timeout=10)


class Clock:
    """The host's injectable clock (app.extensions["wallet_host_clock"]); starts at the real now."""

    def __init__(self) -> None:
        self.moment = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.moment

    def advance(self, **delta) -> None:
        self.moment += timedelta(**delta)


@pytest.fixture
def clock(app):
    value = Clock()
    app.extensions["wallet_host_clock"] = value
    return value


def _post(client, page: str, action: str | None = None, **data):
    data.setdefault("csrf_token", csrf_from(client.get(page).text))
    return client.post(action or page, data=data)


def learner(app, outbox, email: str = "ana@example.org", name: str = "Ana Martin"):
    """A test client logged in as a learner whose `email` is confirmed."""
    client = app.test_client()
    base = app.config["BASE_URL"]
    assert _post(client, "/inscription", display_name=name, email=email, password=PASSWORD,
                 password_confirm=PASSWORD).status_code == 302
    assert _post(client, link_from(outbox[-1].body).replace(base, "")).status_code == 302
    assert _post(client, "/connexion", email=email, password=PASSWORD).status_code == 302
    return client


def app_password(client, label: str = "Moodle du centre") -> str:
    """Create an app password on the learner's Applications page; the one-time secret it shows."""
    import re
    from html import unescape

    response = _post(client, "/compte/applications/", "/compte/applications/mots-de-passe", label=label)
    assert response.status_code == 201, response.text
    match = re.search(r'id="app-password">([^<]+)<', unescape(response.text))
    assert match, response.text
    return match.group(1)
