"""Logging in and everything before it: register, confirm an address, reset a password.

Public by design (no login required): a person without a session must reach these pages.
Every POST carries a CSRF token (global CSRFProtect).
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from ..db import get_session
from ..extensions import limiter
from ..security import DEFAULT_AFTER_LOGIN, fresh_session, safe_next
from ..services import accounts
from ..services.accounts import AccountError
from .messages import account_error

bp = Blueprint("auth", __name__)


def _login_key() -> str:
    # Per account (whatever the client address), so rotating X-Forwarded-For does not help.
    return "login:" + (request.form.get("email") or "").strip().lower()[:254]


@bp.route("/connexion", methods=["GET", "POST"])
@limiter.limit("10 per minute;100 per hour", methods=["POST"])
@limiter.limit("5 per minute;30 per hour", methods=["POST"], key_func=_login_key)
def login():
    next_url = safe_next(request.values.get("next"))
    if current_user.is_authenticated:
        return redirect(next_url or url_for(DEFAULT_AFTER_LOGIN))
    if request.method == "POST":
        try:
            user = accounts.authenticate(get_session(), request.form.get("email", ""),
                                         request.form.get("password", ""))
        except AccountError as err:
            return render_template("auth/login.html", error=account_error(err.code),
                                   email=request.form.get("email", ""), next=next_url), 400
        fresh_session()  # no fixation; the chosen language stays
        login_user(user)
        return redirect(next_url or url_for(DEFAULT_AFTER_LOGIN))
    return render_template("auth/login.html", next=next_url)


@bp.route("/deconnexion", methods=["POST"])
def logout():
    if current_user.is_authenticated:
        accounts.logout(get_session(), current_user._get_current_object())
    logout_user()
    fresh_session()
    flash(_("Vous êtes déconnecté·e."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/inscription", methods=["GET", "POST"])
@limiter.limit("5 per minute;30 per hour", methods=["POST"])
def register():
    if current_user.is_authenticated:
        return redirect(url_for(DEFAULT_AFTER_LOGIN))
    if request.method == "POST":
        form = request.form
        if form.get("password", "") != form.get("password_confirm", ""):
            return render_template("auth/register.html", form=form,
                                   error=_("Les deux mots de passe ne sont pas identiques.")), 400
        try:
            accounts.register(get_session(), form.get("display_name", ""), form.get("email", ""),
                              form.get("password", ""), locale=session.get("lang", "fr"))
        except AccountError as err:
            return render_template("auth/register.html", form=form, error=account_error(err.code)), 400
        return redirect(url_for("auth.check_email"))
    return render_template("auth/register.html", form={})


@bp.route("/verifiez-vos-e-mails")
def check_email():
    return render_template("auth/check_email.html")


@bp.route("/confirmer/<token>", methods=["GET", "POST"])
@limiter.limit("20 per minute", methods=["POST"])
def confirm_email(token: str):
    # GET only shows a button: mail scanners open links, and a GET must not change anything.
    if request.method == "POST":
        try:
            email = accounts.confirm_email(get_session(), token)
        except AccountError as err:
            return render_template("auth/confirm.html", token=token, error=account_error(err.code)), 400
        flash(_("L'adresse %(address)s est confirmée.", address=email.address), "success")
        return redirect(url_for("account.index") if current_user.is_authenticated else url_for("auth.login"))
    return render_template("auth/confirm.html", token=token)


@bp.route("/mot-de-passe-oublie", methods=["GET", "POST"])
@limiter.limit("5 per minute;20 per hour", methods=["POST"])
def forgot_password():
    if request.method == "POST":
        accounts.request_password_reset(get_session(), request.form.get("email", ""))
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
            accounts.reset_password(get_session(), token, form.get("password", ""))
        except AccountError as err:
            return render_template("auth/reset.html", token=token, error=account_error(err.code)), 400
        logout_user()
        fresh_session()
        flash(_("Votre mot de passe a été changé. Connectez-vous avec le nouveau."), "success")
        return redirect(url_for("auth.login"))
    return render_template("auth/reset.html", token=token)
