"""The regional referential's versions (the TOML text in force and its history)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base
from .columns import UTCDateTime, utcnow


class ReferentialVersion(Base):
    """One version of the regional referential (the TOML text, validated), with its history.

    The newest row is the one in force. `wallet referential load` stores the configured file when
    its content changed; Region staff upload new versions from the admin area.
    """

    __tablename__ = "referential_versions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    referential_id: Mapped[str] = mapped_column(String(200))
    version: Mapped[str] = mapped_column(String(50))
    content: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(20))  # file | upload
    loaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    loaded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
