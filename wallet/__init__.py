"""wallet — an Open Badges wallet for people on a path back to work."""

from __future__ import annotations


def create_app(test_config=None):
    """Build the Flask application (see wallet/app/factory.py). Imported lazily so that the offline
    commands and the pure cores never import Flask."""
    from .app.factory import create_app as _create_app

    return _create_app(test_config)
