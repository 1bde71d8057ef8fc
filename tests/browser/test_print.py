"""An employer prints the badge page on A4 (the recruiter's file, a job centre's folder): one sheet
per badge with the Region's mark, the badge, its holder and issuer, the verification status and
its date, and a QR code to the live check; no menu, no forms, no footer. Checked in print media
on a 360×640 phone without JavaScript (how most employers never notice they open it) and as the
PDF Chromium prints."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import expect

from tests.browser.app_shell_helpers import seed_learner, small_phone
from wallet.db import new_session
from wallet.models import User
from wallet.services import badges as badge_service
from wallet.services import share_images, sharing

LONG = ("Ce badge atteste que la personne a suivi la formation aux gestes de premiers secours, "
        "mis en pratique les gestes appris lors de mises en situation, et su alerter les secours. ") * 4
CRITERIA = "Suivre les 7 heures de formation, réussir les trois mises en situation, " * 4


@pytest.fixture
def app_config(app_config, host):
    app_config["FETCH_ALLOW"] = host.authority
    return app_config


def _pdf_pages(pdf: bytes) -> list[str]:
    """The MediaBox of each page of a PDF made by Chromium (one /Type /Page object per page)."""
    assert pdf.count(b"/Type /Page") - pdf.count(b"/Type /Pages") >= 1
    return re.findall(rb"/MediaBox \[([^\]]+)\]", pdf)


def _print_view(page) -> None:
    page.emulate_media(media="print")
    for hidden in ("nav", ".site-footer", "form", "#destinataire", "button"):
        for i in range(page.locator(hidden).count()):
            expect(page.locator(hidden).nth(i)).to_be_hidden()
    expect(page.locator("header img.brand-logo")).to_be_visible()


def test_a_badge_page_prints_on_one_a4_sheet_with_a_qr_code_to_the_live_check(app, factory, host, live_server,
                                                                              new_context, playwright):
    ana = seed_learner(app, factory, host)
    page = new_context(**small_phone(playwright, js=False)).new_page()
    codes = []
    page.on("response", lambda r: codes.append(r) if "qr-code.png" in r.url else None)
    page.goto(f"{live_server}/p/{ana.share_token}")
    qr = page.get_by_role("img", name="QR code de la page de vérification")
    expect(qr).to_be_hidden()  # on screen the employer is already on the live page

    live = f"http://127.0.0.1:5000/p/{ana.share_token}"
    _print_view(page)
    expect(page.locator(".verdict")).to_contain_text("Badge authentique")
    expect(page.get_by_role("heading", name="Premiers secours")).to_be_visible()
    expect(page.locator(".facts")).to_contain_text("Organisme Formation")
    expect(page.locator(".facts")).to_contain_text("Ana Martin")
    expect(page.get_by_text("Dernière vérification le")).to_be_visible()
    expect(qr).to_be_visible()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=qr.element_handle())
    assert page.locator(".print-url").inner_text() == live
    assert [r.status for r in codes] == [200]
    assert codes[0].body() == share_images.qr_png(live)  # the QR code says the page's address
    pdf = page.pdf(prefer_css_page_size=True)  # the sheet our @page rule asks for
    boxes = _pdf_pages(pdf)
    assert len(boxes) == 1, f"{len(boxes)} sheets"
    width, height = (float(v) for v in boxes[0].split()[2:4])
    assert abs(width - 595.3) < 2 and abs(height - 841.9) < 2, (width, height)  # A4 in points


def test_printing_fetches_the_qr_code_the_screen_never_loaded(app, factory, host, live_server, new_context,
                                                               playwright):
    """On screen the code is never fetched (it loads lazily: browsers with scripting, nearly all of
    them; with scripting off the HTML standard loads every image at once, and the page still
    prints). Printing as the browser does it fetches the code and puts it in the PDF."""
    ana = seed_learner(app, factory, host)
    page = new_context(**small_phone(playwright)).new_page()
    qr_requests = []
    page.on("requestfinished", lambda r: qr_requests.append(r.url) if "qr-code.png" in r.url else None)
    page.goto(f"{live_server}/p/{ana.share_token}")
    page.wait_for_load_state("networkidle")
    assert qr_requests == []
    pdf = page.pdf(prefer_css_page_size=True)
    assert len(qr_requests) == 1, qr_requests
    assert pdf.count(b"/Subtype /Image") >= 1


def test_a_long_badge_in_a_collection_still_prints_on_one_sheet(app, factory, host, live_server, new_context,
                                                                playwright):
    ana = seed_learner(app, factory, host, badges=1, share=False)
    long = factory.ob2_hosted(path="/assertions/long", recipient=factory.recipient(ana.email),
                              badge_extra={"description": LONG, "criteria": {"narrative": CRITERIA},
                                           "name": "Sauveteur secouriste du travail"})
    with app.test_request_context(), new_session(app) as session:
        user = session.get(User, ana.user_id)
        item = badge_service.import_text(session, user, json.dumps(long.assertion), app.extensions["wallet_http"])
        _share, token = sharing.create_share(session, user, [ana.badge_ids[0], item.badge_id], kind="collection")
    page = new_context(**small_phone(playwright, js=False)).new_page()
    page.goto(f"{live_server}/p/{token}/badges/2")
    _print_view(page)
    expect(page.get_by_role("heading", name="Sauveteur secouriste du travail")).to_be_visible()
    assert page.locator(".print-url").inner_text() == f"http://127.0.0.1:5000/p/{token}/badges/2"
    assert len(_pdf_pages(page.pdf(prefer_css_page_size=True))) == 1
