"""A learner's claim: the confirmation screen's preview, `submit_claim` (the claim, its evidence page
and its outbox row in one transaction, eligibility re-checked from fresh verdicts), and reading
the learner's claims."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import Flask, current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ... import db
from ...models import ACTIVE_CLAIM_STATES, Badge, Claim, Outbox, Share, ShareItem, User, utcnow
from .. import badges as badges_service
from .. import referentials, sharing

REVERIFY_OLDER_THAN = timedelta(hours=1)


class ClaimError(Exception):
    def __init__(self, code: str, **params) -> None:
        self.code = code
        self.params = params
        super().__init__(code)


# ------------------------------------------------------------------------------------ preparing

@dataclass(frozen=True, slots=True)
class Preview:
    """What the confirmation screen shows: the badge, its supporting badges, the addresses."""

    eligibility: object
    supporting: list[Badge]
    addresses: list[str]
    active_claim: Claim | None


def active_claim(session: Session, user: User, regional_badge_id: str) -> Claim | None:
    return session.scalar(select(Claim).where(Claim.user_id == user.id, Claim.regional_badge_id == regional_badge_id,
                                              Claim.active.is_(True)))


def preview(session: Session, user: User, regional_key: str, now: datetime | None = None) -> Preview:
    _referential, results = referentials.eligibility_for(session, user, now=now)
    result = next((r for r in results if r.key == regional_key), None)
    if result is None:
        raise ClaimError("unknown_badge")
    supporting = _supporting_badges(session, user, result)
    return Preview(result, supporting, user.confirmed_addresses, active_claim(session, user, result.id))


def _supporting_badges(session: Session, user: User, result) -> list[Badge]:
    ids = [cid for cid in result.counted if cid]
    if not ids:
        return []
    rows = session.scalars(select(Badge).where(Badge.owner_id == user.id, Badge.credential_id.in_(ids)))
    return sorted(rows, key=lambda b: ids.index(b.credential_id))


def _refresh_supporting(session: Session, user: User, regional_key: str, http, now: datetime | None) -> None:
    """Re-verify the badges that support the claim when their verdict is not fresh (network first,
    then short transactions): a revocation since the import must be seen before the claim."""
    _referential, results = referentials.eligibility_for(session, user, now=now)
    result = next((r for r in results if r.key == regional_key), None)
    if result is None:
        return
    stale_before = (now or utcnow()) - REVERIFY_OLDER_THAN
    for badge in _supporting_badges(session, user, result):
        if badge.checked_at < stale_before:
            badges_service.reverify(session, badge, http, now=now)


# ----------------------------------------------------------------------------------- submitting

def submit_claim(session: Session, user: User, regional_key: str, recipient_email: str, http,
                 now: datetime | None = None) -> tuple[Claim, bool]:
    """(claim, created). Re-evaluates eligibility at submit time; idempotent for an active claim."""
    if recipient_email not in user.confirmed_addresses:
        raise ClaimError("recipient_not_confirmed")
    _refresh_supporting(session, user, regional_key, http, now)
    app = current_app._get_current_object()
    session.rollback()
    db.begin_write(session)
    _referential, results = referentials.eligibility_for(session, user, now=now)
    result = next((r for r in results if r.key == regional_key), None)
    if result is None:
        session.rollback()
        raise ClaimError("unknown_badge")
    existing = active_claim(session, user, result.id)
    if existing is not None:
        session.rollback()
        return existing, False
    if result.state != "eligible":
        session.rollback()
        raise ClaimError("not_eligible", state=result.state)
    supporting = _supporting_badges(session, user, result)
    token, token_hash, token_enc = sharing.new_token(app.config)
    share = Share(owner_id=user.id, token_hash=token_hash, token_enc=token_enc, kind="evidence",
                  label=result.name("fr"))
    share.items = [ShareItem(badge_id=b.id, position=i) for i, b in enumerate(supporting)]
    session.add(share)
    session.flush()
    evidence_url = f"{app.config['BASE_URL']}/p/{token}"
    claim = Claim(user_id=user.id, regional_badge_id=result.id, regional_badge_key=result.key,
                  status="pending", active=True, idempotency_key=secrets.token_hex(16),
                  recipient_email=recipient_email, issuer_backend=_backend_name(app),
                  evidence_share_id=share.id,
                  evidence=json.dumps({"page": evidence_url, "badges": [
                      {"credential_id": b.credential_id, "name": b.name, "issuer": b.issuer_name,
                       "issuer_id": b.issuer_id, "payload": b.payload, "verdict": json.loads(b.verdict)}
                      for b in supporting]}),
                  history=json.dumps([history_event("pending", now)]))
    try:
        session.add(claim)
        session.flush()  # PostgreSQL reports a concurrent active claim here (uq_claims_active)
        session.add(Outbox(claim_id=claim.id, next_at=now or utcnow()))
        session.commit()
    except IntegrityError:  # another request created the active claim first
        session.rollback()
        existing = active_claim(session, user, result.id)
        if existing is None:
            raise
        return existing, False
    return claim, True


def _backend_name(app: Flask) -> str:
    return str(app.config.get("ISSUER") or "builtin")


def history_event(status: str, now: datetime | None, note: str = "") -> dict:
    return {"at": (now or utcnow()).isoformat(), "status": status, "note": note}


# ---------------------------------------------------------------------------------- reading

def my_claims(session: Session, user: User) -> list[Claim]:
    return list(session.scalars(select(Claim).where(Claim.user_id == user.id).order_by(Claim.id.desc())))


def current_status(session: Session, claim_id: int) -> str:
    """The claim's status as stored now (after a first delivery attempt made in another session)."""
    return session.scalar(select(Claim.status).where(Claim.id == claim_id)) or "pending"


def get_owned(session: Session, user: User, claim_id: int) -> Claim | None:
    return session.scalar(select(Claim).where(Claim.id == claim_id, Claim.user_id == user.id))


def active_claims_by_badge(session: Session, user: User) -> dict[str, Claim]:
    rows = session.scalars(select(Claim).where(Claim.user_id == user.id, Claim.status.in_(ACTIVE_CLAIM_STATES)))
    return {claim.regional_badge_id: claim for claim in rows}
