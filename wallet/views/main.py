"""The learner's home once logged in."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user

bp = Blueprint("main", __name__)


@bp.route("/tableau-de-bord")
def dashboard():
    return render_template("main/dashboard.html", user=current_user)
