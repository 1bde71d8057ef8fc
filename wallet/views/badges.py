"""My badges: the wallet list, import (upload, URL, paste), detail, re-verify, delete, download."""

from __future__ import annotations

import io
import json

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _

from ..app.extensions import limiter
from ..openbadges.model import Verdict
from ..services import badge_list
from ..services import badges as service
from ..text.formatting import readable_check
from .doctor import diagnose
from .helpers import or_404, request_session
from .helpers import outbound_http as _http
from .helpers import request_lang as _lang
from .helpers import signed_in_user as _user
from .status import status_label

bp = Blueprint("badges", __name__, url_prefix="/badges")


def _owned(badge_id: int):
    return or_404(service.get_owned(request_session(), _user(), badge_id))


@bp.route("/")
def index():
    status_filter = request.args.get("filtre", "")
    query = request.args.get("q", "")[:100]
    number = request.args.get("page", 1, type=int)
    found = badge_list.badge_page(request_session(), _user(), status_filter, query, number)
    return render_template("badges/index.html", found=found, badges=found.badges, status_filter=status_filter,
                           query=query, status_label=status_label)


@bp.route("/importer", methods=["GET", "POST"])
@limiter.limit("20 per minute", methods=["POST"])
def import_badges():
    if request.method == "GET":
        return _import_page()
    session, user, http = request_session(), _user(), _http()
    results: list[service.ImportItem] = []
    uploads = []
    for storage in request.files.getlist("files"):
        if not storage or not storage.filename:
            continue
        data = storage.stream.read(service.MAX_FILE_BYTES + 1)
        uploads.append(service.Upload(storage.filename[:120], data[: service.MAX_FILE_BYTES],
                                      truncated=len(data) > service.MAX_FILE_BYTES))
    if uploads:
        results.extend(service.import_uploads(session, user, uploads, http))
    if request.form.get("url", "").strip():
        results.append(service.import_url(session, user, request.form["url"], http))
    if request.form.get("text", "").strip():
        results.append(service.import_text(session, user, request.form["text"], http, label=_("texte collé")))
    if not results:
        return _import_page(error=_("Choisissez une image de badge, collez un lien ou le texte d'un badge.")), 400
    lines = [_result_line(item) for item in results]
    return render_template("badges/import_results.html", lines=lines, status_label=status_label)


def _import_page(**context):
    """The import form; it states the server's caps so the browser can check them first."""
    return render_template("badges/import.html", max_file_bytes=service.MAX_FILE_BYTES,
                           max_mb=service.MAX_FILE_BYTES // (1024 * 1024), max_files=service.MAX_FILES, **context)


def _result_line(item: service.ImportItem) -> dict:
    line = {"item": item, "problem": None, "advice": None}
    if item.outcome == "error":
        line["problem"], line["advice"] = diagnose(item.code, item.params)
    return line


@bp.route("/<int:badge_id>")
def detail(badge_id: int):
    badge = _owned(badge_id)
    stored = json.loads(badge.verdict)
    stored["checks"] = [readable_check(check) for check in stored.get("checks") or ()]
    verdict = Verdict.from_dict(stored).to_dict(_lang())
    details = json.loads(badge.details or "{}")
    return render_template("badges/detail.html", badge=badge, verdict=verdict, details=details,
                           status_label=status_label)


@bp.route("/<int:badge_id>/verifier", methods=["POST"])
@limiter.limit("10 per minute")
def reverify(badge_id: int):
    badge = _owned(badge_id)
    before = badge.status
    badge = service.reverify(request_session(), badge, _http())
    if badge.status == before:
        flash(_("Vérification refaite : rien n'a changé."), "info")
    else:
        flash(_("Vérification refaite : le badge est maintenant « %(status)s ».",
                status=status_label(badge.status)[0]), "warn")
    return redirect(url_for("badges.detail", badge_id=badge.id))


@bp.route("/<int:badge_id>/supprimer", methods=["GET", "POST"])
def delete(badge_id: int):
    badge = _owned(badge_id)
    if request.method == "POST":
        service.delete(request_session(), _user(), badge.id)
        flash(_("Le badge « %(name)s » a été retiré de votre portefeuille.", name=badge.name), "success")
        return redirect(url_for("badges.index"))
    return render_template("badges/delete.html", badge=badge)


@bp.route("/<int:badge_id>/telecharger")
def download(badge_id: int):
    badge = _owned(badge_id)
    baked = service.baked_download(badge)
    if baked is None:
        abort(404)
    data, mime, ext = baked
    response = send_file(_bytes_io(data), mimetype=mime, as_attachment=True,
                         download_name=f"badge-{badge.id}.{ext}")
    response.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'; sandbox"
    return response


@bp.route("/<int:badge_id>/image")
def image(badge_id: int):
    badge = _owned(badge_id)
    if badge.image is None:
        return redirect(url_for("static", filename="badge-placeholder.svg"))
    response = send_file(_bytes_io(badge.image), mimetype=badge.image_type or "application/octet-stream",
                         max_age=3600)
    # An SVG may hold scripts: never let it run on our origin (SECURITY.md T08).
    response.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'; sandbox"
    response.headers["Content-Disposition"] = "inline"
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response


def _bytes_io(data: bytes):
    return io.BytesIO(data)
