"""What a counsellor sees of the learners who let them in (SECURITY.md T46): allowlisted DTOs
(`LearnerView`) with the learner's display name, eligibility, badge names/issuers/status and claim
statuses — never an email address, a payload, recipient data or tokens."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ... import db
from ...models import AuditEvent, Consent, User, utcnow
from .. import badge_list, referentials
from ..claims import submission as claim_submission
from .consents import active_clause, require_consent
from .drafts import pending_drafts
from .journal import VIEWED_LEARNER, VIEWED_SUMMARY, audit

EXPIRING_WITHIN = timedelta(days=30)
SUMMARY_LOG_EVERY = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class EligibilityRow:
    key: str
    name: str
    state: str
    have: int
    need: int


@dataclass(frozen=True, slots=True)
class BadgeRow:
    name: str
    issuer_name: str
    status: str
    expires: datetime | None
    problems: tuple[str, ...]  # not_matched | not_verified | expiring


@dataclass(frozen=True, slots=True)
class ClaimRow:
    name: str
    status: str
    created_at: datetime
    prepared_by_counsellor: bool


@dataclass(frozen=True, slots=True)
class LearnerView:
    """Everything a counsellor page may show about a learner: an allowlist."""

    learner_id: int
    display_name: str
    scope: str
    expires_at: datetime | None
    eligibility: tuple[EligibilityRow, ...]
    badges: tuple[BadgeRow, ...]
    claims: tuple[ClaimRow, ...]
    pending_drafts: tuple[str, ...]  # regional badge names awaiting the learner's confirmation

    @property
    def eligible(self) -> int:
        return sum(1 for e in self.eligibility if e.state == "eligible")

    @property
    def obtained(self) -> int:
        return sum(1 for e in self.eligibility if e.state == "obtained")

    @property
    def problem_badges(self) -> tuple[BadgeRow, ...]:
        return tuple(b for b in self.badges if b.problems)

    @property
    def preparable(self) -> tuple[EligibilityRow, ...]:
        """Eligible regional badges with no claim in progress and no draft waiting."""
        if self.scope != "prepare":
            return ()
        return tuple(e for e in self.eligibility if e.state == "eligible" and e.name not in self.pending_drafts)


def _badge_problems(badge, now: datetime) -> tuple[str, ...]:
    problems = []
    if not badge.matched:
        problems.append("not_matched")
    if badge.status in ("unverifiable", "invalid"):
        problems.append("not_verified")
    if badge.expires is not None and now < badge.expires <= now + EXPIRING_WITHIN:
        problems.append("expiring")
    return tuple(problems)


def _build_view(session: Session, consent: Consent, learner: User, lang: str, now: datetime) -> LearnerView:
    referential, results = referentials.eligibility_for(session, learner, now=now)
    eligibility = tuple(EligibilityRow(r.key, r.name(lang), r.state, r.progress.have, r.progress.need)
                        for r in results)
    badges = tuple(BadgeRow(b.name, b.issuer_name, b.status, b.expires, _badge_problems(b, now))
                   for b in badge_list.list_badges(session, learner))
    claims = []
    for claim in claim_submission.my_claims(session, learner):
        try:
            name = referential.badge(claim.regional_badge_id).name.get(lang)
        except KeyError:
            name = claim.regional_badge_key
        claims.append(ClaimRow(name, claim.status, claim.created_at, claim.prepared_by_id is not None))
    names = {r.key: r.name(lang) for r in results}
    drafts = tuple(names.get(d.regional_badge_key, d.regional_badge_key)
                   for d in pending_drafts(session, learner.id))
    return LearnerView(learner.id, learner.display_name, consent.scope, consent.expires_at, eligibility, badges,
                       tuple(claims), drafts)


def my_learners(session: Session, counsellor: User, lang: str = "fr", now: datetime | None = None
                ) -> list[LearnerView]:
    """The counsellor's dashboard: learners with an active consent. Logged for each learner (at
    most once an hour) as `counsellor.viewed_summary`."""
    now = now or utcnow()
    consents = list(session.scalars(select(Consent).where(Consent.counsellor_id == counsellor.id,
                                                          *active_clause(now)).order_by(Consent.id)))
    views, seen = [], set()
    for consent in consents:
        if consent.learner_id in seen:
            continue
        seen.add(consent.learner_id)
        learner = session.get(User, consent.learner_id)
        views.append(_build_view(session, consent, learner, lang, now))
    db.begin_write(session)  # the logs in a write transaction of their own (see learner_view)
    for view in views:
        recent = session.scalar(select(AuditEvent.id).where(
            AuditEvent.actor_id == counsellor.id, AuditEvent.subject_id == view.learner_id,
            AuditEvent.action == VIEWED_SUMMARY, AuditEvent.created_at > now - SUMMARY_LOG_EVERY).limit(1))
        if recent is None:
            audit(session, counsellor.id, view.learner_id, VIEWED_SUMMARY, now, counsellor=counsellor.display_name)
    views.sort(key=lambda v: v.display_name.lower())
    session.commit()
    return views


def learner_view(session: Session, counsellor: User, learner_id: int, lang: str = "fr",
                 now: datetime | None = None) -> LearnerView:
    """One learner's page (raises CounsellingError("no_consent") → 404). Logged as viewed_learner."""
    now = now or utcnow()
    consent = require_consent(session, counsellor, learner_id, now=now)
    learner = session.get(User, learner_id)
    view = _build_view(session, consent, learner, lang, now)
    # SQLite: a transaction that has read cannot write once another has committed (the view
    # counter's flush, any request): the log is written in a write transaction of its own.
    db.begin_write(session)
    audit(session, counsellor.id, learner_id, VIEWED_LEARNER, now, counsellor=counsellor.display_name)
    session.commit()
    return view
