"""Secure by default: login required everywhere but the public blueprints, roles, owner-scoped
lookups, safe redirects, security headers."""

from __future__ import annotations

import functools
from urllib.parse import unquote, urlsplit

from flask import Flask, abort, redirect, request, url_for
from flask_login import current_user

# Blueprints reachable without an account. `public`: share pages, issuer documents, legal pages
# and /healthz — they are meant for employers and verifiers with no account. `auth`: logging in.
# `host_oauth`, `host_badgr`, `host_bc`: the machine APIs that partner systems (a training centre's
# Moodle) call to push badges in — they authenticate each request themselves (app password, HTTP
# Basic, Bearer token: wallet/views/host_common.py), never with the session.
PUBLIC_BLUEPRINTS = frozenset({"public", "auth", "host_oauth", "host_badgr", "host_bc"})
PUBLIC_ENDPOINTS = frozenset({"static"})

DEFAULT_AFTER_LOGIN = "main.dashboard"


def landing_after_login(user) -> str:
    """Where a person lands after logging in (when no `next` was asked for): Region staff on the
    admin console, everyone else on their home (a counsellor's redirects to their learners)."""
    return "admin.console" if getattr(user, "role", None) == "admin" else DEFAULT_AFTER_LOGIN


# worker-src and manifest-src: the installed app's service worker and manifest, ours only
# (wallet/views/app_shell.py); both would fall back to 'self' anyway, said here on purpose.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "worker-src 'self'; manifest-src 'self'; "
       "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")


def is_public_endpoint(endpoint: str | None) -> bool:
    if endpoint is None:
        return True  # 404s and the like: nothing to protect
    blueprint = endpoint.rsplit(".", 1)[0] if "." in endpoint else None
    return endpoint in PUBLIC_ENDPOINTS or blueprint in PUBLIC_BLUEPRINTS


def safe_next(target: str | None) -> str | None:
    """A local path to go to after login, or None. Rejects every open-redirect trick (T33)."""
    if not target or len(target) > 2048:
        return None
    decoded = target
    for _ in range(3):  # %252F%252F… decodes twice
        decoded = unquote(decoded)
    for candidate in (target, decoded):
        if not candidate.startswith("/") or candidate.startswith(("//", "/\\")):
            return None
        if "\\" in candidate or any(ord(c) < 32 or ord(c) == 127 for c in candidate):
            return None
        parts = urlsplit(candidate)
        if parts.scheme or parts.netloc:
            return None
    return target


def fresh_session() -> None:
    """Start a new session (login, logout, password change) keeping only the chosen language."""
    from flask import session

    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang


def role_required(*roles: str):
    def decorator(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            if not current_user.is_authenticated or current_user.role not in roles:
                abort(404)  # no existence oracle for admin pages
            return view(*args, **kwargs)

        return wrapper

    return decorator


def init_app(app: Flask) -> None:
    @app.before_request
    def _require_login():
        if is_public_endpoint(request.endpoint):
            return None
        if not current_user.is_authenticated:
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        return None

    @app.after_request
    def _headers(response):
        headers = response.headers
        headers.setdefault("Content-Security-Policy", CSP)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=(), interest-cohort=()")
        headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        if app.config["ENV"] == "production":
            headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        if current_user.is_authenticated and "Cache-Control" not in headers:
            headers["Cache-Control"] = "no-store"
        return response
