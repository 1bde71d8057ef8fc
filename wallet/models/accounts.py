"""Accounts: people and their roles, their e-mail addresses, the audit trail, address throttles."""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import Base
from .columns import UTCDateTime, utcnow

ROLES = ("learner", "counsellor", "admin")


def new_session_token() -> str:
    return secrets.token_urlsafe(24)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    display_name: Mapped[str] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(20), default="learner")
    locale: Mapped[str] = mapped_column(String(5), default="fr")
    password_hash: Mapped[str] = mapped_column(String(255))
    # Part of the login cookie: rotating it ends every session of the user (logout, password change).
    session_token: Mapped[str] = mapped_column(String(64), default=new_session_token)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    emails: Mapped[list[Email]] = relationship(back_populates="user", cascade="all, delete-orphan",
                                                 order_by="Email.id")

    # flask-login protocol ---------------------------------------------------------------------
    is_active = True
    is_anonymous = False
    is_authenticated = True

    def get_id(self) -> str:
        return f"{self.id}:{self.session_token}"

    @property
    def primary_email(self) -> Email | None:
        return next((e for e in self.emails if e.is_primary), self.emails[0] if self.emails else None)

    @property
    def confirmed_addresses(self) -> list[str]:
        return [e.address for e in self.emails if e.verified_at is not None]


class Email(Base):
    __tablename__ = "emails"
    __table_args__ = (
        UniqueConstraint("user_id", "normalized", name="uq_emails_user_address"),
        # A confirmed address belongs to one account only.
        Index("uq_emails_confirmed_address", "normalized", unique=True,
              sqlite_where=text("verified_at IS NOT NULL"),
              postgresql_where=text("verified_at IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    address: Mapped[str] = mapped_column(String(320))  # as the person typed it (trimmed)
    normalized: Mapped[str] = mapped_column(String(320), index=True)  # lower-cased: lookups, uniqueness
    is_primary: Mapped[bool] = mapped_column(Boolean, default=False)
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    user: Mapped[User] = relationship(back_populates="emails")

    @property
    def confirmed(self) -> bool:
        return self.verified_at is not None


class AuditEvent(Base):
    """Who did what for whom (account security events now; counsellor actions later)."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    subject_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                                   nullable=True, index=True)
    action: Mapped[str] = mapped_column(String(60))
    detail: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class AddressThrottle(Base):
    """A counter per typed e-mail address and purpose (services/throttles.py), keyed by an HMAC
    of both — whether or not an account has the address, so the counters reveal nothing, and no
    address is stored. Used by the login backstop (SECURITY.md T61: failures, and the moment the
    next attempt is allowed) and by password resets (mails per address and hour)."""

    __tablename__ = "address_throttles"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)
    last_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    next_allowed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
