"""Outgoing mail: to the log (console, the default), to SMTP when WALLET_MAIL_* is set, or to a
list in memory (tests read the confirmation links from there)."""

from __future__ import annotations

import logging
import smtplib
from dataclasses import dataclass
from email.message import EmailMessage

from flask import Flask, current_app

log = logging.getLogger("wallet.mail")


@dataclass(frozen=True, slots=True)
class Message:
    to: str
    subject: str
    body: str


def init_app(app: Flask) -> None:
    app.extensions["wallet_mail_outbox"] = []


def outbox(app: Flask | None = None) -> list[Message]:
    return (app or current_app).extensions["wallet_mail_outbox"]


def send(to: str, subject: str, body: str) -> None:
    """Send now. Call after the use case's commit, never inside a transaction."""
    app = current_app
    message = Message(to, subject, body)
    backend = app.config["MAIL_BACKEND"]
    if backend == "memory":
        outbox(app).append(message)
    elif backend == "smtp":
        _send_smtp(app, message)
    else:
        # The console backend is for development: the link is what a developer needs to see.
        print(f"--- mail to {to}\nSubject: {subject}\n\n{body}\n---", flush=True)


def _send_smtp(app: Flask, message: Message) -> None:
    mail = EmailMessage()
    mail["From"] = app.config["MAIL_SENDER"]
    mail["To"] = message.to
    mail["Subject"] = message.subject
    mail.set_content(message.body)
    cfg = app.config
    try:
        with smtplib.SMTP(cfg["MAIL_SERVER"], int(cfg["MAIL_PORT"]), timeout=10) as smtp:
            if cfg.get("MAIL_USE_TLS"):
                smtp.starttls()
            if cfg.get("MAIL_USERNAME"):
                smtp.login(cfg["MAIL_USERNAME"], cfg["MAIL_PASSWORD"] or "")
            smtp.send_message(mail)
    except (OSError, smtplib.SMTPException):
        # Never fail the user's request because the mail relay is down; the log says so.
        log.exception("mail to a user could not be sent")
