"""Counsellors and the learners who let them in (SECURITY.md T45, T46, T54c).

A learner grants a counsellor access (by a short code the counsellor shows, or by the counsellor's
address) for a scope and a duration, sees it and withdraws it at any time. Every counsellor request
goes through `require_consent`, which reads the consent row again: a withdrawal takes effect on the
next request. What a counsellor sees is built here as allowlisted DTOs (`LearnerView`): the
learner's display name, eligibility, badge names/issuers/status and claim statuses — never an email
address, a payload, recipient data or tokens. A counsellor with the "prepare" scope may prepare a
claim (a `ClaimDraft`); only the learner's own confirmation submits it, as the learner. Each
counsellor action and each consent change is written to `AuditEvent` for the learner's journal.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from .. import db, mail
from ..models import AuditEvent, Claim, ClaimDraft, Consent, CounsellorCode, Email, User, utcnow
from . import badges as badges_service
from . import claims as claims_service
from . import referentials

CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L: easy to read aloud and type
CODE_LENGTH = 8
CODE_TTL = timedelta(minutes=15)
DURATIONS = {"1": timedelta(days=31), "3": timedelta(days=92), "6": timedelta(days=183)}  # months
SCOPES = ("view", "prepare")
EXPIRING_WITHIN = timedelta(days=30)
SUMMARY_LOG_EVERY = timedelta(hours=1)

# AuditEvent.action values written here; the learner's journal shows exactly these.
GRANTED = "consent.granted"
WITHDRAWN = "consent.withdrawn"
VIEWED_SUMMARY = "counsellor.viewed_summary"
VIEWED_LEARNER = "counsellor.viewed_learner"
PREPARED_CLAIM = "counsellor.prepared_claim"
DRAFT_CONFIRMED = "consent.draft_confirmed"
DRAFT_DISMISSED = "consent.draft_dismissed"
JOURNAL_ACTIONS = (GRANTED, WITHDRAWN, VIEWED_SUMMARY, VIEWED_LEARNER, PREPARED_CLAIM, DRAFT_CONFIRMED,
                   DRAFT_DISMISSED)


class CounsellingError(Exception):
    """code: bad_scope | bad_duration | code_unknown | code_expired | code_used | self |
    no_consent | out_of_scope | not_eligible | no_address | not_found."""

    def __init__(self, code: str, **params) -> None:
        self.code = code
        self.params = params
        super().__init__(code)


def _now(now: datetime | None) -> datetime:
    return now or utcnow()


def _hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def normalize_code(text: str | None) -> str:
    """What the learner typed, upper-cased, without spaces or dashes."""
    return "".join(c for c in (text or "").upper() if c not in " -\t")[:32]


def _audit(session: Session, actor_id: int | None, subject_id: int, action: str, now: datetime, **detail) -> None:
    session.add(AuditEvent(actor_id=actor_id, subject_id=subject_id, action=action,
                           detail=json.dumps(detail, ensure_ascii=False), created_at=now))


def _check_choice(scope: str, months: str) -> timedelta:
    if scope not in SCOPES:
        raise CounsellingError("bad_scope")
    if months not in DURATIONS:
        raise CounsellingError("bad_duration")
    return DURATIONS[months]


# ------------------------------------------------------------------------------ the counsellor's code

def new_code(session: Session, counsellor: User, now: datetime | None = None) -> tuple[str, datetime]:
    """A fresh single-use code for the counsellor to show (its previous unused codes are dropped).
    Only its sha256 is stored."""
    now = _now(now)
    code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    session.execute(delete(CounsellorCode).where(CounsellorCode.counsellor_id == counsellor.id,
                                                 CounsellorCode.used_at.is_(None)))
    expires = now + CODE_TTL
    session.add(CounsellorCode(counsellor_id=counsellor.id, code_hash=_hash(code), expires_at=expires))
    session.commit()
    return code, expires


# -------------------------------------------------------------------------------- granting, withdrawing

def _grant(session: Session, learner: User, counsellor: User, scope: str, duration: timedelta, how: str,
           now: datetime) -> Consent:
    """Replace any active consent to the same counsellor by the new one (scope and end date)."""
    session.execute(update(Consent).where(Consent.learner_id == learner.id, Consent.counsellor_id == counsellor.id,
                                          Consent.withdrawn_at.is_(None)).values(withdrawn_at=now))
    consent = Consent(learner_id=learner.id, counsellor_id=counsellor.id, scope=scope, granted_at=now,
                      expires_at=now + duration)
    session.add(consent)
    _audit(session, learner.id, learner.id, GRANTED, now, counsellor=counsellor.display_name,
           counsellor_id=counsellor.id, scope=scope, until=consent.expires_at.isoformat(), how=how)
    session.commit()
    return consent


def grant_by_code(session: Session, learner: User, code: str, scope: str, months: str,
                  now: datetime | None = None) -> Consent:
    now = _now(now)
    duration = _check_choice(scope, months)
    code = normalize_code(code)
    db.begin_write(session)
    row = session.scalar(select(CounsellorCode).where(CounsellorCode.code_hash == _hash(code))) if code else None
    if row is None:
        session.rollback()
        raise CounsellingError("code_unknown")
    if row.used_at is not None:
        session.rollback()
        raise CounsellingError("code_used")
    if row.expires_at <= now:
        session.rollback()
        raise CounsellingError("code_expired")
    counsellor = session.get(User, row.counsellor_id)
    if counsellor is None or counsellor.role != "counsellor":
        session.rollback()
        raise CounsellingError("code_unknown")
    if counsellor.id == learner.id:
        session.rollback()
        raise CounsellingError("self")
    taken = session.execute(update(CounsellorCode).where(CounsellorCode.id == row.id,
                                                         CounsellorCode.used_at.is_(None))
                            .values(used_at=now)).rowcount
    if not taken:  # another learner typed it a moment before
        session.rollback()
        raise CounsellingError("code_used")
    return _grant(session, learner, counsellor, scope, duration, "code", now)


def grant_by_email(session: Session, learner: User, address: str, scope: str, months: str,
                   now: datetime | None = None) -> Consent | None:
    """Grant access to the counsellor whose confirmed address this is. Returns None when there is no
    such counsellor: the page answers the same way in both cases (no account oracle); the
    counsellor gets a mail when access was granted."""
    now = _now(now)
    duration = _check_choice(scope, months)
    normalized = (address or "").strip().lower()
    counsellor = session.scalar(select(User).join(Email, Email.user_id == User.id).where(
        Email.normalized == normalized, Email.verified_at.is_not(None), User.role == "counsellor"))
    if counsellor is None or counsellor.id == learner.id:
        return None
    consent = _grant(session, learner, counsellor, scope, duration, "email", now)
    _mail_counsellor(session, counsellor, learner)
    session.commit()  # the mail is sent after this commit (wallet/mail.py)
    return consent


def _mail_counsellor(session: Session, counsellor: User, learner: User) -> None:
    from flask_babel import force_locale
    from flask_babel import gettext as _

    to = counsellor.primary_email
    if to is None:
        return
    link = current_app.config["BASE_URL"] + "/conseiller/"
    with force_locale(counsellor.locale):
        mail.queue(session, to.address,
                   _("%(name)s vous a donné accès à son portefeuille", name=learner.display_name),
                   _("Bonjour %(counsellor)s,\n\n%(name)s vous a donné accès à son portefeuille de badges. "
                     "Retrouvez cette personne dans « Mes apprenants » :\n\n%(link)s",
                     counsellor=counsellor.display_name, name=learner.display_name, link=link),
                   user_id=counsellor.id)


def _active_clause(now: datetime):
    return (Consent.withdrawn_at.is_(None), (Consent.expires_at.is_(None)) | (Consent.expires_at > now))


@dataclass(frozen=True, slots=True)
class ConsentRow:
    """A consent as the learner sees it."""

    id: int
    counsellor_name: str
    scope: str
    granted_at: datetime
    expires_at: datetime | None


def learner_consents(session: Session, learner: User, now: datetime | None = None) -> list[ConsentRow]:
    rows = session.execute(select(Consent, User.display_name).join(User, User.id == Consent.counsellor_id)
                           .where(Consent.learner_id == learner.id, *_active_clause(_now(now)))
                           .order_by(Consent.granted_at.desc()))
    return [ConsentRow(c.id, name, c.scope, c.granted_at, c.expires_at) for c, name in rows]


def withdraw(session: Session, learner: User, consent_id: int, now: datetime | None = None) -> bool:
    """False when the consent is not the learner's (or already ended): the page answers 404."""
    now = _now(now)
    consent = session.scalar(select(Consent).where(Consent.id == consent_id, Consent.learner_id == learner.id,
                                                   *_active_clause(now)))
    if consent is None:
        return False
    consent.withdrawn_at = now
    counsellor = session.get(User, consent.counsellor_id)
    _audit(session, learner.id, learner.id, WITHDRAWN, now, counsellor_id=consent.counsellor_id,
           counsellor=counsellor.display_name if counsellor else "")
    session.commit()
    return True


