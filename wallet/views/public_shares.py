"""Public share pages (`/p/<token>`): routes added to the `public` blueprint (no login: employers
open them once, with no account; the unguessable token is the only key — SECURITY.md T51–T53).

Every response here says `Cache-Control: private, no-store`, `X-Robots-Tag: noindex` and
`Referrer-Policy: no-referrer` (the token must not leak to issuer sites). Pages are server-rendered
and work without JavaScript; they show badges by their position in the share, never by internal id.
"""

from __future__ import annotations

import atexit
import hashlib
import hmac
import io
import json
import time
from pathlib import Path
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
from limits import parse as parse_limit
from markupsafe import escape
from werkzeug.exceptions import TooManyRequests

from ..app.extensions import limiter
from ..openbadges.messages import render as render_check
from ..openbadges.model import Check
from ..services import badges as badge_service
from ..services import public_shares as shared
from ..services import share_images, sharing
from ..text.formatting import format_date, format_datetime, readable_check
from ..text.rendering import verified_origin
from .helpers import current_region, or_404, request_session, session_factory
from .helpers import request_lang as _lang
from .public import bp
from .status import status_label

if TYPE_CHECKING:  # annotations only: the view reads badges and shares through services.sharing
    from ..models import Badge, Share

# Unknown tokens count against a per-address budget (guessing, T51); valid pages never touch the
# limiter's store (a check before each visit cost a Redis round trip on every employer's view).
GUESSES = parse_limit("60 per minute")


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


@bp.after_request
def _count_guess(response):
    """A share page answered 404 spends one of the address's guesses; past the budget, 429 (with
    what is left of the minute) instead. Registered after `_share_headers`, so it runs before it."""
    if response.status_code != 404 or not (request.endpoint or "").startswith("public.share_") \
            or not limiter.enabled:
        return response
    strategy, address = limiter.limiter, get_remote_address()
    try:
        if strategy.hit(GUESSES, "share-guess", address):
            return response
        reset = strategy.get_window_stats(GUESSES, "share-guess", address).reset_time
    except Exception:  # the store is down: the 404 stands, as the limiter's own checks would let it
        current_app.logger.warning("share guess not counted", exc_info=True)
        return response
    refused = TooManyRequests(retry_after=max(1, int(reset - time.time())))
    return current_app.make_response(current_app.handle_http_exception(refused))


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


# Pages for visitors with no account are kept as rendered (PublicPage, one per share, position and
# language): a first view then reads its page with the link, in one statement, and renders
# nothing. The kept html has slots instead of the token (only its hash is stored, T51), of the
# visitor's CSRF token and of the last verification's date; they are filled in on the way out. The
# slots are derived from the SECRET_KEY: a badge's own text cannot name them.
def _slots() -> tuple[str, str, str]:
    app = current_app._get_current_object()
    slots = app.extensions.get("wallet_page_slots")
    if slots is None:
        key = str(app.config["SECRET_KEY"]).encode()
        slots = tuple("slot" + hmac.new(key, name.encode(), "sha256").hexdigest()[:32]
                      for name in ("token", "csrf", "checked"))
        slots = app.extensions.setdefault("wallet_page_slots", slots)
    return slots


def _page_version() -> str:
    """Changes with the templates, the translations, the Region's settings and the public URL."""
    app = current_app._get_current_object()
    version = app.extensions.get("wallet_page_version")
    if version is None:
        digest = hashlib.sha256(repr((current_region(), sharing.public_url(""))).encode())
        root = Path(__file__).resolve().parent.parent
        for path in sorted([*root.glob("templates/**/*.html"), *root.glob("translations/**/*.mo")]):
            digest.update(path.as_posix().encode() + b"\0" + path.read_bytes())
        version = app.extensions.setdefault("wallet_page_version", digest.hexdigest()[:16])
    return version


def _cacheable() -> bool:
    """A page is kept (and served kept) only for a visitor with no account, no message waiting and
    no query string (the language form sends the visitor back to the very URL they opened)."""
    return not current_user.is_authenticated and not session.get("_flashes") and not request.query_string


def _fill(html: str, token: str, checked_at) -> str:
    token_slot, csrf_slot, checked_slot = _slots()
    return (html.replace(token_slot, token).replace(csrf_slot, generate_csrf())
            .replace(checked_slot, str(escape(format_datetime(checked_at)))))


def _serve(token: str, found: shared.Visit, position: int, fingerprint: str, template: str, checked_at,
           build) -> str:
    """The kept page when it still matches `fingerprint`, else `build(token)`'s context rendered
    (and kept, for a visitor with no account)."""
    if not _cacheable():
        return render_template(template, checked_label=format_datetime(checked_at), **build(token))
    if found.page is not None and found.page[0] == fingerprint:
        return _fill(found.page[1], token, checked_at)
    token_slot, csrf_slot, checked_slot = _slots()
    html = render_template(template, csrf_token=lambda: csrf_slot, checked_label=checked_slot, **build(token_slot))
    html = html.replace(token, token_slot)  # the visited URL (the language form's `next`) names it too
    shared.store_page(request_session(), found.share.id, position, _lang(), fingerprint, html)
    return _fill(html, token, checked_at)


