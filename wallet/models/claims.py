"""Claims (regional badge requests), their delivery outbox, and the credentials the builtin issuer issued."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base
from .columns import UTCDateTime, utcnow

CLAIM_STATES = ("pending", "sent", "in_review", "issued", "refused", "failed", "withdrawn")
ACTIVE_CLAIM_STATES = ("pending", "sent", "in_review", "issued")


class Claim(Base):
    """A learner's request for a regional badge. At most one active claim per learner and badge."""

    __tablename__ = "claims"
    __table_args__ = (
        Index("uq_claims_active", "user_id", "regional_badge_id", unique=True,
              sqlite_where=text("active = 1"), postgresql_where=text("active")),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True,
                                                index=True)
    regional_badge_id: Mapped[str] = mapped_column(String(2048))
    regional_badge_key: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(20), default="pending", index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    recipient_email: Mapped[str] = mapped_column(String(320))
    evidence: Mapped[str] = mapped_column(Text, default="[]")  # JSON: supporting badges, verdicts, page URLs
    evidence_share_id: Mapped[int | None] = mapped_column(ForeignKey("shares.id", ondelete="SET NULL"),
                                                          nullable=True)
    issuer_backend: Mapped[str] = mapped_column(String(20))
    issuer_reference: Mapped[str | None] = mapped_column(String(2048), nullable=True)
    issued_badge_id: Mapped[int | None] = mapped_column(ForeignKey("badges.id", ondelete="SET NULL"),
                                                        nullable=True)
    refusal_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    needs_staff: Mapped[bool] = mapped_column(Boolean, default=False)  # flagged after N failed deliveries
    history: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of {at, status, note}
    prepared_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"),
                                                       nullable=True)  # a counsellor (issue 9)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Outbox(Base):
    """A delivery to do after the commit that created it (claims to the issuer)."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("claims.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(30), default="deliver_claim")
    state: Mapped[str] = mapped_column(String(20), default="pending", index=True)  # pending|done|dead
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    outcome_unknown: Mapped[bool] = mapped_column(Boolean, default=False)  # sent, answer lost
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class IssuedCredential(Base):
    """A credential issued by the builtin Region issuer (its status list index, for revocation)."""

    __tablename__ = "issued_credentials"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    credential_id: Mapped[str] = mapped_column(String(200), unique=True)
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    claim_id: Mapped[int | None] = mapped_column(ForeignKey("claims.id", ondelete="SET NULL"), nullable=True)
    regional_badge_id: Mapped[str] = mapped_column(String(2048))
    status_index: Mapped[int] = mapped_column(Integer, unique=True)
    payload: Mapped[str] = mapped_column(Text)  # the signed credential, exactly as issued
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    revocation_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
