"""What every page stands on: the Region's identity (colours, logo, legal links) and the installed
app (manifest, icons, service worker, offline page). Routes added to the `public` blueprint (no
login: the login page and the employer's page wear them too, and a browser fetches the manifest
and the worker's script without cookies).

    /region.css                 the Region's colours as CSS custom properties (wallet/app/region.py)
    /region/logo                the Region's logo (sandboxed when SVG)
    /manifest.webmanifest       the Web App Manifest, in the language asked (?lang=fr|en)
    /icons/<any|maskable>-<192|512>.png   its icons, drawn in the Region's colour (wallet/app/icons.py)
    /sw.js                      the service worker (scope /), from templates/app_shell/sw.js
    /hors-ligne                 the page shown offline when a page was never kept

Offline reading (README, "Installable app"). The server, not the worker, decides what may be kept:
a GET answered 200 to its signed-in owner by one of OFFLINE_ENDPOINTS carries
`X-Offline: owner=<tag>` (the tag names the account without revealing it). The worker keeps only
such answers, one account at a time, and forgets them all when an answer says `X-Offline: forget`
(any page rendered for nobody signed in: the session is over) or on the way out: logging out (or
deleting the account, or resetting the password) also answers `Clear-Site-Data: "cache",
"storage"`, which empties the worker's caches and unregisters it.

Templates get `region` (wallet.app.region.Region), `region_name` (in the reader's language),
`legal_url(page)` (the Region's own page when configured, else ours) and `accessibility_status`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path

from flask import Flask, abort, current_app, g, make_response, render_template, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ..app.icons import SIZES, icon_png
from ..app.region import load_region
from .helpers import current_region
from .helpers import request_lang as _lang
from .public import bp

ACCESSIBILITY_LABELS = {
    "none": _l("Accessibilité : non conforme"),
    "partial": _l("Accessibilité : partiellement conforme"),
    "full": _l("Accessibilité : totalement conforme"),
}
YEAR = 365 * 24 * 3600
LANGS = ("fr", "en")
# The signed-in person's own pages that may be read again with no network: the badge list and
# each badge (with its image), the share links and each share's page with its QR code, the home
# page. Never a counsellor's or an admin's page, never a public page, never a POST's answer.
OFFLINE_ENDPOINTS = frozenset({"main.dashboard", "badges.index", "badges.detail", "badges.image"})
OFFLINE_BLUEPRINTS = ("shares.",)  # every GET page of « Mes partages » is its owner's
NOT_OFFLINE = frozenset({"shares.new"})  # a form: nothing to read
SHELL_STATIC = ("wallet.css", "app.js", "favicon.svg", "badge-placeholder.svg")


@bp.record_once
def _load(state) -> None:
    app: Flask = state.app
    app.extensions["wallet_region"] = load_region(app.config)


def legal_url(page: str) -> str:
    configured = current_region().legal.get(page)
    return configured.url if configured and configured.url else url_for("public.legal", page=page)


@bp.app_context_processor
def _region_globals():
    region = current_region()
    return {"region": region, "region_name": region.name(_lang()), "legal_url": legal_url,
            "accessibility_status": ACCESSIBILITY_LABELS[region.accessibility_status]}


def _cached(response, version_asked: str | None, version: str):
    """Immutable when the URL names the current version, else revalidated every five minutes."""
    if version_asked == version:
        response.headers["Cache-Control"] = f"public, max-age={YEAR}, immutable"
    else:
        response.headers["Cache-Control"] = "public, max-age=300"
    return response


@bp.route("/region.css")
def region_css():
    region = current_region()
    response = make_response(region.css())
    response.mimetype = "text/css"
    return _cached(response, request.args.get("v"), region.version)


@bp.route("/region/logo")
def region_logo():
    region = current_region()
    if not region.logo:
        abort(404)
    response = make_response(region.logo)
    response.mimetype = region.logo_type
    response.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'; sandbox"
    return _cached(response, request.args.get("v"), region.version)


# --- the installed app --------------------------------------------------------------------------

def _asked_lang() -> str:
    lang = request.args.get("lang", "")
    return lang if lang in LANGS else _lang()


@bp.route("/manifest.webmanifest")
def manifest():
    region = current_region()
    lang = _asked_lang()
    with force_locale(lang):
        name = _("Mon portefeuille de badges")
        document = {
            "name": f"{name} — {region.name(lang)}",
            "short_name": _("Mes badges"),
            "description": _("Vos badges, vérifiés, à montrer à un employeur, même sans réseau."),
            "lang": lang, "dir": "ltr",
            "id": "/", "start_url": url_for("main.dashboard"), "scope": "/",
            "display": "standalone",
            "theme_color": region.color, "background_color": "#f6f6f8",
            "icons": [{"src": url_for("public.app_icon", purpose=purpose, size=size, v=region.version),
                       "sizes": f"{size}x{size}", "type": "image/png", "purpose": purpose}
                      for purpose in ("any", "maskable") for size in SIZES],
        }
    response = make_response(json.dumps(document, ensure_ascii=False, indent=1))
    response.mimetype = "application/manifest+json"
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


@bp.route("/icons/<any(any, maskable):purpose>-<int:size>.png")
def app_icon(purpose: str, size: int):
    if size not in SIZES:
        abort(404)
    region = current_region()
    response = make_response(icon_png(size, purpose == "maskable", region.color, region.color_ink))
    response.mimetype = "image/png"
    return _cached(response, request.args.get("v"), region.version)


def _shell_version(app: Flask) -> str:
    """Changes whenever what the worker keeps for everyone changes (its script, the shell files,
    the Region's look): a new worker then replaces the old one and its shell cache."""
    version = app.extensions.get("wallet_shell_version")
    if version is None:
        digest = hashlib.sha256(current_region(app).version.encode())
        for path in [Path(app.root_path) / "templates" / "app_shell" / "sw.js",
                     *(Path(app.static_folder) / name for name in SHELL_STATIC)]:
            digest.update(path.read_bytes())
        version = app.extensions.setdefault("wallet_shell_version", digest.hexdigest()[:12])
    return version


@bp.route("/sw.js")
def service_worker():
    app = current_app._get_current_object()
    region = current_region(app)
    shell = [url_for("static", filename=name) for name in SHELL_STATIC]
    shell += [url_for("public.region_css", v=region.version), url_for("public.region_logo", v=region.version)]
    offline = {lang: url_for("public.offline", lang=lang) for lang in LANGS}
    config = {"version": _shell_version(app), "shell": shell + list(offline.values()), "offline": offline,
              "placeholder": url_for("static", filename="badge-placeholder.svg"),
              "leaving": [url_for("auth.logout"), url_for("auth.login")]}
    response = make_response(render_template("app_shell/sw.js", config=config))
    response.mimetype = "text/javascript"
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.route("/hors-ligne")
def offline():
    lang = _asked_lang()
    with force_locale(lang):
        response = make_response(render_template("app_shell/offline.html", offline_lang=lang, current_locale=lang))
    response.headers["Cache-Control"] = "no-store"
    return response


def owner_tag(user_id: int) -> str:
    """Names one account to the worker, the same on every page, without saying which."""
    key = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(key, f"offline-owner:{user_id}".encode(), hashlib.sha256).hexdigest()[:32]


def may_keep_offline(endpoint: str | None) -> bool:
    if not endpoint or endpoint in NOT_OFFLINE:
        return False
    return endpoint in OFFLINE_ENDPOINTS or endpoint.startswith(OFFLINE_BLUEPRINTS)


@bp.before_app_request
def _note_who_posts() -> None:
    if request.method == "POST":
        g.offline_was_signed_in = current_user.is_authenticated


@bp.after_app_request
def _offline_headers(response):
    if request.method == "POST":
        if g.get("offline_was_signed_in") and not current_user.is_authenticated:
            # Signed out by this request (logout, account deleted, password reset): the browser
            # empties what this person's visit left behind, the worker's caches included.
            response.headers["Clear-Site-Data"] = '"cache", "storage"'
        return response
    if request.method != "GET" or request.endpoint == "static":
        return response
    if may_keep_offline(request.endpoint):
        if response.status_code == 200 and current_user.is_authenticated:
            response.headers["X-Offline"] = "owner=" + owner_tag(current_user.id)
            response.headers["Content-Language"] = _lang()
    elif (response.mimetype == "text/html" and request.endpoint != "public.offline"
          and not current_user.is_authenticated):
        response.headers["X-Offline"] = "forget"
    return response
