"""Counsellor and admin accounts by invitation: an admin invites an address (a single-use link,
mailed; only its hash is stored), the invited person opens the link and creates the account."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ... import db, mail
from ...keys.passwords import hash_password, password_problem
from ...models import AuditEvent, Email, Invitation, User, utcnow
from .base import AdminError, audit
from .people import role_label

INVITATION_DAYS = 7
INVITABLE_ROLES = ("counsellor", "admin")


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Invited:
    invitation: Invitation
    link: str  # shown once to the admin, mailed to the person; only its hash is stored


def create_invitation(session: Session, actor: User, address: str, role: str = "counsellor",
                      now: datetime | None = None) -> Invited:
    from ..accounts import AccountError, normalize_address

    if role not in INVITABLE_ROLES:
        raise AdminError("bad_role")
    try:
        typed, key = normalize_address(address)
    except AccountError:
        raise AdminError("bad_email") from None
    now = now or utcnow()
    if session.scalar(select(Email.id).where(Email.normalized == key, Email.verified_at.is_not(None))):
        session.rollback()
        raise AdminError("address_has_account")
    token = secrets.token_urlsafe(32)  # 256 bits
    invitation = Invitation(email=typed, role=role, token_hash=_hash(token), created_by_id=actor.id,
                            created_at=now, expires_at=now + timedelta(days=INVITATION_DAYS))
    session.add(invitation)
    audit(session, actor, "invitation.created", None, f"{role} {key}")
    link = current_app.config["BASE_URL"] + url_for("auth.invitation", token=token)
    with force_locale("fr"):
        role_name = role_label(role)
        subject = _("Votre invitation au portefeuille de badges")
        body = _("Bonjour,\n\nLa Région vous invite à rejoindre le portefeuille de badges en tant que "
                 "%(role)s. Pour créer votre compte, ouvrez ce lien (valable %(days)s jours, une seule fois) :"
                 "\n\n%(link)s\n\nSi vous ne vous attendiez pas à ce message, ignorez-le.",
                 role=role_name, days=INVITATION_DAYS, link=link)
    mail.queue(session, typed, subject, body)
    session.commit()  # the mail is sent after this commit (wallet/mail.py)
    return Invited(invitation, link)


def pending_invitations(session: Session, now: datetime | None = None) -> list[Invitation]:
    now = now or utcnow()
    rows = list(session.scalars(select(Invitation).where(Invitation.used_at.is_(None), Invitation.expires_at > now)
                                .order_by(Invitation.id.desc())))
    session.commit()
    return rows


def check_invitation(session: Session, token: str, now: datetime | None = None) -> Invitation:
    """The invitation a link names, or AdminError (invalid, used, expired)."""
    now = now or utcnow()
    invitation = session.scalar(select(Invitation).where(Invitation.token_hash == _hash(token or "")))
    if invitation is None:
        raise AdminError("invitation_invalid")
    if invitation.used_at is not None:
        raise AdminError("invitation_used")
    if invitation.expires_at <= now:
        raise AdminError("invitation_expired")
    return invitation


def accept_invitation(session: Session, token: str, display_name: str, password: str,
                      now: datetime | None = None) -> User:
    """Create the invited account: confirmed (the link proves the address), with the invited role."""
    now = now or utcnow()
    display_name = (display_name or "").strip()
    invitation = check_invitation(session, token, now)
    if not display_name or len(display_name) > 120:
        raise AdminError("bad_name")
    key = invitation.email.lower()
    problem = password_problem(password, personal=(display_name, key.split("@")[0]))
    if problem:
        raise AdminError(f"password_{problem}")
    password_hash = hash_password(password)
    db.begin_write(session)
    taken = session.scalar(select(Email.id).where(Email.normalized == key, Email.verified_at.is_not(None)))
    if taken is not None:
        session.rollback()
        raise AdminError("address_owned_elsewhere")
    # Single use even under concurrent clicks: only one request flips used_at.
    claimed = session.execute(update(Invitation).where(Invitation.id == invitation.id, Invitation.used_at.is_(None))
                              .values(used_at=now))
    if claimed.rowcount != 1:
        session.rollback()
        raise AdminError("invitation_used")
    user = User(display_name=display_name, password_hash=password_hash, role=invitation.role, created_at=now)
    user.emails.append(Email(address=invitation.email, normalized=key, is_primary=True, verified_at=now))
    session.add(user)
    try:
        session.flush()
        session.add(AuditEvent(actor_id=invitation.created_by_id, subject_id=user.id, action="account.invited",
                               detail=invitation.role))
        session.commit()
    except IntegrityError:
        session.rollback()
        raise AdminError("address_owned_elsewhere") from None
    return user
