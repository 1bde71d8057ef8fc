"""Region staff: the referential (read-only view, upload of a new validated version, history).

Every route needs the admin role; anyone else gets 404 (no existence oracle)."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..eligibility.problems import ReferentialError
from ..services import referentials
from ..services.claims import review as claim_review
from ..services.claims.submission import ClaimError
from .helpers import request_lang as _lang
from .helpers import request_session

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
def _admins_only():
    if not current_user.is_authenticated or current_user.role != "admin":
        abort(404)


@bp.route("/")
def index():
    return redirect(url_for("admin.referential"))


@bp.route("/referentiel", methods=["GET", "POST"])
def referential():
    session = request_session()
    problems, status = [], 200
    if request.method == "POST":
        text = _uploaded_text()
        if text is None:
            problems = [_("Choisissez un fichier TOML ou collez son contenu.")]
            status = 400
        else:
            try:
                loaded = referentials.store(session, text, "upload", user=current_user._get_current_object())
            except ReferentialError as err:
                problems = [p.format(_("référentiel")) for p in err.problems]
                status = 400
            else:
                if loaded.changed:
                    flash(_("Nouvelle version %(version)s en vigueur.", version=loaded.version.version), "success")
                else:
                    flash(_("Ce fichier est identique à la version en vigueur : rien n'a changé."), "info")
                return redirect(url_for("admin.referential"))
    ref = referentials.current(session)
    return render_template("admin/referential.html", ref=ref, lang=_lang(), problems=problems,
                           history=referentials.history(session)), status


def _uploaded_text() -> str | None:
    storage = request.files.get("file")
    if storage and storage.filename:
        data = storage.stream.read(referentials.MAX_REFERENTIAL_BYTES + 1)
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            return "\x00"  # refused by the TOML parser with a line-precise message
    text = request.form.get("text", "")
    return text if text.strip() else None


@bp.route("/referentiel/version/<int:version_id>.toml")
def referential_version(version_id: int):
    row = referentials.version(request_session(), version_id)
    if row is None:
        abort(404)
    return row.content, 200, {"Content-Type": "text/plain; charset=utf-8",
                              "Content-Disposition": f"attachment; filename=referentiel-{row.id}.toml"}


@bp.route("/demandes")
def claims():
    session = request_session()
    ref = referentials.current(session)
    return render_template("admin/claims.html", ref=ref, lang=_lang(),
                           waiting=claim_review.awaiting_review(session), flagged=claim_review.flagged(session))


@bp.route("/demandes/<int:claim_id>/accepter", methods=["POST"])
def approve_claim(claim_id: int):
    try:
        claim_review.approve(current_app._get_current_object(), request_session(), claim_id,
                             current_user._get_current_object())
    except ClaimError:
        abort(404)
    flash(_("Demande acceptée : le badge est délivré."), "success")
    return redirect(url_for("admin.claims"))


@bp.route("/demandes/<int:claim_id>/refuser", methods=["POST"])
def refuse_claim(claim_id: int):
    try:
        claim_review.refuse(current_app._get_current_object(), request_session(), claim_id,
                            current_user._get_current_object(), request.form.get("reason", ""))
    except ClaimError as err:
        if err.code == "reason_required":
            flash(_("Indiquez la raison du refus : la personne la verra."), "error")
            return redirect(url_for("admin.claims"))
        abort(404)
    flash(_("Demande refusée."), "info")
    return redirect(url_for("admin.claims"))
