"""Counsellors: their learners (with consent), dashboard, prepared claims."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("counsellor", __name__, url_prefix="/conseiller")
