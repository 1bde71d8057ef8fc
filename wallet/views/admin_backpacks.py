"""Region staff: register partner backpacks (routes added to the `admin` blueprint, whose
before_request already limits it to the admin role — anyone else gets 404)."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from ..partners import client as service
from ..partners.client.wire import PartnerError
from .admin import bp
from .helpers import request_session


@bp.route("/sacs-a-badges", methods=["GET", "POST"])
def backpacks():
    session = request_session()
    error, status, base_url = None, 200, ""
    if request.method == "POST":
        base_url = request.form.get("base_url", "").strip()[:2000]
        if not base_url:
            error, status = _("Indiquez l'adresse de base du sac à badges partenaire (https://…)."), 400
        else:
            try:
                backpack = service.register_backpack(session, base_url, current_app.extensions["wallet_http"],
                                                     current_app.config)
            except PartnerError as err:
                error, status = service.message_for(err.code, err.params), 400
            else:
                flash(_("« %(name)s » est enregistré : les apprenants peuvent maintenant y connecter leur sac "
                        "à badges.", name=backpack.name), "success")
                return redirect(url_for("admin.backpacks"))
    return render_template("admin/backpacks.html", partners=service.admin_overview(session), error=error,
                           base_url=base_url), status
