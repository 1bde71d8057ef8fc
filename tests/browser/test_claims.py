"""On a phone: an eligible learner claims a regional badge in one tap and finds it in the wallet,
verified (embedded builtin issuer, approval auto)."""

from __future__ import annotations

import pytest

from tests.browser.helpers import assert_accessible, assert_no_horizontal_overflow
from tests.browser.learner_helpers import import_aligned_badges, signed_in_learner
from tests.web.test_regional import regional_config


@pytest.fixture
def app_config(app_config, hosts, tmp_path):
    return regional_config(app_config, hosts, tmp_path, CLAIM_FIRST_ATTEMPT="inline")


def test_claim_in_one_tap_and_see_the_verified_regional_badge(phone, live_server, outbox, hosts):
    one, _two = hosts
    page = signed_in_learner(phone, live_server, outbox)
    import_aligned_badges(page, live_server, one)
    page.goto(live_server + "/badges-regionaux/")
    page.get_by_role("link", name="Demander ce badge").click()
    assert page.get_by_text("Communication 1").is_visible()
    assert_accessible(page)
    assert_no_horizontal_overflow(page)
    page.get_by_role("button", name="Envoyer ma demande").click()
    assert page.get_by_text("Délivrée").first.is_visible()
    assert_accessible(page)
    page.get_by_role("link", name="Voir le badge").click()
    assert page.get_by_role("heading", name="Communiquer — Je pratique").is_visible()
    assert page.locator(".chip-ok", has_text="Valide").is_visible()
    page.goto(live_server + "/badges-regionaux/")
    assert "Obtenu" in page.locator(".regional-card", has_text="Communiquer — Je pratique").inner_text()