def require_consent(session: Session, counsellor: User, learner_id: int, scope: str = "view",
                    now: datetime | None = None) -> Consent:
    """The active consent of this learner to this counsellor, read now (never cached)."""
    consent = session.scalar(select(Consent).where(Consent.counsellor_id == counsellor.id,
                                                   Consent.learner_id == learner_id, *_active_clause(_now(now)))
                             .order_by(Consent.id.desc()))
    if consent is None:
        raise CounsellingError("no_consent")
    if scope == "prepare" and consent.scope != "prepare":
        raise CounsellingError("out_of_scope")
    return consent


# ----------------------------------------------------------------------- what the counsellor sees (T46)

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
                   for b in badges_service.list_badges(session, learner))
    claims = []
    for claim in claims_service.my_claims(session, learner):
        try:
            name = referential.badge(claim.regional_badge_id).name.get(lang)
        except KeyError:
            name = claim.regional_badge_key
        claims.append(ClaimRow(name, claim.status, claim.created_at, claim.prepared_by_id is not None))
    names = {r.key: r.name(lang) for r in results}
    drafts = tuple(names.get(d.regional_badge_key, d.regional_badge_key)
                   for d in _pending_drafts(session, learner.id))
    return LearnerView(learner.id, learner.display_name, consent.scope, consent.expires_at, eligibility, badges,
                       tuple(claims), drafts)


