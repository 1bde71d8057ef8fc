"""The learner's home once logged in."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user

from ..services import referentials
from ..services.badges import count_badges
from ..services.counselling.drafts import drafts_for
from .helpers import request_session

bp = Blueprint("main", __name__)


@bp.route("/tableau-de-bord")
def dashboard():
    session = request_session()
    user = current_user._get_current_object()
    if user.role == "counsellor":
        return redirect(url_for("counsellor.index"))
    _referential, results = referentials.eligibility_for(session, user)
    drafts = drafts_for(session, user)
    return render_template("main/dashboard.html", user=user, badge_count=count_badges(session, user.id),
                           eligible=sum(r.state == "eligible" for r in results),
                           obtained=sum(r.state == "obtained" for r in results),
                           in_progress=sum(r.state == "in_progress" for r in results), drafts=drafts)
