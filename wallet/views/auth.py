"""Logging in and everything before it: register, confirm an address, reset a password.

Public by design (no login required): a person without a session must reach these pages.
Every POST carries a CSRF token (global CSRFProtect).
"""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_user, logout_user

from ..app.extensions import limiter
from ..app.security import DEFAULT_AFTER_LOGIN, fresh_session, landing_after_login, safe_next
from ..services import accounts, login_guard
from ..services.accounts import AccountError
from .helpers import request_session
from .messages import account_error

bp = Blueprint("auth", __name__)
CONFIRMED_ADDRESS = "confirmed_address"  # session key: the address just confirmed, for the login form


def _address_key() -> str:
    # The address typed, as an HMAC (no addresses in the limiter's storage).
    return login_guard.address_digest(request.form.get("email", ""))[:32]


def _account_and_address_key() -> str:
    # Per (account, client address): strangers elsewhere exhausting their budget for an account do
    # not touch the owner's (T61); the per-account backstop is login_guard's, and slows, not refuses.
    return f"login:{_address_key()}:{get_remote_address()}"


def _unlock_key() -> str:
    return "unlock:" + _address_key()


@bp.route("/connexion", methods=["GET", "POST"])
@limiter.limit("10 per minute;100 per hour", methods=["POST"])
@limiter.limit("5 per minute;30 per hour", methods=["POST"], key_func=_account_and_address_key)
def login():
    next_url = safe_next(request.values.get("next"))
    if current_user.is_authenticated:
        return redirect(next_url or url_for(DEFAULT_AFTER_LOGIN))
    if request.method == "POST":
        email = request.form.get("email", "")
        attempt = login_guard.login(request_session(), email, request.form.get("password", ""),
                                    request.cookies.get(login_guard.DEVICE_COOKIE))
        if attempt.wait:
            response = current_app.make_response((render_template(
                "auth/login.html", slowed=attempt.wait, email=email, next=next_url), 429))
            response.headers["Retry-After"] = str(attempt.wait)
            return response
        if attempt.user is None:
            return render_template("auth/login.html", error=account_error(attempt.error or "bad_credentials"),
                                   email=email, next=next_url), 400
        fresh_session()  # no fixation; the chosen language stays
        login_user(attempt.user)
        response = redirect(next_url or url_for(landing_after_login(attempt.user)))
        _set_device_cookie(response, attempt.device_cookie)
        return response
    # Just confirmed an address: the form is filled in with it (kept in the session, not the URL).
    return render_template("auth/login.html", next=next_url, email=session.pop(CONFIRMED_ADDRESS, ""))


def _set_device_cookie(response, value: str | None) -> None:
    if value:
        response.set_cookie(login_guard.DEVICE_COOKIE, value, max_age=login_guard.DEVICE_MAX_AGE,
                            path=url_for("auth.login"), httponly=True, samesite="Lax",
                            secure=current_app.config["ENV"] == "production")


@bp.route("/connexion/deblocage", methods=["POST"])
@limiter.limit("3 per minute;10 per hour", methods=["POST"])
@limiter.limit("3 per hour", methods=["POST"], key_func=_unlock_key)
def request_unlock():
    login_guard.request_unlock(request_session(), request.form.get("email", ""))
    return render_template("auth/unlock_sent.html")


@bp.route("/connexion/debloquer/<token>", methods=["GET", "POST"])
@limiter.limit("20 per minute", methods=["POST"])
def unlock(token: str):
    # GET only shows a button: mail scanners open links, and a GET must not change anything.
    if request.method == "POST":
        try:
            cookie = login_guard.unlock(request_session(), token, request.cookies.get(login_guard.DEVICE_COOKIE))
        except AccountError as err:
            return render_template("auth/unlock.html", token=token, error=account_error(err.code)), 400
        flash(_("Ce navigateur est débloqué : connectez-vous avec votre mot de passe."), "success")
        response = redirect(url_for("auth.login"))
        _set_device_cookie(response, cookie)
        return response
    return render_template("auth/unlock.html", token=token)


@bp.route("/deconnexion", methods=["POST"])
def logout():
    if current_user.is_authenticated:
        accounts.logout(request_session(), current_user._get_current_object())
    logout_user()
    fresh_session()
    flash(_("Vous avez quitté votre portefeuille. À bientôt !"), "info")
    return redirect(url_for("auth.login"))


@bp.route("/inscription", methods=["GET", "POST"])
@limiter.limit("5 per minute;30 per hour", methods=["POST"])
def register():
    if current_user.is_authenticated:
        return redirect(url_for(DEFAULT_AFTER_LOGIN))
    if request.method == "POST":
        form = request.form
        problems = accounts.registration_problems(form.get("display_name", ""), form.get("email", ""),
                                                  form.get("password", ""), form.get("password_confirm", ""))
        if not problems:
            try:
                accounts.register(request_session(), form.get("display_name", ""), form.get("email", ""),
                                  form.get("password", ""), locale=session.get("lang", "fr"))
            except AccountError as err:  # the same checks: never expected, said at the top
                problems = {{"bad_name": "display_name", "bad_email": "email"}.get(err.code, "password"): err.code}
            else:
                return redirect(url_for("auth.check_email"))
        errors = {field: account_error(code) for field, code in problems.items()}
        return render_template("auth/register.html", form=form, errors=errors), 400
    return render_template("auth/register.html", form={}, errors={})


@bp.route("/verifiez-vos-e-mails")
def check_email():
    return render_template("auth/check_email.html")


@bp.route("/confirmer/<token>", methods=["GET", "POST"])
@limiter.limit("20 per minute", methods=["POST"])
def confirm_email(token: str):
    # GET only shows a button: mail scanners open links, and a GET must not change anything.
    if request.method == "POST":
        try:
            email = accounts.confirm_email(request_session(), token)
        except AccountError as err:
            return render_template("auth/confirm.html", token=token, error=account_error(err.code)), 400
        flash(_("L'adresse %(address)s est confirmée.", address=email.address), "success")
        if current_user.is_authenticated:
            return redirect(url_for("account.index"))
        session[CONFIRMED_ADDRESS] = email.address
        return redirect(url_for("auth.login"))
    return render_template("auth/confirm.html", token=token)


@bp.route("/mot-de-passe-oublie", methods=["GET", "POST"])
@limiter.limit("5 per minute;20 per hour", methods=["POST"])
def forgot_password():
    if request.method == "POST":
        accounts.request_password_reset(request_session(), request.form.get("email", ""))
        return render_template("auth/forgot_sent.html")
    return render_template("auth/forgot.html")


@bp.route("/reinitialiser/<token>", methods=["GET", "POST"])
@limiter.limit("10 per minute", methods=["POST"])
def reset_password(token: str):
    if request.method == "POST":
        form = request.form
        if form.get("password", "") != form.get("password_confirm", ""):
            return render_template("auth/reset.html", token=token,
                                   error=_("Les deux mots de passe ne sont pas identiques.")), 400
        try:
            accounts.reset_password(request_session(), token, form.get("password", ""))
        except AccountError as err:
            return render_template("auth/reset.html", token=token, error=account_error(err.code)), 400
        logout_user()
        fresh_session()
        flash(_("Votre mot de passe a été changé. Connectez-vous avec le nouveau."), "success")
        return redirect(url_for("auth.login"))
    return render_template("auth/reset.html", token=token)
