"""« Badges régionaux » on a 360×640 phone: what the learner can claim comes first, then what is
under way, then the rest folded; with and without JavaScript."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import assert_accessible, assert_no_horizontal_overflow
from tests.browser.learner_helpers import import_aligned_badges
from tests.browser.test_accounts_flow import log_in, register_and_confirm
from tests.web.test_regional import regional_config


@pytest.fixture
def app_config(app_config, hosts, tmp_path):
    return regional_config(app_config, hosts, tmp_path)


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_claimable_badge_is_on_the_first_screen(browser, playwright, live_server, outbox, hosts, javascript):
    one, _two = hosts
    device = {**playwright.devices["Pixel 5"], "viewport": {"width": 360, "height": 640}}
    context = browser.new_context(**device, locale="fr-FR", java_script_enabled=javascript)
    page = context.new_page()
    register_and_confirm(page, live_server, outbox)
    log_in(page, live_server)
    import_aligned_badges(page, live_server, one, range(1, 5), level=2)  # four mastery badges
    page.goto(live_server + "/badges-regionaux/")
    headings = page.get_by_role("heading", level=2).all_inner_texts()
    assert headings[:3] == ["Vous pouvez le demander (1\u00a0badge)", "En cours (1\u00a0badge)",
                            "Pas encore commencés (7\u00a0badges)"]
    # The badge to claim and its button are on the first screen, above the fold.
    claim = page.get_by_role("link", name="Demander ce badge")
    expect(claim).to_be_in_viewport()
    box = claim.bounding_box()
    assert box["y"] + box["height"] <= 640 - 60, box  # not under the tab bar either
    expect(page.get_by_role("heading", name="Communiquer — Je maîtrise")).to_be_visible()
    # The rest is folded: its cards are hidden until the learner opens the group.
    folded = page.get_by_role("heading", name="Organiser — Je pratique")
    expect(folded).to_be_hidden()
    page.get_by_text("Pas encore commencés (7\u00a0badges)").click()
    expect(folded).to_be_visible()
    if javascript:  # both helpers evaluate a script in the page
        assert_accessible(page, in_place=True)
        assert_no_horizontal_overflow(page)
    context.close()
