"""The learner's consent when a partner system (Badge Connect 2.1) asks to push badges in:
`/o/authorize`. Login required (the login page brings the learner back here); the decision is a
form with a CSRF token like every other.

A request that names an unknown client or a redirect URI the client did not register is answered
here with an error page, never by a redirect (RFC 6749 §4.1.2.1). The page's CSP lets the form's
answer redirect to the client's registered callback only.
"""

from __future__ import annotations

from authlib.oauth2 import OAuth2Error
from flask import Blueprint, current_app, render_template, request
from flask_login import current_user

from ..app.extensions import limiter
from ..app.security import CSP
from ..partners.host.accesses import capabilities
from ..partners.host.common import host_of, origin
from .host_common import oauth_server

bp = Blueprint("host_consent", __name__)


@bp.route("/o/authorize", methods=["GET", "POST"])
@limiter.limit("30 per minute", methods=["POST"])
def authorize():
    server = oauth_server()
    user = current_user._get_current_object()
    try:
        grant = server.get_consent_grant(end_user=user)
    except OAuth2Error as error:
        if getattr(error, "redirect_uri", None):  # the client and its redirect URI are known: tell it
            return server.handle_error_response(None, error)
        return render_template("host/consent_error.html"), 400
    if request.method == "POST":
        decision = request.form.get("decision")
        return server.create_authorization_response(grant_user=user if decision == "allow" else None,
                                                    grant=grant)
    client = grant.client.row
    response = render_template(
        "host/consent.html", client=client, client_host=host_of(client.client_uri or grant.redirect_uri),
        redirect_host=host_of(grant.redirect_uri), capabilities=capabilities(grant.request.scope or ""),
        user=user, action=request.full_path)
    response = current_app.make_response(response)
    # The decision's answer is a redirect to the client: browsers apply form-action to it.
    target = origin(grant.redirect_uri)
    if target:
        response.headers["Content-Security-Policy"] = CSP.replace("form-action 'self'", f"form-action 'self' {target}")
    return response
