"""The upgrade path after a change of verifier rules (services/rules.py).

Badges already stored were judged under older rules: `wallet worker` re-verifies, once, every
badge whose `rules_version` is below RULES_VERSION (a status change is recorded as a
BadgeEvent, as every re-verification does, and shows on the learner's cards). Then every claim of
those learners that is still waiting — pending, or in review — is checked against their badges as
they now stand: a claim whose regional badge they are no longer eligible for is stopped (refused,
with a reason in the learner's language, by mail too), before any delivery sends it.

Network calls (re-verification) happen in reverify()'s own short transactions; each stopped claim
is one more transaction (claims/delivery.py, record_result).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import db
from ..badge_claim.model import DeliveryResult
from ..models import Badge, Claim, Outbox, User
from . import referentials, reverification
from .claims import delivery as claim_delivery
from .rules import RULES_VERSION

BATCH = 200                           # badges re-verified per worker round
WAITING = ("pending", "sent", "in_review")


@dataclass
class UpgradeReport:
    reverified: int = 0
    changed: list[tuple[int, str, str]] = field(default_factory=list)
    stopped: list[int] = field(default_factory=list)   # claim ids

    def summary(self) -> str:
        return (f"rules v{RULES_VERSION}: re-verified {self.reverified} badge(s) judged under older rules, "
                f"{len(self.changed)} status change(s), {len(self.stopped)} claim(s) stopped")


def run(app: Flask, now: datetime | None = None, limit: int = BATCH) -> UpgradeReport:
    """One round: re-verify up to `limit` outdated badges, then stop the claims they no longer support."""
    report = UpgradeReport()
    # Leased like every re-verification (services/reverification.py), through the shared cache.
    done = reverification.reverify_leased(app, reverification.outdated, Badge.id, limit=limit, now=now)
    report.reverified, report.changed = done.reverified, done.changed
    session = db.new_session(app)
    try:
        for owner_id in sorted(done.owners):
            report.stopped.extend(stop_unsupported_claims(app, session, owner_id, now))
    finally:
        session.close()
    return report


def stop_unsupported_claims(app: Flask, session: Session, user_id: int, now: datetime | None = None) -> list[int]:
    """Refuse the learner's waiting claims whose regional badge they are no longer eligible for."""
    user = session.get(User, user_id)
    if user is None:
        return []
    waiting = [c for c in session.scalars(select(Claim).where(Claim.user_id == user_id, Claim.active.is_(True),
                                                              Claim.status.in_(WAITING)))
               if not _maybe_delivered(session, c)]
    if not waiting:
        return []
    _referential, results = referentials.eligibility_for(session, user, now=now, app=app)
    by_key = {r.key: r for r in results}
    reasons = {}
    for claim in waiting:
        result = by_key.get(claim.regional_badge_key)
        if result is not None and result.state == "eligible":
            continue
        counted = set(result.counted) if result is not None else set()
        lost = [item.get("name") or "?" for item in json.loads(claim.evidence or "{}").get("badges", [])
                if item.get("credential_id") not in counted]
        reasons[claim.id] = _reason(app, user, lost)
    session.rollback()
    for claim_id, reason in reasons.items():
        claim_delivery.record_result(app, session, claim_id, DeliveryResult(outcome="refused", reason=reason), now)
    return list(reasons)


def _maybe_delivered(session: Session, claim: Claim) -> bool:
    """A claim sent to an issuer whose answer was lost may already be awarded: leave it to delivery."""
    if claim.status != "sent":
        return False
    return session.scalar(select(Outbox.id).where(Outbox.claim_id == claim.id,
                                                  Outbox.outcome_unknown.is_(True))) is not None


def _reason(app: Flask, user: User, lost: list[str]) -> str:
    from flask_babel import force_locale, ngettext
    from flask_babel import gettext as _

    names = ", ".join(f"« {name} »" for name in lost)
    with app.test_request_context(), force_locale(user.locale):
        if not lost:
            return _("Vos badges ont été vérifiés de nouveau avec des règles plus sûres. Vous ne remplissez "
                     "plus les conditions de ce badge régional : la demande est arrêtée.")
        return ngettext(
            "Le badge %(names)s a été vérifié de nouveau avec des règles plus sûres et ne compte plus. "
            "Vous ne remplissez plus les conditions de ce badge régional : la demande est arrêtée.",
            "Les badges %(names)s ont été vérifiés de nouveau avec des règles plus sûres et ne comptent "
            "plus. Vous ne remplissez plus les conditions de ce badge régional : la demande est arrêtée.",
            len(lost), names=names)
