"""Rendering untrusted badge text safely (SECURITY.md T37): sanitized Markdown and safe links."""

from __future__ import annotations

import functools
import json
from urllib.parse import urlsplit

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

_md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})

_TAGS = {"p", "br", "strong", "em", "ul", "ol", "li", "a", "blockquote", "code", "pre", "h3", "h4", "h5", "h6"}


# A badge class's criteria are the same text for every learner who holds it: the sanitized HTML of
# short texts is kept (≈ 0.6 ms a render saved; at most 1 024 texts of 4 KB, a few megabytes).
_CACHED_TEXT_CHARS = 4096


def markdown(text: str | None) -> Markup:
    """Markdown from a badge (criteria, narratives) as inert HTML: raw HTML disabled, then nh3."""
    if not text:
        return Markup("")
    text = str(text)[:20_000]
    return Markup(_sanitized(text) if len(text) <= _CACHED_TEXT_CHARS else _render(text))


@functools.lru_cache(maxsize=1024)
def _sanitized(text: str) -> str:
    return _render(text)


def _render(text: str) -> str:
    html = _md.render(text)
    html = html.replace("<h1>", "<h3>").replace("</h1>", "</h3>").replace("<h2>", "<h4>").replace("</h2>", "</h4>")
    return nh3.clean(html, tags=_TAGS, attributes={"a": {"href"}}, url_schemes={"https", "http", "mailto"},
                     link_rel="noopener noreferrer nofollow")


def safe_url(url: str | None) -> str | None:
    """The URL when it may become a link (http/https only, no credentials), else None."""
    if not url or not isinstance(url, str) or len(url) > 2048:
        return None
    url = url.strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc or "@" in parts.netloc:
        return None
    if any(ord(c) < 33 for c in url) or "\\" in url:
        return None
    return url


def domain(url: str | None) -> str:
    try:
        return (urlsplit(url or "").hostname or "") if url and url.startswith(("http://", "https://")) else ""
    except ValueError:
        return ""


def badge_title(name: str | None, issuer: str | None = None, issued_on=None) -> str:
    """A badge's name, or words that still tell it apart when its issuer gave it none (« Badge sans
    nom de Centre Les Tilleuls, délivré le 3 mars 2026 »): a link to it never has an empty name."""
    from flask_babel import gettext as _

    from .formatting import format_date

    if name and str(name).strip():
        return str(name).strip()
    date = format_date(issued_on)
    if issuer and date:
        return _("Badge sans nom de %(issuer)s, délivré le %(date)s", issuer=issuer, date=date)
    if issuer:
        return _("Badge sans nom de %(issuer)s", issuer=issuer)
    if date:
        return _("Badge sans nom, délivré le %(date)s", date=date)
    return _("Badge sans nom")


def _badge_title_of(badge) -> str:
    issuer = getattr(badge, "issuer_name", None) or domain(getattr(badge, "issuer_id", None)) or None
    return badge_title(getattr(badge, "name", None), issuer, getattr(badge, "issued_on", None))


# Statuses reached only after the badge's authenticity was established (DESIGN.md §4, steps 3–6):
# its documents were fetched from, or its key checked against, its issuer's id.
AUTHENTIC = frozenset({"valid", "revoked", "suspended", "expired", "not_yet_valid"})


def origin(issuer_id: str | None) -> str:
    """Where an issuer id's documents and keys live: the authority (host[:port]) of an http(s)
    id, the host of a did:web; "" for ids that name no place (did:key, urn:uuid:…)."""
    issuer_id = (issuer_id or "").strip()
    if issuer_id.startswith(("http://", "https://")):
        from ..openbadges.ob2 import authority

        try:
            return authority(issuer_id)
        except ValueError:
            return ""
    if issuer_id.startswith("did:web:"):
        from urllib.parse import unquote

        host = issuer_id[len("did:web:"):].split("#", 1)[0].split("?", 1)[0].split(":", 1)[0]
        return unquote(host).lower()
    return ""


def verified_origin(badge) -> str:
    """The origin where a stored badge was checked (its authoritative issuer id's authority), or ""
    when its authenticity was not established. Never the issuer's self-declared website."""
    if getattr(badge, "status", None) not in AUTHENTIC:
        return ""
    return origin(getattr(badge, "issuer_id", ""))


def init_app(app) -> None:
    from . import formatting

    formatting.init_app(app)  # format_date, format_date_short, format_datetime, format_time, format_number
    app.jinja_env.filters["markdown"] = markdown
    app.jinja_env.filters["fromjson"] = lambda text: json.loads(text or "{}")
    app.jinja_env.filters["safe_url"] = safe_url
    app.jinja_env.filters["domain"] = domain
    app.jinja_env.filters["badge_title"] = _badge_title_of  # {{ badge|badge_title }}
    app.jinja_env.filters["verified_origin"] = verified_origin
