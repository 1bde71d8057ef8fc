"""Staff review of claims: the claims in review or flagged after failed deliveries, approving one
(through the issuer backend) and refusing one with a reason."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from ...badge_claim.model import DeliveryResult
from ...models import Claim, User
from .delivery import claim_request, record_result
from .submission import ClaimError


def awaiting_review(session: Session) -> list[Claim]:
    return list(session.scalars(select(Claim).where(Claim.status == "in_review").order_by(Claim.id)))


def flagged(session: Session) -> list[Claim]:
    return list(session.scalars(select(Claim).where(Claim.needs_staff.is_(True), Claim.active.is_(True))))


def approve(app: Flask, session: Session, claim_id: int, staff: User) -> Claim:
    from ...badge_claim.issuers import backend_for

    claim = session.get(Claim, claim_id)
    if claim is None or claim.status != "in_review":
        raise ClaimError("not_in_review")
    backend = backend_for(app)
    request = claim_request(app, session, claim)
    session.commit()
    result = backend.approve(request)
    return record_result(app, session, claim_id, result)


def refuse(app: Flask, session: Session, claim_id: int, staff: User, reason: str) -> Claim:
    reason = (reason or "").strip()
    if not reason:
        raise ClaimError("reason_required")
    claim = session.get(Claim, claim_id)
    if claim is None or claim.status not in ("in_review", "sent", "pending"):
        raise ClaimError("not_in_review")
    return record_result(app, session, claim_id, DeliveryResult(outcome="refused", reason=reason[:2000]))
