"""Counters per typed e-mail address (`AddressThrottle`): the login backstop (login_guard) and
the reset mails per address (accounts). Keyed by an HMAC of the purpose and the address, so no
address is stored and an address without an account is counted exactly like one with.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import case, delete, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..models import AddressThrottle

WINDOW = timedelta(hours=1)  # a counter starts afresh after an hour without events (and is purged)


def digest(purpose: str, address: str) -> str:
    """HMAC of the purpose and the address as typed (trimmed, lower-cased)."""
    secret = str(current_app.config["SECRET_KEY"]).encode()
    text = f"{purpose}:{(address or '').strip().lower()[:320]}"
    return hmac.new(secret, text.encode(), hashlib.sha256).hexdigest()


def bump(session: Session, key: str, now: datetime) -> AddressThrottle:
    """Count one event in the caller's transaction (an atomic increment: concurrent events from
    several processes are all counted); returns the row, flushed."""
    fresh = AddressThrottle.last_at < now - WINDOW
    values = {"count": case((fresh, 1), else_=AddressThrottle.count + 1), "last_at": now}
    statement = update(AddressThrottle).where(AddressThrottle.key == key).values(values)
    if session.execute(statement.execution_options(synchronize_session=False)).rowcount == 0:
        try:
            with session.begin_nested():
                session.add(AddressThrottle(key=key, count=1, last_at=now))
        except IntegrityError:  # created meanwhile by a concurrent event
            session.execute(statement.execution_options(synchronize_session=False))
    return session.get(AddressThrottle, key, populate_existing=True)


def forget(session: Session, key: str) -> None:
    session.execute(delete(AddressThrottle).where(AddressThrottle.key == key))
