"""The signed-in navigation as served: four tabs (plain links, the current one marked), the other
pages in a « Menu » that is a <details> (no script needed), and a tab set per role."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from tests.web.accounts_helpers import logout, registered_user
from tests.web.test_counselling import set_role


class _Nav(HTMLParser):
    """Collects the links of the tab bar and of the menu panel, with their aria-current."""

    def __init__(self) -> None:
        super().__init__()
        self.where: list[str] = []
        self.depth: list[str] = []
        self.links: dict[str, list[tuple[str, str | None]]] = {"tabbar": [], "menu": []}
        self.current: tuple[str, str, str | None] | None = None
        self.details_summary = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        classes = (attrs.get("class") or "").split()
        if tag == "nav" and "tabbar" in classes:
            self.where.append("tabbar")
        elif tag == "nav" and "menu-panel" in classes:
            self.where.append("menu")
        elif tag == "nav":
            self.where.append("")
        if tag == "summary" and "menu-button" in classes:
            self.details_summary = True
        if tag == "a" and self.where and self.where[-1]:
            self.current = (self.where[-1], attrs.get("href") or "", attrs.get("aria-current"))
            self._text = ""

    def handle_data(self, data):
        if self.current is not None:
            self._text += data

    def handle_endtag(self, tag):
        if tag == "a" and self.current is not None:
            where, _href, current = self.current
            self.links[where].append((self._text.strip(), current))
            self.current = None
        if tag == "nav" and self.where:
            self.where.pop()


def nav_of(html: str) -> _Nav:
    parser = _Nav()
    parser.feed(html)
    return parser


@pytest.fixture
def ana(client, outbox):
    registered_user(client, outbox)
    return client


@pytest.mark.parametrize(("path", "current"), [
    ("/tableau-de-bord", "Accueil"), ("/badges/", "Mes badges"), ("/badges/importer", "Mes badges"),
    ("/badges-regionaux/", "Badges régionaux"), ("/partages/", "Mes partages"),
    ("/partages/nouveau", "Mes partages"), ("/compte/", None), ("/demandes/", None),
])
def test_four_tabs_and_the_current_one(ana, path, current):
    nav = nav_of(ana.get(path).text)
    assert [name for name, _c in nav.links["tabbar"]] == ["Accueil", "Mes badges", "Badges régionaux",
                                                          "Mes partages"]
    assert [name for name, c in nav.links["tabbar"] if c == "page"] == ([current] if current else [])
    assert nav.details_summary


def test_secondary_pages_are_in_the_menu_and_marked_there(ana):
    nav = nav_of(ana.get("/compte/").text)
    names = [name for name, _c in nav.links["menu"]]
    assert names == ["Mon compte", "Mes demandes", "Mes comptes chez les partenaires", "Mon accompagnement", "Mes données"]
    assert [name for name, c in nav.links["menu"] if c == "page"] == ["Mon compte"]
    html = ana.get("/demandes/").text
    assert [name for name, c in nav_of(html).links["menu"] if c == "page"] == ["Mes demandes"]
    # Logging out is a POST with its CSRF token, from the menu.
    assert re.search(r'<nav class="menu-panel".*?<form method="post" action="/deconnexion".*?name="csrf_token"',
                     html, re.DOTALL)


def test_counsellor_tabs_start_with_their_learners(ana, app):
    set_role(app, "ana@example.org", "counsellor")
    nav = nav_of(ana.get("/conseiller/").text)
    assert nav.links["tabbar"][0][0] == "Mes apprenants"
    assert nav.links["tabbar"][0][1] == "page"
    assert "Mon accompagnement" not in [name for name, _c in nav.links["menu"]]


def test_admin_reaches_the_console_from_the_menu(ana, app):
    set_role(app, "ana@example.org", "admin")
    nav = nav_of(ana.get("/admin/tableau-de-bord").text)
    assert ("Administration", "page") in nav.links["menu"]
    assert 'href="/admin/tableau-de-bord">Administration' in ana.get("/tableau-de-bord").text


def test_no_navigation_when_signed_out(client, ana):
    logout(ana)
    nav = nav_of(client.get("/connexion").text)
    assert nav.links == {"tabbar": [], "menu": []} and not nav.details_summary
