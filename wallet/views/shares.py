"""Sharing: the learner's share links (one badge or a collection), their QR codes, revocation.

A link's page (`/partages/<id>/lien`) shows it at any time: the token is kept encrypted for its
owner (services/sharing.py `owner_token`); links made before that say they cannot be shown again.
LinkedIn certifications point at a separate permanent link per badge (`linkedin`).
"""

from __future__ import annotations

from urllib.parse import quote

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..services import badges, share_images, sharing
from .helpers import or_404, request_session
from .helpers import signed_in_user as _user
from .public_shares import prerender

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


def _shareable(user) -> list:
    return badges.shareable(request_session(), user)


@bp.route("/")
def index():
    shares = sharing.list_shares(request_session(), _user())
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
            share = sharing.get_owned_share(request_session(), _user(), int(source))
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
        share, token = sharing.create_share(request_session(), _user(), selected,
                                            kind="badge" if len(selected) == 1 else "collection",
                                            label=label, expires_in=sharing.EXPIRY_CHOICES[expiry])
    except sharing.SharingError as err:
        message = ERRORS.get(err.code, _("Ce lien n'a pas pu être créé. Réessayez."))
        return _form(selected, label, expiry, str(message), 400)
    prerender(token)  # the employer's first view then renders nothing
    return redirect(url_for("shares.created", share_id=share.id))


def _owned(share_id: int):
    return or_404(sharing.get_owned_share(request_session(), _user(), share_id))


@bp.route("/<int:share_id>/lien")
def created(share_id: int):
    """The share's own page: its link, QR code, ways to send it and LinkedIn, at any time."""
    share = _owned(share_id)
    state = sharing.state_of(share)
    token = sharing.owner_token(share) if state == "active" else None
    url = sharing.public_url(token) if token else None
    context = {"share": share, "state": state, "url": url, "links": [], "kind_labels": KIND_LABELS,
               "state_labels": STATE_LABELS, "has_token": bool(share.token_enc)}
    if url:
        context.update(qr_svg=share_images.qr_svg_data_uri(url), links=_linkedin_links(share, url),
                       **_send_links(url))
    return render_template("shares/created.html", **context)


def _send_links(url: str) -> dict[str, str]:
    """The texts and addresses for the phone's share sheet, an SMS and an e-mail (no script needed)."""
    name = _user().display_name
    text = _("Mes badges vérifiés : %(url)s", url=url)
    subject = _("Mes badges vérifiés")
    body = _("Bonjour,\n\nVoici le lien vers mes badges, vérifiés :\n%(url)s\n\n%(name)s", url=url, name=name)
    return {"share_text": _("Mes badges vérifiés"), "share_title": subject,
            "sms_href": "sms:?&body=" + quote(text, safe=""),
            "mailto_href": "mailto:?subject=" + quote(subject, safe="") + "&body=" + quote(body, safe="")}


def _linkedin_links(share, url: str) -> list[dict]:
    """Per badge: its LinkedIn link when it has a permanent one (this share, if it is that link)."""
    if share.kind == "evidence":
        return []
    user = _user()
    permanent = sharing.linkedin_shares(request_session(), user, [item.badge_id for item in share.items])
    links = []
    for item in share.items:
        own = share if share.purpose == "linkedin" else permanent.get(item.badge_id)
        own_token = token_url = None
        if own is not None:
            own_token = sharing.owner_token(own)
            token_url = sharing.public_url(own_token) if own_token else None
        links.append({"badge": item.badge, "permanent": own if token_url else None,
                      "linkedin": sharing.linkedin_url(item.badge, token_url) if token_url else None})
    return links


@bp.route("/<int:share_id>/qr-code.png")
def qr_png(share_id: int):
    share = _owned(share_id)
    token = sharing.owner_token(share) if sharing.state_of(share) == "active" else None
    if token is None:
        abort(404)
    response = current_app.response_class(share_images.qr_png(sharing.public_url(token)), mimetype="image/png")
    response.headers["Content-Disposition"] = 'attachment; filename="qr-code-badges.png"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/linkedin/<int:badge_id>", methods=["POST"])
def linkedin(badge_id: int):
    """Make (or reuse) the badge's permanent link and show it, with LinkedIn's "add a certification"
    filled in with it. (Not a redirect to LinkedIn: the CSP's form-action forbids leaving from a form.)"""
    try:
        share = sharing.linkedin_share(request_session(), _user(), badge_id)
    except sharing.SharingError:
        abort(404)
    flash(_("Le lien permanent de ce badge est prêt : touchez « Ajouter à mon profil LinkedIn »."), "success")
    return redirect(url_for("shares.created", share_id=share.id, _anchor="linkedin"), code=303)


@bp.route("/<int:share_id>/desactiver", methods=["POST"])
def revoke(share_id: int):
    if not sharing.revoke_share(request_session(), _user(), share_id):
        abort(404)
    flash(_("Le lien est désactivé : la page ne s'affiche plus pour personne."), "success")
    return redirect(url_for("shares.index"))
