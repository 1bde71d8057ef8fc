"""The builtin Region issuer's public documents (`/issuers/…`): routes added to the `public`
blueprint (verifiers fetch them with no account).

    /issuers/region                       issuer Profile with its Multikey verification methods
    /issuers/region/status/1              signed BitstringStatusListCredential (revocations)
    /issuers/region/badges/<key>          the regional badge as an OB 3.0 Achievement
    /issuers/region/badges/<key>/image    its image (sandboxed)

They are served whatever WALLET_ISSUER says, as long as the issuer keys exist, so credentials the
builtin issuer signed stay verifiable. In production with the builtin issuer, the app refuses to
start without its key file (checked when this blueprint is registered).
"""

from __future__ import annotations

import json

from flask import Response, abort, current_app, send_from_directory

from ..badge_claim.issuers import builtin_for
from ..badge_claim.issuers.builtin_documents import STATUS_LIST_NUMBER, achievement_document
from ..keys.issuer_keys import IssuerKeyError, keys_for
from ..services import referentials
from .helpers import or_404, request_session
from .public import bp

SANDBOX_CSP = "default-src 'none'; style-src 'unsafe-inline'; sandbox"


@bp.record_once
def _require_issuer_keys(state) -> None:
    """Fail closed at startup: production + builtin issuer (or a configured key file) → the keys
    must load; a missing or broken file raises IssuerKeyError (a ConfigError)."""
    config = state.app.config
    if config.get("ENV") == "production" and (config.get("ISSUER") == "builtin" or config.get("ISSUER_KEY_FILE")):
        keys_for(state.app)


def _document(doc: dict, max_age: int, media_type: str = "application/ld+json") -> Response:
    response = Response(json.dumps(doc, ensure_ascii=False, indent=1), mimetype=media_type)
    response.headers["Cache-Control"] = f"public, max-age={max_age}"
    response.headers["Access-Control-Allow-Origin"] = "*"  # public data, read by verifiers anywhere
    return response


def _issuer():
    issuer = builtin_for(current_app)
    try:
        issuer.keys  # noqa: B018 - production without a key file: no builtin issuer to show
    except IssuerKeyError:
        abort(404)
    return issuer


@bp.route("/issuers/region")
def issuer_profile():
    return _document(_issuer().profile_document(), max_age=300)


@bp.route("/issuers/region/status/<int:number>")
def issuer_status_list(number: int):
    if number != STATUS_LIST_NUMBER:
        abort(404)
    return _document(_issuer().status_list_document(), max_age=60)


def _regional_badge(key: str):
    referential = referentials.current(request_session())
    return or_404(next((b for b in referential.badges if b.key == key), None))


@bp.route("/issuers/region/badges/<key>")
def issuer_achievement(key: str):
    badge = _regional_badge(key)
    doc = achievement_document(current_app.config["BASE_URL"], achievement_id=badge.id, key=badge.key,
                               name=badge.name.fr, description=badge.description.fr,
                               criteria=badge.criteria.fr, has_image=bool(badge.image))
    return _document(doc, max_age=300)


@bp.route("/issuers/region/badges/<key>/image")
def issuer_achievement_image(key: str):
    badge = _regional_badge(key)
    folder = referentials.image_folder(badge.image) if badge.image else None
    if folder is None:
        abort(404)
    response = send_from_directory(folder, badge.image, max_age=86400)
    response.headers["Content-Security-Policy"] = SANDBOX_CSP
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response
