"""Public share pages (`/p/<token>`): routes added to the `public` blueprint (no login: employers
open them once, with no account; the unguessable token is the only key — SECURITY.md T51–T53).

Every response here says `Cache-Control: private, no-store`, `X-Robots-Tag: noindex` and
`Referrer-Policy: no-referrer` (the token must not leak to issuer sites). Pages are server-rendered
and work without JavaScript; they show badges by their position in the share, never by internal id.
"""

from __future__ import annotations

import atexit
import hashlib
import io
import json
import secrets
from collections import OrderedDict
from typing import TYPE_CHECKING

from flask import (
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    send_file,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_limiter.util import get_remote_address
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from ..app.extensions import limiter
from ..openbadges.messages import render as render_check
from ..openbadges.model import Check
from ..services import badges as badge_service
from ..services import public_shares as shared
from ..services import share_images, sharing
from ..text.formatting import format_date, readable_check
from ..text.rendering import verified_origin
from .helpers import or_404, request_session, session_factory
from .helpers import request_lang as _lang
from .public import bp
from .status import status_label

if TYPE_CHECKING:  # annotations only: the view reads badges and shares through services.sharing
    from ..models import Badge, Share

# Unknown tokens count against a per-address budget (guessing, T51); valid pages never do.
guess_limit = limiter.shared_limit("60 per minute", scope="share-guess",
                                   deduct_when=lambda response: response.status_code == 404)


def _per_share_key() -> str:
    token = (request.view_args or {}).get("token", "")
    return get_remote_address() + "|" + hashlib.sha256(token.encode()).hexdigest()[:16]


@bp.after_request
def _share_headers(response):
    if (request.endpoint or "").startswith("public.share_"):
        response.headers["Cache-Control"] = "private, no-store"
        response.headers["X-Robots-Tag"] = "noindex, nofollow"
        response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _active_share(token: str) -> Share:
    found = shared.lookup(request_session(), token)
    if found.state == "active":
        return found.share
    if found.state == "revoked" and found.share.kind == "evidence":
        abort(make_response(render_template("public_share/withdrawn.html"), 410))
    abort(404)


def _badge_at(share: Share, position: int) -> Badge:
    badge = shared.shared_badge(request_session(), share, position)
    if badge is None:
        abort(404)
    return badge


def _issuer_line(badge: Badge, issuer_url: str | None = None) -> str:
    """« Name (origin) »: the origin is where the badge was checked (its authoritative issuer id),
    never the website the issuer declares about itself (`issuer_url`, shown only as a link)."""
    where = verified_origin(badge)
    name = badge.issuer_name or where or _("émetteur inconnu")
    return f"{name} ({where})" if where and where != name else name


def _verdict_line(badge: Badge, holder: str, issuer: str, reason: str | None) -> str:
    """The one-line answer an employer reads first."""
    issued = format_date(badge.issued_on) or None
    until = format_date(badge.expires) or None
    if badge.status == "valid":
        parts = [_("Badge authentique"), _("délivré par %(issuer)s à %(name)s", issuer=issuer, name=holder)]
        if issued:
            parts[-1] += " " + _("le %(date)s", date=issued)
        parts.append(_("valide jusqu'au %(date)s", date=until) if until else _("sans date de fin de validité"))
        return " · ".join(parts)
    if badge.status in ("revoked", "suspended"):
        text = _("Badge révoqué par l'émetteur") if badge.status == "revoked" else _("Badge suspendu par l'émetteur")
        return text + (" · " + _("motif : %(reason)s", reason=reason) if reason else "")
    if badge.status == "expired":
        return _("Badge expiré le %(date)s", date=until) if until else _("Badge expiré")
    if badge.status == "not_yet_valid":
        return _("Badge pas encore valable")
    if badge.status == "invalid":
        return _("Badge non authentique : sa vérification a échoué")
    return _("Authenticité non confirmée pour l'instant : la vérification n'a pas pu aboutir")


def _badge_view(share: Share, position: int, badge: Badge, holder: str) -> dict:
    verdict = json.loads(badge.verdict or "{}")
    details = json.loads(badge.details or "{}")
    lang = _lang()
    checks, reason = [], None
    for raw in verdict.get("checks") or ():
        check = Check.from_dict(readable_check(raw))
        if check.id == "revocation" and isinstance(check.params.get("revocationReason"), str):
            reason = check.params["revocationReason"]
        checks.append({"ok": check.ok, "level": check.level.value, "message": render_check(check, lang)})
    issuer_url = (verdict.get("issuer") or {}).get("url") or details.get("issuer_url")
    issuer = _issuer_line(badge, issuer_url)
    hashed = shared.identity_is_hashed(badge)
    return {
        "position": position, "badge": badge, "verdict": verdict, "details": details, "checks": checks,
        "issuer": issuer, "issuer_url": issuer_url, "line": _verdict_line(badge, holder, issuer, reason),
        "greyed": badge.status != "valid",
        "hosted_url": shared.hosted_assertion_url(badge),
        "has_original": hashed and bool(badge.original_file_type or badge.image_type),
        "has_json": hashed and badge.version == "3.0" and badge.payload_format == "json",
        "has_email": shared.has_email_identity(badge),
    }


def _page_title(share: Share, holder: str) -> str:
    if share.kind == "evidence":
        if share.label:
            return _("Preuves pour la demande du badge régional « %(name)s »", name=share.label)
        return _("Preuves pour une demande de badge régional")
    return _("Badges de %(name)s", name=holder)


# Rendered pages for visitors with no account, keyed by everything they show (the badge's
# `checked_at` changes with every verification). The visitor's own CSRF token is put in on the way
# out: the cached copy holds a per-process random slot instead.
_PAGES: OrderedDict[tuple, str] = OrderedDict()
_PAGES_MAX = 512
_SLOT = "csrf-slot-" + secrets.token_hex(16)


def _page(key: tuple, template: str, **context) -> str:
    cacheable = not current_user.is_authenticated and not session.get("_flashes")
    if not cacheable:
        return render_template(template, **context)
    key = (template, _lang(), request.full_path, *key)
    html = _PAGES.get(key)
    if html is None:
        html = render_template(template, csrf_token=lambda: _SLOT, **context)
        _PAGES[key] = html
        while len(_PAGES) > _PAGES_MAX:
            _PAGES.popitem(last=False)
    return html.replace(_SLOT, generate_csrf())


def _render_badge(token: str, share: Share, position: int, answer: bool | None = None):
    found = shared.shared_badge_and_holder(request_session(), share, position)
    if found is None:
        abort(404)
    badge, holder = found
    context = {"token": token, "share": share, "holder": holder, "answer": answer, "single": share.kind == "badge",
               "title": _page_title(share, holder), "share_url": sharing.public_url(token),
               "preview_url": sharing.public_url(token) + "/apercu.png"}
    if answer is not None:  # a recipient check: never cached
        return render_template("public_share/badge.html", item=_badge_view(share, position, badge, holder),
                               **context)
    key = (share.id, share.kind, share.label, position, badge.id, badge.status, badge.checked_at, holder)
    return _page(key, "public_share/badge.html", item=_LazyItem(share, position, badge, holder), **context)


class _LazyItem:
    """The badge's view data, built only when a template reads it (never on a cache hit)."""

    def __init__(self, share: Share, position: int, badge: Badge, holder: str) -> None:
        self._args = (share, position, badge, holder)
        self._data: dict | None = None

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        if self._data is None:
            self._data = _badge_view(*self._args)
        try:
            return self._data[name]
        except KeyError:
            raise AttributeError(name) from None


def _count_view(share: Share) -> None:
    """Count a visit (not the owner's own); written by the per-process ViewCounter."""
    if current_user.is_authenticated and current_user.id == share.owner_id:
        return
    app = current_app._get_current_object()
    counter = app.extensions.get("wallet_share_views")
    if counter is None:
        interval = float(app.config.get("SHARE_VIEW_FLUSH_SECONDS", 2))
        counter = app.extensions.setdefault("wallet_share_views",
                                            shared.ViewCounter(session_factory(app), interval))
        atexit.register(counter.flush)
    counter.add(share.id)


@bp.route("/p/<token>")
@guess_limit
def share_page(token: str):
    share = _active_share(token)
    session_ = request_session()
    if share.kind == "badge":
        page = _render_badge(token, share, 1)
        _count_view(share)
        return page
    items, holder = shared.shared_badges_and_holder(session_, share)
    if not items:
        abort(404)
    key = (share.id, share.kind, share.label, holder,
           tuple((p, b.id, b.status, b.checked_at, b.name, b.issuer_name) for p, b in items))
    cards = [{"position": p, "badge": b, "issuer": _issuer_line(b, None)} for p, b in items]
    page = _page(key, "public_share/share.html", token=token, share=share, cards=cards, holder=holder,
                 status_label=status_label, title=_page_title(share, holder), share_url=sharing.public_url(token),
                 preview_url=sharing.public_url(token) + "/apercu.png")
    _count_view(share)
    return page


@bp.route("/p/<token>/badges/<int:n>")
@guess_limit
def share_badge(token: str, n: int):
    share = _active_share(token)
    if share.kind == "badge":
        return redirect(url_for("public.share_page", token=token))
    return _render_badge(token, share, n)


@bp.route("/p/<token>/badges/<int:n>/verifier", methods=["POST"])
@guess_limit
@limiter.limit("5 per minute", key_func=_per_share_key)
def share_reverify(token: str, n: int):
    share = _active_share(token)
    badge = _badge_at(share, n)
    badge_service.reverify(request_session(), badge, current_app.extensions["wallet_http"])
    flash(_("Vérification refaite à l'instant."), "info")
    if share.kind == "badge":
        return redirect(url_for("public.share_page", token=token))
    return redirect(url_for("public.share_badge", token=token, n=n))


@bp.route("/p/<token>/badges/<int:n>/destinataire", methods=["POST"])
@guess_limit
@limiter.limit("10 per hour", key_func=_per_share_key)
def share_recipient(token: str, n: int):
    share = _active_share(token)
    answer = shared.check_recipient(_badge_at(share, n), request.form.get("email", "")[:320])
    return _render_badge(token, share, n, answer=answer)


def _file(data: bytes, mime: str, name: str | None = None):
    response = send_file(io.BytesIO(data), mimetype=mime, as_attachment=name is not None, download_name=name)
    # An SVG may hold scripts: never let it run on our origin (SECURITY.md T08).
    response.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'; sandbox"
    return response


@bp.route("/p/<token>/badges/<int:n>/image")
@guess_limit
def share_image(token: str, n: int):
    shown = shared.public_image(_badge_at(_active_share(token), n))
    if shown is None:
        return redirect(url_for("static", filename="badge-placeholder.svg"))
    return _file(*shown)


@bp.route("/p/<token>/badges/<int:n>/original")
@guess_limit
def share_original(token: str, n: int):
    data, mime, ext = or_404(shared.public_original(request_session(), _badge_at(_active_share(token), n)))
    return _file(data, mime, f"badge-{n}.{ext}")


@bp.route("/p/<token>/badges/<int:n>/credential.json")
@guess_limit
def share_credential(token: str, n: int):
    data = or_404(shared.public_credential_json(request_session(), _badge_at(_active_share(token), n)))
    return _file(data, "application/json", f"badge-{n}.json")


@bp.route("/p/<token>/badges/<int:n>/qr-code.png")
@guess_limit
def share_qr(token: str, n: int):
    """The printed page's QR code to its live check. The page loads it lazily from a print-only
    block, so browsers fetch it when printing, not on every visit (encoding one costs a first view
    more than the rest of the page)."""
    share = _active_share(token)
    _badge_at(share, n)
    url = sharing.public_url(token) if share.kind == "badge" else sharing.public_url(token) + f"/badges/{n}"
    return _file(share_images.qr_png(url), "image/png")


@bp.route("/p/<token>/apercu.png")
@guess_limit
def share_preview(token: str):
    share = _active_share(token)
    items, holder = shared.shared_badges_and_holder(request_session(), share)
    if not items:
        abort(404)
    badge = items[0][1]
    verdict = json.loads(badge.verdict or "{}")
    issuer = _issuer_line(badge, (verdict.get("issuer") or {}).get("url"))
    status = _("Badge authentique") if badge.status == "valid" else _verdict_line(badge, "", issuer, None)
    if share.kind != "badge":
        status = _page_title(share, holder)
    return _file(share_images.preview_png(badge, issuer, status), "image/png")
