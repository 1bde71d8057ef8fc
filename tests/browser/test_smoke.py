"""The browser harness itself works: Debian's Chromium starts, pages are served on loopback,
the phone profile is French, the CSP is enforced, and the axe and overflow checks can fail.

It serves a tiny throwaway Flask app, not the product: product pages have their own tests.
"""

from __future__ import annotations

import pytest
from flask import Flask, Response, request
from playwright.sync_api import Error as PlaywrightError

from tests.browser.helpers import assert_accessible, assert_no_horizontal_overflow, axe_check

CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:"
PAGE = """<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Essai</title><link rel="stylesheet" href="/smoke.css"></head>
<body><main><h1>Bonjour</h1>{body}</main></body></html>"""

GOOD = """<form method="post" action="/"><label for="email">Adresse e-mail</label>
<input id="email" name="email" type="email"><button type="submit">Envoyer</button></form>"""
# An image button with no text alternative: axe rates it critical.
BAD_A11Y = '<input type="image" src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">'
WIDE = '<div id="banner">trop large</div>'
WIDE_BUT_SCROLLS = '<div class="scroller"><div class="wide-table">large mais défilant</div></div>'
# Styles come from a file: the CSP (like the product's) ignores inline style attributes.
CSS = "#banner { width: 500px } .scroller { overflow-x: auto } .wide-table { width: 900px }"


@pytest.fixture
def app():
    """Overrides the product's `app` fixture: live_server serves this instead."""
    tiny = Flask("smoke")
    bodies = {"good": GOOD, "bad-a11y": BAD_A11Y, "wide": WIDE, "scrolls": WIDE_BUT_SCROLLS}

    @tiny.get("/<name>")
    def page(name):
        html = PAGE.format(lang="fr", body=bodies[name])
        return Response(html, headers={"Content-Security-Policy": CSP})

    @tiny.get("/smoke.css")
    def css():
        return Response(CSS, mimetype="text/css")

    @tiny.get("/echo-lang")
    def echo_lang():
        return Response(request.headers.get("Accept-Language", ""), mimetype="text/plain")

    return tiny


def test_phone_is_a_french_pixel_5(phone, live_server):
    page = phone.new_page()
    page.goto(f"{live_server}/good")
    assert page.title() == "Essai"
    assert page.evaluate("navigator.language") == "fr-FR"
    assert page.viewport_size == {"width": 393, "height": 727}
    assert "Mobile" in page.evaluate("navigator.userAgent")
    page.goto(f"{live_server}/echo-lang")
    assert page.inner_text("body").startswith("fr-FR")


def test_desktop_context(desktop, live_server):
    page = desktop.new_page()
    page.goto(f"{live_server}/good")
    assert page.viewport_size == {"width": 1280, "height": 800}
    assert page.get_by_role("heading", name="Bonjour").is_visible()


def test_csp_blocks_injected_scripts_in_the_page_under_test(phone, live_server):
    page = phone.new_page()
    page.goto(f"{live_server}/good")
    with pytest.raises(PlaywrightError, match="Content Security Policy"):
        page.add_script_tag(content="window.injected = true")
    assert page.evaluate("window.injected === undefined")


@pytest.mark.parametrize("in_place", [False, True], ids=["separate-context", "in-place"])
def test_axe_passes_a_clean_page_despite_the_csp(phone, live_server, in_place):
    page = phone.new_page()
    page.goto(f"{live_server}/good")
    assert_accessible(page, in_place=in_place)


@pytest.mark.parametrize("in_place", [False, True], ids=["separate-context", "in-place"])
def test_axe_reports_a_critical_violation(phone, live_server, in_place):
    page = phone.new_page()
    page.goto(f"{live_server}/bad-a11y")
    violations = axe_check(page, in_place=in_place)
    assert [v["id"] for v in violations] == ["input-image-alt"]
    with pytest.raises(AssertionError, match=r"\[critical\] input-image-alt"):
        assert_accessible(page, in_place=in_place)


def test_axe_in_a_separate_context_leaves_the_page_alone(phone, live_server):
    page = phone.new_page()
    page.goto(f"{live_server}/good")
    assert_accessible(page)
    assert page.evaluate("typeof window.axe") == "undefined"
    assert phone.pages == [page]


def test_no_overflow_on_a_narrow_page(phone, live_server):
    page = phone.new_page()
    page.goto(f"{live_server}/good")
    assert_no_horizontal_overflow(page)
    assert page.viewport_size["width"] == 360


def test_content_scrolling_inside_its_own_box_is_not_overflow(phone, live_server):
    page = phone.new_page()
    page.goto(f"{live_server}/scrolls")
    assert page.eval_on_selector(".wide-table", "el => el.getBoundingClientRect().width") == 900
    assert_no_horizontal_overflow(page)


def test_overflow_is_reported_with_the_offending_element(phone, live_server):
    page = phone.new_page()
    page.goto(f"{live_server}/wide")
    with pytest.raises(AssertionError, match=r"div#banner right edge at 5\d\d px"):
        assert_no_horizontal_overflow(page)


def test_tests_here_are_marked_browser(request):
    assert request.node.get_closest_marker("browser") is not None
