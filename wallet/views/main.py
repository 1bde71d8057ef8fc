"""The learner's home once logged in."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user

from ..db import get_session
from ..services.badges import count_badges

bp = Blueprint("main", __name__)


@bp.route("/tableau-de-bord")
def dashboard():
    return render_template("main/dashboard.html", user=current_user,
                           badge_count=count_badges(get_session(), current_user.id))
