"""Partner backpacks: connect (OAuth), sync, disconnect.

The learner only picks among partners registered by Region staff (never a typed URL, T31). Tokens
never reach the browser: the partner redirects back with a one-time code that is exchanged here.
"""

from __future__ import annotations

import dataclasses
import io

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _

from ..app.extensions import limiter
from ..app.security import CSP
from ..partners import client as service
from ..partners.client.wire import origin_of
from .badges import _result_line
from .helpers import outbound_http as _http
from .helpers import request_session
from .helpers import signed_in_user as _user
from .status import status_label

bp = Blueprint("connections", __name__, url_prefix="/connexions")


@bp.route("/")
def index():
    partners = service.overview(request_session(), _user())
    response = current_app.make_response(render_template(
        "connections/index.html", partners=partners,
        connection_message=lambda code, until, partner="": service.message_for(
            code, {"until": until, "partner": partner})))
    # "Connecter" posts here and is redirected to the partner's consent page: browsers apply
    # form-action to that redirect, so this page allows exactly the registered partners' origins.
    origins = sorted({origin_text(backpack.authorization_url) for backpack, _ in partners} - {""})
    if origins:
        response.headers["Content-Security-Policy"] = CSP.replace(
            "form-action 'self'", "form-action 'self' " + " ".join(origins))
    return response


def origin_text(url: str) -> str:
    origin = origin_of(url)
    if origin is None:
        return ""
    scheme, host, port = origin
    host = f"[{host}]" if ":" in host else host
    return f"{scheme}://{host}" + ("" if port == (443 if scheme == "https" else 80) else f":{port}")


@bp.route("/partenaires/<int:backpack_id>/logo")
def logo(backpack_id: int):
    backpack = service.get_backpack(request_session(), backpack_id)
    if backpack is None or backpack.logo is None:
        return redirect(url_for("static", filename="badge-placeholder.svg"))
    response = send_file(io.BytesIO(backpack.logo), mimetype=backpack.logo_type or "application/octet-stream",
                         max_age=3600)
    response.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'; sandbox"
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response


@bp.route("/<int:backpack_id>/connecter", methods=["POST"])
@limiter.limit("10 per minute")
def connect(backpack_id: int):
    try:
        url = service.start_connect(request_session(), _user(), backpack_id, current_app.config)
    except service.ConnectionProblem as problem:
        abort(problem.status)
    return redirect(url, code=303)


@bp.route("/retour/<int:backpack_id>")
def callback(backpack_id: int):
    try:
        result = service.finish_connect(request_session(), _user(), backpack_id, request.args, _http(),
                                        current_app.config)
    except service.ConnectionProblem as problem:
        return _problem_page(problem)
    return _results(result)


@bp.route("/<int:connection_id>/synchroniser", methods=["POST"])
@limiter.limit("10 per minute")
def sync(connection_id: int):
    try:
        result = service.sync_now(request_session(), _user(), connection_id, _http(), current_app.config)
    except service.ConnectionProblem as problem:
        if problem.status == 404:
            abort(404)
        flash(problem.message, "warn")
        return redirect(url_for("connections.index"))
    return _results(result)


@bp.route("/<int:connection_id>/deconnecter", methods=["POST"])
def disconnect(connection_id: int):
    try:
        done = service.disconnect(request_session(), _user(), connection_id, _http(), current_app.config)
    except service.ConnectionProblem:
        abort(404)
    if done.revoked:
        flash(_("Votre compte « %(name)s » est déconnecté. Les badges déjà importés restent dans votre "
                "portefeuille.", name=done.partner), "success")
    elif not done.revocable:
        flash(_("Le portefeuille a effacé son accès à « %(name)s » et ne lira plus vos badges là-bas. Mais "
                "%(name)s ne permet pas de retirer cet accès à distance : retirez aussi « Mon portefeuille de "
                "badges » des applications autorisées sur le site de %(name)s. Les badges déjà importés restent "
                "dans votre portefeuille.", name=done.partner), "warn")
    else:
        flash(_("Le portefeuille a effacé son accès à « %(name)s » et ne lira plus vos badges là-bas. Mais "
                "%(name)s n'a pas confirmé la fin de l'accès : retirez aussi « Mon portefeuille de badges » des "
                "applications autorisées sur le site de %(name)s. Les badges déjà importés restent dans votre "
                "portefeuille.", name=done.partner), "warn")
    return redirect(url_for("connections.index"))


def _problem_page(problem: service.ConnectionProblem):
    status = problem.status if problem.status in (400, 404, 409, 429, 500, 502) else 400
    response = current_app.make_response(
        (render_template("connections/problem.html", message=problem.message, code=problem.code), status))
    response.headers["Cache-Control"] = "no-store"
    return response


def _line(item, number: int) -> dict:
    if not item.label:  # neither a name of its own nor a verified badge's name: number it
        item = dataclasses.replace(item, label=_("Badge n° %(num)s", num=number))
    if item.code == "partner_invalid":
        return {"item": item,
                "problem": _("Ce badge n'a pas passé la vérification : sa signature ou son contenu est faux. "
                             "Il n'a pas été importé."),
                "advice": _("Signalez-le au partenaire ou à l'émetteur du badge.")}
    return _result_line(item)


def _results(result: service.SyncResult):
    lines = [_line(item, number) for number, item in enumerate(result.items, start=1)]
    problem = service.message_for(result.error, {"until": result.retry_at, "partner": result.partner}) \
        if result.error else None
    response = current_app.make_response(render_template(
        "connections/results.html", result=result, lines=lines, problem=problem, status_label=status_label))
    response.headers["Cache-Control"] = "no-store"
    return response
