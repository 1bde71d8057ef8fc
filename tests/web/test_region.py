"""The Region's identity over HTTP: every page (the employer's included) wears the configured name,
logo and colours; the legal pages are the Region's own text or its own site; nothing of the
Region is written in a template."""

from __future__ import annotations

import re
from html import unescape as html_unescape
from pathlib import Path

import pytest

from tests.conftest import plain
from tests.web.accounts_helpers import registered_user


def unescape(page: str) -> str:
    """The page as text to compare with, French no-break spaces as plain ones."""
    return plain(html_unescape(page))

BRITTANY_LOGO = (b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><title>Bretagne</title>'
                 b'<rect width="10" height="10" fill="#000"/></svg>')


def header(html: str) -> str:
    return re.search(r'<header class="site-header">.*?</header>', html, re.DOTALL).group(0)


def test_normandy_by_default_on_every_page(client):
    page = client.get("/connexion").text
    version = re.search(r'href="/region\.css\?v=([0-9a-f]{12})"', page).group(1)
    assert f'src="/region/logo?v={version}"' in header(page)
    assert "Région Normandie" in header(page)
    assert '<meta name="theme-color" content="#0b4f8a">' in page
    css = client.get(f"/region.css?v={version}")
    assert css.mimetype == "text/css" and "--brand: #0b4f8a" in css.text
    assert css.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert client.get("/region.css?v=old").headers["Cache-Control"] == "public, max-age=300"
    logo = client.get(f"/region/logo?v={version}")
    assert logo.mimetype == "image/svg+xml" and logo.data.startswith(b"<svg")
    assert "sandbox" in logo.headers["Content-Security-Policy"]
    assert "Accessibilité : partiellement conforme" in plain(page)


def test_no_template_names_a_region_or_a_colour_of_its_own():
    templates = Path(__file__).resolve().parents[2] / "wallet" / "templates"
    for template in templates.rglob("*.html"):
        text = template.read_text()
        assert "Normandie" not in text and "#0b4f8a" not in text, template


@pytest.fixture
def brittany(app_config, tmp_path):
    (tmp_path / "bretagne.svg").write_bytes(BRITTANY_LOGO)
    app_config.update({
        "REGION_NAME": "Région Bretagne", "REGION_NAME_EN": "Brittany Region",
        "REGION_LOGO": str(tmp_path / "bretagne.svg"),
        "REGION_COLOR": "#1a1a1a", "REGION_COLOR_INK": "#ffffff",
        "LEGAL_NOTICE_TEXT": "## Éditeur\n\nRégion Bretagne, 283 avenue du Général Patton, Rennes.\n\n"
                             "<script>alert(1)</script>",
        "LEGAL_NOTICE_TEXT_EN": "## Publisher\n\nBrittany Region, Rennes.",
        "PRIVACY_TEXT": "Délégué à la protection des données : [dpo@bretagne.example](mailto:dpo@bretagne.example)",
        "ACCESSIBILITY_URL": "https://www.bretagne.example/accessibilite",
        "ACCESSIBILITY_STATUS": "none",
    })
    return app_config


def test_another_region_from_configuration(brittany, client):
    page = client.get("/connexion").text
    assert "Région Bretagne" in header(page) and "Normandie" not in page
    assert '<meta name="theme-color" content="#1a1a1a">' in page
    version = re.search(r'href="/region\.css\?v=([0-9a-f]{12})"', page).group(1)
    assert "--brand: #1a1a1a" in client.get(f"/region.css?v={version}").text
    assert client.get(f"/region/logo?v={version}").data == BRITTANY_LOGO
    assert '<a href="https://www.bretagne.example/accessibilite">Accessibilité : non conforme</a>' in plain(page)
    assert client.get("/accessibilite").headers["Location"] == "https://www.bretagne.example/accessibilite"

    notice = client.get("/mentions-legales").text
    assert "<h2>Éditeur</h2>" in notice and "283 avenue du Général Patton" in unescape(notice)
    assert "<script>alert" not in notice and "&lt;script&gt;alert" in notice  # shown as text, never run
    assert "L'hébergeur est indiqué par la Région" not in notice  # the generic text gives way
    privacy = client.get("/confidentialite").text
    assert "Responsable du traitement" in privacy and 'href="mailto:dpo@bretagne.example"' in privacy
    assert "Combien de temps" in privacy  # the wallet's own facts stay

    client.post("/langue", data={"locale": "en", "csrf_token": _csrf(client)})
    english = client.get("/mentions-legales").text
    assert "Brittany Region" in header(english) and "<h2>Publisher</h2>" in english
    assert "Accessibility: not compliant" in english


def _csrf(client) -> str:
    from tests.conftest import csrf_from

    return csrf_from(client.get("/connexion").text)


def test_regional_badges_show_their_artwork(client, outbox):
    registered_user(client, outbox)
    page = client.get("/badges-regionaux/").text
    images = re.findall(r'<img src="(/badges-regionaux/images/[^"]+)" alt="" width="64" height="64">', page)
    assert len(set(images)) == 9
    for src in images:
        image = client.get(src)
        assert image.mimetype == "image/svg+xml" and b"<title>" in image.data and b"level-mark" in image.data \
            or b"general" in src.encode()


def test_the_issuer_serves_the_same_artwork(client):
    from wallet.eligibility.referential import default_referential_path

    served = client.get("/issuers/region/badges/s-integrer-2/image")
    assert served.status_code == 200
    assert served.data == (default_referential_path().parent / "images" / "s-integrer-2.svg").read_bytes()
