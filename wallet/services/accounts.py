"""Accounts: registration, email confirmation, login, password reset and change, several emails,
account deletion, the first admin.

Answers never reveal whether an address has an account (SECURITY.md T42): registration with a
known address and a reset for an unknown one look exactly like the normal case to the requester,
and take the same time (T62): registration hashes the password on both paths, and every mail goes
through the outbox (wallet/mail.py), sent after the response. Mail links carry opaque one-time
tokens (services/mail_links.py, T64).

On SQLite a transaction that has read cannot start writing once another connection has committed
(and the after-response mail sender commits often): use cases that read then write call
`db.begin_write` before their first write.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from email_validator import EmailNotValidError, validate_email
from flask import current_app, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from .. import db, mail
from ..keys.passwords import check_password, hash_password, needs_rehash, password_problem
from ..models import AuditEvent, Email, User, new_session_token, utcnow
from . import mail_links, throttles
from .mail_links import LinkError

MAX_EMAILS = 10
MAILS_PER_ADDRESS_HOUR = 3  # per address and hour: reset links; registration mails (confirm or notice)


class AccountError(Exception):
    """A refusal the person can act on; `code` picks the message shown to them."""

    def __init__(self, code: str) -> None:
        self.code = code
        super().__init__(code)


# links ------------------------------------------------------------------------------------------

def _link(endpoint: str, **values) -> str:
    return current_app.config["BASE_URL"] + url_for(endpoint, **values)


def normalize_address(address: str) -> tuple[str, str]:
    """(address as typed, lookup key) or AccountError('bad_email')."""
    address = (address or "").strip()
    if len(address) > 254:
        raise AccountError("bad_email")
    try:
        valid = validate_email(address, check_deliverability=False)
    except EmailNotValidError:
        raise AccountError("bad_email") from None
    return valid.normalized, valid.normalized.lower()


# lookups ----------------------------------------------------------------------------------------

def load_user(session: Session, cookie_id: str) -> User | None:
    """flask-login loader: the cookie carries `<id>:<session_token>`."""
    user_id, _sep, token = (cookie_id or "").partition(":")
    if not user_id.isdigit() or not token:
        return None
    user = session.get(User, int(user_id), options=[selectinload(User.emails)])
    if user is None or not _same(user.session_token, token):
        return None
    return user


def _same(a: str, b: str) -> bool:
    import hmac

    return hmac.compare_digest(a.encode(), b.encode())


def find_account_email(session: Session, key: str) -> Email | None:
    """A confirmed address, else the primary (registration) address of an account."""
    rows = session.scalars(select(Email).where(Email.normalized == key)).all()
    confirmed = [e for e in rows if e.confirmed]
    if confirmed:
        return confirmed[0]
    primaries = [e for e in rows if e.is_primary]
    return primaries[0] if len(primaries) == 1 else None


def _address_taken(session: Session, key: str) -> bool:
    return session.scalar(select(Email.id).where(
        Email.normalized == key, (Email.verified_at.is_not(None)) | (Email.is_primary.is_(True)))) is not None


# use cases --------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Registered:
    user_id: int | None  # None when the address already had an account (the requester is not told)


REGISTRATION_FIELDS = ("display_name", "email", "password", "password_confirm")


def registration_problems(display_name: str, address: str, password: str, password_confirm: str
                          ) -> dict[str, str]:
    """Every problem of a registration form at once, as {field: error code} (empty when none), so
    the form can say each one next to its field. Looks nothing up: `register` still decides."""
    problems: dict[str, str] = {}
    display_name = (display_name or "").strip()
    if not display_name or len(display_name) > 120:
        problems["display_name"] = "bad_name"
    key = ""
    try:
        _typed, key = normalize_address(address)
    except AccountError as err:
        problems["email"] = err.code
    problem = password_problem(password or "", personal=(display_name, key.split("@")[0]))
    if problem:
        problems["password"] = f"password_{problem}"
    elif (password or "") != (password_confirm or ""):
        problems["password_confirm"] = "password_mismatch"
    return problems


def register(session: Session, display_name: str, address: str, password: str, locale: str = "fr") -> Registered:
    display_name = (display_name or "").strip()
    if not display_name or len(display_name) > 120:
        raise AccountError("bad_name")
    typed, key = normalize_address(address)
    problem = password_problem(password, personal=(display_name, key.split("@")[0]))
    if problem:
        raise AccountError(f"password_{problem}")
    # Hashed on both paths: skipping argon2 for a known address would tell it by the time taken.
    password_hash = hash_password(password)
    taken = _address_taken(session, key)
    owner_email = find_account_email(session, key) if taken else None
    db.begin_write(session)
    # Counted on both paths (the same work); the owner gets a few notices an hour, not a flood.
    counted = throttles.bump(session, throttles.digest("register", key), utcnow())
    if taken:
        if owner_email is not None and counted.count <= MAILS_PER_ADDRESS_HOUR:
            _send_existing_account_notice(session, owner_email)
        session.commit()
        return Registered(None)
    user = User(display_name=display_name, password_hash=password_hash,
                locale=locale if locale in ("fr", "en") else "fr")
    email = Email(address=typed, normalized=key, is_primary=True)
    user.emails.append(email)
    session.add(user)
    try:
        session.flush()
        session.add(AuditEvent(actor_id=user.id, subject_id=user.id, action="account.registered"))
        send_confirmation(session, user, email)
        session.commit()
    except IntegrityError:
        session.rollback()
        return Registered(None)
    return Registered(user.id)


def send_confirmation(session: Session, user: User, email: Email) -> None:
    """Queue the confirmation mail in the caller's transaction (the email row must be flushed)."""
    session.flush()
    token = mail_links.issue(session, "confirm", user.id, email.id)
    link = _link("auth.confirm_email", token=token)
    hours = current_app.config["CONFIRM_MAX_AGE"] // 3600
    with force_locale(user.locale):
        subject = _("Confirmez votre adresse e-mail")
        body = _("Bonjour %(name)s,\n\nPour confirmer l'adresse %(address)s dans votre portefeuille de badges, "
                 "ouvrez ce lien (valable %(hours)s heures) :\n\n%(link)s\n\n"
                 "Si vous n'êtes pas à l'origine de cette demande, ignorez ce message.",
                 name=user.display_name, address=email.address, hours=hours, link=link)
    mail.queue(session, email.address, subject, body, user_id=user.id)


