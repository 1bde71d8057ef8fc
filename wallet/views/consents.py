"""The learner's side of consent: grant, see, withdraw a counsellor's access; read the audit log;
confirm claims a counsellor prepared."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ..app.extensions import limiter
from ..services.claims import submission as claim_submission
from ..services.claims.delivery import first_attempt
from ..services.counselling import consents as consent_service
from ..services.counselling import drafts as draft_service
from ..services.counselling import journal as journal_service
from ..text.formatting import format_date, format_datetime
from .claims import submitted_message
from .helpers import request_lang as _lang
from .helpers import request_session
from .helpers import signed_in_user as _user

bp = Blueprint("consents", __name__, url_prefix="/accompagnement")

SCOPE_CHOICES = [("view", _l("Voir mes badges et mon éligibilité")),
                 ("prepare", _l("Voir mes badges et mon éligibilité, et préparer des demandes pour moi "
                                "(je les confirme moi-même)"))]
DURATION_CHOICES = [("1", _l("1 mois")), ("3", _l("3 mois")), ("6", _l("6 mois"))]
SCOPE_LABELS = dict(SCOPE_CHOICES)

ERRORS = {
    "code_unknown": _l("Ce code ne correspond à aucun conseiller. Vérifiez les 8 caractères affichés sur "
                       "l'écran de votre conseiller et réessayez."),
    "code_expired": _l("Ce code a expiré (il est valable 15 minutes). Demandez à votre conseiller d'en "
                       "afficher un nouveau."),
    "code_used": _l("Ce code a déjà servi. Demandez à votre conseiller d'en afficher un nouveau."),
    "self": _l("Vous ne pouvez pas vous donner accès à vous-même."),
    "bad_scope": _l("Choisissez ce que votre conseiller pourra faire."),
    "bad_duration": _l("Choisissez pour combien de temps vous donnez cet accès."),
}
CLAIM_ERRORS = {
    "not_eligible": _l("Vous ne remplissez plus les conditions pour ce badge. Voyez ce qui manque sur la page "
                       "de vos badges régionaux."),
    "recipient_not_confirmed": _l("Confirmez d'abord une adresse e-mail dans « Mon compte »."),
    "unknown_badge": _l("Ce badge régional n'existe plus."),
}


@bp.before_request
def _learners_only():
    if not current_user.is_authenticated or current_user.role != "learner":
        abort(404)


def when(moment) -> str:
    """« le 3 décembre à 10 h 12 » / "on December 3 at 10:12 AM" (in the Region's time zone)."""
    return _("le %(when)s", when=format_datetime(moment))


@bp.route("/")
def index():
    session = request_session()
    return render_template("consents/index.html", consents=consent_service.learner_consents(session, _user()),
                           drafts=draft_service.drafts_for(session, _user(), lang=_lang()),
                           scope_labels=SCOPE_LABELS)


def _grant_page(error: str | None = None, status: int = 200, **values):
    form = {"scope": "view", "months": "3", "code": "", "email": ""}
    form.update({k: v for k, v in values.items() if v is not None})
    return render_template("consents/grant.html", scopes=SCOPE_CHOICES, durations=DURATION_CHOICES, form=form,
                           error=error), status


def _code_key() -> str:
    """Attempts are counted per learner account (and per address when not logged in)."""
    user_id = getattr(current_user, "id", None)
    return f"consent-code:{user_id}" if user_id is not None else f"consent-code:{request.remote_addr}"


@bp.route("/autoriser", methods=["GET", "POST"])
@limiter.limit("5 per minute;30 per hour", methods=["POST"], key_func=_code_key)
def grant():
    if request.method == "GET":
        return _grant_page()
    scope, months, code = request.form.get("scope", ""), request.form.get("months", ""), request.form.get("code", "")
    try:
        consent = consent_service.grant_by_code(request_session(), _user(), code, scope, months)
    except consent_service.CounsellingError as err:
        return _grant_page(str(ERRORS.get(err.code, ERRORS["code_unknown"])), 400, scope=scope, months=months,
                           code=code)
    flash(_("C'est fait : votre conseiller a accès à votre portefeuille jusqu'au %(date)s. Vous pouvez retirer "
            "cet accès à tout moment.", date=format_date(consent.expires_at)), "success")
    return redirect(url_for("consents.index"), code=303)


@bp.route("/autoriser/email", methods=["POST"])
@limiter.limit("5 per minute;30 per hour", methods=["POST"], key_func=_code_key)
def grant_email():
    scope, months, email = request.form.get("scope", ""), request.form.get("months", ""), request.form.get("email", "")
    if "@" not in email:
        return _grant_page(_("Indiquez l'adresse e-mail de votre conseiller, par exemple nom@exemple.fr."), 400,
                           scope=scope, months=months, email=email)
    try:
        consent_service.grant_by_email(request_session(), _user(), email, scope, months)
    except consent_service.CounsellingError as err:
        return _grant_page(str(ERRORS[err.code]), 400, scope=scope, months=months, email=email)
    # The same answer whether the account exists or not (no account oracle).
    flash(_("Si ce conseiller a un compte, il a maintenant accès et il a reçu un e-mail. S'il n'apparaît pas "
            "ci-dessous, demandez-lui son code."), "success")
    return redirect(url_for("consents.index"), code=303)


@bp.route("/<int:consent_id>/retirer", methods=["POST"])
def withdraw(consent_id: int):
    if not consent_service.withdraw(request_session(), _user(), consent_id):
        abort(404)
    flash(_("Accès retiré. Votre conseiller ne voit plus votre portefeuille."), "success")
    return redirect(url_for("consents.index"), code=303)


@bp.route("/propositions/<int:draft_id>/confirmer", methods=["POST"])
@limiter.limit("10 per minute", methods=["POST"])
def confirm(draft_id: int):
    try:
        claim, created = draft_service.confirm_draft(request_session(), _user(), draft_id,
                                                     current_app.extensions["wallet_http"])
    except consent_service.CounsellingError:
        abort(404)
    except claim_submission.ClaimError as err:
        flash(str(CLAIM_ERRORS.get(err.code, CLAIM_ERRORS["not_eligible"])), "error")
        return redirect(url_for("consents.index"), code=303)
    if created:
        first_attempt(current_app._get_current_object(), claim.id)
        flash(submitted_message(claim_submission.current_status(request_session(), claim.id)), "success")
    return redirect(url_for("claims.detail", claim_id=claim.id), code=303)


@bp.route("/propositions/<int:draft_id>/ignorer", methods=["POST"])
def dismiss(draft_id: int):
    try:
        draft_service.dismiss_draft(request_session(), _user(), draft_id)
    except consent_service.CounsellingError:
        abort(404)
    flash(_("Demande ignorée. Rien n'a été envoyé."), "success")
    return redirect(url_for("consents.index"), code=303)


def _sentence(entry: journal_service.JournalEntry) -> str:
    name = entry.counsellor_name or _("Un conseiller")
    at = when(entry.at)
    badge = entry.detail.get("badge") or entry.detail.get("badge_key") or ""
    if entry.action == journal_service.VIEWED_LEARNER:
        return _("%(name)s a consulté vos badges %(when)s.", name=name, when=at)
    if entry.action == journal_service.VIEWED_SUMMARY:
        return _("%(name)s a vu le résumé de votre éligibilité %(when)s.", name=name, when=at)
    if entry.action == journal_service.PREPARED_CLAIM:
        return _("%(name)s a préparé une demande du badge « %(badge)s » %(when)s.", name=name, badge=badge,
                 when=at)
    if entry.action == journal_service.GRANTED:
        scope = entry.detail.get("scope")
        what = SCOPE_LABELS.get(scope, SCOPE_LABELS["view"])
        return _("Vous avez donné accès à %(name)s %(when)s (%(what)s).", name=name, when=at,
                 what=str(what).lower())
    if entry.action == journal_service.WITHDRAWN:
        return _("Vous avez retiré l'accès de %(name)s %(when)s.", name=name, when=at)
    if entry.action == journal_service.DRAFT_CONFIRMED:
        return _("Vous avez confirmé une demande préparée par %(name)s %(when)s.", name=name, when=at)
    return _("Vous avez ignoré une demande préparée par %(name)s %(when)s.", name=name, when=at)


@bp.route("/journal")
def journal():
    entries = [(entry, _sentence(entry)) for entry in journal_service.journal(request_session(), _user())]
    return render_template("consents/journal.html", entries=entries)
