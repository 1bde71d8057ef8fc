"""Accepting an invitation (counsellor or admin account) — public: the invited person has no
account yet. Routes added to the `auth` blueprint; app.py imports this module."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_user

from ..extensions import limiter
from ..security import DEFAULT_AFTER_LOGIN, fresh_session
from ..services import admin as service
from .auth import bp
from .helpers import request_session


@bp.route("/invitation/<token>", methods=["GET", "POST"])
@limiter.limit("10 per minute", methods=["POST"])
def invitation(token: str):
    session = request_session()
    try:
        invited = service.check_invitation(session, token)
    except service.AdminError as err:
        return render_template("auth/invitation.html", invitation=None, form={},
                               error=service.message_for(err.code)), 400
    if request.method == "POST":
        form = request.form
        if form.get("password", "") != form.get("password_confirm", ""):
            return render_template("auth/invitation.html", invitation=invited, form=form,
                                   role=service.role_label(invited.role),
                                   error=_("Les deux mots de passe ne sont pas identiques.")), 400
        try:
            user = service.accept_invitation(session, token, form.get("display_name", ""), form.get("password", ""))
        except service.AdminError as err:
            return render_template("auth/invitation.html", invitation=invited, form=form,
                                   role=service.role_label(invited.role), error=service.message_for(err.code)), 400
        fresh_session()
        login_user(user)
        flash(_("Bienvenue ! Votre compte est prêt."), "success")
        return redirect(url_for(DEFAULT_AFTER_LOGIN))
    return render_template("auth/invitation.html", invitation=invited, form={}, role=service.role_label(invited.role))
