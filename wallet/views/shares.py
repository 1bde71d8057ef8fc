"""Sharing: the learner's share links (one badge or a collection), their QR codes, revocation."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("shares", __name__, url_prefix="/partages")
