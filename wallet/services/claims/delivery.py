"""Delivering claims to the issuer backend exactly once: the first attempt right after the commit,
the worker's `deliver_due` (leases, sends outside any transaction, asks a remote issuer before any
re-send), `record_result` for every answer, the import of the issued badge and the learner's mail."""

from __future__ import annotations

import json
import random
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import Flask
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ... import db, mail
from ...badge_claim.model import ClaimRequest, DeliveryResult, Evidence
from ...models import Claim, Outbox, User, utcnow
from .. import badges as badges_service
from .. import referentials
from .submission import history_event

MAX_ATTEMPTS = 6
LEASE = timedelta(minutes=5)


def first_attempt(app: Flask, claim_id: int) -> None:
    """Deliver right after the commit: inline for the in-process issuer, in a thread for a remote
    one (the learner is not kept waiting; the worker retries whatever this does not finish)."""
    mode = app.config.get("CLAIM_FIRST_ATTEMPT", "auto")
    if mode == "worker":
        return
    from ...badge_claim.issuers import backend_for

    remote = getattr(backend_for(app), "remote", True)
    if mode == "inline" or (mode == "auto" and not remote):
        deliver_due(app, claim_id=claim_id)
    else:
        threading.Thread(target=deliver_due, args=(app,), kwargs={"claim_id": claim_id}, daemon=True).start()


# ----------------------------------------------------------------------------------- delivering

@dataclass
class DeliveryReport:
    delivered: int = 0
    retried: int = 0
    refused: int = 0

    def summary(self) -> str:
        return (f"claims: {self.delivered} delivered, {self.retried} to retry, {self.refused} refused")


def deliver_due(app: Flask, now: datetime | None = None, claim_id: int | None = None,
                limit: int = 50) -> DeliveryReport:
    from ...badge_claim.issuers import backend_for

    report = DeliveryReport()
    backend = backend_for(app)
    with app.app_context():
        session = db.new_session(app)
        try:
            for outbox_id in _lease(session, now, claim_id, limit):
                _deliver_one(app, session, backend, outbox_id, now, report)
        finally:
            session.close()
    return report


def _lease(session: Session, now: datetime | None, claim_id: int | None, limit: int) -> list[int]:
    """Take due rows: FOR UPDATE SKIP LOCKED where the database has it, then a conditional UPDATE
    (locked_until) so that two workers never hold the same row."""
    moment = now or utcnow()
    stmt = (select(Outbox.id).where(Outbox.state == "pending", Outbox.next_at <= moment,
                                    (Outbox.locked_until.is_(None)) | (Outbox.locked_until < moment))
            .order_by(Outbox.next_at).limit(limit))
    if claim_id is not None:
        stmt = stmt.where(Outbox.claim_id == claim_id)
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    db.begin_write(session)  # SQLite: a read that then writes must be a writer from the start
    leased = []
    for outbox_id in list(session.scalars(stmt)):
        taken = session.execute(
            update(Outbox).where(Outbox.id == outbox_id, Outbox.state == "pending",
                                 (Outbox.locked_until.is_(None)) | (Outbox.locked_until < moment))
            .values(locked_until=moment + LEASE)).rowcount
        if taken:
            leased.append(outbox_id)
    session.commit()
    return leased


def claim_request(app: Flask, session: Session, claim: Claim) -> ClaimRequest:
    referential = referentials.current(session, app)
    badge = referential.badge(claim.regional_badge_id)
    evidence = json.loads(claim.evidence or "{}")
    user = session.get(User, claim.user_id) if claim.user_id else None
    names = ", ".join(b["name"] for b in evidence.get("badges", []))
    return ClaimRequest(
        idempotency_key=claim.idempotency_key, regional_badge_id=claim.regional_badge_id,
        regional_badge_key=claim.regional_badge_key, name=badge.name.get("fr"),
        description=badge.description.get("fr"), criteria=badge.criteria.get("fr"), image_path=badge.image,
        recipient_email=claim.recipient_email, recipient_name=user.display_name if user else "",
        evidence=(Evidence(url=evidence.get("page", ""), name="Badges partenaires vérifiés",
                           narrative=names),) if evidence.get("page") else (),
        narrative=f"Demande faite depuis le portefeuille, appuyée par\u00a0: {names}.", claim_id=claim.id)


def _deliver_one(app: Flask, session: Session, backend, outbox_id: int, now, report: DeliveryReport) -> None:
    db.begin_write(session)
    row = session.get(Outbox, outbox_id)
    claim = session.get(Claim, row.claim_id)
    if claim is None or claim.status not in ("pending", "sent"):
        row.state, row.locked_until = "done", None
        session.commit()
        return
    request = claim_request(app, session, claim)
    asked_before = row.outcome_unknown
    # Before sending: if we crash or time out from here on, the next attempt asks first.
    row.outcome_unknown = True
    row.attempts += 1
    if claim.status == "pending":
        claim.status = "sent"
        _append(claim, "sent", now)
    session.commit()

    result: DeliveryResult | None = None
    if asked_before and getattr(backend, "remote", True):
        result = backend.lookup(request)
        if result is not None and result.outcome == "retry":
            # The issuer could not be asked: it may still hold the award, so keep asking first.
            result = DeliveryResult(outcome="unknown", reason=result.reason, retry_after=result.retry_after)
    if result is None:
        result = backend.deliver(request)
    record_result(app, session, claim.id, result, now, outbox_id=outbox_id)
    if result.outcome in ("issued", "in_review"):
        report.delivered += 1
    elif result.outcome == "refused":
        report.refused += 1
    else:
        report.retried += 1


