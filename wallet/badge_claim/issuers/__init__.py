"""The Region's issuer backends behind one interface (`wallet.badge_claim.model.IssuerBackend`).

    backend = backend_for(app)          # by WALLET_ISSUER: builtin | obf | badgr; one per app
    result = backend.deliver(request)

`builtin_for(app)` is the builtin issuer itself, whatever WALLET_ISSUER says: its public documents
(profile, keys, status list) stay served so that credentials it issued remain verifiable.
"""

from __future__ import annotations

import threading
from typing import Any

from ..model import IssuerBackend

_lock = threading.Lock()


def backend_for(app: Any) -> IssuerBackend:
    """The configured backend, built once per app with the app's SafeHttp and settings."""
    cached = app.extensions.get("wallet_issuer_backend")
    if cached is not None:
        return cached
    with _lock:
        cached = app.extensions.get("wallet_issuer_backend")
        if cached is None:
            cached = _build(app)
            app.extensions["wallet_issuer_backend"] = cached
    return cached


def _build(app: Any) -> IssuerBackend:
    config = app.config
    kind = config["ISSUER"]
    if kind == "builtin":
        return builtin_for(app)
    http = app.extensions["wallet_http"]
    if kind == "obf":
        from .obf import ObfIssuer

        return ObfIssuer(http, base_url=config["ISSUER_OBF_BASE_URL"], client_id=config["ISSUER_OBF_CLIENT_ID"],
                         client_secret=config["ISSUER_OBF_CLIENT_SECRET"],
                         badges=config.get("ISSUER_OBF_BADGES") or {})
    if kind == "badgr":
        from .badgr import BadgrIssuer

        return BadgrIssuer(http, base_url=config["ISSUER_BADGR_BASE_URL"], token=config["ISSUER_BADGR_TOKEN"],
                           badgeclasses=config.get("ISSUER_BADGR_BADGECLASSES") or {})
    raise ValueError(f"unknown issuer backend {kind!r}")  # config.validate refuses it first


def builtin_for(app: Any):
    """The builtin Region issuer of this app (keys loaded on first use)."""
    cached = app.extensions.get("wallet_builtin_issuer")
    if cached is not None:
        return cached
    from ...db import new_session
    from ...keys.issuer_keys import keys_for
    from .builtin import BuiltinIssuer

    issuer = BuiltinIssuer(base_url=app.config["BASE_URL"], keys=lambda: keys_for(app),
                           session_factory=lambda: new_session(app),
                           approval=app.config.get("ISSUER_APPROVAL", "auto"),
                           profile=lambda: region_profile(app))
    return app.extensions.setdefault("wallet_builtin_issuer", issuer)


def region_profile(app: Any):
    """The Region's name and site, from the referential in force."""
    from ...db import new_session
    from ...services.referentials import current
    from .builtin import RegionProfile

    with new_session(app) as session:
        issuer = current(session, app).issuer
    return RegionProfile(issuer.name.fr or "Région", issuer.url)
