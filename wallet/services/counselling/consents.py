"""A learner's consent to a counsellor: the code a counsellor shows, granting (by code or by the
counsellor's address), seeing and withdrawing it, and `require_consent`, which every counsellor
request goes through (it reads the consent row again: a withdrawal takes effect at once)."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from ... import db, mail
from ...models import Consent, CounsellorCode, Email, User, utcnow
from .journal import GRANTED, WITHDRAWN, audit

CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L: easy to read aloud and type
CODE_LENGTH = 8
CODE_TTL = timedelta(minutes=15)
DURATIONS = {"1": timedelta(days=31), "3": timedelta(days=92), "6": timedelta(days=183)}  # months
SCOPES = ("view", "prepare")


class CounsellingError(Exception):
    """code: bad_scope | bad_duration | code_unknown | code_expired | code_used | self |
    no_consent | out_of_scope | not_eligible | no_address | not_found."""

    def __init__(self, code: str, **params) -> None:
        self.code = code
        self.params = params
        super().__init__(code)


def _now(now: datetime | None) -> datetime:
    return now or utcnow()


def _hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def normalize_code(text: str | None) -> str:
    """What the learner typed, upper-cased, without spaces or dashes."""
    return "".join(c for c in (text or "").upper() if c not in " -\t")[:32]


def _check_choice(scope: str, months: str) -> timedelta:
    if scope not in SCOPES:
        raise CounsellingError("bad_scope")
    if months not in DURATIONS:
        raise CounsellingError("bad_duration")
    return DURATIONS[months]


# ------------------------------------------------------------------------------ the counsellor's code

def new_code(session: Session, counsellor: User, now: datetime | None = None) -> tuple[str, datetime]:
    """A fresh single-use code for the counsellor to show (its previous unused codes are dropped).
    Only its sha256 is stored."""
    now = _now(now)
    code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    session.execute(delete(CounsellorCode).where(CounsellorCode.counsellor_id == counsellor.id,
                                                 CounsellorCode.used_at.is_(None)))
    expires = now + CODE_TTL
    session.add(CounsellorCode(counsellor_id=counsellor.id, code_hash=_hash(code), expires_at=expires))
    session.commit()
    return code, expires


# -------------------------------------------------------------------------------- granting, withdrawing

def _grant(session: Session, learner: User, counsellor: User, scope: str, duration: timedelta, how: str,
           now: datetime) -> Consent:
    """Replace any active consent to the same counsellor by the new one (scope and end date)."""
    session.execute(update(Consent).where(Consent.learner_id == learner.id, Consent.counsellor_id == counsellor.id,
                                          Consent.withdrawn_at.is_(None)).values(withdrawn_at=now))
    consent = Consent(learner_id=learner.id, counsellor_id=counsellor.id, scope=scope, granted_at=now,
                      expires_at=now + duration)
    session.add(consent)
    audit(session, learner.id, learner.id, GRANTED, now, counsellor=counsellor.display_name,
           counsellor_id=counsellor.id, scope=scope, until=consent.expires_at.isoformat(), how=how)
    session.commit()
    return consent


def grant_by_code(session: Session, learner: User, code: str, scope: str, months: str,
                  now: datetime | None = None) -> Consent:
    now = _now(now)
    duration = _check_choice(scope, months)
    code = normalize_code(code)
    db.begin_write(session)
    row = session.scalar(select(CounsellorCode).where(CounsellorCode.code_hash == _hash(code))) if code else None
    if row is None:
        session.rollback()
        raise CounsellingError("code_unknown")
    if row.used_at is not None:
        session.rollback()
        raise CounsellingError("code_used")
    if row.expires_at <= now:
        session.rollback()
        raise CounsellingError("code_expired")
    counsellor = session.get(User, row.counsellor_id)
    if counsellor is None or counsellor.role != "counsellor":
        session.rollback()
        raise CounsellingError("code_unknown")
    if counsellor.id == learner.id:
        session.rollback()
        raise CounsellingError("self")
    taken = session.execute(update(CounsellorCode).where(CounsellorCode.id == row.id,
                                                         CounsellorCode.used_at.is_(None))
                            .values(used_at=now)).rowcount
    if not taken:  # another learner typed it a moment before
        session.rollback()
        raise CounsellingError("code_used")
    return _grant(session, learner, counsellor, scope, duration, "code", now)


def grant_by_email(session: Session, learner: User, address: str, scope: str, months: str,
                   now: datetime | None = None) -> Consent | None:
    """Grant access to the counsellor whose confirmed address this is. Returns None when there is no
    such counsellor: the page answers the same way in both cases (no account oracle); the
    counsellor gets a mail when access was granted."""
    now = _now(now)
    duration = _check_choice(scope, months)
    normalized = (address or "").strip().lower()
    counsellor = session.scalar(select(User).join(Email, Email.user_id == User.id).where(
        Email.normalized == normalized, Email.verified_at.is_not(None), User.role == "counsellor"))
    if counsellor is None or counsellor.id == learner.id:
        return None
    consent = _grant(session, learner, counsellor, scope, duration, "email", now)
    _mail_counsellor(session, counsellor, learner)
    session.commit()  # the mail is sent after this commit (wallet/mail.py)
    return consent


def _mail_counsellor(session: Session, counsellor: User, learner: User) -> None:
    from flask_babel import force_locale
    from flask_babel import gettext as _

    to = counsellor.primary_email
    if to is None:
        return
    link = current_app.config["BASE_URL"] + "/conseiller/"
    with force_locale(counsellor.locale):
        mail.queue(session, to.address,
                   _("%(name)s vous a donné accès à son portefeuille", name=learner.display_name),
                   _("Bonjour %(counsellor)s,\n\n%(name)s vous a donné accès à son portefeuille de badges. "
                     "Retrouvez cette personne dans « Mes apprenants » :\n\n%(link)s",
                     counsellor=counsellor.display_name, name=learner.display_name, link=link),
                   user_id=counsellor.id)


def active_clause(now: datetime):
    return (Consent.withdrawn_at.is_(None), (Consent.expires_at.is_(None)) | (Consent.expires_at > now))


@dataclass(frozen=True, slots=True)
class ConsentRow:
    """A consent as the learner sees it."""

    id: int
    counsellor_name: str
    scope: str
    granted_at: datetime
    expires_at: datetime | None


def learner_consents(session: Session, learner: User, now: datetime | None = None) -> list[ConsentRow]:
    rows = session.execute(select(Consent, User.display_name).join(User, User.id == Consent.counsellor_id)
                           .where(Consent.learner_id == learner.id, *active_clause(_now(now)))
                           .order_by(Consent.granted_at.desc()))
    return [ConsentRow(c.id, name, c.scope, c.granted_at, c.expires_at) for c, name in rows]


def withdraw(session: Session, learner: User, consent_id: int, now: datetime | None = None) -> bool:
    """False when the consent is not the learner's (or already ended): the page answers 404."""
    now = _now(now)
    consent = session.scalar(select(Consent).where(Consent.id == consent_id, Consent.learner_id == learner.id,
                                                   *active_clause(now)))
    if consent is None:
        return False
    consent.withdrawn_at = now
    counsellor = session.get(User, consent.counsellor_id)
    audit(session, learner.id, learner.id, WITHDRAWN, now, counsellor_id=consent.counsellor_id,
           counsellor=counsellor.display_name if counsellor else "")
    session.commit()
    return True


def require_consent(session: Session, counsellor: User, learner_id: int, scope: str = "view",
                    now: datetime | None = None) -> Consent:
    """The active consent of this learner to this counsellor, read now (never cached)."""
    consent = session.scalar(select(Consent).where(Consent.counsellor_id == counsellor.id,
                                                   Consent.learner_id == learner_id, *active_clause(_now(now)))
                             .order_by(Consent.id.desc()))
    if consent is None:
        raise CounsellingError("no_consent")
    if scope == "prepare" and consent.scope != "prepare":
        raise CounsellingError("out_of_scope")
    return consent
