"""The host's OAuth endpoints and the Badge Connect manifest: `/o/token`, `/o/register`, `/o/revoke`,
`/.well-known/badgeconnect.json`. Public (partner systems have no session) and CSRF-exempt (they
authenticate with HTTP Basic, client credentials or an app password); see views/host_common.py.

`/o/token` serves both of Moodle's modes at the host ROOT, as Moodle's "OB 2.0" mode demands
(it builds `<scheme>://<host>/o/token`, dropping the API URL's path and port):
- no `grant_type` (or `password`) with `username`/`password`: an app password login (Badgr style);
- `refresh_token` without client credentials: the refresh of such a login;
- anything else: the Badge Connect authorization server (authlib).
"""

from __future__ import annotations

from flask import Blueprint, current_app, request, url_for
from flask_babel import gettext as _
from flask_limiter.util import get_remote_address

from ..app.extensions import csrf, limiter
from ..partners.host import app_passwords, badge_connect
from ..partners.host.app_passwords import AppPasswordError
from ..partners.host.common import digest, now
from .helpers import request_session
from .host_common import answer, limit_body, oauth_server, register_errors

bp = Blueprint("host_oauth", __name__)
bp.before_request(limit_body)
MAX_REGISTRATION = 64 * 1024


def _oauth_error(error: str, description: str, status: int = 400, headers: dict | None = None):
    return answer({"error": error, "error_description": description}, status,
                  {"Pragma": "no-cache", **(headers or {})})


def _login_description() -> str:
    return _("Adresse ou mot de passe d'application incorrect. Utilisez l'adresse confirmée de votre "
             "portefeuille et un mot de passe d'application créé pour ce site dans votre portefeuille "
             "(Mon compte → Applications), jamais votre mot de passe habituel.")


def _is_login() -> bool:
    return (request.form.get("grant_type") or "password") == "password" and "username" in request.form


def _login_key() -> str:
    # Per (account, address): a stranger cannot lock a learner's Moodle out from elsewhere (T61).
    name = (request.form.get("username") or "").strip().lower()[:254]
    return "host-login:" + digest(name) + ":" + get_remote_address()


@bp.route("/.well-known/badgeconnect.json")
def manifest():
    base = current_app.config["BASE_URL"]

    def link(endpoint: str, **values) -> str:
        return base + url_for(endpoint, **values)

    document = badge_connect.manifest(base, name=_("Mon portefeuille de badges"), urls={
        "image": link("static", filename="favicon.svg"),
        "termsOfService": link("public.legal", page="cgu"),
        "privacyPolicy": link("public.legal", page="confidentialite"),
        "registration": link("host_oauth.register"),
        "authorization": link("host_consent.authorize"),
        "token": link("host_oauth.token"),
        "tokenRevocation": link("host_oauth.revoke"),
    })
    response = answer(document)
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


# The caller is a partner's SERVER: every learner of a training centre logs in from its one address,
# so the per-address limit is wide; the per-(account, address) limit is what slows a guesser.
@bp.route("/o/token", methods=["POST"])
@csrf.exempt
@limiter.limit("60 per minute;1000 per hour")
@limiter.limit("5 per minute;30 per hour", key_func=_login_key, exempt_when=lambda: not _is_login())
def token():
    form = request.form
    grant_type = form.get("grant_type") or "password"
    if grant_type == "password":
        try:
            issued = app_passwords.login(request_session(), form.get("username", ""), form.get("password", ""), now())
        except AppPasswordError:
            return _oauth_error("invalid_grant", _login_description())
        return answer(issued.response(), headers={"Pragma": "no-cache"})
    if grant_type == "refresh_token" and not request.authorization and "client_id" not in form:
        try:
            issued = app_passwords.refresh(request_session(), form.get("refresh_token", ""), now())
        except AppPasswordError:
            return _oauth_error("invalid_grant", _("Ce jeton n'est plus valable : connectez-vous à nouveau."))
        return answer(issued.response(), headers={"Pragma": "no-cache"})
    return oauth_server().create_token_response()


@bp.route("/o/register", methods=["POST"])
@csrf.exempt
@limiter.limit("10 per minute;30 per hour")
def register():
    if (request.content_length or 0) > MAX_REGISTRATION or not request.is_json \
            or not isinstance(request.get_json(silent=True), dict):
        return _oauth_error("invalid_client_metadata", _("L'inscription attend un objet JSON (RFC 7591)."))
    return oauth_server().create_endpoint_response("client_registration")


@bp.route("/o/revoke", methods=["POST"])
@csrf.exempt
@limiter.limit("30 per minute")
def revoke():
    return oauth_server().create_endpoint_response("revocation")


OAUTH_ERRORS = {400: "invalid_request", 404: "not_found", 405: "invalid_request", 413: "invalid_request",
                429: "slow_down", 500: "server_error"}
register_errors(bp, lambda status, text, headers: _oauth_error(OAUTH_ERRORS[status], text, status, headers))
