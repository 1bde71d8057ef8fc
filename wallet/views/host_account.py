"""My account → Applications: the partner systems that may push badges into my wallet.

App passwords (for a training centre's Moodle in its "Open Badges v2.0" mode) are created here and
shown ONCE, on the page that answers the creation (never through a redirect: the session cookie
is signed, not encrypted). Connected applications (Badge Connect) appear after the learner's
consent. Each line can be cut off in one tap.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from ..app.extensions import limiter
from ..partners.host import accesses, app_passwords
from ..partners.host.app_passwords import AppPasswordError
from ..partners.host.common import now
from .helpers import request_session
from .helpers import signed_in_user as _user

bp = Blueprint("host_account", __name__, url_prefix="/compte/applications")

ERRORS = {
    "label_missing": lambda: _("Donnez un nom à ce mot de passe, par exemple le nom de votre centre de formation."),
    "label_too_long": lambda: _("Ce nom est trop long (80 caractères au plus)."),
    "too_many": lambda: _("Vous avez déjà 20 mots de passe d'application. Supprimez ceux qui ne servent plus."),
}


def _page(status: int = 200, **extra):
    session = request_session()
    user = _user()
    lines = accesses.overview(session, user)
    warned = app_passwords.wallet_password_seen(session, user)
    base = current_app.config["BASE_URL"]
    return render_template("host/applications.html", lines=lines, wallet_password_seen=warned,
                           api_url=base + "/v2", web_url=base, user=user, **extra), status


@bp.route("/")
def index():
    return _page()


@bp.route("/mots-de-passe", methods=["POST"])
@limiter.limit("10 per minute")
def create_app_password():
    try:
        created = app_passwords.create(request_session(), _user(), request.form.get("label", ""), now())
    except AppPasswordError as err:
        return _page(400, error=ERRORS[err.code](), label=request.form.get("label", ""))
    return _page(201, created=created)


@bp.route("/<int:access_id>/couper", methods=["POST"])
def cut_off(access_id: int):
    if not accesses.cut_off(request_session(), _user(), access_id, now()):
        abort(404)
    flash(_("Accès coupé : ce service ne peut plus déposer de badges dans votre portefeuille."), "success")
    return redirect(url_for("host_account.index"))
