"""Re-verification at region scale: leases shared by several workers, one HTTP cache per process.

Two million badges re-verified weekly is 3.3 verifications a second, sustained. Several
`wallet worker` processes share that work (on PostgreSQL): each takes a few due badges at a time
with a lease (`Badge.reverify_lease_until`), re-verifies them, and takes more.

Taking a lease: the due badges are selected with `FOR UPDATE SKIP LOCKED` on PostgreSQL (two
workers selecting at once skip each other's rows instead of waiting), then each is taken by a
conditional UPDATE (no lease, or an expired one) whose row count says whether this worker got it —
the same rule as claim deliveries (services/claims/delivery.py). On SQLite there is no SKIP LOCKED: the
lease is taken under SQLite's write lock (BEGIN IMMEDIATE) and the conditional UPDATE alone gives
each badge to one worker only, but SQLite serializes writers: run one worker there. A lease lasts LEASE_PER_BADGE for each badge of the batch (a
verification is bounded by SafeHttp's deadline and the fetch budget); re-verifying ends it.

Fetching: every badge of a worker process goes through one `HttpCache` (wallet/http/cache.py),
built once per process from the app's SafeHttp and settings, so the issuer and badge class of a
partner are fetched once for all its learners, and requests to one partner are paced.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import Flask
from sqlalchemy import ColumnElement, or_, select, update
from sqlalchemy.orm import Session

from .. import db
from ..http.cache import HttpCache
from ..models import Badge, utcnow
from . import badges
from .rules import RULES_VERSION

BATCH = 10                                  # badges leased at once by one worker
LEASE_PER_BADGE = timedelta(seconds=120)    # > SafeHttp's deadline × a verification's fetch budget
_cache_lock = threading.Lock()


@dataclass
class Round:
    reverified: int = 0
    changed: list[tuple[int, str, str]] = field(default_factory=list)
    owners: set[int] = field(default_factory=set)


def shared_fetch(app: Flask) -> HttpCache:
    """The process's HttpCache (built on first use from the app's SafeHttp and settings)."""
    with _cache_lock:
        cache = app.extensions.get("wallet_http_cache")
        if cache is None:
            cache = HttpCache(app.extensions["wallet_http"],
                              max_bytes=int(app.config["HTTP_CACHE_MAX_BYTES"]),
                              min_ttl=float(app.config["HTTP_CACHE_MIN_TTL"]),
                              min_interval=int(app.config["PARTNER_MIN_INTERVAL_MS"]) / 1000)
            app.extensions["wallet_http_cache"] = cache
        return cache


def _free(moment: datetime) -> ColumnElement[bool]:
    return or_(Badge.reverify_lease_until.is_(None), Badge.reverify_lease_until < moment)


def lease(session: Session, due: ColumnElement[bool], order_by, now: datetime | None = None,
          limit: int = BATCH) -> list[int]:
    """Take up to `limit` badges matching `due` that no other worker holds; commits. Returns their ids."""
    moment = now or utcnow()
    db.begin_write(session)  # SQLite: take the write lock first (a reader cannot become a writer)
    stmt = select(Badge.id).where(due, _free(moment)).order_by(order_by).limit(limit)
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    candidates = list(session.scalars(stmt))
    until = moment + LEASE_PER_BADGE * max(1, len(candidates))
    taken = []
    for badge_id in candidates:
        won = session.execute(update(Badge).where(Badge.id == badge_id, due, _free(moment))
                              .values(reverify_lease_until=until)).rowcount
        if won:
            taken.append(badge_id)
    session.commit()
    return taken


def stale(max_age_days: int, now: datetime | None = None) -> ColumnElement[bool]:
    """Badges whose verdict is older than `max_age_days`."""
    return Badge.checked_at < (now or utcnow()) - timedelta(days=max_age_days)


def outdated() -> ColumnElement[bool]:
    """Badges judged under older verifier rules (services/upgrade.py)."""
    return Badge.rules_version < RULES_VERSION


def reverify_leased(app: Flask, due: Callable[[], ColumnElement[bool]], order_by, *, limit: int,
                    now: datetime | None = None, batch: int = BATCH) -> Round:
    """Lease and re-verify due badges, `batch` at a time, until `limit` are done or none is left."""
    done = Round()
    fetch = shared_fetch(app).fetch
    http = app.extensions["wallet_http"]
    session = db.new_session(app)
    try:
        while done.reverified < limit:
            ids = lease(session, due(), order_by, now=now, limit=min(batch, limit - done.reverified))
            if not ids:
                break
            for badge_id in ids:
                badge = session.get(Badge, badge_id)
                if badge is None:
                    continue
                before = badge.status
                done.owners.add(badge.owner_id)
                badges.reverify(session, badge, http, now=now, fetch=fetch)
                done.reverified += 1
                if badge.status != before:
                    done.changed.append((badge.id, before, badge.status))
    finally:
        session.close()
    return done


def reverify_stale(app: Flask, now: datetime | None = None, limit: int = 500) -> Round:
    """One round of `wallet worker`: re-verify up to `limit` badges whose verdict is too old."""
    max_age = int(app.config["REVERIFY_MAX_AGE_DAYS"])
    return reverify_leased(app, lambda: stale(max_age, now), Badge.checked_at, limit=limit, now=now)
