"""A share's own page on a 360×640 phone: the link, its QR code, « Copier », the phone's share sheet,
SMS and e-mail, at any time (not only right after it is made); LinkedIn through a permanent link.
With JavaScript and without."""

from __future__ import annotations

from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from playwright.sync_api import expect

from tests.browser.app_shell_helpers import SMALL_PHONE, small_phone
from tests.browser.helpers import assert_accessible, assert_no_horizontal_overflow
from tests.browser.learner_helpers import signed_in_learner, upload_baked_badge
from tests.browser.test_wallet import baked_file


@pytest.fixture
def app_config(app_config, host):
    app_config["FETCH_ALLOW"] = host.authority
    return app_config


@pytest.fixture
def share_page(new_context, playwright, live_server, outbox, factory, host, tmp_path):
    """A learner on a small phone has shared one badge; returns (context, URL of the share's page)."""
    context = new_context(**small_phone(playwright))
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    # Headless Chromium on Linux has no share sheet: stand in for the phone's, and record what it got.
    context.add_init_script("navigator.share = (data) => { window.sharedWith = data; return Promise.resolve(); };")
    page = signed_in_learner(context, live_server, outbox)
    upload_baked_badge(page, live_server, baked_file(tmp_path, factory, host))
    page.goto(live_server + "/partages/nouveau")
    page.get_by_role("checkbox", name="Premiers secours").check()
    page.get_by_label("30 jours").check()
    page.get_by_role("button", name="Créer le lien").click()
    page.wait_for_url("**/lien")
    url = page.url
    page.close()
    return context, url


def test_copy_share_sheet_sms_and_email_on_a_phone(share_page, live_server):
    context, url = share_page
    page = context.new_page()
    # Reached later from « Mes partages », not only right after it was made.
    page.goto(live_server + "/partages/")
    page.get_by_role("link", name="Voir le lien et le QR code").click()
    page.wait_for_url(url)
    link = page.get_by_label("Lien à envoyer").input_value()
    assert link.startswith("http://127.0.0.1:5000/p/")  # BASE_URL (tests/conftest.py)
    expect(page.get_by_role("img", name="QR code du lien de partage")).to_be_visible()

    copy = page.get_by_role("button", name="Copier")
    expect(copy).to_be_visible()
    copy.click()
    expect(page.get_by_role("status").filter(has_text="Lien copié.")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == link

    page.get_by_role("button", name="Partager…").click()
    shared = page.evaluate("window.sharedWith")
    assert shared["url"] == link and shared["title"] == "Mes badges vérifiés"

    sms = page.get_by_role("link", name="Par SMS").get_attribute("href")
    assert sms.startswith("sms:?&body=") and link in unquote(sms)
    mail = page.get_by_role("link", name="Par e-mail").get_attribute("href")
    assert mail.startswith("mailto:?subject=") and link in unquote(mail)
    assert_accessible(page)
    assert_no_horizontal_overflow(page)


def test_linkedin_opens_with_the_permanent_link(share_page, live_server):
    context, url = share_page
    page = context.new_page()
    page.goto(url)
    expect(page.get_by_text("LinkedIn garde le lien d'une certification pour toujours")).to_be_visible()
    thirty_days = page.get_by_label("Lien à envoyer").input_value()
    page.get_by_role("button", name="Ajouter à mon profil LinkedIn").click()
    page.wait_for_url("**/lien#linkedin")
    expect(page.get_by_text("Le lien permanent de ce badge est prêt")).to_be_visible()
    expect(page.get_by_text("Lien permanent pour LinkedIn")).to_be_visible()
    linkedin = page.get_by_role("link", name="Ajouter à mon profil LinkedIn")
    expect(linkedin).to_be_visible()
    cert = parse_qs(urlsplit(linkedin.get_attribute("href")).query)["certUrl"][0]
    assert cert == page.get_by_label("Lien à envoyer").input_value()
    assert "/p/" in cert and cert != thirty_days
    assert_accessible(page)
    assert_no_horizontal_overflow(page)
    page.goto(live_server + "/partages/")
    expect(page.get_by_text("Lien permanent pour LinkedIn")).to_be_visible()
    assert_accessible(page)
    assert_no_horizontal_overflow(page)


def test_without_javascript_the_link_is_text_and_sms_and_email_work(share_page, browser, live_server):
    context, url = share_page
    state = context.storage_state()
    plain = browser.new_context(storage_state=state, java_script_enabled=False, viewport=SMALL_PHONE,
                                locale="fr-FR")
    page = plain.new_page()
    page.goto(url)
    field = page.get_by_label("Lien à envoyer")
    expect(field).to_be_visible()
    assert "/p/" in field.input_value() and field.get_attribute("readonly") is not None
    expect(page.get_by_role("button", name="Copier")).to_be_hidden()
    expect(page.get_by_role("button", name="Partager…")).to_be_hidden()
    expect(page.get_by_role("link", name="Par SMS")).to_be_visible()
    expect(page.get_by_role("link", name="Par e-mail")).to_be_visible()
    expect(page.get_by_role("img", name="QR code du lien de partage")).to_be_visible()
    expect(page.get_by_role("button", name="Ajouter à mon profil LinkedIn")).to_be_visible()
    plain.close()
