"""Region staff: which partner systems push badges into learners' wallets, and how often (routes
added to the `admin` blueprint, whose before_request limits it to the admin role)."""

from __future__ import annotations

from flask import current_app, render_template

from ..partners.host.accesses import partner_figures
from ..partners.host.common import now
from .admin import bp
from .helpers import request_session

DAYS = 30


@bp.route("/envois")
def pushes():
    base = current_app.config["BASE_URL"]
    return render_template("host/admin_pushes.html", figures=partner_figures(request_session(), now(), DAYS), days=DAYS,
                           api_url=base + "/v2", web_url=base)
