"""Fixtures for the tests that talk to partner backpacks on loopback (service and web tests).

    from tests.service.partner_fixtures import *     # in a test module, as tests/web/host_helpers.py

- `partner`: an OB 3.0 partner backpack (tests/fakes/partner.py) with its logo and badge images;
- `badgr`: a Badgr-like partner backpack (tests/fakes/badgr_backpack.py);
- `factory`: badges served by `partner`, issued a day ago (in place of tests/conftest.py's);
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

__all__ = ["backpack", "badgr", "factory", "partner"]


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
