"""Outgoing mail, always through the outbox (SECURITY.md T62).

A use case calls `queue(session, …)`: the mail becomes a row of `outgoing_mails` in the use case's
own transaction, so it is sent exactly when the use case commits, and no request ever waits for
SMTP (whose delay would tell an observer that an address has an account). Sending happens:

- after the response: once the transaction commits inside a request, the response gets a
  `call_on_close` callback that starts a short-lived sender thread (the WSGI server calls it
  after the last byte went out);
- in `wallet worker` (`deliver_pending`), for anything left: a crash, an SMTP failure (retried
  with a growing delay), or mail queued outside a request;
- inline, right at commit, when MAIL_SEND_INLINE is set (tests: deterministic; refused in production).

Backends: the console (the default: `make run` prints the mail, its link included), SMTP when
WALLET_MAIL_* is set, or a list in memory (tests read the links from there). The subject and body
are stored encrypted (they carry one-time links) and the row is deleted once sent.
"""

from __future__ import annotations

import json
import logging
import smtplib
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage

from flask import Flask, current_app, g, has_request_context
from sqlalchemy import event, or_, select, update
from sqlalchemy.orm import Session

from . import db
from .keys import crypto
from .models import OutgoingMail, utcnow

log = logging.getLogger("wallet.mail")

MAX_ATTEMPTS = 8
CLAIM_FOR = timedelta(minutes=5)  # a sender that died frees its mail after this
_HOOKED = "wallet_mail_after_commit"


@dataclass(frozen=True, slots=True)
class Message:
    to: str
    subject: str
    body: str


def init_app(app: Flask) -> None:
    app.extensions["wallet_mail_outbox"] = []

    @app.after_request
    def _send_after_response(response):
        if g.pop("wallet_mail_pending", False):
            response.call_on_close(lambda: start_sender(app))
        return response


def outbox(app: Flask | None = None) -> list[Message]:
    """The memory backend's sent mail (tests)."""
    return (app or current_app).extensions["wallet_mail_outbox"]


def queue(session: Session, to: str, subject: str, body: str, *, user_id: int | None = None,
          now: datetime | None = None) -> None:
    """Add a mail to the use case's transaction; it is sent after that transaction commits."""
    now = now or utcnow()
    content = crypto.encrypt(current_app, json.dumps({"subject": subject, "body": body}))
    session.add(OutgoingMail(to_address=to, content=content, user_id=user_id, created_at=now, next_at=now))
    if not session.info.get(_HOOKED):
        session.info[_HOOKED] = True
        event.listen(session, "after_commit", _after_commit, once=True)


def _after_commit(session: Session) -> None:
    session.info.pop(_HOOKED, None)
    app = current_app._get_current_object()
    if app.config.get("MAIL_SEND_INLINE"):
        deliver_pending(app)
    elif has_request_context():
        g.wallet_mail_pending = True
    # Elsewhere (CLI, worker): `wallet worker` delivers it on its round.


def start_sender(app: Flask) -> threading.Thread:
    """Deliver what is pending in a thread of its own (after a response has been sent)."""
    thread = threading.Thread(target=_deliver_quietly, args=(app,), name="wallet-mail", daemon=True)
    thread.start()
    return thread


def _deliver_quietly(app: Flask) -> None:
    try:
        deliver_pending(app)
    except Exception:  # a sender thread must never die silently; the worker retries
        log.exception("the mail sender stopped; `wallet worker` will deliver what is left")


def deliver_pending(app: Flask, now: datetime | None = None, limit: int = 100) -> int:
    """Send the due mail (each claimed first, so two senders never send the same one).
    Returns how many were sent."""
    sent = 0
    with app.app_context():
        session = db.new_session(app)
        try:
            moment = now or utcnow()
            due = list(session.scalars(
                select(OutgoingMail.id).where(OutgoingMail.next_at <= moment, _free(moment))
                .order_by(OutgoingMail.id).limit(limit)))
            session.commit()
            for mail_id in due:
                sent += _deliver_one(app, session, mail_id, now or utcnow())
        finally:
            session.close()
    return sent


def _free(moment: datetime):
    return or_(OutgoingMail.claimed_until.is_(None), OutgoingMail.claimed_until < moment)


def _deliver_one(app: Flask, session: Session, mail_id: int, now: datetime) -> int:
    claimed = session.execute(update(OutgoingMail).where(OutgoingMail.id == mail_id, _free(now))
                              .values(claimed_until=now + CLAIM_FOR))
    session.commit()
    if claimed.rowcount != 1:
        return 0  # another sender has it
    row = session.get(OutgoingMail, mail_id)
    session.commit()  # end the read: on SQLite a read transaction cannot become a writer under load
    if row is None:
        return 0
    try:
        content = json.loads(crypto.decrypt(app, row.content))
        _send(app, Message(row.to_address, content["subject"], content["body"]))
    except (OSError, smtplib.SMTPException, crypto.TokenDecryptError, ValueError, KeyError) as exc:
        row.attempts += 1
        row.last_error = type(exc).__name__[:200]
        if row.attempts >= MAX_ATTEMPTS or isinstance(exc, crypto.TokenDecryptError):
            log.error("mail %s given up after %s attempt(s): %s", row.id, row.attempts, row.last_error)
            session.delete(row)
        else:
            log.warning("mail %s not sent (%s); retried later", row.id, row.last_error)
            row.next_at = now + timedelta(minutes=2 ** row.attempts)
            row.claimed_until = None
        session.commit()
        return 0
    session.delete(row)
    session.commit()
    return 1


def _send(app: Flask, message: Message) -> None:
    backend = app.config["MAIL_BACKEND"]
    if backend == "memory":
        outbox(app).append(message)
    elif backend == "smtp":
        _send_smtp(app, message)
    else:
        # The console backend is for development: the link is what a developer needs to see.
        print(f"--- mail to {message.to}\nSubject: {message.subject}\n\n{message.body}\n---", flush=True)


def _send_smtp(app: Flask, message: Message) -> None:
    """Raises OSError / SMTPException when the relay fails: the outbox retries."""
    mail = EmailMessage()
    mail["From"] = app.config["MAIL_SENDER"]
    mail["To"] = message.to
    mail["Subject"] = message.subject
    mail.set_content(message.body)
    cfg = app.config
    with smtplib.SMTP(cfg["MAIL_SERVER"], int(cfg["MAIL_PORT"]), timeout=10) as smtp:
        if cfg.get("MAIL_USE_TLS"):
            smtp.starttls()
        if cfg.get("MAIL_USERNAME"):
            smtp.login(cfg["MAIL_USERNAME"], cfg["MAIL_PASSWORD"] or "")
        smtp.send_message(mail)
