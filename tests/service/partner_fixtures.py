"""Fixtures for the tests that talk to partner backpacks on loopback, in one place: tests/service/
conftest.py and tests/web/conftest.py make them every service and web test's; a web module that
wants badges served by `partner` says `factory = partner_fixtures.factory`.

- `partner`: an OB 3.0 partner backpack (tests/fakes/partner.py) with its logo and badge images;
- `badgr`: a Badgr-like partner backpack (tests/fakes/badgr_backpack.py);
- `factory`: badges served by `partner`, dated a day ago (in place of tests/conftest.py's, served
  by `host`);
- `backpack`: `partner` registered by the Region (its PartnerBackpack row).
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.fakes.badges import BadgeFactory
from tests.fakes.badgr_backpack import BadgrBackpack
from tests.fakes.partner import FakePartner
from tests.service.connections_helpers import register, serve_assets
from wallet.models import utcnow


@pytest.fixture
def partner():
    """An OB 3.0 partner backpack on loopback, with its logo and badge images."""
    with FakePartner(protocol="ob30") as server:
        serve_assets(server)
        yield server


@pytest.fixture
def badgr():
    with BadgrBackpack() as server:
        yield server


@pytest.fixture
def factory(partner):
    return BadgeFactory(partner, now=utcnow() - timedelta(days=1))


@pytest.fixture
def backpack(app, partner):
    return register(app, partner)
