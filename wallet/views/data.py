"""Mes données: export everything, delete the account (personal data, RGPD)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("data", __name__, url_prefix="/mes-donnees")
