"""Fixtures shared by the service tests (partner backpacks, forgeries)."""

from __future__ import annotations

import pytest

from tests.fakes.server import FakeServer
from tests.service.connections_helpers import make_learner
from tests.service.partner_fixtures import backpack, badgr, factory, partner  # noqa: F401 (fixtures)
from wallet.db import new_session


@pytest.fixture
def learner(app):
    return make_learner(app)


@pytest.fixture
def session(app):
    with app.test_request_context():  # messages are rendered in the request's language
        s = new_session(app)
        yield s
        s.close()


@pytest.fixture
def attacker():
    """A second loopback host that anyone on the internet could run (SECURITY.md T60)."""
    with FakeServer() as server:
        yield server
