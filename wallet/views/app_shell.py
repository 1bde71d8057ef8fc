"""What every page stands on: the Region's identity (colours, logo, legal links), routes added to
the `public` blueprint (no login: the login page and the employer's page wear them too).

    /region.css      the Region's colours as CSS custom properties (wallet/region.py)
    /region/logo     the Region's logo (sandboxed when SVG)

Templates get `region` (wallet.region.Region), `region_name` (in the reader's language),
`legal_url(page)` (the Region's own page when configured, else ours) and `accessibility_status`.
"""

from __future__ import annotations

from flask import Flask, abort, current_app, make_response, request
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from ..region import Region, load_region
from .public import bp

ACCESSIBILITY_LABELS = {
    "none": _l("Accessibilité : non conforme"),
    "partial": _l("Accessibilité : partiellement conforme"),
    "full": _l("Accessibilité : totalement conforme"),
}
YEAR = 365 * 24 * 3600


@bp.record_once
def _load(state) -> None:
    app: Flask = state.app
    app.extensions["wallet_region"] = load_region(app.config)


def current_region(app: Flask | None = None) -> Region:
    return (app or current_app).extensions["wallet_region"]


def _lang() -> str:
    return "en" if str(get_locale() or "fr").startswith("en") else "fr"


def legal_url(page: str) -> str:
    from flask import url_for

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
