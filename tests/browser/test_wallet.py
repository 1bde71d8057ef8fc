"""The wallet on a phone, in a real browser: upload a baked badge, meet the import doctor, and get a
badge issued to another address matched after confirming it."""

from __future__ import annotations

import json

import pytest

from tests.browser.helpers import assert_accessible, assert_no_horizontal_overflow
from tests.browser.test_accounts_flow import log_in, path_of, register_and_confirm
from tests.conftest import link_from
from tests.web.test_badges import png_image
from wallet.openbadges import bake


@pytest.fixture
def app_config(app_config, host):
    app_config["FETCH_ALLOW"] = host.authority
    return app_config


@pytest.fixture
def learner(phone, live_server, outbox):
    page = phone.new_page()
    register_and_confirm(page, live_server, outbox)
    log_in(page, live_server)
    return page


def baked_file(tmp_path, factory, host, name="badge.png", **kwargs):
    hosted = factory.ob2_hosted(**kwargs)
    host.route("/badges/1/image.png", png_image(), content_type="image/png")
    path = tmp_path / name
    path.write_bytes(bake(png_image(), json.dumps(hosted.assertion)))
    return path


def test_upload_a_baked_png_and_see_it_valid(learner, live_server, factory, host, tmp_path):
    page = learner
    page.get_by_role("link", name="Mes badges", exact=True).click()
    page.get_by_role("link", name="Importer mon premier badge").click()
    page.get_by_label("Des images de badges").set_input_files(str(baked_file(tmp_path, factory, host)))
    page.get_by_role("button", name="Importer et vérifier").click()
    assert page.get_by_text("Importé", exact=True).is_visible()
    page.get_by_role("link", name="Voir mes badges").click()
    card = page.locator(".badge-cards > li")
    assert card.count() == 1
    assert "Premiers secours" in card.inner_text() and "Valide" in card.inner_text()
    assert_accessible(page)
    assert_no_horizontal_overflow(page)
    card.get_by_role("link", name="Premiers secours").click()
    assert page.get_by_role("heading", name="Premiers secours").is_visible()
    assert page.get_by_text("Vérifié le").is_visible()
    assert_accessible(page)
    assert_no_horizontal_overflow(page)


def test_a_plain_photo_gets_an_explanation(learner, live_server, tmp_path):
    page = learner
    photo = tmp_path / "photo.png"
    photo.write_bytes(png_image((10, 120, 200)))
    page.goto(live_server + "/badges/importer")
    page.get_by_label("Des images de badges").set_input_files(str(photo))
    page.get_by_role("button", name="Importer et vérifier").click()
    text = page.locator(".result-error").inner_text()
    assert "Cette image ne contient pas de badge" in text and "Téléchargez-la depuis le site de l'émetteur" in text
    assert_no_horizontal_overflow(page)


def test_badge_for_another_address_counts_after_confirming_it(learner, live_server, outbox, factory, host, tmp_path):
    page = learner
    path = baked_file(tmp_path, factory, host, recipient=factory.recipient("ana.old@ecole.example", hashed=False))
    page.goto(live_server + "/badges/importer")
    page.get_by_label("Des images de badges").set_input_files(str(path))
    page.get_by_role("button", name="Importer et vérifier").click()
    line = page.locator(".result-not_yours")
    assert "pas encore à vous" in line.inner_text()
    line.get_by_label("Ajouter cette adresse").fill("ana.old@ecole.example")
    line.get_by_role("button", name="Ajouter").click()
    page.wait_for_url("**/badges/")
    assert "pas encore à moi" in page.locator(".badge-cards > li").inner_text()
    page.goto(live_server + path_of(link_from(outbox[-1].body)))
    page.get_by_role("button", name="Confirmer mon adresse").click()
    page.goto(live_server + "/badges/")
    card_text = page.locator(".badge-cards > li").inner_text()
    assert "Valide" in card_text and "pas encore à moi" not in card_text


def test_a_full_wallet_pages_through_its_cards_on_a_small_phone(phone360, live_server, outbox, app):
    from tests.web.test_badges import _many_badges

    page = phone360.new_page()
    register_and_confirm(page, live_server, outbox)
    log_in(page, live_server)
    _many_badges(app, "ana@example.org", 120)
    page.goto(live_server + "/badges/")
    page.get_by_label("Afficher").select_option("valid")
    page.get_by_role("button", name="Filtrer").click()
    assert page.locator(".badge-cards > li").count() == 50
    assert "page 1 sur 2" in page.locator(".count").inner_text()
    assert page.get_by_role("link", name="← Précédents").count() == 0
    assert_no_horizontal_overflow(page)
    assert_accessible(page)
    page.get_by_role("link", name="Suivants →").click()
    assert page.locator(".badge-cards > li").count() == 30  # 80 valid badges: 50 + 30
    assert "page 2 sur 2" in page.locator(".count").inner_text()
    assert page.get_by_label("Afficher").input_value() == "valid"  # the filter stayed
    assert_no_horizontal_overflow(page)
    page.get_by_role("link", name="← Précédents").click()
    assert "page 1 sur 2" in page.locator(".count").inner_text()
