"""Badgr's v2 backpack API, as Moodle 4.x uses it in its "Open Badges v2.0" mode: `/v2/backpack/
collections` and `/v2/backpack/import`, with a Bearer token from an app-password login at `/o/token`.
Public and CSRF-exempt (machine API: views/host_common.py). Every answer is the Badgr envelope
(wallet/partners/host/badgr_v2.py), errors included.

The issuer side of Badgr's API (`POST /v2/issuers`, badge classes, assertions) is refused: this
wallet keeps learners' badges, it does not issue for partners. Moodle only calls those with a
SITE backpack account; a learner's push needs none of them.
"""

from __future__ import annotations

from flask import Blueprint, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..app.extensions import csrf, limiter
from ..partners.host import badgr_v2, pushes
from ..partners.host.common import SCOPE_BADGR_BACKPACK, digest
from .helpers import request_session
from .host_common import answer, bearer, http, limit_body, refusal_text, register_errors

bp = Blueprint("host_badgr", __name__, url_prefix="/v2")
bp.before_request(limit_body)

BAD_INPUT = {
    "too_large": _l("La demande est trop volumineuse."),
    "not_json": _l("Le corps de la demande doit être un objet JSON."),
    "one_of": _l("Donnez exactement un de « url » ou « assertion »."),
    "image_unsupported": _l("Envoyez l'adresse du badge (« url ») plutôt que son image."),
    "bad_url": _l("« url » doit être une adresse http(s) de badge."),
}


# Why a push was refused → Badgr's validation error name. A URL that could not be had (blocked,
# unreachable, too slow, server error: services/badges.why_nothing_was_read) is unverifiable; one
# that answered "no such badge" (404, 410, not a badge) or a badge proved wrong is invalid.
REFUSALS = {"unverifiable": "UNVERIFIABLE_BADGE", "recipient_elsewhere": "RECIPIENT_MISMATCH",
            **dict.fromkeys(("url_blocked", "url_unreachable", "url_timeout", "url_server_error",
                             "url_too_large", "url_redirects"), "UNVERIFIABLE_BADGE")}


def _token_key() -> str:
    return "host-push:" + digest(request.headers.get("Authorization", ""))


def _unauthenticated(code: str):
    headers = {"WWW-Authenticate": 'Bearer error="invalid_token"' if code != "missing_authorization" else "Bearer"}
    return answer(badgr_v2.envelope([], success=False, description=_(
        "Connexion refusée ou expirée : reconnectez le sac à badges avec un mot de passe d'application.")),
        401, headers)


@bp.route("/backpack/collections")
def collections():
    token = bearer(SCOPE_BADGR_BACKPACK)
    if isinstance(token, str):
        return _unauthenticated(token)
    return answer(badgr_v2.envelope([]))  # no collections: the wallet shares through its own links


@bp.route("/backpack/import", methods=["POST"])
@csrf.exempt
@limiter.limit("120 per minute;2000 per day", key_func=_token_key)
def import_badge():
    token = bearer(SCOPE_BADGR_BACKPACK)
    if isinstance(token, str):
        return _unauthenticated(token)
    payload, problem = badgr_v2.import_payload(request.get_data(cache=False))
    if problem is not None:
        return answer(badgr_v2.failure(_("Demande incorrecte."), detail=str(BAD_INPUT[problem])), 400)
    pushed = pushes.push(request_session(), token, payload, http(), "badgr_v2")
    if pushed.outcome == "refused":
        name = REFUSALS.get(pushed.item.code or "", "INVALID_BADGE")
        return answer(badgr_v2.failure(_("Badge refusé."), name=name, detail=refusal_text(pushed.item)), 400)
    if pushed.outcome == "duplicate":
        text = _("Ce badge est déjà dans votre portefeuille.")
        return answer(badgr_v2.failure(text, name=badgr_v2.DUPLICATE, detail=text), 400)
    description = "ok" if pushed.outcome == "imported" else _(
        "Badge ajouté, pas encore à vous : il est adressé à une adresse que vous n'avez pas confirmée "
        "dans votre portefeuille.")
    return answer(badgr_v2.envelope([badgr_v2.assertion_entity(pushed.badge)], description=description), 201)


@bp.route("/issuers", methods=["POST"])
@bp.route("/issuers/<path:rest>", methods=["POST", "PUT"])
@bp.route("/badgeclasses/<path:rest>", methods=["POST", "PUT"])
@bp.route("/assertions/<path:rest>", methods=["POST", "PUT"])
@csrf.exempt
def issuing_refused(rest: str = ""):
    return answer(badgr_v2.failure(_(
        "Ce portefeuille n'émet pas de badges : il reçoit ceux des apprenants. Envoyez le badge par "
        "POST /v2/backpack/import avec son adresse (« url »)."), name="NOT_AN_ISSUER"), 403)


register_errors(bp, lambda status, text, headers: answer(badgr_v2.failure(text), status, headers))