def _send_existing_account_notice(session: Session, email: Email) -> None:
    user = email.user
    with force_locale(user.locale):
        subject = _("Votre portefeuille de badges existe déjà")
        body = _("Bonjour %(name)s,\n\nQuelqu'un a essayé de créer un compte avec l'adresse %(address)s, "
                 "qui a déjà un compte. Si c'était vous, connectez-vous ou réinitialisez votre mot de passe :"
                 "\n\n%(link)s\n\nSinon, vous pouvez ignorer ce message.",
                 name=user.display_name, address=email.address, link=_link("auth.forgot_password"))
    mail.queue(session, email.address, subject, body, user_id=user.id)


def redeem_link(session: Session, purpose: str, token: str, now: datetime | None = None) -> Email:
    """Use a one-time link in a write transaction; the address it was sent to, else AccountError."""
    db.begin_write(session)
    try:
        link = mail_links.redeem(session, purpose, token, now)
    except LinkError as err:
        session.rollback()
        raise AccountError(err.code) from None
    email = session.get(Email, link.email_id) if link.email_id is not None else None
    if email is None:  # pragma: no cover - the token row goes with the address (ON DELETE CASCADE)
        session.rollback()
        raise AccountError("link_invalid")
    return email


def confirm_email(session: Session, token: str, now: datetime | None = None) -> Email:
    """Confirm the address of a one-time, expiring link."""
    email = redeem_link(session, "confirm", token, now)
    if email.confirmed:
        session.commit()
        return email
    other = session.scalar(select(Email).where(Email.normalized == email.normalized,
                                               Email.verified_at.is_not(None), Email.id != email.id))
    if other is not None:
        session.rollback()  # the link stays usable once the address is recovered
        raise AccountError("address_owned_elsewhere")
    email.verified_at = utcnow()
    session.add(AuditEvent(actor_id=email.user_id, subject_id=email.user_id, action="email.confirmed"))
    # Badges issued to this address count from now on, with no new upload.
    from .badges import rematch

    rematch(session, email.user)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise AccountError("address_owned_elsewhere") from None
    return email


def authenticate(session: Session, address: str, password: str) -> User:
    try:
        _typed, key = normalize_address(address)
    except AccountError:
        check_password(None, password)
        raise AccountError("bad_credentials") from None
    email = find_account_email(session, key)
    user = email.user if email is not None else None
    if not check_password(user.password_hash if user else None, password) or user is None:
        raise AccountError("bad_credentials")
    db.begin_write(session)  # after the slow password check, so its read snapshot is not stale
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    session.add(AuditEvent(actor_id=user.id, subject_id=user.id, action="auth.login"))
    session.commit()
    return user


def logout(session: Session, user: User) -> None:
    """End every session of the user: the signed cookie alone can no longer log in."""
    user.session_token = new_session_token()
    session.add(user)
    session.commit()