def my_learners(session: Session, counsellor: User, lang: str = "fr", now: datetime | None = None
                ) -> list[LearnerView]:
    """The counsellor's dashboard: learners with an active consent. Logged for each learner (at
    most once an hour) as `counsellor.viewed_summary`."""
    now = _now(now)
    consents = list(session.scalars(select(Consent).where(Consent.counsellor_id == counsellor.id,
                                                          *_active_clause(now)).order_by(Consent.id)))
    views, seen = [], set()
    for consent in consents:
        if consent.learner_id in seen:
            continue
        seen.add(consent.learner_id)
        learner = session.get(User, consent.learner_id)
        views.append(_build_view(session, consent, learner, lang, now))
        recent = session.scalar(select(AuditEvent.id).where(
            AuditEvent.actor_id == counsellor.id, AuditEvent.subject_id == learner.id,
            AuditEvent.action == VIEWED_SUMMARY, AuditEvent.created_at > now - SUMMARY_LOG_EVERY).limit(1))
        if recent is None:
            _audit(session, counsellor.id, learner.id, VIEWED_SUMMARY, now, counsellor=counsellor.display_name)
    views.sort(key=lambda v: v.display_name.lower())
    session.commit()
    return views


def learner_view(session: Session, counsellor: User, learner_id: int, lang: str = "fr",
                 now: datetime | None = None) -> LearnerView:
    """One learner's page (raises CounsellingError("no_consent") → 404). Logged as viewed_learner."""
    now = _now(now)
    consent = require_consent(session, counsellor, learner_id, now=now)
    learner = session.get(User, learner_id)
    view = _build_view(session, consent, learner, lang, now)
    _audit(session, counsellor.id, learner_id, VIEWED_LEARNER, now, counsellor=counsellor.display_name)
    session.commit()
    return view


# ------------------------------------------------------------------------- prepared claims (drafts)

def _pending_drafts(session: Session, learner_id: int) -> list[ClaimDraft]:
    return list(session.scalars(select(ClaimDraft).where(ClaimDraft.learner_id == learner_id,
                                                         ClaimDraft.confirmed_at.is_(None),
                                                         ClaimDraft.dismissed_at.is_(None))
                                .order_by(ClaimDraft.id)))


def _recipient(learner: User) -> str | None:
    primary = learner.primary_email
    if primary is not None and primary.confirmed:
        return primary.address
    confirmed = learner.confirmed_addresses
    return confirmed[0] if confirmed else None


def prepare_claim(session: Session, counsellor: User, learner_id: int, regional_key: str,
                  now: datetime | None = None) -> ClaimDraft:
    """A draft for the learner to confirm. Needs the "prepare" scope and the learner eligible now."""
    now = _now(now)
    require_consent(session, counsellor, learner_id, scope="prepare", now=now)
    learner = session.get(User, learner_id)
    _referential, results = referentials.eligibility_for(session, learner, now=now)
    result = next((r for r in results if r.key == regional_key), None)
    if result is None or result.state != "eligible" or claims_service.active_claim(session, learner, result.id):
        raise CounsellingError("not_eligible")
    existing = next((d for d in _pending_drafts(session, learner_id) if d.regional_badge_key == regional_key), None)
    if existing is not None:
        return existing
    recipient = _recipient(learner)
    if recipient is None:
        raise CounsellingError("no_address")
    draft = ClaimDraft(learner_id=learner_id, counsellor_id=counsellor.id, regional_badge_key=regional_key,
                       recipient_email=recipient, created_at=now)
    session.add(draft)
    _audit(session, counsellor.id, learner_id, PREPARED_CLAIM, now, counsellor=counsellor.display_name,
           badge=result.name("fr"), badge_key=regional_key)
    _mail_learner_draft(session, learner, counsellor, result, recipient)
    session.commit()
    return draft


