"""Pages for everyone, with no account: the home page, legal pages, /healthz, the language switch.

No login is required here by design: employers open shared links once with no account, and a
French public service's legal pages must be readable by anyone. Share pages and issuer documents
join this blueprint in later issues.
"""

from __future__ import annotations

from flask import Blueprint, jsonify, redirect, render_template, request, session, url_for
from flask_login import current_user

from ..app.security import DEFAULT_AFTER_LOGIN, safe_next
from ..services import health
from .helpers import current_region, request_session

bp = Blueprint("public", __name__)

LEGAL_PAGES = {
    "mentions-legales": "public/legal_notice.html",
    "cgu": "public/terms.html",
    "confidentialite": "public/privacy.html",
    "accessibilite": "public/accessibility.html",
}


@bp.route("/")
def index():
    if current_user.is_authenticated:
        return redirect(url_for(DEFAULT_AFTER_LOGIN))
    return render_template("public/index.html")


@bp.route("/healthz")
def healthz():
    health.database_answers(request_session())
    return jsonify(status="ok")


@bp.route("/<any('mentions-legales', cgu, confidentialite, accessibilite):page>")
def legal(page: str):
    configured = current_region().legal.get(page)
    if configured and configured.url:  # the Region publishes this page on its own site
        return redirect(configured.url)
    return render_template(LEGAL_PAGES[page])


@bp.route("/langue", methods=["POST"])
def set_language():
    locale = request.form.get("locale", "fr")
    session["lang"] = locale if locale in ("fr", "en") else "fr"
    return redirect(safe_next(request.form.get("next")) or url_for("public.index"))
