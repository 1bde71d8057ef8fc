"""The learner's journal: the AuditEvent actions counsellor work writes, the one function that
writes them, and the journal that reads them back for the learner."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...models import AuditEvent, User

# AuditEvent.action values the counselling modules write; the learner's journal shows exactly these.
GRANTED = "consent.granted"
WITHDRAWN = "consent.withdrawn"
VIEWED_SUMMARY = "counsellor.viewed_summary"
VIEWED_LEARNER = "counsellor.viewed_learner"
PREPARED_CLAIM = "counsellor.prepared_claim"
DRAFT_CONFIRMED = "consent.draft_confirmed"
DRAFT_DISMISSED = "consent.draft_dismissed"
JOURNAL_ACTIONS = (GRANTED, WITHDRAWN, VIEWED_SUMMARY, VIEWED_LEARNER, PREPARED_CLAIM, DRAFT_CONFIRMED,
                   DRAFT_DISMISSED)


def audit(session: Session, actor_id: int | None, subject_id: int, action: str, now: datetime, **detail) -> None:
    session.add(AuditEvent(actor_id=actor_id, subject_id=subject_id, action=action,
                           detail=json.dumps(detail, ensure_ascii=False), created_at=now))


@dataclass(frozen=True, slots=True)
class JournalEntry:
    at: datetime
    action: str
    counsellor_name: str
    detail: dict


def journal(session: Session, learner: User, limit: int = 500) -> list[JournalEntry]:
    """Counsellor actions about the learner and the learner's consent decisions, newest first."""
    events = session.scalars(select(AuditEvent).where(AuditEvent.subject_id == learner.id,
                                                      AuditEvent.action.in_(JOURNAL_ACTIONS))
                             .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc()).limit(limit))
    entries = []
    for event in events:
        try:
            detail = json.loads(event.detail or "{}")
        except ValueError:
            detail = {}
        entries.append(JournalEntry(event.created_at, event.action, str(detail.get("counsellor") or ""), detail))
    return entries
