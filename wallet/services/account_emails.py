"""A learner's e-mail addresses: add one (a confirmation link is sent), send the link again,
remove one, choose the primary one. Badges issued to any confirmed address are theirs."""

from __future__ import annotations

from sqlalchemy.orm import Session

from .. import db
from ..models import AuditEvent, Email, User
from . import accounts


def add_email(session: Session, user: User, address: str) -> Email:
    typed, key = accounts.normalize_address(address)
    if any(e.normalized == key for e in user.emails):
        raise accounts.AccountError("email_already_yours")
    if len(user.emails) >= accounts.MAX_EMAILS:
        raise accounts.AccountError("too_many_emails")
    email = Email(address=typed, normalized=key, is_primary=False)
    db.begin_write(session)
    user.emails.append(email)
    session.add(AuditEvent(actor_id=user.id, subject_id=user.id, action="email.added"))
    # An address confirmed by another account is refused at confirmation time, where the owner of
    # the mailbox can recover it; saying so here would reveal that the address has an account.
    accounts.send_confirmation(session, user, email)
    session.commit()
    return email


def resend_confirmation(session: Session, user: User, email_id: int) -> None:
    email = _own_email(user, email_id)
    if not email.confirmed:
        db.begin_write(session)
        accounts.send_confirmation(session, user, email)
        session.commit()


def remove_email(session: Session, user: User, email_id: int) -> None:
    email = _own_email(user, email_id)
    if email.is_primary:
        raise accounts.AccountError("cannot_remove_primary")
    user.emails.remove(email)
    session.add(AuditEvent(actor_id=user.id, subject_id=user.id, action="email.removed"))
    session.commit()


def make_primary(session: Session, user: User, email_id: int) -> None:
    email = _own_email(user, email_id)
    if not email.confirmed:
        raise accounts.AccountError("email_not_confirmed")
    for other in user.emails:
        other.is_primary = other.id == email.id
    session.commit()


def _own_email(user: User, email_id: int) -> Email:
    email = next((e for e in user.emails if e.id == email_id), None)
    if email is None:
        raise accounts.AccountError("not_found")
    return email
