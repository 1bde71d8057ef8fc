"""A counsellor at a desk, a learner on a phone: the learner types the code shown on the counsellor's
screen, the counsellor sees the learner and prepares a claim, the learner confirms it, reads the
journal and withdraws the access (axe-core everywhere, 360 px on the learner's pages)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import assert_accessible, assert_no_horizontal_overflow
from tests.browser.learner_helpers import import_aligned_badges, signed_in_learner
from tests.browser.test_accounts_flow import log_in, register_and_confirm
from tests.conftest import plain
from tests.web.test_counselling import set_role, user_id
from tests.web.test_regional import regional_config

COMMUNIQUER = "Communiquer — Je pratique"


@pytest.fixture
def app_config(app_config, hosts, tmp_path):
    return regional_config(app_config, hosts, tmp_path, CLAIM_FIRST_ATTEMPT="inline")


@pytest.fixture
def counsellor(app, desktop, live_server, outbox):
    page = desktop.new_page()
    register_and_confirm(page, live_server, outbox, email="conseil@example.org", name="Mme Durand")
    set_role(app, "conseil@example.org", "counsellor")
    log_in(page, live_server, email="conseil@example.org", landing="**/conseiller/")
    return page


@pytest.fixture
def learner(phone, live_server, outbox, hosts):
    one, _two = hosts
    page = signed_in_learner(phone, live_server, outbox)
    import_aligned_badges(page, live_server, one)
    return page


def learner_checks(page, in_place: bool = False) -> None:
    assert_accessible(page, in_place=in_place)
    assert_no_horizontal_overflow(page)


def test_the_learner_types_the_code_and_confirms_a_prepared_claim(app, counsellor, learner, live_server):
    desk, phone = counsellor, learner
    # The counsellor shows a code on the desktop.
    desk.goto(live_server + "/conseiller/")
    assert desk.get_by_text("Personne ne vous a encore donné accès").is_visible()
    assert_accessible(desk)
    desk.get_by_role("link", name="Afficher mon code").click()
    assert_accessible(desk)
    desk.get_by_role("button", name="Afficher mon code").click()
    shown = desk.locator(".counsellor-code").inner_text()
    code = re.sub(r"\s", "", shown)
    assert re.fullmatch(r"[A-HJ-NP-Z2-9]{8}", code), shown
    assert_accessible(desk, in_place=True)

    # The learner, on the phone: a typo first, then the code.
    phone.goto(live_server + "/accompagnement/")
    assert phone.get_by_text("Personne n'a accès à votre portefeuille.").is_visible()
    learner_checks(phone)
    phone.get_by_role("link", name="Donner accès à un conseiller").click()
    learner_checks(phone)
    by_code = phone.locator("form", has=phone.get_by_label("Code affiché par votre conseiller"))
    by_code.get_by_label("Code affiché par votre conseiller").fill("ZZZZ ZZZZ")
    by_code.get_by_role("button", name="Donner accès").click()
    assert "ne correspond à aucun conseiller" in phone.get_by_role("alert").inner_text()
    learner_checks(phone, in_place=True)
    by_code = phone.locator("form", has=phone.get_by_label("Code affiché par votre conseiller"))
    by_code.get_by_label("Code affiché par votre conseiller").fill(shown.lower())
    by_code.get_by_label("préparer des demandes pour moi").check()
    by_code.get_by_label("6 mois").check()
    by_code.get_by_role("button", name="Donner accès").click()
    phone.wait_for_url("**/accompagnement/")
    assert phone.get_by_text("C'est fait").is_visible()
    assert phone.get_by_text("Mme Durand", exact=True).is_visible()
    learner_checks(phone)

    # The counsellor's dashboard and the learner's page, on the desktop.
    desk.goto(live_server + "/conseiller/")
    row = desk.get_by_role("row", name=re.compile("Ana Martin"))
    assert "1 à demander, 0 obtenu" in row.inner_text()
    assert "ana@example.org" not in desk.content()
    assert_accessible(desk)
    desk.get_by_role("link", name="Ana Martin").click()
    assert desk.get_by_role("heading", name="Ana Martin").is_visible()
    assert_accessible(desk)
    desk.get_by_role("button", name=f"Préparer la demande de « {COMMUNIQUER} »").click()
    assert desk.get_by_text("La personne la recevra par e-mail").is_visible()
    assert_accessible(desk)

    # The learner confirms in one tap and lands on the claim.
    phone.goto(live_server + "/accompagnement/")
    assert phone.get_by_text(f"Mme Durand a préparé une demande pour le badge « {COMMUNIQUER} »").is_visible()
    # What goes with it is on the card, as on a direct claim: the badges and the public proof page.
    draft = phone.locator(".draft-card")
    expect(draft.get_by_text("La Région va recevoir votre demande avec ces badges, vérifiés")).to_be_visible()
    expect(draft.locator(".supporting li")).to_have_count(2)
    expect(draft.get_by_text("une page de preuves qui liste ces badges", exact=False)).to_be_visible()
    learner_checks(phone)
    phone.get_by_role("button", name="Confirmer la demande").click()
    phone.wait_for_url(re.compile(r".*/demandes/\d+$"))
    assert phone.get_by_text("Délivrée").first.is_visible()
    expect(phone.get_by_role("status").filter(has_text="C'est fait : la Région vous a délivré ce badge.")
           ).to_be_visible()

    # The journal, then withdrawal: the counsellor's next request is refused.
    phone.goto(live_server + "/accompagnement/journal")
    journal = plain(phone.locator(".journal").inner_text())
    assert re.search(r"Mme Durand a consulté vos badges le (1er|\d{1,2}) \w+( \d{4})? à \d{1,2} h \d{2}\.", journal)
    assert f"Mme Durand a préparé une demande du badge « {COMMUNIQUER} »" in journal
    learner_checks(phone)
    phone.goto(live_server + "/accompagnement/")
    phone.get_by_role("button", name="Retirer l'accès de Mme Durand").click()
    assert phone.get_by_text("Accès retiré").is_visible()
    learner_checks(phone)
    ana = user_id(app, "ana@example.org")
    response = desk.goto(live_server + f"/conseiller/apprenants/{ana}")
    assert response.status == 404