def _mail_learner_draft(session: Session, learner: User, counsellor: User, result, recipient: str) -> None:
    from flask_babel import force_locale
    from flask_babel import gettext as _

    link = current_app.config["BASE_URL"] + "/accompagnement/"
    with force_locale(learner.locale):
        mail.queue(session, recipient, _("Une demande de badge vous attend"),
                   _("Bonjour %(name)s,\n\n%(counsellor)s a préparé pour vous une demande du badge régional "
                     "« %(badge)s ». Rien n'est envoyé sans vous : confirmez-la ou ignorez-la ici :\n\n%(link)s",
                     name=learner.display_name, counsellor=counsellor.display_name,
                     badge=result.name(learner.locale), link=link),
                   user_id=learner.id)


@dataclass(frozen=True, slots=True)
class DraftRow:
    """A prepared claim as the learner confirms it: what goes with it, as on the direct claim's
    screen (the supporting badges, sent with a public proof page, and the address)."""

    id: int
    counsellor_name: str
    badge_name: str
    created_at: datetime
    supporting: tuple[tuple[str, str], ...] = ()  # (badge name, issuer name) sent as evidence
    recipient: str = ""
    eligible: bool = True


def drafts_for(session: Session, learner: User, lang: str = "fr") -> list[DraftRow]:
    referential = referentials.current(session)
    rows = []
    for draft in _pending_drafts(session, learner.id):
        counsellor = session.get(User, draft.counsellor_id) if draft.counsellor_id else None
        try:
            badge_name = referential.badge(draft.regional_badge_key).name.get(lang)
        except KeyError:
            badge_name = draft.regional_badge_key
        try:
            preview = claims_service.preview(session, learner, draft.regional_badge_key)
        except claims_service.ClaimError:
            supporting, eligible = (), False
        else:
            supporting = tuple((b.name or "", b.issuer_name or "") for b in preview.supporting)
            eligible = preview.eligibility.state == "eligible"
        recipient = (draft.recipient_email if draft.recipient_email in learner.confirmed_addresses
                     else _recipient(learner)) or ""
        rows.append(DraftRow(draft.id, counsellor.display_name if counsellor else "", badge_name,
                             draft.created_at, supporting, recipient, eligible))
    return rows


def _owned_draft(session: Session, learner: User, draft_id: int) -> ClaimDraft:
    draft = session.scalar(select(ClaimDraft).where(ClaimDraft.id == draft_id, ClaimDraft.learner_id == learner.id,
                                                    ClaimDraft.confirmed_at.is_(None),
                                                    ClaimDraft.dismissed_at.is_(None)))
    if draft is None:
        raise CounsellingError("not_found")
    return draft


def confirm_draft(session: Session, learner: User, draft_id: int, http, now: datetime | None = None
                  ) -> tuple[Claim, bool]:
    """The learner's own act: submits the claim as the learner (claims.submit_claim re-checks
    eligibility). Raises claims.ClaimError when the learner is no longer eligible."""
    draft = _owned_draft(session, learner, draft_id)
    draft_id, key, counsellor_id = draft.id, draft.regional_badge_key, draft.counsellor_id
    recipient = draft.recipient_email if draft.recipient_email in learner.confirmed_addresses else _recipient(learner)
    claim, created = claims_service.submit_claim(session, learner, key, recipient or "", http, now=now)
    moment = _now(now)
    draft = session.get(ClaimDraft, draft_id)
    draft.confirmed_at, draft.claim_id = moment, claim.id
    if created and counsellor_id is not None:
        claim.prepared_by_id = counsellor_id
    counsellor = session.get(User, counsellor_id) if counsellor_id else None
    _audit(session, learner.id, learner.id, DRAFT_CONFIRMED, moment,
           counsellor=counsellor.display_name if counsellor else "", badge_key=key)
    session.commit()
    return claim, created


def dismiss_draft(session: Session, learner: User, draft_id: int, now: datetime | None = None) -> None:
    draft = _owned_draft(session, learner, draft_id)
    moment = _now(now)
    draft.dismissed_at = moment
    counsellor = session.get(User, draft.counsellor_id) if draft.counsellor_id else None
    _audit(session, learner.id, learner.id, DRAFT_DISMISSED, moment,
           counsellor=counsellor.display_name if counsellor else "", badge_key=draft.regional_badge_key)
    session.commit()


# ------------------------------------------------------------------------------ the learner's journal

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
