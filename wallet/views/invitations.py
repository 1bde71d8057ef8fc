"""Accepting an invitation (counsellor or admin account) — public: the invited person has no
account yet. Routes added to the `auth` blueprint; app.py imports this module."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_user

from ..app.extensions import limiter
from ..app.security import DEFAULT_AFTER_LOGIN, fresh_session
from ..services.admin import invitations
from ..services.admin.base import AdminError, message_for
from ..services.admin.people import role_label
from .auth import bp
from .helpers import request_session


@bp.route("/invitation/<token>", methods=["GET", "POST"])
@limiter.limit("10 per minute", methods=["POST"])
def invitation(token: str):
    session = request_session()
    try:
        invited = invitations.check_invitation(session, token)
    except AdminError as err:
        return render_template("auth/invitation.html", invitation=None, form={},
                               error=message_for(err.code)), 400
    if request.method == "POST":
        form = request.form
        if form.get("password", "") != form.get("password_confirm", ""):
            return render_template("auth/invitation.html", invitation=invited, form=form,
                                   role=role_label(invited.role),
                                   error=_("Les deux mots de passe ne sont pas identiques.")), 400
        try:
            user = invitations.accept_invitation(session, token, form.get("display_name", ""),
                                                 form.get("password", ""))
        except AdminError as err:
            return render_template("auth/invitation.html", invitation=invited, form=form,
                                   role=role_label(invited.role), error=message_for(err.code)), 400
        fresh_session()
        login_user(user)
        flash(_("Bienvenue ! Votre compte est prêt."), "success")
        return redirect(url_for(DEFAULT_AFTER_LOGIN))
    return render_template("auth/invitation.html", invitation=invited, form={}, role=role_label(invited.role))
