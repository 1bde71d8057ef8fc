"""Bearer tokens the host issues to partner systems: opaque random strings, stored as hashes.

Every token belongs to a HostAccess (an app password or a learner's consent to a client). A
token is usable while it is neither expired nor revoked and its access is not cut off; the
refresh token lives longer and is rotated on use.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ...models import HostAccess, HostToken
from .common import ACCESS_TOKEN_SECONDS, REFRESH_TOKEN_DAYS, digest, new_secret


@dataclass(frozen=True, slots=True)
class Issued:
    access_token: str
    refresh_token: str | None
    expires_in: int
    scope: str

    def response(self) -> dict:
        """The RFC 6749 §5.1 token response body."""
        body = {"access_token": self.access_token, "token_type": "Bearer", "expires_in": self.expires_in,
                "scope": self.scope}
        if self.refresh_token:
            body["refresh_token"] = self.refresh_token
        return body


def store(session: Session, access: HostAccess, access_token: str, refresh_token: str | None, scope: str,
          expires_in: int, now: datetime, code_id: int | None = None) -> HostToken:
    """Record a token issued under `access` (the caller commits)."""
    token = HostToken(access_id=access.id, code_id=code_id, access_hash=digest(access_token),
                      refresh_hash=digest(refresh_token) if refresh_token else None, scope=scope,
                      issued_at=now, expires_at=now + timedelta(seconds=expires_in),
                      refresh_expires_at=now + timedelta(days=REFRESH_TOKEN_DAYS) if refresh_token else None)
    session.add(token)
    access.last_used_at = now
    return token


def issue(session: Session, access: HostAccess, scope: str, now: datetime, *, refresh: bool = True) -> Issued:
    """New random tokens under `access`, stored as hashes (the caller commits)."""
    issued = Issued(new_secret(), new_secret() if refresh else None, ACCESS_TOKEN_SECONDS, scope)
    store(session, access, issued.access_token, issued.refresh_token, scope, issued.expires_in, now)
    return issued


def _usable(token: HostToken | None) -> HostToken | None:
    if token is None or token.revoked_at is not None or token.access.revoked_at is not None:
        return None
    return token


def by_access_token(session: Session, raw: str, now: datetime) -> HostToken | None:
    """The live token whose access token is `raw`, or None (unknown, expired, revoked, cut off)."""
    if not raw or len(raw) > 512:
        return None
    token = _usable(session.scalar(select(HostToken).where(HostToken.access_hash == digest(raw))))
    return token if token is not None and token.expires_at > now else None


def by_refresh_token(session: Session, raw: str, now: datetime) -> HostToken | None:
    if not raw or len(raw) > 512:
        return None
    token = _usable(session.scalar(select(HostToken).where(HostToken.refresh_hash == digest(raw))))
    if token is None or token.refresh_expires_at is None or token.refresh_expires_at <= now:
        return None
    return token


def find_any(session: Session, raw: str, hint: str | None) -> HostToken | None:
    """For revocation (RFC 7009): the token whose access or refresh token is `raw`, live or not."""
    if not raw or len(raw) > 512:
        return None
    key = digest(raw)
    columns = [HostToken.refresh_hash, HostToken.access_hash] if hint == "refresh_token" else \
        [HostToken.access_hash, HostToken.refresh_hash]
    for column in columns:
        token = session.scalar(select(HostToken).where(column == key))
        if token is not None:
            return token
    return None


def revoke(session: Session, token: HostToken, now: datetime) -> None:
    if token.revoked_at is None:
        token.revoked_at = now


def revoke_all(session: Session, access_id: int, now: datetime) -> None:
    """Revoke every token of one access (the caller commits)."""
    session.execute(update(HostToken).where(HostToken.access_id == access_id, HostToken.revoked_at.is_(None))
                    .values(revoked_at=now))


def revoke_from_code(session: Session, code_id: int, now: datetime) -> None:
    """A replayed authorization code: revoke what was issued from it (RFC 6749 §4.1.2)."""
    session.execute(update(HostToken).where(HostToken.code_id == code_id, HostToken.revoked_at.is_(None))
                    .values(revoked_at=now))
