"""The Region running the service, from configuration: its name, logo, colours and legal pages.

One Region today (Normandy, as in the packaged referential), another tomorrow: nothing about the
Region is written in the templates or the stylesheet. Settings (README, "The Region's identity"):

    REGION_NAME, REGION_NAME_EN            its name as people read it (English falls back to French)
    REGION_LOGO                            an SVG or PNG file (absolute, or relative to instance/)
    REGION_COLOR, REGION_COLOR_INK         the header's colour and the text on it (#rrggbb)
    LEGAL_NOTICE_URL | LEGAL_NOTICE_TEXT   mentions légales: a page of the Region's site, or a text
    PRIVACY_URL | PRIVACY_TEXT             the data controller's part of the privacy policy
    ACCESSIBILITY_URL | ACCESSIBILITY_TEXT the accessibility statement
    ACCESSIBILITY_STATUS                   none | partial | full (the footer must say it, RGAA)

A *_TEXT setting is Markdown (raw HTML refused), in French; *_TEXT_EN is its English version. In
`instance/config.py` a text may also be a dict {"fr": ..., "en": ...}.

Pure: no Flask. `load_region(config)` raises RegionError naming the setting; `wallet/app/settings.py`
calls it when the configuration loads, so a bad colour or a missing logo stops the start.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

PACKAGED_LOGO = Path(__file__).parents[1] / "static" / "region-logo.svg"
MAX_LOGO_BYTES = 256 * 1024
LEGAL_PAGES = {"mentions-legales": "LEGAL_NOTICE", "confidentialite": "PRIVACY", "accessibilite": "ACCESSIBILITY"}
ACCESSIBILITY_STATUSES = ("none", "partial", "full")
# Text on the page background and on cards (links, buttons drawn in the brand colour).
PAGE_BACKGROUNDS = ("#ffffff", "#f6f6f8")
MIN_CONTRAST = 4.5  # WCAG 2.1 AA, normal text

_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
_md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
_TAGS = {"p", "br", "strong", "em", "ul", "ol", "li", "a", "h2", "h3", "h4", "blockquote", "address"}


class RegionError(ValueError):
    """A Region setting is unusable; the message names it."""


@dataclass(frozen=True, slots=True)
class LegalPage:
    url: str | None
    text_fr: str
    text_en: str

    def text(self, lang: str) -> str:
        return self.text_en if lang.startswith("en") and self.text_en else self.text_fr


@dataclass(frozen=True, slots=True)
class Region:
    name_fr: str
    name_en: str
    logo: bytes
    logo_type: str  # image/svg+xml | image/png
    color: str
    color_ink: str
    legal: Mapping[str, LegalPage]
    accessibility_status: str

    def name(self, lang: str = "fr") -> str:
        return self.name_en if lang.startswith("en") and self.name_en else self.name_fr

    def css(self) -> str:
        """The stylesheet that gives the pages the Region's colours (custom properties of wallet.css)."""
        return f":root {{ --brand: {self.color}; --brand-ink: {self.color_ink}; }}\n"

    @property
    def version(self) -> str:
        """Changes whenever the logo or the colours do (cache-busting query of their URLs)."""
        digest = hashlib.sha256(self.logo + self.css().encode()).hexdigest()
        return digest[:12]

    def legal_text(self, page: str, lang: str) -> Markup:
        return render_markdown(self.legal[page].text(lang))


def render_markdown(text: str) -> Markup:
    """The Region's own Markdown as inert HTML (raw HTML disabled, then nh3, like badge texts)."""
    if not text:
        return Markup("")
    html = _md.render(text[:50_000]).replace("<h1>", "<h2>").replace("</h1>", "</h2>")
    return Markup(nh3.clean(html, tags=_TAGS, attributes={"a": {"href"}},
                            url_schemes={"https", "http", "mailto", "tel"}, link_rel="noopener noreferrer"))


def relative_luminance(colour: str) -> float:
    channels = []
    for i in (1, 3, 5):
        c = int(colour[i:i + 2], 16) / 255
        channels.append(c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4)
    r, g, b = channels
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(one: str, other: str) -> float:
    """WCAG contrast ratio of two #rrggbb colours (1 to 21)."""
    a, b = sorted((relative_luminance(one), relative_luminance(other)), reverse=True)
    return (a + 0.05) / (b + 0.05)


