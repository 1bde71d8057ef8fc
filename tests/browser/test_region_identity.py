"""The Region's identity in a real browser, on a 360×640 phone with and without JavaScript: the
configured colours paint the header, the logo loads on the learner's pages and on the employer's,
and the nine regional badges show their own artwork at 64 px."""

from __future__ import annotations

import pytest

from tests.browser.app_shell_helpers import log_in, seed_learner, small_phone
from tests.browser.helpers import assert_accessible, assert_no_horizontal_overflow

LOGO = (b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><title>Bretagne</title>'
        b'<rect width="10" height="10" fill="#fff"/><rect x="2" y="2" width="6" height="6" fill="#000"/></svg>')


@pytest.fixture
def app_config(app_config, host, tmp_path):
    (tmp_path / "logo.svg").write_bytes(LOGO)
    app_config.update({"FETCH_ALLOW": host.authority, "REGION_NAME": "Région Bretagne",
                       "REGION_LOGO": str(tmp_path / "logo.svg"), "REGION_COLOR": "#5c1a1a",
                       "REGION_COLOR_INK": "#ffffff"})
    return app_config


def _logo_loaded(page) -> None:
    logo = page.locator("header img.brand-logo")
    assert logo.evaluate("img => img.complete && img.naturalWidth > 0")
    box = logo.bounding_box()
    assert box["width"] == 32 and box["height"] == 32


def test_the_learner_sees_the_regions_colours_logo_and_badge_art(app, factory, host, live_server, new_context,
                                                                  playwright):
    ana = seed_learner(app, factory, host)
    page = new_context(**small_phone(playwright)).new_page()
    log_in(page, live_server, ana.email)
    header = page.locator("header.site-header")
    assert header.evaluate("el => getComputedStyle(el).backgroundColor") == "rgb(92, 26, 26)"
    assert "Région Bretagne" in header.inner_text()
    _logo_loaded(page)

    page.goto(live_server + "/badges-regionaux/")
    images = page.locator(".regional-head img")
    assert images.count() == 9
    for i in range(9):
        image = images.nth(i)
        image.scroll_into_view_if_needed()
        assert image.evaluate("img => img.complete && img.naturalWidth > 0")
        assert image.bounding_box()["width"] == 64
    assert_accessible(page)
    assert_no_horizontal_overflow(page)


def test_the_employer_sees_the_regions_logo_without_javascript(app, factory, host, live_server, new_context,
                                                               playwright):
    ana = seed_learner(app, factory, host)
    page = new_context(**small_phone(playwright, js=False)).new_page()
    page.goto(f"{live_server}/p/{ana.share_token}")
    assert page.get_by_role("heading", name="Premiers secours").is_visible()
    assert "Région Bretagne" in page.locator("header.site-header").inner_text()
    _logo_loaded(page)
    checked = new_context(**small_phone(playwright)).new_page()
    checked.goto(f"{live_server}/p/{ana.share_token}")
    assert_accessible(checked)
    assert_no_horizontal_overflow(checked)
