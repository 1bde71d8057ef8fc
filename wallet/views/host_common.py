"""What the host's machine-API views share: JSON answers, the Bearer check, refusal messages.

These endpoints are called by partner systems, not browsers: they authenticate with Bearer tokens,
HTTP Basic or an app password, never with the session cookie, so they are exempt from CSRF (each
view says so with `csrf.exempt`; tests/web/test_policies.py lists them) and public for the login
check (wallet/app/security.py).
"""

from __future__ import annotations

import json

from authlib.oauth2 import OAuth2Error
from flask import current_app, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..app.extensions import retry_after_seconds
from .doctor import diagnose
from .helpers import request_lang as _lang
from .helpers import request_session

API_MAX_BODY = 512 * 1024  # a pushed assertion is a few KiB; a 50 MB body is refused before parsing


def limit_body() -> None:
    """Blueprint before_request: cap the request body (413 before anything reads it)."""
    request.max_content_length = API_MAX_BODY


def answer(body: dict, status: int = 200, headers: dict | None = None):
    response = current_app.response_class(json.dumps(body, ensure_ascii=False), status=status,
                                          mimetype="application/json")
    response.headers["Cache-Control"] = "no-store"
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


ERROR_TEXTS = {
    400: _l("Demande incorrecte."),
    404: _l("Adresse inconnue."),
    405: _l("Méthode non permise."),
    413: _l("La demande est trop volumineuse."),
    429: _l("Trop de demandes : attendez une minute."),
    500: _l("Erreur du portefeuille : réessayez plus tard."),
}


def retry_after(err) -> dict:
    retry = retry_after_seconds(err)
    return {"Retry-After": str(retry)} if retry else {}


def register_errors(bp, respond) -> None:
    """HTTP errors of a machine-API blueprint in its own protocol's envelope:
    `respond(status, description, headers)` builds the answer (Retry-After kept on 429)."""
    for status, text in ERROR_TEXTS.items():
        def handler(err, status=status, text=text):
            return respond(status, str(text), retry_after(err) if status == 429 else {})

        bp.register_error_handler(status, handler)


def http():
    return current_app.extensions["wallet_http"]


def oauth_server():
    return current_app.extensions["wallet_host_oauth"]


def bearer(scope: str):
    """The live token of the request if it carries `scope`, else the OAuth error code
    (`missing_authorization`, `invalid_token`, `insufficient_scope`)."""
    protector = current_app.extensions["wallet_host_protector"]
    try:
        token = protector.acquire_token([scope])
    except OAuth2Error as error:
        request_session().rollback()
        return error.error or "invalid_token"
    return token.row


def refusal_text(item) -> str:
    """Why a pushed badge was refused, in the reader's words (the verdict's first failing check,
    or the import doctor's diagnosis of unreadable input)."""
    if item.code == "recipient_elsewhere":
        return _("Ce badge est au nom d'une personne qui a déjà son propre portefeuille : il n'a pas été "
                 "ajouté à celui-ci.")
    if item.verdict is not None:
        checks = item.verdict.to_dict(_lang())["checks"]
        failed = [c for c in checks if not c["ok"] and c["level"] == "error"]
        reason = failed[0]["message"] if failed else ""
        if item.code == "unverifiable":
            return _("Ce badge n'a pas pu être vérifié, il n'a pas été ajouté. Réessayez plus tard. %(reason)s",
                     reason=reason).strip()
        return _("Ce badge n'est pas authentique, il n'a pas été ajouté. %(reason)s", reason=reason).strip()
    problem, advice = diagnose(item.code, item.params)
    return f"{problem} {advice}"
