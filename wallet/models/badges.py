"""Badges in learners' wallets and the changes worth telling them about."""

from __future__ import annotations

from datetime import datetime

import orjson
from sqlalchemy import Boolean, ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import Base
from ..eligibility import eligibility_facts
from .accounts import User
from .columns import UTCDateTime, utcnow


class Badge(Base):
    """A badge in a learner's wallet: the original payload untouched, plus what we learnt from it.

    `verdict` holds the Verdict JSON without rendered messages (check ids and parameters); pages
    render the messages in the reader's language. `recipient` holds the badge's recipient identity
    (type, hashed, salt, identity) so that confirming a new address re-matches the badge offline;
    it is private and never leaves the learner's own pages.
    """

    __tablename__ = "badges"
    __table_args__ = (UniqueConstraint("owner_id", "credential_key", name="uq_badges_owner_credential"),
                      # Counting badges by status is an index-only scan (migration 0011, issue 17).
                      Index("ix_badges_status_id", "status", "id"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # The credential / assertion id when it has one, else sha256 of the payload: one copy per owner.
    credential_key: Mapped[str] = mapped_column(String(512))
    credential_id: Mapped[str | None] = mapped_column(String(2048), nullable=True)
    source: Mapped[str] = mapped_column(String(20))  # upload | url | paste | partner | claim
    source_url: Mapped[str | None] = mapped_column(String(2048), nullable=True)
    payload: Mapped[str] = mapped_column(Text)  # exactly as baked / pasted / fetched
    payload_format: Mapped[str] = mapped_column(String(10))  # json | jws | url
    version: Mapped[str] = mapped_column(String(5))
    name: Mapped[str] = mapped_column(String(500), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    issuer_id: Mapped[str] = mapped_column(String(2048), default="")
    issuer_name: Mapped[str] = mapped_column(String(500), default="")
    badge_class_id: Mapped[str] = mapped_column(String(2048), default="")
    issued_on: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    expires: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    status: Mapped[str] = mapped_column(String(20))
    matched: Mapped[bool] = mapped_column(Boolean, default=False)
    recipient: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of identities, private
    details: Mapped[str] = mapped_column(Text, default="{}")  # JSON: evidence, narrative (display only)
    verdict: Mapped[str] = mapped_column(Text)  # JSON, messages not rendered
    # JSON: the verdict's fields the eligibility rules read (`eligibility_facts`), set with the verdict
    # (see `_verdict_set` below); NULL (rows older than migration 0014 that it could not read) means
    # "read the verdict". A Core UPDATE of `verdict` must set it too.
    facts: Mapped[str | None] = mapped_column(Text, nullable=True)
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    # The verifier rules the verdict was judged under (services/rules.py RULES_VERSION; the default
    # must equal it: a test checks). Older verdicts are re-verified once by `wallet worker`.
    rules_version: Mapped[int] = mapped_column(Integer, default=2, index=True)
    # Held by one worker while it re-verifies the badge (services/reverification.py); expires.
    reverify_lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    image: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True, deferred=True)
    image_type: Mapped[str | None] = mapped_column(String(40), nullable=True)  # image/png | image/svg+xml
    # The file as uploaded (baked PNG/SVG), kept byte for byte for the owner's download.
    original_file: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True, deferred=True)
    original_file_type: Mapped[str | None] = mapped_column(String(40), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    owner: Mapped[User] = relationship()


@event.listens_for(Badge.verdict, "set")
def _verdict_set(badge: Badge, value: object, _old: object, _initiator: object) -> None:
    """Whoever sets a badge's verdict sets its facts: stale facts would count a revoked badge."""
    try:
        badge.facts = orjson.dumps(eligibility_facts(orjson.loads(value))).decode()  # type: ignore[arg-type]
    except (TypeError, ValueError, AttributeError):
        badge.facts = None


class BadgeEvent(Base):
    """A change worth telling the learner: a status that moved on re-verification, a new match."""

    __tablename__ = "badge_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    badge_id: Mapped[int] = mapped_column(ForeignKey("badges.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(30))  # status_changed | matched
    old: Mapped[str] = mapped_column(String(30), default="")
    new: Mapped[str] = mapped_column(String(30), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
