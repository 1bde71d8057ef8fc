"""The application factory."""

from __future__ import annotations

import logging
import os
import uuid
from pathlib import Path

from flask import Flask, g, render_template, request, session
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.middleware.proxy_fix import ProxyFix

from .. import db, mail
from ..partners import host
from ..text import rendering
from . import security
from .extensions import babel, csrf, limiter, login_manager, retry_after_seconds
from .settings import load_config

LOCALES = ("fr", "en")


def create_app(test_config=None) -> Flask:
    app = Flask("wallet", instance_path=os.environ.get("WALLET_INSTANCE_PATH") or None,
                instance_relative_config=True)
    app.config.update(load_config(app.instance_path, test_config=test_config))
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)

    production = app.config["ENV"] == "production"
    app.config.update(
        SESSION_COOKIE_NAME="__Host-session" if production else "wallet_session",
        SESSION_COOKIE_SECURE=production,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_SECURE=production,
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=12 * 3600,
        BABEL_DEFAULT_LOCALE="fr",
        BABEL_DEFAULT_TIMEZONE=app.config["TIMEZONE"],
        BABEL_TRANSLATION_DIRECTORIES=str(Path(__file__).parents[1] / "translations"),
        RATELIMIT_STORAGE_URI=app.config["RATELIMIT_STORAGE_URI"],
        RATELIMIT_HEADERS_ENABLED=False,  # see extensions.limiter: Retry-After only on a refusal
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the session
        WTF_CSRF_SSL_STRICT=production,
    )
    if production:
        # One trusted proxy in front (see README): its X-Forwarded-For is the client address.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)

    db.init_app(app)
    mail.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    _init_login(app)
    _init_http(app)
    host.init_app(app)
    rendering.init_app(app)
    security.init_app(app)
    _register_blueprints(app)
    _register_errors(app)

    from ..cli.online import register_commands

    register_commands(app)

    @app.context_processor
    def _template_globals():
        from ..services.demo import enabled as demo_enabled

        return {"current_locale": select_locale(), "locales": LOCALES, "demo_enabled": demo_enabled(app)}

    @app.before_request
    def _request_id():
        g.request_id = uuid.uuid4().hex[:12]

    logging.getLogger("wallet").setLevel(logging.INFO)
    return app


def select_locale() -> str:
    chosen = session.get("lang")
    if chosen in LOCALES:
        return chosen
    if current_user and getattr(current_user, "is_authenticated", False) and current_user.locale in LOCALES:
        return current_user.locale
    return "fr"


def _init_login(app: Flask) -> None:
    from ..services.accounts import load_user

    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = None
    login_manager.session_protection = "basic"

    @login_manager.user_loader
    def _load(cookie_id: str):
        return load_user(db.get_session(), cookie_id)


def _init_http(app: Flask) -> None:
    """The one outbound HTTP client. URLs under BASE_URL (our own issuer documents, keys, status
    lists) are answered in-process by the app itself, never over the network."""
    from ..http import Response, SafeHttp

    def local_handler(method: str, url: str, headers: dict, body: bytes | None) -> Response:
        path = url[len(app.config["BASE_URL"]):] or "/"
        with app.test_client() as client:
            answer = client.open(path, method=method, headers=headers, data=body)
            return Response(url=url, status=answer.status_code, headers=list(answer.headers.items()),
                            body=answer.get_data())

    app.extensions["wallet_http"] = SafeHttp.from_config(app.config, local_handler=local_handler)


def _register_blueprints(app: Flask) -> None:
    from ..views import (
        account,
        admin,
        admin_backpacks,
        admin_console,
        app_shell,
        auth,
        badges,
        claims,
        connections,
        consents,
        counsellor,
        data,
        demo,
        host_account,
        host_admin,
        host_badgr,
        host_bc,
        host_consent,
        host_oauth,
        invitations,
        issuer_documents,
        main,
        public,
        public_shares,
        regional,
        shares,
    )

    # These modules add routes to the `public`, `auth` and `admin` blueprints; importing them is enough.
    del admin_backpacks, admin_console, app_shell, host_admin, invitations, issuer_documents, public_shares
    for module in (auth, account, admin, badges, claims, connections, consents, counsellor, data, demo, main,
                   public, regional, shares, host_oauth, host_consent, host_account, host_badgr, host_bc):
        app.register_blueprint(module.bp)


def _register_errors(app: Flask) -> None:
    def page(status: int, title: str, text: str):
        return render_template("errors/error.html", status=status, title=title, text=text), status

    @app.errorhandler(CSRFError)
    def _csrf(_err):
        return page(400, _("Formulaire expiré"),
                    _("Ce formulaire a expiré ou n'a pas été envoyé depuis cette page. "
                      "Revenez en arrière, rechargez la page et réessayez."))

    @app.errorhandler(400)
    def _bad_request(_err):
        return page(400, _("Demande incorrecte"), _("Cette demande n'a pas pu être comprise."))

    @app.errorhandler(403)
    def _forbidden(_err):
        return page(403, _("Accès refusé"), _("Vous n'avez pas le droit de faire cette action."))

    @app.errorhandler(404)
    def _not_found(_err):
        return page(404, _("Page introuvable"), _("Cette page n'existe pas ou n'est plus disponible."))

    @app.errorhandler(405)
    def _method(_err):
        return page(405, _("Action non permise"), _("Cette action n'est pas possible de cette façon."))

    @app.errorhandler(413)
    def _too_large(_err):
        return page(413, _("Envoi trop volumineux"),
                    _("Les fichiers envoyés sont trop lourds. Chaque fichier doit faire moins de 2 Mo."))

    @app.errorhandler(429)
    def _rate_limited(err):
        response = app.make_response(page(429, _("Trop de tentatives"),
                                          _("Trop de tentatives en peu de temps. Attendez une minute "
                                            "puis réessayez.")))
        retry = retry_after_seconds(err)
        if retry and "Retry-After" not in response.headers:
            response.headers["Retry-After"] = str(retry)
        return response

    @app.errorhandler(500)
    def _server_error(_err):
        app.logger.error("internal error, request %s %s", g.get("request_id"), request.path)
        return page(500, _("Une erreur est survenue"),
                    _("Une erreur inattendue est survenue. Réessayez plus tard. Référence : %(ref)s",
                      ref=g.get("request_id", "-")))
