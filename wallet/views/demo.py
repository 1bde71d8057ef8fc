"""Demo (development only): demo partner badges to download, and the demo partners' issuer
documents. Everything here answers 404 unless `wallet demo` was run and this is not production.

The issuer documents are added to the `public` blueprint: a verifier fetches them with no account.
The download page needs a logged-in learner: the badges are issued to their confirmed address.
"""

from __future__ import annotations

import io

from flask import Blueprint, abort, current_app, jsonify, render_template, send_file
from flask_babel import get_locale
from flask_login import current_user

from ..services import demo as service
from .public import bp as public_bp

bp = Blueprint("demo", __name__, url_prefix="/demo")


def _require_demo() -> None:
    if not service.enabled(current_app):
        abort(404)


@public_bp.route("/demo/partners/<slug>")
def demo_issuer(slug: str):
    _require_demo()
    profile = service.issuer_profile(current_app, slug)
    if profile is None:
        abort(404)
    response = jsonify(profile)
    response.headers["Content-Type"] = "application/ld+json"
    return response


@bp.route("/")
def index():
    _require_demo()
    user = current_user._get_current_object()
    return render_template("demo/index.html", items=service.catalogue(current_app, lang=str(get_locale() or "fr")[:2]),
                           email=(user.confirmed_addresses or [None])[0])


@bp.route("/badges/<partner>/<slug>.png")
def download(partner: str, slug: str):
    _require_demo()
    user = current_user._get_current_object()
    if not user.confirmed_addresses:
        abort(404)
    data = service.baked_badge(current_app, partner, slug, user.confirmed_addresses[0])
    if data is None:
        abort(404)
    return send_file(io.BytesIO(data), mimetype="image/png", as_attachment=True,
                     download_name=f"demo-{slug}.png")
