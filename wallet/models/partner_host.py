"""The wallet as a backpack host (wallet/partners/host/): partner systems registered to push badges in,
learners' accesses, authorization codes, tokens, and every push received."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import Base
from .columns import UTCDateTime, utcnow

HOST_ACCESS_KINDS = ("app_password", "oauth")  # Badgr v2 mode (Moodle "OB 2.0") | Badge Connect 2.1


class HostClient(Base):
    """A partner system registered by RFC 7591 dynamic registration (e.g. a training centre's Moodle).

    Registration is open (Badge Connect has no initial access token): a client can do nothing until
    a learner consents on the wallet's own page. Only the hash of the client secret is kept."""

    __tablename__ = "host_clients"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64))  # sha256 hex of the client secret
    name: Mapped[str] = mapped_column(String(200), default="")
    client_uri: Mapped[str | None] = mapped_column(String(2048), nullable=True)
    logo_uri: Mapped[str | None] = mapped_column(String(2048), nullable=True)
    tos_uri: Mapped[str | None] = mapped_column(String(2048), nullable=True)
    policy_uri: Mapped[str | None] = mapped_column(String(2048), nullable=True)
    software_id: Mapped[str] = mapped_column(String(200), default="")
    software_version: Mapped[str] = mapped_column(String(100), default="")
    redirect_uris: Mapped[str] = mapped_column(Text, default="[]")  # JSON list
    scope: Mapped[str] = mapped_column(Text, default="")  # what it registered for (space-separated)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class HostAccess(Base):
    """One partner system's access to one learner's wallet: an app password the learner created for
    it (kind `app_password`, Moodle's "OB 2.0" mode), or the learner's consent to a registered
    client (kind `oauth`, Badge Connect). Cutting it off revokes every token issued under it."""

    __tablename__ = "host_accesses"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    client_id: Mapped[int | None] = mapped_column(ForeignKey("host_clients.id", ondelete="CASCADE"),
                                                  nullable=True, index=True)
    label: Mapped[str] = mapped_column(String(200), default="")  # the partner's name, as the learner knows it
    secret_hash: Mapped[str | None] = mapped_column(String(64), nullable=True, unique=True)  # app password
    hint: Mapped[str] = mapped_column(String(8), default="")  # the app password's last characters
    scope: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    client: Mapped[HostClient | None] = relationship()


class HostAuthorizationCode(Base):
    """An authorization code (single use, 10 minutes, PKCE S256). Kept after use so that a replayed
    code revokes the tokens issued from it (RFC 6749 §4.1.2)."""

    __tablename__ = "host_authorization_codes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("host_clients.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    redirect_uri: Mapped[str] = mapped_column(String(2048))
    scope: Mapped[str] = mapped_column(Text, default="")
    code_challenge: Mapped[str] = mapped_column(String(128))
    code_challenge_method: Mapped[str] = mapped_column(String(10), default="S256")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class HostToken(Base):
    """An access token (and its refresh token) issued under a HostAccess; only hashes are kept."""

    __tablename__ = "host_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    access_id: Mapped[int] = mapped_column(ForeignKey("host_accesses.id", ondelete="CASCADE"), index=True)
    code_id: Mapped[int | None] = mapped_column(ForeignKey("host_authorization_codes.id", ondelete="SET NULL"),
                                                nullable=True, index=True)
    access_hash: Mapped[str] = mapped_column(String(64), unique=True)
    refresh_hash: Mapped[str | None] = mapped_column(String(64), nullable=True, unique=True)
    scope: Mapped[str] = mapped_column(Text, default="")
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    refresh_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    access: Mapped[HostAccess] = relationship()


class HostPush(Base):
    """One badge pushed in by a partner system, whatever came of it (the admin's figures, the
    learner's "last push"). Kept without the learner when the account is deleted."""

    __tablename__ = "host_pushes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True,
                                                index=True)
    access_id: Mapped[int | None] = mapped_column(ForeignKey("host_accesses.id", ondelete="SET NULL"),
                                                  nullable=True, index=True)
    mode: Mapped[str] = mapped_column(String(20))  # badgr_v2 | badge_connect
    partner: Mapped[str] = mapped_column(String(200), default="")  # client name, or the badge's host
    source_host: Mapped[str] = mapped_column(String(255), default="")  # host of the pushed assertion's id
    outcome: Mapped[str] = mapped_column(String(20))  # imported | not_yours | duplicate | refused
    code: Mapped[str] = mapped_column(String(40), default="")  # why it was refused
    badge_id: Mapped[int | None] = mapped_column(ForeignKey("badges.id", ondelete="SET NULL"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
