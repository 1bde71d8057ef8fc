"""One-time links sent by mail (SECURITY.md T64): confirm an address, reset a password, unlock a
login. A link carries 256 random bits and nothing else — no address, no user id, nothing derived
from the password — and only the token's sha256 is stored (`MailToken`). Each token works once
and expires after the purpose's max age (WALLET_CONFIRM_MAX_AGE, RESET_MAX_AGE, UNLOCK_MAX_AGE).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ..models import MailToken, utcnow

MAX_AGE_SETTING = {"confirm": "CONFIRM_MAX_AGE", "reset": "RESET_MAX_AGE", "unlock": "UNLOCK_MAX_AGE"}
TOKEN_BYTES = 32
_MAX_TOKEN_LENGTH = 100  # anything longer is not one of ours: refused before hashing


class LinkError(Exception):
    """`code`: link_invalid (unknown, mistyped), link_used (already used), link_expired."""

    def __init__(self, code: str) -> None:
        self.code = code
        super().__init__(code)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def max_age(purpose: str) -> timedelta:
    return timedelta(seconds=int(current_app.config[MAX_AGE_SETTING[purpose]]))


def issue(session: Session, purpose: str, user_id: int, email_id: int | None = None,
          now: datetime | None = None) -> str:
    """A new token, added to the caller's transaction. Returns the secret to put in the link."""
    if purpose not in MAX_AGE_SETTING:
        raise ValueError(f"unknown mail link purpose {purpose!r}")
    token = secrets.token_urlsafe(TOKEN_BYTES)
    session.add(MailToken(purpose=purpose, token_hash=token_hash(token), user_id=user_id, email_id=email_id,
                          created_at=now or utcnow()))
    return token


def find(session: Session, purpose: str, token: str, now: datetime | None = None) -> MailToken:
    """The live token, without using it. Raises LinkError."""
    if not token or len(token) > _MAX_TOKEN_LENGTH:
        raise LinkError("link_invalid")
    row = session.scalar(select(MailToken).where(MailToken.token_hash == token_hash(token),
                                                 MailToken.purpose == purpose))
    if row is None:
        raise LinkError("link_invalid")
    if row.used_at is not None:
        raise LinkError("link_used")
    if row.created_at + max_age(purpose) <= (now or utcnow()):
        raise LinkError("link_expired")
    return row


def redeem(session: Session, purpose: str, token: str, now: datetime | None = None) -> MailToken:
    """Use the token, in the caller's transaction (committed by the use case). Only one of two
    concurrent uses succeeds: the mark is a compare-and-set on `used_at`."""
    now = now or utcnow()
    row = find(session, purpose, token, now)
    used = session.execute(update(MailToken).where(MailToken.id == row.id, MailToken.used_at.is_(None))
                           .values(used_at=now).execution_options(synchronize_session=False))
    if used.rowcount != 1:
        raise LinkError("link_used")
    row.used_at = now
    return row


def revoke(session: Session, purpose: str, user_id: int, now: datetime | None = None) -> None:
    """Mark every live token of this purpose for this user as used (after a password change)."""
    session.execute(update(MailToken).where(MailToken.user_id == user_id, MailToken.purpose == purpose,
                                            MailToken.used_at.is_(None))
                    .values(used_at=now or utcnow()).execution_options(synchronize_session=False))
