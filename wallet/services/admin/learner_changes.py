"""What a new referential text changes for learners: every learner's eligibility under the
referential in force and under the new text, badge by badge, before staff publish it."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from itertools import groupby

from flask import Flask, current_app
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ...eligibility import evaluate, load_referential
from ...models import Badge, User, utcnow
from .. import referentials


@dataclass(frozen=True, slots=True)
class BadgeChange:
    key: str
    name: str
    before: int        # learners eligible (or holding it) under the referential in force
    after: int         # … under the new text
    gained: int
    lost: int
    status: str = ""   # "" | "new" | "removed"


@dataclass(frozen=True, slots=True)
class Changes:
    learners: int
    rows: tuple[BadgeChange, ...] = field(default_factory=tuple)


_ELIGIBLE = ("eligible", "obtained")


def _eligible_keys(referential, verdicts: list[dict], now: datetime) -> set[str]:
    return {r.badge.key for r in evaluate(referential, verdicts, now) if r.state in _ELIGIBLE}


def changes_for_learners(session: Session, new_text: str, now: datetime | None = None, lang: str = "fr",
                         app: Flask | None = None) -> Changes:
    """Every learner's eligibility under the referential in force and under `new_text` (raises
    ReferentialError when the text is not valid)."""
    app = app or current_app
    now = now or utcnow()
    old = referentials.current(session, app)
    new = load_referential(new_text, base_url=app.config["BASE_URL"],
                           include_demo=referentials.include_demo(app))
    learners = session.scalar(select(func.count()).select_from(User).where(User.role == "learner")) or 0
    before: Counter[str] = Counter()
    after: Counter[str] = Counter()
    gained: Counter[str] = Counter()
    lost: Counter[str] = Counter()
    # One learner's badges at a time, from the facts stored beside each verdict: a region's
    # verdicts would not fit in memory (2 M badges, 3 GB of JSON), its learner ids not in a query.
    rows_by_owner = session.execute(
        select(Badge.owner_id, Badge.id, Badge.facts).join(User, User.id == Badge.owner_id)
        .where(User.role == "learner").order_by(Badge.owner_id, Badge.id),
        execution_options={"yield_per": 2000})
    for owner_id, rows in groupby(rows_by_owner, key=lambda row: row[0]):
        items = referentials.eligibility_inputs(session, owner_id, [(badge_id, text) for _o, badge_id, text in rows])
        was = _eligible_keys(old, items, now)
        now_ = _eligible_keys(new, items, now)
        before.update(was)
        after.update(now_)
        gained.update(now_ - was)
        lost.update(was - now_)
    session.commit()
    rows = []
    old_keys = {b.key for b in old.badges}
    new_keys = {b.key for b in new.badges}
    for badge in new.badges:
        rows.append(BadgeChange(badge.key, badge.name.get(lang), before[badge.key], after[badge.key],
                                gained[badge.key], lost[badge.key], "" if badge.key in old_keys else "new"))
    for badge in old.badges:
        if badge.key not in new_keys:
            rows.append(BadgeChange(badge.key, badge.name.get(lang), before[badge.key], 0, 0, lost[badge.key],
                                    "removed"))
    return Changes(learners, tuple(rows))
