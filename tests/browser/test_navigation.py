"""The signed-in navigation on a 360×640 phone: a compact header, a bottom tab bar for the four main
places, the other pages behind « Menu »; with and without JavaScript, and on a desktop."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import assert_accessible, assert_no_horizontal_overflow
from tests.browser.test_accounts_flow import PASSWORD, log_in, register_and_confirm
from tests.web.test_counselling import set_role

TABS = ["Accueil", "Mes badges", "Badges régionaux", "Mes partages"]


@pytest.fixture
def small_phone(new_context, playwright):
    """A small phone: Pixel 5's touch and user agent on a 360×640 screen, in French."""
    device = {**playwright.devices["Pixel 5"], "viewport": {"width": 360, "height": 640}}
    return new_context(**device, locale="fr-FR", timezone_id="Europe/Paris")


def _tabs(page):
    return page.get_by_role("navigation", name="Menu principal")


def test_bottom_tab_bar_and_menu_on_a_small_phone(small_phone, live_server, outbox):
    page = small_phone.new_page()
    register_and_confirm(page, live_server, outbox)
    log_in(page, live_server)
    tabs = _tabs(page)
    expect(tabs).to_be_visible()
    assert tabs.get_by_role("link").all_inner_texts() == TABS
    expect(tabs.get_by_role("link", name="Accueil")).to_have_attribute("aria-current", "page")
    # The bar sits at the bottom of the screen, each tab a comfortable target, one line per word.
    bar = tabs.bounding_box()
    assert abs(bar["y"] + bar["height"] - 640) <= 1 and bar["height"] < 90, bar
    for name in TABS:
        box = tabs.get_by_role("link", name=name).bounding_box()
        assert box["width"] >= 80 and box["height"] >= 48, (name, box)
    # The header is one short row (it was three lines of links, about 190 px).
    header = page.locator(".site-header").bounding_box()
    assert header["height"] <= 64, header
    assert_accessible(page)
    assert_no_horizontal_overflow(page)

    tabs.get_by_role("link", name="Badges régionaux").click()
    page.wait_for_url("**/badges-regionaux/")
    expect(_tabs(page).get_by_role("link", name="Badges régionaux")).to_have_attribute("aria-current", "page")
    expect(_tabs(page).get_by_role("link", name="Accueil")).not_to_have_attribute("aria-current", "page")

    # The last thing on a page is not hidden under the bar.
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    last = page.locator(".footer-links a").last.bounding_box()
    assert last["y"] + last["height"] <= _tabs(page).bounding_box()["y"] + 1

    menu = page.locator("details.menu")
    menu_link = menu.get_by_role("link", name="Mon compte")
    expect(menu_link).to_be_hidden()
    page.get_by_text("Menu", exact=True).click()
    expect(menu_link).to_be_visible()
    expect(menu.get_by_role("link", name="Mes demandes")).to_be_visible()
    assert_accessible(page, in_place=True)
    assert_no_horizontal_overflow(page)
    menu_link.click()
    page.wait_for_url("**/compte/")
    page.get_by_text("Menu", exact=True).click()
    expect(page.get_by_role("navigation", name="Autres pages").get_by_role("link", name="Mon compte")
           ).to_have_attribute("aria-current", "page")
    page.get_by_role("button", name="Se déconnecter").click()
    page.wait_for_url("**/connexion")
    expect(page.get_by_role("navigation", name="Menu principal")).to_have_count(0)


def test_tab_bar_and_menu_work_without_javascript(browser, live_server, outbox):
    context = browser.new_context(java_script_enabled=False, locale="fr-FR", viewport={"width": 360, "height": 640})
    page = context.new_page()
    register_and_confirm(page, live_server, outbox)
    log_in(page, live_server)
    _tabs(page).get_by_role("link", name="Mes partages").click()
    page.wait_for_url("**/partages/")
    expect(_tabs(page).get_by_role("link", name="Mes partages")).to_have_attribute("aria-current", "page")
    page.get_by_text("Menu", exact=True).click()
    page.locator("details.menu").get_by_role("link", name="Mes données").click()
    page.wait_for_url("**/mes-donnees/")
    page.get_by_text("Menu", exact=True).click()
    page.get_by_role("button", name="Se déconnecter").click()
    page.wait_for_url("**/connexion")
    context.close()


def test_counsellor_and_admin_tabs(app, desktop, small_phone, live_server, outbox):
    page = small_phone.new_page()
    register_and_confirm(page, live_server, outbox, email="conseil@region.example", name="Mme Durand")
    set_role(app, "conseil@region.example", "counsellor")
    result = app.test_cli_runner().invoke(args=["users", "create-admin", "admin@region.example", "--password",
                                                PASSWORD])
    assert result.exit_code == 0, result.output
    log_in(page, live_server, email="conseil@region.example", landing="**/conseiller/")
    names = _tabs(page).get_by_role("link").all_inner_texts()
    assert names == ["Mes apprenants", *TABS[1:]]
    page.get_by_text("Menu", exact=True).click()
    expect(page.get_by_role("link", name="Administration")).to_have_count(0)
    expect(page.get_by_role("link", name="Mon accompagnement")).to_have_count(0)

    page = desktop.new_page()
    log_in(page, live_server, email="admin@region.example", landing="**/admin/tableau-de-bord")
    # On a wide screen the tabs sit in the header, not at the bottom.
    bar = _tabs(page).bounding_box()
    assert bar["y"] + bar["height"] <= page.locator(".site-header").bounding_box()["height"] + 1
    page.get_by_text("Menu", exact=True).click()
    page.get_by_role("link", name="Administration").click()
    page.wait_for_url("**/admin/tableau-de-bord")
    assert_accessible(page)
