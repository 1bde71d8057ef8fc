"""The Region's identity settings (wallet/app/region.py): defaults, per-language texts, and the start
refused on a colour people could not read, a missing or foreign logo, or contradictory pages."""

from __future__ import annotations

import pytest

from wallet.app.region import contrast, load_region, render_markdown
from wallet.app.settings import ConfigError, load_config

PROD = {"WALLET_ENV": "production", "WALLET_SECRET_KEY": "s" * 40, "WALLET_TOKEN_KEYS": "k",
        "WALLET_BASE_URL": "https://wallet.app.region.example"}


def test_defaults_are_normandy_with_the_packaged_logo(tmp_path):
    region = load_region(load_config(str(tmp_path), environ={}))
    assert region.name("fr") == region.name("en") == "Région Normandie"
    assert region.color == "#0b4f8a" and region.color_ink == "#ffffff"
    assert region.logo_type == "image/svg+xml" and region.logo.startswith(b"<svg")
    assert region.accessibility_status == "partial"
    assert all(page.url is None and page.text("fr") == "" for page in region.legal.values())
    assert region.css() == ":root { --brand: #0b4f8a; --brand-ink: #ffffff; }\n"


def test_another_region_from_the_environment_and_instance_config(tmp_path):
    (tmp_path / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 40)
    (tmp_path / "config.py").write_text(
        "PRIVACY_TEXT = {'fr': 'Le DPO : dpo@bretagne.example', 'en': 'The DPO: dpo@bretagne.example'}\n")
    cfg = load_config(str(tmp_path), environ={
        "WALLET_REGION_NAME": "Région Bretagne", "WALLET_REGION_NAME_EN": "Brittany Region",
        "WALLET_REGION_LOGO": "logo.png", "WALLET_REGION_COLOR": "#1A1A1A", "WALLET_REGION_COLOR_INK": "#FFD700",
        "WALLET_LEGAL_NOTICE_URL": "https://www.bretagne.example/mentions-legales",
        "WALLET_ACCESSIBILITY_TEXT": "# Déclaration\n\nConforme.", "WALLET_ACCESSIBILITY_TEXT_EN": "Compliant.",
        "WALLET_ACCESSIBILITY_STATUS": "full"})
    region = load_region(cfg)
    assert (region.name("fr"), region.name("en")) == ("Région Bretagne", "Brittany Region")
    assert region.logo_type == "image/png" and region.logo == (tmp_path / "logo.png").read_bytes()
    assert region.color == "#1a1a1a" and "--brand-ink: #ffd700" in region.css()
    assert region.legal["mentions-legales"].url == "https://www.bretagne.example/mentions-legales"
    assert region.legal_text("accessibilite", "fr") == "<h2>Déclaration</h2>\n<p>Conforme.</p>\n"
    assert region.legal_text("accessibilite", "en") == "<p>Compliant.</p>\n"
    assert "dpo@bretagne.example" in region.legal_text("confidentialite", "en")
    assert region.legal_text("confidentialite", "en").startswith("<p>The DPO")
    assert region.accessibility_status == "full"


def test_version_follows_logo_and_colours(tmp_path):
    one = load_region(load_config(str(tmp_path), environ={}))
    two = load_region(load_config(str(tmp_path), environ={"WALLET_REGION_COLOR": "#00486b"}))
    assert one.version != two.version and len(one.version) == 12


def test_the_regions_text_cannot_carry_html_or_scripts():
    html = render_markdown('Contact <script>alert(1)</script> [site](javascript:alert(1)) '
                           '<img src=x onerror=alert(1)> [mail](mailto:dpo@region.example)')
    assert "<script" not in html and "<img" not in html and "href=\"javascript" not in html
    assert "&lt;script&gt;" in html  # shown as the text it is
    assert 'href="mailto:dpo@region.example"' in html


def test_wcag_contrast():
    assert round(contrast("#000000", "#ffffff"), 1) == 21.0
    assert round(contrast("#0b4f8a", "#ffffff"), 1) == 8.4
    assert contrast("#777777", "#ffffff") < 4.5


@pytest.mark.parametrize("environ, message", [
    ({"WALLET_REGION_COLOR": "blue"}, "REGION_COLOR must be a colour written #rrggbb"),
    ({"WALLET_REGION_COLOR": "#0b4f8a", "WALLET_REGION_COLOR_INK": "#3060a0"}, "contrast"),
    ({"WALLET_REGION_COLOR": "#ffcc00", "WALLET_REGION_COLOR_INK": "#000000"}, "too light for links"),
    ({"WALLET_REGION_NAME": " "}, "REGION_NAME is required"),
    ({"WALLET_REGION_LOGO": "missing.svg"}, "cannot read"),
    ({"WALLET_REGION_LOGO": "logo.gif"}, "neither a PNG nor an SVG"),
    ({"WALLET_PRIVACY_URL": "javascript:alert(1)"}, "PRIVACY_URL must be an https or http URL"),
    ({"WALLET_PRIVACY_URL": "https://a.example/p", "WALLET_PRIVACY_TEXT": "x"}, "one or the other"),
    ({"WALLET_ACCESSIBILITY_STATUS": "partiel"}, "ACCESSIBILITY_STATUS must be one of none, partial, full"),
])
def test_bad_region_settings_stop_the_start(tmp_path, environ, message):
    (tmp_path / "logo.gif").write_bytes(b"GIF89a" + b"\0" * 20)
    with pytest.raises(ConfigError, match=message):
        load_config(str(tmp_path), environ=environ)


def test_production_wants_https_legal_pages(tmp_path):
    with pytest.raises(ConfigError, match="LEGAL_NOTICE_URL must be an https URL"):
        load_config(str(tmp_path), environ={**PROD, "WALLET_LEGAL_NOTICE_URL": "http://region.example/ml"})
    cfg = load_config(str(tmp_path), environ={**PROD, "WALLET_LEGAL_NOTICE_URL": "https://region.example/ml"})
    assert load_region(cfg).legal["mentions-legales"].url == "https://region.example/ml"
