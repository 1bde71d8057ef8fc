"""The wallet as a client of partner backpacks (wallet/partners/client/): registered partners, learners'
connections to them, and OAuth authorizations in flight."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import Base
from .columns import UTCDateTime, utcnow


class PartnerBackpack(Base):
    """A partner platform registered by Region staff (OB 3.0 API and/or OB 2.1 Badge Connect)."""

    __tablename__ = "partner_backpacks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    base_url: Mapped[str] = mapped_column(String(2048), unique=True)
    protocol: Mapped[str] = mapped_column(String(10))  # ob30 | ob21
    api_base: Mapped[str] = mapped_column(String(2048))
    authorization_url: Mapped[str] = mapped_column(String(2048))
    token_url: Mapped[str] = mapped_column(String(2048))
    revocation_url: Mapped[str | None] = mapped_column(String(2048), nullable=True)
    registration_url: Mapped[str] = mapped_column(String(2048))
    issuer: Mapped[str | None] = mapped_column(String(2048), nullable=True)  # expected `iss` (RFC 9207)
    scopes: Mapped[str] = mapped_column(Text, default="")
    client_id: Mapped[str] = mapped_column(String(500))
    client_secret_enc: Mapped[str] = mapped_column(Text)  # Fernet
    discovery: Mapped[str] = mapped_column(Text, default="{}")  # the validated document (JSON)
    logo: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True, deferred=True)
    logo_type: Mapped[str | None] = mapped_column(String(40), nullable=True)
    tos_url: Mapped[str | None] = mapped_column(String(2048), nullable=True)
    privacy_url: Mapped[str | None] = mapped_column(String(2048), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # The latest sync failure on the partner's side (JSON {code, params, at}) for the admin; cleared
    # by the next sync that succeeds.
    sync_problem: Mapped[str | None] = mapped_column(Text, nullable=True)


class Connection(Base):
    """A learner's authorised link to a partner backpack (tokens encrypted at rest)."""

    __tablename__ = "connections"
    __table_args__ = (UniqueConstraint("user_id", "backpack_id", name="uq_connections_user_backpack"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    backpack_id: Mapped[int] = mapped_column(ForeignKey("partner_backpacks.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(20), default="active")  # active | reconnect | disconnected
    access_token_enc: Mapped[str | None] = mapped_column(Text, nullable=True)
    refresh_token_enc: Mapped[str | None] = mapped_column(Text, nullable=True)
    token_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    scope: Mapped[str] = mapped_column(Text, default="")
    refreshing_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)  # one refresher
    last_sync_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    next_sync_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    since: Mapped[str | None] = mapped_column(String(40), nullable=True)  # incremental sync cursor
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    failures: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # in a row: the backoff
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    backpack: Mapped[PartnerBackpack] = relationship()


class OAuthFlow(Base):
    """One authorization request in flight: single-use state, PKCE verifier kept server-side."""

    __tablename__ = "oauth_flows"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    state_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    backpack_id: Mapped[int] = mapped_column(ForeignKey("partner_backpacks.id", ondelete="CASCADE"))
    code_verifier_enc: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