def record_result(app: Flask, session: Session, claim_id: int, result: DeliveryResult,
                  now: datetime | None = None, outbox_id: int | None = None) -> Claim:
    """Apply an issuer's answer to the claim (worker deliveries and staff approvals)."""
    db.begin_write(session)
    claim = session.get(Claim, claim_id)
    row = session.get(Outbox, outbox_id) if outbox_id else None
    moment = now or utcnow()
    if result.outcome == "issued":
        claim.issuer_reference = result.reference
        _finish(row)
        session.commit()
        _import_issued(app, session, claim, result.credential, now)
        return claim
    if result.outcome == "in_review":
        claim.status = "in_review"
        claim.issuer_reference = result.reference
        _append(claim, "in_review", now)
        _finish(row)
    elif result.outcome == "refused":
        claim.status, claim.active = "refused", False
        claim.refusal_reason = (result.reason or "")[:2000]
        _append(claim, "refused", now, claim.refusal_reason)
        _finish(row)
        session.commit()
        _notify(app, session, claim)
        return claim
    elif row is not None:  # retry / unknown
        # "retry": nothing could have been created; "unknown": it may have been — ask before re-sending.
        row.outcome_unknown = result.outcome == "unknown"
        row.last_error = (result.reason or result.outcome)[:2000]
        row.locked_until = None
        delay = backoff(row.attempts)
        if result.retry_after:
            delay = max(delay, timedelta(seconds=float(result.retry_after)))
        row.next_at = moment + delay
        if row.attempts >= MAX_ATTEMPTS:
            row.state = "dead"
            claim.needs_staff = True
            _append(claim, claim.status, now, "needs_staff")
    claim.updated_at = moment
    session.commit()
    return claim


def _finish(row: Outbox | None) -> None:
    if row is not None:
        row.state, row.locked_until, row.outcome_unknown = "done", None, False


def backoff(attempts: int) -> timedelta:
    """Exponential backoff with jitter: about 30 s, 2 min, 8 min, 32 min, 2 h, capped at 6 h."""
    base = min(30 * (4 ** max(0, attempts - 1)), 6 * 3600)
    return timedelta(seconds=base * random.uniform(0.8, 1.2))


def _import_issued(app: Flask, session: Session, claim: Claim, credential: str | None, now) -> None:
    user = session.get(User, claim.user_id) if claim.user_id else None
    badge_id = None
    if user is not None and credential:
        item = badges_service.import_text(session, user, credential, app.extensions["wallet_http"],
                                          source="claim", label="badge régional")
        badge_id = item.badge_id
    db.begin_write(session)
    claim = session.get(Claim, claim.id)
    claim.status = "issued"
    claim.issued_badge_id = badge_id
    claim.updated_at = now or utcnow()
    _append(claim, "issued", now)
    session.commit()
    _notify(app, session, claim)


def _append(claim: Claim, status: str, now: datetime | None, note: str = "") -> None:
    history = json.loads(claim.history or "[]")
    history.append(history_event(status, now, note))
    claim.history = json.dumps(history)


def _notify(app: Flask, session: Session, claim: Claim) -> None:
    from flask_babel import force_locale
    from flask_babel import gettext as _

    db.begin_write(session)
    user = session.get(User, claim.user_id) if claim.user_id else None
    if user is None:
        return
    referential = referentials.current(session, app)
    name = referential.badge(claim.regional_badge_id).name.get(user.locale)
    with app.test_request_context(), force_locale(user.locale):
        link = app.config["BASE_URL"] + f"/demandes/{claim.id}"
        if claim.status == "issued":
            subject = _("Votre badge régional « %(name)s » est arrivé", name=name)
            body = _("Bonjour %(user)s,\n\nLa Région vous a délivré le badge « %(name)s ». Il est dans votre "
                     "portefeuille, vérifié :\n\n%(link)s", user=user.display_name, name=name, link=link)
        else:
            subject = _("Votre demande de badge « %(name)s »", name=name)
            body = _("Bonjour %(user)s,\n\nVotre demande du badge « %(name)s » n'a pas été acceptée. "
                     "Raison donnée : %(reason)s\n\n%(link)s", user=user.display_name, name=name,
                     reason=claim.refusal_reason or "-", link=link)
        mail.queue(session, claim.recipient_email, subject, body, user_id=user.id)
    session.commit()  # sent after this commit (wallet/mail.py)
