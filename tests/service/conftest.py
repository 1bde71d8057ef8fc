"""Fixtures shared by the service tests."""

from __future__ import annotations

import pytest

from tests.fakes.server import FakeServer


@pytest.fixture
def attacker():
    """A second loopback host that anyone on the internet could run (SECURITY.md T60)."""
    with FakeServer() as server:
        yield server
