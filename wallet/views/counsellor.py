"""Counsellors: their learners (with consent), dashboard, prepared claims.

Counsellor-only: any other role gets 404 (no existence oracle). Every learner page re-reads the
learner's consent (require_consent, services/counselling/consents.py), so a withdrawal is effective on
the next request. Templates receive allowlisted DTOs only (T46), never User or Badge rows.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ..app.extensions import limiter
from ..services.counselling import consents, drafts
from ..services.counselling import learners as learner_service
from .claims import claim_status
from .helpers import request_lang as _lang
from .helpers import request_session
from .helpers import signed_in_user as _user
from .regional import STATES as REGIONAL_STATES
from .status import status_label

bp = Blueprint("counsellor", __name__, url_prefix="/conseiller")

PROBLEMS = {
    "not_matched": _l("délivré à une adresse que la personne n'a pas confirmée"),
    "not_verified": _l("authenticité non établie"),
    "expiring": _l("expire bientôt"),
}
SCOPES = {"view": _l("Voir ses badges et son éligibilité"),
          "prepare": _l("Voir ses badges et préparer des demandes")}


@bp.before_request
def _counsellors_only():
    if not current_user.is_authenticated or current_user.role != "counsellor":
        abort(404)


def _regional_state(state: str) -> tuple[str, str]:
    label, style = REGIONAL_STATES.get(state, (state, ""))
    return str(label), style


def _helpers() -> dict:
    return {"status_label": status_label, "claim_status": claim_status, "regional_state": _regional_state,
            "problems": PROBLEMS, "scopes": SCOPES}


@bp.route("/")
def index():
    learners = learner_service.my_learners(request_session(), _user(), lang=_lang())
    return render_template("counsellor/index.html", learners=learners, **_helpers())


@bp.route("/code", methods=["GET", "POST"])
@limiter.limit("20 per hour", methods=["POST"])
def code():
    if request.method == "POST":
        shown, expires = consents.new_code(request_session(), _user())
        return render_template("counsellor/code.html", code=shown, expires=expires)
    return render_template("counsellor/code.html", code=None, expires=None)


@bp.route("/apprenants/<int:learner_id>")
def learner(learner_id: int):
    try:
        view = learner_service.learner_view(request_session(), _user(), learner_id, lang=_lang())
    except consents.CounsellingError:
        abort(404)
    return render_template("counsellor/learner.html", learner=view, **_helpers())


@bp.route("/apprenants/<int:learner_id>/preparer", methods=["POST"])
@limiter.limit("30 per minute", methods=["POST"])
def prepare(learner_id: int):
    session = request_session()
    try:
        drafts.prepare_claim(session, _user(), learner_id, request.form.get("badge", ""))
    except consents.CounsellingError as err:
        if err.code == "no_consent":
            abort(404)
        if err.code == "out_of_scope":
            abort(403)
        flash(_("Cette personne ne remplit pas (ou plus) les conditions pour ce badge, ou une demande est "
                "déjà en cours.") if err.code == "not_eligible" else
              _("Cette personne n'a pas encore d'adresse confirmée : elle doit d'abord en confirmer une."),
              "error")
        return redirect(url_for("counsellor.learner", learner_id=learner_id), code=303)
    flash(_("Demande préparée. La personne la recevra par e-mail et la confirmera elle-même."), "success")
    return redirect(url_for("counsellor.learner", learner_id=learner_id), code=303)
