"""The Badge Connect 2.1 provider API under `/ims/ob/v2p1` (the manifest's apiBase): assertions
(read, paged; push) and the learner's profile. Public and CSRF-exempt (machine API with Bearer
tokens: views/host_common.py). Every answer carries the 2.1 `status` object (host/badge_connect.py).
"""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlencode

from flask import Blueprint, current_app, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..app.extensions import csrf, limiter
from ..partners.host import badge_connect as bc
from ..partners.host import pushes
from ..partners.host.common import SCOPE_ASSERTION_CREATE, SCOPE_ASSERTION_READ, SCOPE_PROFILE_READ, digest
from .helpers import request_session
from .host_common import answer, bearer, http, limit_body, refusal_text, register_errors

bp = Blueprint("host_bc", __name__, url_prefix=bc.API_PATH)
bp.before_request(limit_body)

BAD_INPUT = {
    "too_large": _l("La demande est trop volumineuse."),
    "not_json": _l("Le corps de la demande doit être un objet JSON."),
    "no_assertion": _l("Donnez « assertion » (le badge en JSON) ou « signedAssertion » (JWS)."),
}


def _status(code: int, text: str, error: str | None = None, headers: dict | None = None, **extra):
    return answer({**bc.status(code, text, error), **extra}, code, headers)


def _token(scope: str):
    token = bearer(scope)
    if not isinstance(token, str):
        return token, None
    if token == "insufficient_scope":
        return None, _status(401, "PERMISSION_DENIED", _("Ce service n'a pas reçu cette autorisation."),
                             {"WWW-Authenticate": 'Bearer error="insufficient_scope"'})
    return None, _status(401, "UNAUTHENTICATED", _("Jeton absent, expiré ou retiré : reconnectez ce service."),
                         {"WWW-Authenticate": 'Bearer error="invalid_token"'})


def _token_key() -> str:
    return "host-push:" + digest(request.headers.get("Authorization", ""))


def _since(value: str | None) -> datetime | None | str:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return "bad"
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@bp.route("/assertions")
def list_assertions():
    token, refused = _token(SCOPE_ASSERTION_READ)
    if refused is not None:
        return refused
    paging, since = bc.page_params(request.args.get("limit"), request.args.get("offset")), \
        _since(request.args.get("since"))
    if paging is None or since == "bad":
        return _status(400, "REQUEST_VALIDATION_ERROR", _("« limit », « offset » ou « since » est incorrect."))
    session = request_session()
    page = bc.list_assertions(session, bc.owner(session, token), *paging, since=since)
    return _status(200, "OK", assertions=page.assertions, signedAssertions=page.signed,
                   headers={"X-Total-Count": str(page.total), **_links(page)})


def _links(page: bc.Page) -> dict:
    """RFC 8288 Link header: first and last always, next while more remain, prev past the start."""
    base = current_app.config["BASE_URL"] + url_for("host_bc.list_assertions")
    extra = {key: request.args[key] for key in ("since",) if request.args.get(key)}

    def at(offset: int) -> str:
        return f"<{base}?{urlencode({**extra, 'limit': page.limit, 'offset': offset})}>"

    last = max(0, (page.total - 1) // page.limit * page.limit)
    links = [f'{at(0)}; rel="first"', f'{at(last)}; rel="last"']
    if page.offset + page.limit < page.total:
        links.append(f'{at(page.offset + page.limit)}; rel="next"')
    if page.offset > 0:
        links.append(f'{at(max(0, page.offset - page.limit))}; rel="prev"')
    return {"Link": ", ".join(links)}


@bp.route("/assertions", methods=["POST"])
@csrf.exempt
@limiter.limit("120 per minute;2000 per day", key_func=_token_key)
def post_assertion():
    token, refused = _token(SCOPE_ASSERTION_CREATE)
    if refused is not None:
        return refused
    payload, problem = bc.post_payload(request.get_data(cache=False))
    if problem is not None:
        return _status(400, "REQUEST_VALIDATION_ERROR", str(BAD_INPUT[problem]))
    pushed = pushes.push(request_session(), token, payload, http(), "badge_connect")
    if pushed.outcome == "refused":
        text = "RECIPIENT_PROFILE_MISMATCH" if pushed.item.code == "recipient_elsewhere" else "INVALID_BADGE"
        return _status(400, text, refusal_text(pushed.item))
    return _status(200, "OK")  # a status and nothing else: Moodle reads status.statusCode


@bp.route("/profile")
def profile():
    token, refused = _token(SCOPE_PROFILE_READ)
    if refused is not None:
        return refused
    session = request_session()
    return _status(200, "OK", profile=bc.profile(session, bc.owner(session, token)))


STATUS_TEXTS = {400: "BAD_REQUEST", 404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED", 413: "REQUEST_VALIDATION_ERROR",
                429: "BAD_REQUEST", 500: "BAD_REQUEST"}
register_errors(bp, lambda status, text, headers: _status(status, STATUS_TEXTS[status], text, headers))
