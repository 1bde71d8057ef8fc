"""The upload cap on a phone (issue 12 item 5): the page says « 2 Mo au plus par image » next to the
file field, the browser refuses a heavier image before sending it (nothing crosses a slow network),
and without JavaScript the form still works and the server's own cap answers."""

from __future__ import annotations

import pytest

from tests.browser.helpers import assert_accessible, assert_no_horizontal_overflow
from tests.browser.test_accounts_flow import log_in, register_and_confirm
from tests.browser.test_wallet import baked_file
from wallet.services.badges import MAX_FILE_BYTES


@pytest.fixture
def app_config(app_config, host):
    app_config["FETCH_ALLOW"] = host.authority
    return app_config


def heavy_png(tmp_path):
    path = tmp_path / "photo-lourde.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * (MAX_FILE_BYTES + 200_000))
    return path


def signed_in(context, live_server, outbox):
    page = context.new_page()
    register_and_confirm(page, live_server, outbox)
    log_in(page, live_server)
    page.goto(live_server + "/badges/importer")
    return page


def test_a_heavy_image_is_refused_in_the_browser_before_sending(phone, live_server, outbox, factory, host, tmp_path):
    page = signed_in(phone, live_server, outbox)
    assert page.get_by_text("2 Mo au plus par image").is_visible()
    posts = []
    page.on("request", lambda request: posts.append(request.url) if request.method == "POST" else None)
    field = page.get_by_label("Des images de badges")
    field.set_input_files(str(heavy_png(tmp_path)))
    alert = page.get_by_role("alert")
    assert alert.is_visible()
    assert "dépassent 2 Mo" in alert.inner_text() and "photo-lourde.png" in alert.inner_text()
    assert_accessible(page)
    assert_no_horizontal_overflow(page)
    page.get_by_role("button", name="Importer et vérifier").click()
    assert page.get_by_role("heading", name="Importer des badges").is_visible()
    assert posts == [], "the heavy file was sent"

    field.set_input_files(str(baked_file(tmp_path, factory, host)))  # a real badge: the alert goes
    assert not page.locator("#f-files-error").is_visible()
    page.get_by_role("button", name="Importer et vérifier").click()
    assert page.get_by_text("Importé", exact=True).is_visible()


def test_without_javascript_the_server_cap_answers(new_context, playwright, live_server, outbox, tmp_path):
    context = new_context(**playwright.devices["Pixel 5"], locale="fr-FR", java_script_enabled=False)
    page = signed_in(context, live_server, outbox)
    assert page.get_by_text("2 Mo au plus par image").is_visible()
    page.get_by_label("Des images de badges").set_input_files(str(heavy_png(tmp_path)))
    assert not page.locator("#f-files-error").is_visible()
    page.get_by_role("button", name="Importer et vérifier").click()
    problem = page.locator(".result-error").inner_text()
    assert "Fichier trop lourd (plus de 2 Mo)" in problem  # (page.evaluate needs JavaScript: no overflow check)
