"""Mes données: export everything, delete the account (personal data, RGPD)."""

from __future__ import annotations

from flask import Blueprint, make_response, render_template
from flask_login import current_user

from ..services import personal_data
from .helpers import request_session

bp = Blueprint("data", __name__, url_prefix="/mes-donnees")


@bp.route("/")
def index():
    figures = personal_data.summary(request_session(), current_user._get_current_object())
    return render_template("data/index.html", figures=figures)


@bp.route("/export.zip")
def export():
    # Only the logged-in person's data, whatever the query string says (no user id is read).
    data = personal_data.export_zip(request_session(), current_user._get_current_object())
    response = make_response(data)
    response.headers["Content-Type"] = "application/zip"
    response.headers["Content-Disposition"] = (
        f"attachment; filename={personal_data.export_filename()}")
    response.headers["Cache-Control"] = "no-store"
    return response
