"""Fixtures shared by the web tests: the partner backpacks on loopback (tests/service/partner_fixtures.py)."""

from __future__ import annotations

from tests.service.partner_fixtures import backpack, badgr, partner  # noqa: F401 (fixtures)