def _visit(token: str, position: int | None = None) -> shared.Visit:
    """The visit's one read; 404 unless the link is active (410 for a withdrawn claim's evidence)."""
    found = shared.visit(request_session(), token, _lang(), position)
    if found.state == "active":
        return found
    if found.state == "revoked" and found.share.kind == "evidence":
        abort(make_response(render_template("public_share/withdrawn.html"), 410))
    abort(404)


def _badge_context(token: str, share: Share, position: int, badge: Badge, holder: str,
                   answer: bool | None = None) -> dict:
    return {"token": token, "share": share, "holder": holder, "answer": answer, "single": share.kind == "badge",
            "title": _page_title(share, holder), "share_url": sharing.public_url(token),
            "preview_url": sharing.public_url(token) + "/apercu.png",
            "item": _badge_view(share, position, badge, holder)}


def _render_badge(token: str, found: shared.Visit, position: int):
    badge = or_404(found.badge)
    share, holder = found.share, found.holder
    fingerprint = shared.page_fingerprint(_page_version(), _lang(), share, position, badge, holder)
    return _serve(token, found, position, fingerprint, "public_share/badge.html", badge.checked_at,
                  lambda token: _badge_context(token, share, position, badge, holder))


def _render_collection(token: str, found: shared.Visit):
    share = found.share
    items, holder = shared.shared_badges_and_holder(request_session(), share)
    if not items:
        abort(404)
    fingerprint = shared.cards_fingerprint(_page_version(), _lang(), share, holder, items)

    def build(token: str) -> dict:
        cards = [{"position": p, "badge": b, "issuer": _issuer_line(b, None)} for p, b in items]
        return {"token": token, "share": share, "cards": cards, "holder": holder, "status_label": status_label,
                "title": _page_title(share, holder), "share_url": sharing.public_url(token),
                "preview_url": sharing.public_url(token) + "/apercu.png"}

    return _serve(token, found, 0, fingerprint, "public_share/share.html", None, build)


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


def _link_page(token: str) -> tuple[Share, str]:
    """A link's own page (its badge's, or its collection's) and its share."""
    found = _visit(token)
    if found.share.kind == "badge":
        return found.share, _render_badge(token, found, 1)
    return found.share, _render_collection(token, found)


@bp.route("/p/<token>")
def share_page(token: str):
    share, page = _link_page(token)
    _count_view(share)
    return page


@bp.route("/p/<token>/badges/<int:n>")
def share_badge(token: str, n: int):
    found = _visit(token, n)
    if found.share.kind == "badge":
        return redirect(url_for("public.share_page", token=token))
    return _render_badge(token, found, n)


def prerender(token: str) -> None:
    """Render and keep a new link's own page as an employer will first see it (no account, the
    default language), so that the first view renders nothing. Never the learner's error."""
    app = current_app._get_current_object()
    try:
        with app.app_context(), app.test_request_context(f"/p/{token}"):
            _link_page(token)
    except Exception:  # a page not kept is rendered on its first view instead
        current_app.logger.warning("public page not prerendered", exc_info=True)


@bp.route("/p/<token>/badges/<int:n>/verifier", methods=["POST"])
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
@limiter.limit("10 per hour", key_func=_per_share_key)
def share_recipient(token: str, n: int):
    found = _visit(token, n)
    badge = or_404(found.badge)
    answer = shared.check_recipient(badge, request.form.get("email", "")[:320])
    context = _badge_context(token, found.share, n, badge, found.holder, answer)
    return render_template("public_share/badge.html", checked_label=format_datetime(badge.checked_at), **context)


def _file(data: bytes, mime: str, name: str | None = None):
    response = send_file(io.BytesIO(data), mimetype=mime, as_attachment=name is not None, download_name=name)
    # An SVG may hold scripts: never let it run on our origin (SECURITY.md T08).
    response.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'; sandbox"
    return response


@bp.route("/p/<token>/badges/<int:n>/image")
def share_image(token: str, n: int):
    shown = shared.public_image(_badge_at(_active_share(token), n))
    if shown is None:
        return redirect(url_for("static", filename="badge-placeholder.svg"))
    return _file(*shown)


@bp.route("/p/<token>/badges/<int:n>/original")
def share_original(token: str, n: int):
    data, mime, ext = or_404(shared.public_original(request_session(), _badge_at(_active_share(token), n)))
    return _file(data, mime, f"badge-{n}.{ext}")


@bp.route("/p/<token>/badges/<int:n>/credential.json")
def share_credential(token: str, n: int):
    data = or_404(shared.public_credential_json(request_session(), _badge_at(_active_share(token), n)))
    return _file(data, "application/json", f"badge-{n}.json")


@bp.route("/p/<token>/badges/<int:n>/qr-code.png")
def share_qr(token: str, n: int):
    """The printed page's QR code to its live check. The page loads it lazily from a print-only
    block, so browsers fetch it when printing, not on every visit (encoding one costs a first view
    more than the rest of the page)."""
    share = _active_share(token)
    _badge_at(share, n)
    url = sharing.public_url(token) if share.kind == "badge" else sharing.public_url(token) + f"/badges/{n}"
    return _file(share_images.qr_png(url), "image/png")


@bp.route("/p/<token>/apercu.png")
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
