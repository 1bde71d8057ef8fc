"""Claims: ask for a regional badge in one tap, follow its status."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("claims", __name__, url_prefix="/demandes")
