"""Every page, with data in it, on a 360 × 640 phone: no word is ever cut inside, and nothing
scrolls sideways (tables are cards on a phone).

The pages are those of tests/web/filled_site.py (every GET route, as the learner, the counsellor,
the admin and an employer see it, error pages included). A word is cut when the rectangles of
the Range holding it sit on more than one line. Only URLs, e-mail addresses and long machine
tokens (30 characters or more with no space) may break anywhere.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import axe_check, format_violations
from tests.web.filled_site import fill, walk
from tests.web.test_regional import regional_config

PHONE = {"width": 360, "height": 640}

# For each text node, each word (Intl.Segmenter) of each whitespace-delimited token, compare the
# tops of its Range's line boxes. Returns one line per cut word, with the element it is in.
CUT_WORDS_JS = r"""() => {
    const segmenter = new Intl.Segmenter(document.documentElement.lang || "fr", {granularity: "word"});
    const skip = new Set(["SCRIPT", "STYLE", "NOSCRIPT", "TEMPLATE", "OPTION", "TEXTAREA", "TITLE"]);
    const describe = (el) => {
        let s = el.tagName.toLowerCase();
        if (el.id) s += "#" + el.id;
        if (typeof el.className === "string" && el.className.trim())
            s += "." + el.className.trim().split(/\s+/).join(".");
        return s;
    };
    const machineToken = (token) => /:\/\/|@/.test(token) || token.length >= 30;
    const found = [];
    const range = document.createRange();
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        const el = node.parentElement;
        if (!el || skip.has(el.tagName) || !node.data.trim()) continue;
        for (const match of node.data.matchAll(/\S+/g)) {
            const token = match[0];
            if (machineToken(token)) continue;
            for (const part of segmenter.segment(token)) {
                if (!part.isWordLike || part.segment.length < 2) continue;
                const start = match.index + part.index;
                range.setStart(node, start);
                range.setEnd(node, start + part.segment.length);
                const tops = [...range.getClientRects()].filter(r => r.width > 0 && r.height > 0).map(r => r.top);
                if (tops.length > 1 && Math.max(...tops) - Math.min(...tops) > 2)
                    found.push(`« ${part.segment} » cut over ${tops.length} lines in ${describe(el)}`);
            }
        }
    }
    return found;
}"""

# Boxes that scroll sideways: a table kept as a table in an overflow-x box, a long line in a <pre>.
SIDEWAYS_JS = r"""() => {
    const found = [];
    if (document.documentElement.scrollWidth > document.documentElement.clientWidth)
        found.push(`the page is ${document.documentElement.scrollWidth} px wide`);
    for (const el of document.body.querySelectorAll("*")) {
        const ox = getComputedStyle(el).overflowX;
        if ((ox === "auto" || ox === "scroll") && el.scrollWidth > el.clientWidth + 1)
            found.push(`${el.tagName.toLowerCase()}.${el.className} scrolls sideways (${el.scrollWidth} px in ${el.clientWidth} px)`);
    }
    return found;
}"""


@pytest.fixture
def app_config(app_config, hosts, tmp_path):
    return regional_config(app_config, hosts, tmp_path, CLAIM_FIRST_ATTEMPT="inline")


def _phone(browser, live_server, client):
    """A 360 × 640 touch screen in French, logged in with the test client's session cookie."""
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=2,
                                  locale="fr-FR", timezone_id="Europe/Paris")
    if client is not None:
        cookie = client.get_cookie("wallet_session")
        assert cookie is not None, "the test client is not logged in"
        context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": live_server}])
    return context


def test_no_word_is_cut_and_nothing_scrolls_sideways_on_any_page_at_360_px(app, outbox, hosts, browser,
                                                                            live_server):
    site = fill(app, outbox, hosts)
    pages = walk(app, site)
    roles = sorted({page.role for page in pages})
    assert {"anonymous", "learner", "counsellor", "admin"} <= set(roles)
    problems, visited = [], 0
    for role in roles:
        context = _phone(browser, live_server, site.clients[role] if role != "anonymous" else None)
        tab = context.new_page()
        try:
            for page in (p for p in pages if p.role == role):
                tab.goto(live_server + page.path, wait_until="load")
                visited += 1
                for problem in tab.evaluate(CUT_WORDS_JS) + tab.evaluate(SIDEWAYS_JS):
                    problems.append(f"{role} {page.path}: {problem}")
        finally:
            context.close()
    assert visited >= 100, f"only {visited} pages walked"
    assert not problems, f"{len(problems)} layout problem(s) at 360 px:\n  " + "\n  ".join(problems[:80])


def test_a_badge_with_no_name_is_a_link_with_a_name(app, outbox, hosts, browser, live_server):
    """axe « link-name » (serious) found an empty link for a badge whose issuer gave it no name."""
    site = fill(app, outbox, hosts)
    learner = _phone(browser, live_server, site.clients["learner"])
    employer = _phone(browser, live_server, None)
    try:
        mine = f"/badges/{site.nameless_badge_id}"
        # The collection shared first lists the nameless badge first.
        for context, path, target in ((learner, "/badges/", mine), (learner, "/badges-regionaux/", mine),
                                      (employer, f"/p/{site.tokens[0]}", f"/p/{site.tokens[0]}/badges/1")):
            tab = context.new_page()
            tab.goto(live_server + path)
            link = tab.locator(f'a[href="{target}"]').first
            expect(link).to_have_accessible_name(re.compile(r"^Badge sans nom, délivré le \d"))
            violations = [v for v in axe_check(tab) if v["id"] == "link-name"]
            assert not violations, f"{path}:\n" + format_violations(violations)
    finally:
        learner.close()
        employer.close()
