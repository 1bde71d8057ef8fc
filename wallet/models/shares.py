"""Sharing: public pages for employers (one badge or a collection) and claim evidence pages."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, PrimaryKeyConstraint, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import Base
from .badges import Badge
from .columns import UTCDateTime, utcnow


class Share(Base):
    """A public link to one badge or a collection. Pages are looked up by the sha256 of the token;
    the token itself is kept only encrypted (`token_enc`, wallet/keys/crypto.py), for its owner's pages."""

    __tablename__ = "shares"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    token_enc: Mapped[str | None] = mapped_column(Text, nullable=True)  # None: made before 0010
    kind: Mapped[str] = mapped_column(String(20), default="badge")  # badge | collection | evidence
    purpose: Mapped[str] = mapped_column(String(20), default="")  # "" | linkedin (permanent, one per badge)
    label: Mapped[str] = mapped_column(String(200), default="")
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    view_count: Mapped[int] = mapped_column(Integer, default=0)
    last_viewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    items: Mapped[list[ShareItem]] = relationship(back_populates="share", cascade="all, delete-orphan",
                                                    order_by="ShareItem.position")


class ShareItem(Base):
    __tablename__ = "share_items"
    __table_args__ = (UniqueConstraint("share_id", "badge_id", name="uq_share_items_badge"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    share_id: Mapped[int] = mapped_column(ForeignKey("shares.id", ondelete="CASCADE"), index=True)
    badge_id: Mapped[int] = mapped_column(ForeignKey("badges.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)

    share: Mapped[Share] = relationship(back_populates="items")
    badge: Mapped[Badge] = relationship()


class PublicPage(Base):
    """A public page as rendered for a visitor with no account, kept so that a first view need not
    render it again (written when the link is made and on a visit that found none or a stale one).

    `position` is the badge's place in the share, 0 for a collection's own page. `fingerprint`
    hashes everything the page shows (the badge's columns, the holder's name, the share's label,
    the language, the templates and the Region): a page whose fingerprint differs from the current
    one is never served. The html holds neither the token nor a CSRF token (slots filled per visit).
    """

    __tablename__ = "public_pages"
    __table_args__ = (PrimaryKeyConstraint("share_id", "position", "lang", name="pk_public_pages"),)

    share_id: Mapped[int] = mapped_column(ForeignKey("shares.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    lang: Mapped[str] = mapped_column(String(8))
    fingerprint: Mapped[str] = mapped_column(String(64))
    html: Mapped[str] = mapped_column(Text)
    rendered_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
