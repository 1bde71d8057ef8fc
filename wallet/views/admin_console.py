"""Region staff console (routes added to the `admin` blueprint): users and roles, invitations,
partner issuers and catalogue, referential changes, issuer status, figures.

The blueprint's before_request answers 404 to anyone who is not an admin (admin.py)."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..eligibility.problems import ReferentialError
from ..services import referentials
from ..services.admin import dashboard, invitations, learner_changes, people, referential_partners
from ..services.admin.base import AdminError, message_for
from .admin import _lang, _uploaded_text, bp
from .claims import claim_status, history_label
from .helpers import request_session
from .status import status_label


def _actor():
    return current_user._get_current_object()


def _problem_lines(problems) -> list[str]:
    return [p.format(_("référentiel")) for p in problems]


# ------------------------------------------------------------------------------ figures, issuer

@bp.route("/tableau-de-bord")
def console():
    session = request_session()
    figures = dashboard.figures(session, _lang())
    status = dashboard.issuer_status(session)
    return render_template("admin/console_dashboard.html", figures=figures, issuer=status,
                           status_labels={b.label: status_label(b.label)[0] for b in figures.badges_by_status},
                           claim_labels={s: claim_status(s)[0] for s in dashboard.CLAIM_STATES}, history_label=history_label)


# ------------------------------------------------------------------------------ people, roles, invitations

def _users_page(status: int = 200, error: str | None = None, invited=None):
    session = request_session()
    query = request.args.get("q", "")
    return render_template("admin/console_users.html", users=people.list_users(session, query), query=query,
                           roles=people.ROLES, role_label=people.role_label,
                           invitations=invitations.pending_invitations(session),
                           invitable=invitations.INVITABLE_ROLES, error=error, invited=invited), status


@bp.route("/personnes")
def users():
    return _users_page()


@bp.route("/personnes/<int:user_id>/role", methods=["POST"])
def change_role(user_id: int):
    try:
        user = people.set_role(request_session(), _actor(), user_id, request.form.get("role", ""))
    except AdminError as err:
        if err.code == "not_found":
            abort(404)
        return _users_page(400, message_for(err.code))
    flash(_("%(name)s a maintenant le rôle « %(role)s ».", name=user.display_name, role=people.role_label(user.role)),
          "success")
    return redirect(url_for("admin.users"))


@bp.route("/invitations", methods=["POST"])
def invite():
    try:
        invited = invitations.create_invitation(request_session(), _actor(), request.form.get("email", ""),
                                                request.form.get("role", "counsellor"))
    except AdminError as err:
        return _users_page(400, message_for(err.code))
    # The link is shown once, here; only its hash is stored.
    return _users_page(200, invited=invited)


# ------------------------------------------------------------------------------ partners and catalogue

def _partners_page(status: int = 200, problems: list[str] | None = None, error: str | None = None):
    session = request_session()
    ref = referentials.current(session)
    text = referential_partners.current_text(session)
    return render_template("admin/console_partners.html", ref=ref,
                           partners=referential_partners.partners_of(text), lang=_lang(), problems=problems or [], error=error,
                           base_url=current_app.config["BASE_URL"]), status


@bp.route("/partenaires", methods=["GET", "POST"])
def partners():
    if request.method == "GET":
        return _partners_page()
    form = {k: v for k, v in request.form.items() if k != "csrf_token"}
    try:
        loaded = referential_partners.edit_partners(request_session(), _actor(), form.pop("edit", ""), form)
    except AdminError as err:
        if err.code == "invalid":
            return _partners_page(400, _problem_lines(err.problems), message_for(err.code))
        return _partners_page(400, error=message_for(err.code))
    flash(_("Nouvelle version du référentiel en vigueur (n° %(id)s).", id=loaded.version.id), "success")
    return redirect(url_for("admin.partners"))


# ------------------------------------------------------------------------------ what changes for learners

@bp.route("/referentiel/apercu", methods=["GET", "POST"])
def referential_preview():
    if request.method == "GET":
        return render_template("admin/console_preview.html", changes=None, text="", problems=[])
    text = _uploaded_text()
    if text is None:
        return render_template("admin/console_preview.html", changes=None, text="", problems=[],
                               error=message_for("no_text")), 400
    try:
        changes = learner_changes.changes_for_learners(request_session(), text, lang=_lang())
    except ReferentialError as err:
        return render_template("admin/console_preview.html", changes=None, text=text,
                               problems=_problem_lines(err.problems)), 400
    return render_template("admin/console_preview.html", changes=changes, text=text, problems=[])


@bp.route("/referentiel/publier", methods=["POST"])
def referential_publish():
    text = request.form.get("text", "")
    if not text.strip():
        return redirect(url_for("admin.referential_preview"))
    try:
        loaded = referentials.store(request_session(), text, "upload", user=_actor(), app=current_app._get_current_object())
    except ReferentialError as err:
        return render_template("admin/console_preview.html", changes=None, text=text,
                               problems=_problem_lines(err.problems)), 400
    if loaded.changed:
        flash(_("Nouvelle version %(version)s en vigueur.", version=loaded.version.version), "success")
    else:
        flash(_("Ce fichier est identique à la version en vigueur : rien n'a changé."), "info")
    return redirect(url_for("admin.referential"))
