"""Claims a counsellor prepares for a learner (with the "prepare" scope, the learner eligible now):
a `ClaimDraft` that only the learner's own confirmation submits, as the learner."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from ... import mail
from ...models import Claim, ClaimDraft, User, utcnow
from .. import referentials
from ..claims import submission as claim_submission
from .consents import CounsellingError, require_consent
from .journal import DRAFT_CONFIRMED, DRAFT_DISMISSED, PREPARED_CLAIM, audit


def pending_drafts(session: Session, learner_id: int) -> list[ClaimDraft]:
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
    now = now or utcnow()
    require_consent(session, counsellor, learner_id, scope="prepare", now=now)
    learner = session.get(User, learner_id)
    _referential, results = referentials.eligibility_for(session, learner, now=now)
    result = next((r for r in results if r.key == regional_key), None)
    if result is None or result.state != "eligible" or claim_submission.active_claim(session, learner, result.id):
        raise CounsellingError("not_eligible")
    existing = next((d for d in pending_drafts(session, learner_id) if d.regional_badge_key == regional_key), None)
    if existing is not None:
        return existing
    recipient = _recipient(learner)
    if recipient is None:
        raise CounsellingError("no_address")
    draft = ClaimDraft(learner_id=learner_id, counsellor_id=counsellor.id, regional_badge_key=regional_key,
                       recipient_email=recipient, created_at=now)
    session.add(draft)
    audit(session, counsellor.id, learner_id, PREPARED_CLAIM, now, counsellor=counsellor.display_name,
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
    for draft in pending_drafts(session, learner.id):
        counsellor = session.get(User, draft.counsellor_id) if draft.counsellor_id else None
        try:
            badge_name = referential.badge(draft.regional_badge_key).name.get(lang)
        except KeyError:
            badge_name = draft.regional_badge_key
        try:
            preview = claim_submission.preview(session, learner, draft.regional_badge_key)
        except claim_submission.ClaimError:
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
    """The learner's own act: submits the claim as the learner (submission.submit_claim re-checks
    eligibility). Raises submission.ClaimError when the learner is no longer eligible."""
    draft = _owned_draft(session, learner, draft_id)
    draft_id, key, counsellor_id = draft.id, draft.regional_badge_key, draft.counsellor_id
    recipient = draft.recipient_email if draft.recipient_email in learner.confirmed_addresses else _recipient(learner)
    claim, created = claim_submission.submit_claim(session, learner, key, recipient or "", http, now=now)
    moment = now or utcnow()
    draft = session.get(ClaimDraft, draft_id)
    draft.confirmed_at, draft.claim_id = moment, claim.id
    if created and counsellor_id is not None:
        claim.prepared_by_id = counsellor_id
    counsellor = session.get(User, counsellor_id) if counsellor_id else None
    audit(session, learner.id, learner.id, DRAFT_CONFIRMED, moment,
           counsellor=counsellor.display_name if counsellor else "", badge_key=key)
    session.commit()
    return claim, created


def dismiss_draft(session: Session, learner: User, draft_id: int, now: datetime | None = None) -> None:
    draft = _owned_draft(session, learner, draft_id)
    moment = now or utcnow()
    draft.dismissed_at = moment
    counsellor = session.get(User, draft.counsellor_id) if draft.counsellor_id else None
    audit(session, learner.id, learner.id, DRAFT_DISMISSED, moment,
           counsellor=counsellor.display_name if counsellor else "", badge_key=draft.regional_badge_key)
    session.commit()
