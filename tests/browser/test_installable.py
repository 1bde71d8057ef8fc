"""The installable app in a real browser, on a 360×640 phone: a job seeker opens their badges and
a share's QR code once, loses the network (an interview with no signal) and still reads them;
what the phone keeps is only that person's own GET pages, forgotten at logout and when another
person signs in. Without JavaScript nothing of this runs and every page works as before."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect

from tests.browser.app_shell_helpers import kept_pages, log_in, seed_learner, small_phone, worker_ready
from tests.browser.helpers import assert_accessible, assert_no_horizontal_overflow


@pytest.fixture
def app_config(app_config, host):
    app_config["FETCH_ALLOW"] = host.authority
    return app_config


def _share_from_the_form(page, base: str, badge_id: int) -> str:
    page.goto(f"{base}/partages/nouveau?badge={badge_id}")
    page.get_by_label("Pour qui ? (facultatif)").fill("Pour la boulangerie Dupont")
    page.get_by_role("button", name="Créer le lien").click()
    page.wait_for_url("**/lien")
    expect(page.get_by_role("img", name="QR code du lien de partage")).to_be_visible()
    return page.url[len(base):]


def test_badges_and_a_shares_qr_code_read_with_no_network(app, factory, host, live_server, phone360):
    ana = seed_learner(app, factory, host, badges=2, share=False)
    page = phone360.new_page()
    log_in(page, live_server, ana.email)
    worker_ready(page)
    first = ana.badge_ids[0]
    for path in ("/tableau-de-bord", "/badges/", f"/badges/{first}", "/compte/", "/badges-regionaux/"):
        page.goto(live_server + path)
    share_page = _share_from_the_form(page, live_server, first)
    public = page.get_by_label("Lien à envoyer").input_value()
    public_path = urlsplit(public).path
    page.goto(live_server + public_path)  # the learner's own public page: a public page, never kept
    page.goto(live_server + "/partages/")
    kept = kept_pages(page)
    assert kept == sorted(["/tableau-de-bord", "/badges/", f"/badges/{first}", f"/badges/{first}/image",
                           f"/badges/{ana.badge_ids[1]}/image", share_page, "/partages/"]), kept

    phone360.set_offline(True)
    page.goto(live_server + "/badges/")
    expect(page.get_by_role("heading", name="Mes badges")).to_be_visible()
    expect(page.get_by_text("Pas de réseau : cette page est celle de votre dernière visite.")).to_be_visible()
    page.locator(f"a[href='/badges/{first}']").click()
    image = page.locator(".badge-head img")
    expect(image).to_be_visible()
    assert image.evaluate("img => img.complete && img.naturalWidth > 0")
    page.goto(live_server + share_page)
    expect(page.get_by_role("img", name="QR code du lien de partage")).to_be_visible()
    assert page.get_by_label("Lien à envoyer").input_value() == public
    assert_no_horizontal_overflow(page)

    page.goto(live_server + "/compte/")  # opened online, but not a page the phone keeps
    expect(page.get_by_role("heading", name="Pas de réseau")).to_be_visible()
    expect(page.get_by_role("heading", name="Enregistré sur ce téléphone")).to_be_visible()
    expect(page.locator("#offline-pages").get_by_role("link", name="Mes badges")).to_be_visible()
    assert_accessible(page, in_place=True)  # offline: axe runs in the page itself
    page.goto(live_server + public_path)
    expect(page.get_by_role("heading", name="Pas de réseau")).to_be_visible()


def test_logout_empties_what_the_phone_kept(app, factory, host, live_server, phone360):
    ana = seed_learner(app, factory, host, share=False)
    page = phone360.new_page()
    log_in(page, live_server, ana.email)
    worker_ready(page)
    page.goto(live_server + "/badges/")
    assert kept_pages(page)
    with page.expect_response(lambda r: r.url.endswith("/deconnexion")) as answer:
        page.locator("details.menu > summary").click()  # « Se déconnecter » is in the « Menu »
        page.get_by_role("button", name="Se déconnecter").click()
    assert answer.value.all_headers()["clear-site-data"] == '"cache", "storage"'
    page.wait_for_url("**/connexion")
    assert page.evaluate("caches.keys()") == []
    assert page.evaluate("navigator.serviceWorker.getRegistrations().then(r => r.length)") == 0
    phone360.set_offline(True)
    with pytest.raises(PlaywrightError, match="ERR_INTERNET_DISCONNECTED"):  # no worker, nothing kept
        page.goto(f"{live_server}/badges/{ana.badge_ids[0]}")


def test_the_next_person_on_the_same_phone_never_sees_the_first_ones_pages(app, factory, host, live_server,
                                                                            phone360):
    ana = seed_learner(app, factory, host, share=False)
    bob = seed_learner(app, factory, host, email="bob@example.org", name="Bob Durand", share=False)
    page = phone360.new_page()
    log_in(page, live_server, ana.email)
    worker_ready(page)
    page.goto(f"{live_server}/badges/{ana.badge_ids[0]}")
    assert f"/badges/{ana.badge_ids[0]}" in kept_pages(page)
    phone360.clear_cookies()  # Ana's session ends without a logout (expired, cookies wiped)
    log_in(page, live_server, bob.email)
    page.goto(f"{live_server}/badges/{bob.badge_ids[0]}")
    kept = kept_pages(page)
    assert f"/badges/{bob.badge_ids[0]}" in kept and f"/badges/{ana.badge_ids[0]}" not in kept
    page.goto(f"{live_server}/badges/{ana.badge_ids[0]}")  # Bob asks for Ana's page: a 404, never kept
    assert "Ana Martin" not in page.content()
    phone360.set_offline(True)
    page.goto(f"{live_server}/badges/{ana.badge_ids[0]}")
    expect(page.get_by_role("heading", name="Pas de réseau")).to_be_visible()


def test_a_counsellors_and_an_admins_pages_are_never_kept(app, factory, host, live_server, phone360):
    seed_learner(app, email="conseil@example.org", name="Mme Durand", role="counsellor")
    seed_learner(app, email="admin@region.example", name="Admin Région", role="admin")
    page = phone360.new_page()
    log_in(page, live_server, "conseil@example.org")
    worker_ready(page)
    page.goto(live_server + "/conseiller/")
    page.goto(live_server + "/conseiller/code")
    assert [p for p in kept_pages(page) if p.startswith("/conseiller")] == []
    page.locator("details.menu > summary").click()
    page.get_by_role("button", name="Se déconnecter").click()
    log_in(page, live_server, "admin@region.example")
    worker_ready(page)
    for path in ("/admin/tableau-de-bord", "/admin/personnes", "/admin/referentiel"):
        page.goto(live_server + path)
    assert [p for p in kept_pages(page) if p.startswith("/admin")] == []


def test_installable_app_on_a_phone_and_without_javascript(app, factory, host, live_server, phone360,
                                                           new_context, playwright):
    ana = seed_learner(app, factory, host)
    page = phone360.new_page()
    log_in(page, live_server, ana.email)
    manifest = page.locator("link[rel=manifest]").get_attribute("href")
    assert manifest == "/manifest.webmanifest?lang=fr"
    document = page.request.get(live_server + manifest).json()
    assert document["start_url"] == "/tableau-de-bord" and document["display"] == "standalone"
    for icon in document["icons"]:
        assert page.request.get(live_server + icon["src"]).ok
    worker_ready(page)
    scope = page.evaluate("navigator.serviceWorker.ready.then(r => r.scope)")
    assert scope == live_server + "/"
    assert_accessible(page)

    quiet = new_context(**small_phone(playwright, js=False)).new_page()
    log_in(quiet, live_server, ana.email)
    expect(quiet.get_by_role("heading", name="Bonjour Ana Martin")).to_be_visible()
    quiet.goto(live_server + "/badges/")
    expect(quiet.get_by_role("link", name="Premiers secours").first).to_be_visible()
    expect(quiet.locator("#offline-note")).to_be_hidden()
    quiet.goto(f"{live_server}/p/{ana.share_token}")  # the employer's page offers no install
    assert quiet.locator("link[rel=manifest]").count() == 0
    expect(quiet.get_by_role("heading", name="Premiers secours")).to_be_visible()
