"""App passwords: how a learner lets ONE partner system (their training centre's Moodle in its
"OB 2.0" mode) push badges in, without ever giving it their wallet password.

Moodle stores what the learner types in clear in its own database and sends it to
`<scheme>://<host>/o/token` as `username=<email>&password=<password>` (no grant_type, no client id:
Moodle 4.5 `badges/classes/backpack_api_mapping.php`, action `user`). So the secret it holds must be
one the learner can cut off alone: random (100 bits), shown once, stored as a hash, one per partner.
The wallet password is always refused there, with the same answer as any wrong password (no oracle);
the learner is told on their applications page that they typed it into a partner's site.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ...keys.passwords import check_password
from ...models import AuditEvent, HostAccess, User
from ...services.accounts import AccountError, find_account_email, normalize_address
from . import tokens
from .common import SCOPE_BADGR_BACKPACK, digest

ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: read aloud or copied by hand
GROUPS, GROUP_LEN = 5, 4                      # 20 characters ≈ 99 bits
MAX_ACTIVE = 20
MAX_LABEL = 80
WALLET_PASSWORD_EVENT = "host.wallet_password_refused"


class AppPasswordError(Exception):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True, slots=True)
class Created:
    access: HostAccess
    password: str  # shown once, never stored


def normalize(password: str) -> str:
    """What the learner may have typed: any case, with or without the dashes and spaces."""
    return "".join(ch for ch in (password or "").lower() if ch not in "- \t")


def _generate() -> str:
    groups = ["".join(secrets.choice(ALPHABET) for _ in range(GROUP_LEN)) for _ in range(GROUPS)]
    return "-".join(groups)


def create(session: Session, user: User, label: str, now: datetime) -> Created:
    label = " ".join((label or "").split())
    if not label:
        raise AppPasswordError("label_missing")
    if len(label) > MAX_LABEL:
        raise AppPasswordError("label_too_long")
    active = session.scalar(select(func.count(HostAccess.id)).where(
        HostAccess.user_id == user.id, HostAccess.kind == "app_password", HostAccess.revoked_at.is_(None)))
    if (active or 0) >= MAX_ACTIVE:
        raise AppPasswordError("too_many")
    password = _generate()
    access = HostAccess(user_id=user.id, kind="app_password", label=label, secret_hash=digest(normalize(password)),
                        hint=password[-4:], scope=SCOPE_BADGR_BACKPACK, created_at=now)
    session.add(access)
    session.add(AuditEvent(actor_id=user.id, subject_id=user.id, action="host.app_password_created", detail=label))
    session.commit()
    return Created(access, password)


def login(session: Session, username: str, password: str, now: datetime) -> tokens.Issued:
    """Moodle's login: a confirmed address of the learner and one of their live app passwords.

    Raises AppPasswordError("bad_credentials") for every failure alike."""
    user = _user_for(session, username)
    access = None
    if user is not None and password and len(password) <= 200:
        access = session.scalar(select(HostAccess).where(
            HostAccess.secret_hash == digest(normalize(password)), HostAccess.kind == "app_password",
            HostAccess.revoked_at.is_(None), HostAccess.user_id == user.id))
    if access is None:
        # The same work whoever asks; and the learner is warned if it was their wallet password.
        if check_password(user.password_hash if user else None, password or "") and user is not None:
            session.add(AuditEvent(actor_id=None, subject_id=user.id, action=WALLET_PASSWORD_EVENT))
            session.commit()
        session.rollback()
        raise AppPasswordError("bad_credentials")
    issued = tokens.issue(session, access, SCOPE_BADGR_BACKPACK, now)
    session.commit()
    return issued


def refresh(session: Session, refresh_token: str, now: datetime) -> tokens.Issued:
    """Badgr's refresh (grant_type=refresh_token, no client): new tokens, the old ones revoked."""
    old = tokens.by_refresh_token(session, refresh_token, now)
    if old is None or old.access.kind != "app_password":
        session.rollback()
        raise AppPasswordError("bad_refresh_token")
    tokens.revoke(session, old, now)
    issued = tokens.issue(session, old.access, old.scope, now)
    session.commit()
    return issued


def _user_for(session: Session, username: str) -> User | None:
    try:
        _typed, key = normalize_address(username or "")
    except AccountError:
        return None
    email = find_account_email(session, key)
    # Only a CONFIRMED address names a learner here: an unconfirmed one may be someone else's.
    if email is None or not email.confirmed:
        return None
    return email.user


def wallet_password_seen(session: Session, user: User) -> datetime | None:
    """When the learner last typed their wallet password into a partner's login, if they have not
    changed it since (else None)."""
    def last(*actions: str) -> datetime | None:
        return session.scalar(select(func.max(AuditEvent.created_at)).where(
            AuditEvent.subject_id == user.id, AuditEvent.action.in_(actions)))

    seen = last(WALLET_PASSWORD_EVENT)
    changed = last("auth.password_changed", "auth.password_reset")
    return seen if seen is not None and (changed is None or changed < seen) else None
