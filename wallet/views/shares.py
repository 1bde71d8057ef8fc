"""Sharing: the learner's share links (one badge or a collection), their QR codes, revocation.

A link's token is shown once, right after it is made (only its sha256 is stored): the creation
handler keeps it in the learner's session for the one page that shows it, then forgets it.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from ..db import get_session
from ..models import Badge
from ..services import sharing

bp = Blueprint("shares", __name__, url_prefix="/partages")

ERRORS = {
    "no_badges": _l("Choisissez au moins un badge à partager."),
    "too_many": _l("Un lien peut regrouper jusqu'à 50 badges. Retirez-en quelques-uns."),
    "not_found": _l("Un des badges choisis n'est pas dans votre portefeuille. Rechargez la page et réessayez."),
    "not_matched": _l("Seuls les badges délivrés à l'une de vos adresses confirmées peuvent être partagés. "
                      "Confirmez d'abord l'adresse de ce badge dans « Mon compte »."),
    "bad_expiry": _l("Choisissez une durée de validité pour ce lien."),
}
EXPIRY_LABELS = [
    ("7j", _l("7 jours")),
    ("30j", _l("30 jours")),
    ("6m", _l("6 mois")),
    ("jamais", _l("Sans limite (jusqu'à ce que je le désactive)")),
]
KIND_LABELS = {"badge": _l("Un badge"), "collection": _l("Une sélection de badges"),
               "evidence": _l("Preuves d'une demande de badge régional")}
STATE_LABELS = {"active": (_l("Actif"), "ok"), "revoked": (_l("Désactivé"), "err"), "expired": (_l("Expiré"), "warn")}
PENDING = "share_token"  # session key: the token of the share just made, shown once


def _user():
    return current_user._get_current_object()


def _shareable(user) -> list[Badge]:
    return list(get_session().scalars(select(Badge).where(Badge.owner_id == user.id, Badge.matched.is_(True))
                                      .order_by(Badge.issued_on.desc(), Badge.id.desc())))


@bp.route("/")
def index():
    shares = sharing.list_shares(get_session(), _user())
    return render_template("shares/index.html", shares=shares, state_of=sharing.state_of,
                           state_labels=STATE_LABELS, kind_labels=KIND_LABELS)


def _form(selected: list[int], label: str = "", expiry: str = "30j", error: str | None = None, status: int = 200):
    return render_template("shares/new.html", badges=_shareable(_user()), selected=selected, label=label,
                           expiry=expiry, expiry_labels=EXPIRY_LABELS, error=error), status


def _ids(values: list[str]) -> list[int]:
    return [int(v) for v in values if v.isdigit()][: sharing.MAX_BADGES + 1]


@bp.route("/nouveau", methods=["GET", "POST"])
def new():
    if request.method == "GET":
        selected, label = _ids(request.args.getlist("badge")), ""
        source = request.args.get("depuis", "")
        if source.isdigit():
            share = sharing.get_owned_share(get_session(), _user(), int(source))
            if share is None:
                abort(404)
            selected, label = [item.badge_id for item in share.items], share.label
        return _form(selected, label)
    selected = _ids(request.form.getlist("badge"))
    label = request.form.get("label", "")[: sharing.MAX_LABEL]
    expiry = request.form.get("expiry", "")
    if expiry not in sharing.EXPIRY_CHOICES:
        return _form(selected, label, expiry, str(ERRORS["bad_expiry"]), 400)
    try:
        share, token = sharing.create_share(get_session(), _user(), selected,
                                            kind="badge" if len(selected) == 1 else "collection",
                                            label=label, expires_in=sharing.EXPIRY_CHOICES[expiry])
    except sharing.SharingError as err:
        message = ERRORS.get(err.code, _("Ce lien n'a pas pu être créé. Réessayez."))
        return _form(selected, label, expiry, str(message), 400)
    session[PENDING] = {"id": share.id, "token": token}
    return redirect(url_for("shares.created", share_id=share.id))


@bp.route("/<int:share_id>/lien")
def created(share_id: int):
    share = sharing.get_owned_share(get_session(), _user(), share_id)
    if share is None:
        abort(404)
    pending = session.get(PENDING) or {}
    token = pending.get("token") if pending.get("id") == share.id else None
    if token:
        session.pop(PENDING, None)
    links = []
    url = sharing.public_url(token) if token else None
    if token:
        for item in share.items:
            cert_url = url if share.kind == "badge" else f"{url}/badges/{item.position}"
            links.append({"badge": item.badge, "linkedin": sharing.linkedin_url(item.badge, cert_url)})
    return render_template("shares/created.html", share=share, url=url, links=links,
                           qr_svg=sharing.qr_svg_data_uri(url) if url else None,
                           qr_png=sharing.qr_png_data_uri(url) if url else None,
                           state=sharing.state_of(share))


@bp.route("/<int:share_id>/desactiver", methods=["POST"])
def revoke(share_id: int):
    if not sharing.revoke_share(get_session(), _user(), share_id):
        abort(404)
    flash(_("Le lien est désactivé : la page ne s'affiche plus pour personne."), "success")
    return redirect(url_for("shares.index"))
