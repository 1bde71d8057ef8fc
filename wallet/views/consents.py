"""The learner's side of consent: grant, see, withdraw a counsellor's access; read the audit log;
confirm claims a counsellor prepared."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("consents", __name__, url_prefix="/accompagnement")
