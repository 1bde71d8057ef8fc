"""Claims: ask for a regional badge in one tap, follow its status."""

from __future__ import annotations

import json

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..app.extensions import limiter
from ..services import referentials
from ..services.claims import submission as service
from ..services.claims.delivery import first_attempt
from .helpers import request_lang as _lang
from .helpers import request_session
from .helpers import signed_in_user as _user

bp = Blueprint("claims", __name__, url_prefix="/demandes")

# One word per state, the same in the learner's list, the claim's history and the admin figures.
STATUS = {
    "pending": (_l("Enregistrée"), "warn"),
    "sent": (_l("Envoyée à la Région"), "warn"),
    "in_review": (_l("En cours d'examen"), "warn"),
    "issued": (_l("Délivrée"), "ok"),
    "refused": (_l("Refusée"), "err"),
    "failed": (_l("À traiter par la Région"), "warn"),
    "withdrawn": (_l("Retirée"), ""),
}

ERRORS = {
    "not_eligible": _l("Vous ne remplissez pas (ou plus) les conditions pour ce badge. Voyez ce qui manque sur "
                       "la page de vos badges régionaux."),
    "recipient_not_confirmed": _l("Choisissez une de vos adresses confirmées."),
    "unknown_badge": _l("Ce badge régional n'existe pas."),
}


def claim_status(status: str) -> tuple[str, str]:
    label, style = STATUS.get(status, STATUS["pending"])
    return str(label), style


def history_label(event: dict) -> str:
    """A line of the claim's history: its state's word, or what the staff flag means."""
    if event.get("note") == "needs_staff":
        return _("Envoi bloqué : la Région s'en occupe")
    return claim_status(event.get("status", ""))[0]


def submitted_message(status: str) -> str:
    """The flash after a claim is made, saying the state it is in now (it may be issued at once)."""
    if status == "issued":
        return _("C'est fait : la Région vous a délivré ce badge.")
    if status == "in_review":
        return _("Votre demande est envoyée : une personne de la Région va l'examiner.")
    if status == "sent":
        return _("Votre demande est envoyée à la Région.")
    return _("Votre demande est enregistrée : elle part vers la Région dans quelques instants.")


@bp.route("/")
def index():
    session = request_session()
    referential = referentials.current(session)
    items = [(claim, referential.badge(claim.regional_badge_id)) for claim in service.my_claims(session, _user())]
    return render_template("claims/index.html", items=items, claim_status=claim_status, lang=_lang())


@bp.route("/nouvelle/<key>", methods=["GET", "POST"])
@limiter.limit("10 per minute", methods=["POST"])
def new(key: str):
    session = request_session()
    try:
        preview = service.preview(session, _user(), key)
    except service.ClaimError:
        abort(404)
    if preview.active_claim is not None:
        return redirect(url_for("claims.detail", claim_id=preview.active_claim.id), code=303)
    if request.method == "POST":
        try:
            claim, created = service.submit_claim(session, _user(), key, request.form.get("recipient", ""),
                                                  current_app.extensions["wallet_http"])
        except service.ClaimError as err:
            return render_template("claims/new.html", preview=preview, lang=_lang(),
                                   error=str(ERRORS.get(err.code, ERRORS["not_eligible"]))), 400
        if created:
            first_attempt(current_app._get_current_object(), claim.id)
            flash(submitted_message(service.current_status(session, claim.id)), "success")
        return redirect(url_for("claims.detail", claim_id=claim.id), code=303)
    return render_template("claims/new.html", preview=preview, lang=_lang())


@bp.route("/<int:claim_id>")
def detail(claim_id: int):
    session = request_session()
    claim = service.get_owned(session, _user(), claim_id)
    if claim is None:
        abort(404)
    referential = referentials.current(session)
    evidence = json.loads(claim.evidence or "{}")
    history = json.loads(claim.history or "[]")
    return render_template("claims/detail.html", claim=claim, badge=referential.badge(claim.regional_badge_id),
                           evidence=evidence, history=history, claim_status=claim_status, history_label=history_label,
                           lang=_lang())
