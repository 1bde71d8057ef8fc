"""Mail: the secrets of links sent by mail, and the mails waiting to be sent."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base
from .columns import UTCDateTime, utcnow


class MailToken(Base):
    """The secret of a link sent by mail (confirm an address, reset a password, unlock a login).

    The link carries 256 random bits and nothing else; only their sha256 is stored. A token is
    used once (`used_at`) and expires `created_at` + the purpose's max age (read from the config
    when it is used, so an operator can shorten it).
    """

    __tablename__ = "mail_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    purpose: Mapped[str] = mapped_column(String(20))  # confirm | reset | unlock
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    email_id: Mapped[int | None] = mapped_column(ForeignKey("emails.id", ondelete="CASCADE"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class OutgoingMail(Base):
    """A mail waiting to be sent (wallet/mail.py): written in the use case's transaction, sent after
    the response by a short-lived sender thread, or later by `wallet worker`. Deleted once sent.
    `content` (subject and body, links included) is encrypted with WALLET_TOKEN_KEYS."""

    __tablename__ = "outgoing_mails"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    to_address: Mapped[str] = mapped_column(String(320))
    content: Mapped[str] = mapped_column(Text)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=True,
                                                index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    next_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(String(200), default="")
