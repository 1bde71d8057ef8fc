"""Logging in without letting a stranger lock the owner out (SECURITY.md T61).

Three layers, from the view's Flask-Limiter limits to this module:

1. per client address (views/auth.py): bounds what one machine can try;
2. per (account, client address) (views/auth.py): five wrong passwords from elsewhere cost the
   owner nothing, since their own address has its own budget;
3. the per-account backstop (here): past FREE_FAILURES wrong passwords for an address within
   WINDOW, from anywhere, each further attempt must wait a delay after the last failure, doubling
   up to MAX_DELAY. It slows a distributed guesser down to a few tries an hour and never refuses
   the owner for good: a browser that already logged into the account (the known-device cookie),
   or that followed an unlock link mailed to the owner, skips the wait.

The backstop is keyed by an HMAC of the address as typed, whether or not an account has it, so
that it tells nothing about which addresses have accounts.
"""

from __future__ import annotations

import hmac
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy.orm import Session

from .. import db, mail
from ..models import AddressThrottle, AuditEvent, User, utcnow
from . import accounts, mail_links, throttles
from .accounts import AccountError

FREE_FAILURES = 10
WINDOW = throttles.WINDOW
MAX_DELAY = timedelta(minutes=5)
DEVICE_COOKIE = "wallet_known_device"
DEVICE_MAX_AGE = 180 * 24 * 3600
_DEVICE_ACCOUNTS = 5  # accounts remembered per browser (a shared family computer)


def address_digest(address: str) -> str:
    """HMAC of the address as typed: the backstop's, the limiter's and the device cookie's key."""
    return throttles.digest("login-backstop", address)


# known devices -----------------------------------------------------------------------------------

def _devices() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="wallet.known-device")


def _known(cookie: str | None) -> list[str]:
    if not cookie:
        return []
    try:
        digests = _devices().loads(cookie, max_age=DEVICE_MAX_AGE)
    except BadSignature:
        return []
    return [d for d in digests if isinstance(d, str)] if isinstance(digests, list) else []


def is_known_device(cookie: str | None, address: str) -> bool:
    digest = address_digest(address)[:32]
    return any(hmac.compare_digest(digest, d) for d in _known(cookie))


def remember_device(cookie: str | None, address: str) -> str:
    """The new cookie value: this address first, then up to four others this browser knew."""
    digest = address_digest(address)[:32]
    others = [d for d in _known(cookie) if d != digest]
    return _devices().dumps([digest, *others][:_DEVICE_ACCOUNTS])


# the backstop ------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Attempt:
    """What a login attempt gave: a user, or an error code, or a wait (seconds) before trying."""

    user: User | None = None
    error: str | None = None
    wait: int = 0
    device_cookie: str | None = None  # set it on the response when not None


def login(session: Session, address: str, password: str, device_cookie: str | None = None,
          now: datetime | None = None) -> Attempt:
    """One login attempt through the backstop."""
    now = now or utcnow()
    known = is_known_device(device_cookie, address)
    wait = 0 if known else seconds_to_wait(session, address, now)
    if wait:
        return Attempt(error="slowed", wait=wait)
    try:
        user = accounts.authenticate(session, address, password)
    except AccountError as err:
        session.rollback()
        _record_failure(session, address, now)
        return Attempt(error=err.code)
    _forget_failures(session, address)
    return Attempt(user=user, device_cookie=remember_device(device_cookie, address))


def seconds_to_wait(session: Session, address: str, now: datetime) -> int:
    row = session.get(AddressThrottle, address_digest(address))
    if row is None or row.next_allowed_at is None or row.next_allowed_at <= now:
        return 0
    return max(1, math.ceil((row.next_allowed_at - now).total_seconds()))


def _record_failure(session: Session, address: str, now: datetime) -> None:
    row = throttles.bump(session, address_digest(address), now)
    if row.count > FREE_FAILURES:
        row.next_allowed_at = now + min(timedelta(seconds=2 ** min(row.count - FREE_FAILURES - 1, 20)), MAX_DELAY)
    session.commit()


def _forget_failures(session: Session, address: str) -> None:
    throttles.forget(session, address_digest(address))
    session.commit()


# unlock links ------------------------------------------------------------------------------------

def request_unlock(session: Session, address: str) -> None:
    """Mail an unlock link to the owner of `address`, if it has an account. The requester is
    answered the same either way."""
    try:
        _typed, key = accounts.normalize_address(address)
    except AccountError:
        return
    email = accounts.find_account_email(session, key)
    if email is None:
        return
    user = email.user
    db.begin_write(session)
    token = mail_links.issue(session, "unlock", user.id, email.id)
    link = current_app.config["BASE_URL"] + url_for("auth.unlock", token=token)
    minutes = int(mail_links.max_age("unlock").total_seconds()) // 60
    with force_locale(user.locale):
        subject = _("Débloquer la connexion à votre portefeuille")
        body = _("Bonjour %(name)s,\n\nBeaucoup de mots de passe faux ont été essayés pour votre compte, "
                 "alors les connexions sont ralenties. Pour vous connecter tout de suite depuis ce "
                 "navigateur, ouvrez ce lien (valable %(minutes)s minutes, une seule fois) :\n\n%(link)s\n\n"
                 "Si ce n'était pas vous, votre mot de passe n'a pas été trouvé. Vous pouvez en choisir un "
                 "plus long par sécurité.", name=user.display_name, minutes=minutes, link=link)
    mail.queue(session, email.address, subject, body, user_id=user.id)
    session.commit()


def unlock(session: Session, token: str, device_cookie: str | None,
           now: datetime | None = None) -> str:
    """Use an unlock link: returns the known-device cookie for the link's address (this browser
    then skips the backstop's wait). Raises AccountError."""
    email = accounts.redeem_link(session, "unlock", token, now)
    session.add(AuditEvent(actor_id=email.user_id, subject_id=email.user_id, action="auth.unlocked"))
    session.commit()
    return remember_device(device_cookie, email.normalized)
