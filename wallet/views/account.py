"""My account: addresses, password, language, deletion."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import login_user, logout_user

from ..app.security import fresh_session, safe_next
from ..services import account_emails, accounts
from ..services.accounts import AccountError
from .helpers import request_session
from .helpers import signed_in_user as _user
from .messages import account_error

bp = Blueprint("account", __name__, url_prefix="/compte")


def _int(name: str) -> int:
    value = request.form.get(name, "")
    return int(value) if value.isdigit() else -1


@bp.route("/")
def index():
    return render_template("account/index.html", user=_user())


def _render_error(code: str, status: int = 400):
    return render_template("account/index.html", user=_user(), error=account_error(code)), status


@bp.route("/adresses", methods=["POST"])
def add_email():
    try:
        email = account_emails.add_email(request_session(), _user(), request.form.get("email", ""))
    except AccountError as err:
        return _render_error(err.code)
    flash(_("Nous avons envoyé un lien de confirmation à %(address)s.", address=email.address), "success")
    return redirect(safe_next(request.form.get("next")) or url_for("account.index"))


@bp.route("/adresses/renvoyer", methods=["POST"])
def resend_confirmation():
    try:
        account_emails.resend_confirmation(request_session(), _user(), _int("email_id"))
    except AccountError as err:
        return _render_error(err.code, 404 if err.code == "not_found" else 400)
    flash(_("Le lien de confirmation a été renvoyé."), "success")
    return redirect(url_for("account.index"))


@bp.route("/adresses/retirer", methods=["POST"])
def remove_email():
    try:
        account_emails.remove_email(request_session(), _user(), _int("email_id"))
    except AccountError as err:
        return _render_error(err.code, 404 if err.code == "not_found" else 400)
    flash(_("L'adresse a été retirée."), "success")
    return redirect(url_for("account.index"))


@bp.route("/adresses/principale", methods=["POST"])
def make_primary():
    try:
        account_emails.make_primary(request_session(), _user(), _int("email_id"))
    except AccountError as err:
        return _render_error(err.code, 404 if err.code == "not_found" else 400)
    flash(_("Adresse principale changée."), "success")
    return redirect(url_for("account.index"))


@bp.route("/mot-de-passe", methods=["POST"])
def change_password():
    form = request.form
    if form.get("password", "") != form.get("password_confirm", ""):
        return _render_error("password_mismatch")
    try:
        user = accounts.change_password(request_session(), _user(), form.get("current_password", ""),
                                        form.get("password", ""))
    except AccountError as err:
        return _render_error(err.code)
    # The other sessions ended with the new session token; this one continues.
    fresh_session()
    login_user(user)
    flash(_("Votre mot de passe a été changé. Vos autres sessions ont été fermées."), "success")
    return redirect(url_for("account.index"))


@bp.route("/langue", methods=["POST"])
def set_locale():
    locale = request.form.get("locale", "")
    accounts.set_locale(request_session(), _user(), locale)
    session["lang"] = locale if locale in ("fr", "en") else "fr"
    return redirect(url_for("account.index"))


@bp.route("/supprimer", methods=["GET", "POST"])
def delete():
    if request.method == "POST":
        if request.form.get("confirm") != "yes":
            return render_template("account/delete.html", error=_("Cochez la case pour confirmer.")), 400
        try:
            accounts.delete_account(request_session(), _user(), request.form.get("password", ""))
        except AccountError as err:
            return render_template("account/delete.html", error=account_error(err.code)), 400
        logout_user()
        fresh_session()
        flash(_("Votre compte et vos données ont été supprimés."), "info")
        return redirect(url_for("public.index"))
    return render_template("account/delete.html")