def _text(config: Mapping[str, Any], key: str) -> tuple[str, str]:
    value = config.get(key)
    if isinstance(value, Mapping):
        fr, en = str(value.get("fr") or ""), str(value.get("en") or "")
    else:
        fr, en = str(value or ""), ""
    return fr.strip(), (str(config.get(key + "_EN") or "") or en).strip()


def _url(config: Mapping[str, Any], key: str, production: bool) -> str | None:
    url = str(config.get(key) or "").strip()
    if not url:
        return None
    schemes = ("https://",) if production else ("https://", "http://")
    if not url.startswith(schemes) or "@" in url.split("/")[2] or any(ord(c) < 33 for c in url):
        raise RegionError(f"WALLET_{key} must be an {' or '.join(s[:-3] for s in schemes)} URL, not {url!r}.")
    return url


def _colour(config: Mapping[str, Any], key: str) -> str:
    value = str(config.get(key) or "").strip()
    if not _COLOUR.match(value):
        raise RegionError(f"WALLET_{key} must be a colour written #rrggbb, not {value!r}.")
    return value.lower()


def _logo(config: Mapping[str, Any]) -> tuple[bytes, str]:
    setting = config.get("REGION_LOGO")
    path = Path(setting) if setting else PACKAGED_LOGO
    if not path.is_absolute():
        path = Path(config.get("_INSTANCE_PATH") or ".") / path
    try:
        data = path.read_bytes()
    except OSError:
        raise RegionError(f"WALLET_REGION_LOGO: cannot read {str(path)!r}.") from None
    if len(data) > MAX_LOGO_BYTES:
        raise RegionError(f"WALLET_REGION_LOGO: {path.name} is larger than {MAX_LOGO_BYTES // 1024} KiB.")
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return data, "image/png"
    import defusedxml.ElementTree as SafeET
    from defusedxml import DefusedXmlException

    try:
        root = SafeET.fromstring(data, forbid_dtd=True)
    except (DefusedXmlException, SafeET.ParseError, ValueError):
        root = None
    if root is None or root.tag != "{http://www.w3.org/2000/svg}svg":
        raise RegionError(f"WALLET_REGION_LOGO: {path.name} is neither a PNG nor an SVG image.")
    return data, "image/svg+xml"


def load_region(config: Mapping[str, Any]) -> Region:
    production = config.get("ENV") == "production"
    name_fr, name_en = _text(config, "REGION_NAME")
    if not name_fr:
        raise RegionError("WALLET_REGION_NAME is required (the Region's name, e.g. « Région Normandie »).")
    color, ink = _colour(config, "REGION_COLOR"), _colour(config, "REGION_COLOR_INK")
    if contrast(color, ink) < MIN_CONTRAST:
        raise RegionError(f"WALLET_REGION_COLOR {color} and WALLET_REGION_COLOR_INK {ink} contrast "
                          f"{contrast(color, ink):.1f}:1; text needs {MIN_CONTRAST}:1 at least.")
    for background in PAGE_BACKGROUNDS:
        if contrast(color, background) < MIN_CONTRAST:
            raise RegionError(f"WALLET_REGION_COLOR {color} is too light for links and buttons on "
                              f"{background} ({contrast(color, background):.1f}:1, {MIN_CONTRAST}:1 needed).")
    legal = {}
    for page, prefix in LEGAL_PAGES.items():
        url = _url(config, prefix + "_URL", production)
        text_fr, text_en = _text(config, prefix + "_TEXT")
        if url and text_fr:
            raise RegionError(f"WALLET_{prefix}_URL and WALLET_{prefix}_TEXT: set one or the other.")
        legal[page] = LegalPage(url, text_fr, text_en)
    status = str(config.get("ACCESSIBILITY_STATUS") or "").strip()
    if status not in ACCESSIBILITY_STATUSES:
        raise RegionError(f"WALLET_ACCESSIBILITY_STATUS must be one of {', '.join(ACCESSIBILITY_STATUSES)}, "
                          f"not {status!r}.")
    logo, logo_type = _logo(config)
    return Region(name_fr, name_en, logo, logo_type, color, ink, legal, status)
