"""The learner's wallet list: filtered by status, searched by words, a page at a time.

A wallet of 500 badges is shown 50 cards at a time: the phone receives a tenth of the HTML and
the server renders a tenth of the cards (README "Sizing": 14 ms of CPU a page instead of 79 ms
when all 500 were drawn).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from ..models import Badge, User

PAGE_SIZE = 50

# « Afficher » on the list: each choice and the statuses it shows.
STATUS_GROUPS = {
    "valid": ("valid",),
    "check": ("unverifiable", "invalid", "not_yet_valid"),
    "expired": ("expired",),
    "revoked": ("revoked", "suspended"),
}


@dataclass(frozen=True)
class BadgePage:
    badges: list[Badge]
    total: int   # badges matching the filter and the search, on every page
    page: int    # 1-based, within 1..pages
    pages: int


def _statement(user: User, status_filter: str) -> Select:
    stmt = select(Badge).where(Badge.owner_id == user.id)
    if status_filter in STATUS_GROUPS:
        stmt = stmt.where(Badge.status.in_(STATUS_GROUPS[status_filter]))
    if status_filter == "not_yours":
        stmt = stmt.where(Badge.matched.is_(False))
    return stmt.order_by(Badge.issued_on.desc(), Badge.id.desc())


def _matches(badge: Badge, words: str) -> bool:
    # Folded in Python, not in SQL: SQLite's lower() folds ASCII only (« École » would not match).
    return words in badge.name.lower() or words in badge.issuer_name.lower() or words in badge.description.lower()


def list_badges(session: Session, user: User, status_filter: str = "", query: str = "") -> list[Badge]:
    """Every badge of the learner that the filter and the search keep, newest first."""
    words = (query or "").strip().lower()
    badges = list(session.scalars(_statement(user, status_filter)))
    return [b for b in badges if _matches(b, words)] if words else badges


def badge_page(session: Session, user: User, status_filter: str = "", query: str = "", page: int = 1,
               per_page: int = PAGE_SIZE) -> BadgePage:
    """One page of list_badges(); a page number past the end shows the last page."""
    stmt = _statement(user, status_filter)
    matching: list[Badge] | None = None
    if (query or "").strip():  # searched in Python (see _matches): every badge the filter keeps is read
        matching = list_badges(session, user, status_filter, query)
        total = len(matching)
    else:
        total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)
    start = (page - 1) * per_page
    if matching is not None:
        badges = matching[start:start + per_page]
    else:
        badges = list(session.scalars(stmt.limit(per_page).offset(start)))
    return BadgePage(badges, total, page, pages)