def request_password_reset(session: Session, address: str, now: datetime | None = None) -> None:
    try:
        _typed, key = normalize_address(address)
    except AccountError:
        return
    email = find_account_email(session, key)
    # Known or not, the request is counted in a write transaction: the same work on both paths
    # (T62), and no more than MAILS_PER_ADDRESS_HOUR mails per address (nobody floods a mailbox).
    db.begin_write(session)
    counted = throttles.bump(session, throttles.digest("reset", key), now or utcnow())
    if email is None or counted.count > MAILS_PER_ADDRESS_HOUR:
        session.commit()
        return
    user = email.user
    token = mail_links.issue(session, "reset", user.id, email.id)
    link = _link("auth.reset_password", token=token)
    with force_locale(user.locale):
        subject = _("Réinitialiser votre mot de passe")
        body = _("Bonjour %(name)s,\n\nPour choisir un nouveau mot de passe, ouvrez ce lien "
                 "(valable 2 heures, une seule fois) :\n\n%(link)s\n\n"
                 "Si vous n'avez rien demandé, ignorez ce message : votre mot de passe ne change pas.",
                 name=user.display_name, link=link)
    mail.queue(session, email.address, subject, body, user_id=user.id)
    session.commit()


def reset_password(session: Session, token: str, password: str, now: datetime | None = None) -> User:
    db.begin_write(session)
    try:
        link = mail_links.find(session, "reset", token, now)
    except LinkError as err:
        raise AccountError(err.code) from None
    user = session.get(User, link.user_id)
    if user is None:  # pragma: no cover - the token row goes with the user (ON DELETE CASCADE)
        raise AccountError("link_invalid")
    _set_password(user, password)  # a refused password leaves the link usable
    try:
        mail_links.redeem(session, "reset", token, now)
    except LinkError as err:
        session.rollback()
        raise AccountError(err.code) from None
    mail_links.revoke(session, "reset", user.id, now)  # older reset links die with this one
    # A working reset link proves control of the address.
    for email in user.emails:
        if email.is_primary and email.verified_at is None and not _confirmed_elsewhere(session, email):
            email.verified_at = utcnow()
    session.add(AuditEvent(actor_id=user.id, subject_id=user.id, action="auth.password_reset"))
    session.commit()
    return user


def _confirmed_elsewhere(session: Session, email: Email) -> bool:
    return session.scalar(select(Email.id).where(Email.normalized == email.normalized,
                                                 Email.verified_at.is_not(None), Email.id != email.id)) is not None


def _set_password(user: User, password: str) -> None:
    personal = (user.display_name, *(e.normalized.split("@")[0] for e in user.emails))
    problem = password_problem(password, personal=personal)
    if problem:
        raise AccountError(f"password_{problem}")
    user.password_hash = hash_password(password)
    user.session_token = new_session_token()  # ends every other session


def change_password(session: Session, user: User, current: str, new: str) -> User:
    if not check_password(user.password_hash, current):
        raise AccountError("bad_current_password")
    _set_password(user, new)
    session.add(AuditEvent(actor_id=user.id, subject_id=user.id, action="auth.password_changed"))
    session.commit()
    return user


def set_locale(session: Session, user: User, locale: str) -> None:
    if locale in ("fr", "en") and user.locale != locale:
        user.locale = locale
        session.commit()


def delete_account(session: Session, user: User, password: str) -> None:
    if not check_password(user.password_hash, password):
        raise AccountError("bad_current_password")
    if user.role == "admin" and session.scalar(
            select(func.count(User.id)).where(User.role == "admin", User.id != user.id)) == 0:
        # The Region must never lose its last way into the console.
        raise AccountError("last_admin")
    # Everything about the person goes (partner tokens revoked first); kept claims are pseudonymised.
    from .personal_data import erase_account

    erase_account(session, user, current_app.extensions["wallet_http"], current_app.config)


def create_admin(session: Session, address: str, password: str, display_name: str = "Administrateur") -> User:
    """`wallet users create-admin`: make the account an admin (created, confirmed, if missing)."""
    typed, key = normalize_address(address)
    email = find_account_email(session, key)
    if email is not None:
        user = email.user
    else:
        problem = password_problem(password)
        if problem:
            raise AccountError(f"password_{problem}")
        user = User(display_name=display_name, password_hash=hash_password(password))
        user.emails.append(Email(address=typed, normalized=key, is_primary=True, verified_at=utcnow()))
        session.add(user)
    user.role = "admin"
    session.flush()
    session.add(AuditEvent(subject_id=user.id, action="account.made_admin"))
    session.commit()
    return user


def create_demo_learner(session: Session, address: str, password: str, display_name: str) -> User:
    """`wallet demo`: a confirmed learner account (kept as it is when it exists)."""
    typed, key = normalize_address(address)
    email = find_account_email(session, key)
    if email is not None:
        return email.user
    user = User(display_name=display_name, password_hash=hash_password(password))
    user.emails.append(Email(address=typed, normalized=key, is_primary=True, verified_at=utcnow()))
    session.add(user)
    session.commit()
    return user
