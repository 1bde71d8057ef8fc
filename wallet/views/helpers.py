"""What views share about the request: its language, the Region it is served for, the signed-in
user, the app's outbound client, the request's unit of work for the services, and the 404 of an
object that is not there (or not the reader's). One place, so that no view writes its own, and the
only view module that reaches into `wallet.db` (test_architecture)."""

from __future__ import annotations

from typing import TypeVar

from flask import Flask, abort, current_app
from flask_babel import get_locale
from flask_login import current_user

from .. import db
from ..app.region import Region

T = TypeVar("T")


def request_lang() -> str:
    """The reader's language as the services take it: "fr" (the default) or "en"."""
    return "en" if str(get_locale() or "fr").startswith("en") else "fr"


def current_region(app: Flask | None = None) -> Region:
    """The Region this wallet serves (name, logo, colours, legal pages), loaded at start."""
    return (app or current_app).extensions["wallet_region"]


def signed_in_user():
    """The signed-in user (the model object behind flask_login's proxy)."""
    return current_user._get_current_object()


def outbound_http():
    """The app's one outbound client (SafeHttp)."""
    return current_app.extensions["wallet_http"]


def request_session():
    """The request's unit of work, handed as is to the services (opened on first use, closed at
    teardown). Views never query it: they pass it to one service function."""
    return db.get_session()


def session_factory(app: Flask):
    """Opens a fresh unit of work outside any request (for the app's background threads)."""
    return lambda: db.new_session(app)


def or_404(found: T | None) -> T:
    """`found`, or a 404 when the service found nothing (an object of another person's is answered
    as missing: its existence is not told)."""
    if found is None:
        abort(404)
    return found
