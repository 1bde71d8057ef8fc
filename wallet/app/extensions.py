"""Flask extensions, created unbound; `create_app` binds them (init_app)."""

from __future__ import annotations

import time

from flask_babel import Babel
from flask_limiter import Limiter, RateLimitExceeded
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect

login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
# No X-RateLimit-* headers on every answer: reading the window back for them costs two more
# round trips to the limiter's store (Redis) on every limited request, for headers no client of
# ours reads. A refused client still gets its Retry-After (retry_after_seconds below).
limiter = Limiter(key_func=get_remote_address, default_limits=[], headers_enabled=False)


def retry_after_seconds(err) -> int | None:
    """Seconds a refused client waits: the error's own Retry-After, else, for a breached rate
    limit, what is left of the limit's window (read from the store only on a refusal)."""
    retry = getattr(err, "retry_after", None)
    if retry is None and isinstance(err, RateLimitExceeded):
        current = limiter.current_limit
        if current is not None:
            retry = max(1, int(current.reset_at - time.time()))
    return int(retry) if isinstance(retry, (int, float)) and retry > 0 else None
