"""Claims: ask for a regional badge in one tap, deliver the request exactly once, bring the badge home.

submit_claim   re-checks eligibility from fresh verdicts (never trusts the form), then writes the
               Claim, its evidence page (a share of kind "evidence") and its Outbox row in ONE
               transaction. At most one active claim per learner and regional badge.
deliver_due    (worker) leases due outbox rows, sends them to the issuer backend OUTSIDE any
               transaction, and records the outcome: issued (the badge is imported and verified
               like any other), in review, refused (with the reason), or retry later with backoff.
               A row is marked "outcome unknown" before each send, so that after a crash or a
               timeout a remote issuer is asked whether it already awarded the badge before any
               re-send (remote issuers are not assumed to de-duplicate).
"""

from __future__ import annotations

import json
import random
import secrets
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import Flask, current_app
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .. import db, mail
from ..badge_claim.model import ClaimRequest, DeliveryResult, Evidence
from ..models import ACTIVE_CLAIM_STATES, Badge, Claim, Outbox, Share, ShareItem, User, utcnow
from . import badges as badges_service
from . import referentials, sharing

MAX_ATTEMPTS = 6
LEASE = timedelta(minutes=5)
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
                  history=json.dumps([_event("pending", now)]))
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


def _event(status: str, now: datetime | None, note: str = "") -> dict:
    return {"at": (now or utcnow()).isoformat(), "status": status, "note": note}


def first_attempt(app: Flask, claim_id: int) -> None:
    """Deliver right after the commit: inline for the in-process issuer, in a thread for a remote
    one (the learner is not kept waiting; the worker retries whatever this does not finish)."""
    mode = app.config.get("CLAIM_FIRST_ATTEMPT", "auto")
    if mode == "worker":
        return
    from ..badge_claim.issuers import backend_for

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
    from ..badge_claim.issuers import backend_for

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


def _request(app: Flask, session: Session, claim: Claim) -> ClaimRequest:
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
    request = _request(app, session, claim)
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
    history.append(_event(status, now, note))
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


# ------------------------------------------------------------------------------- staff review

def awaiting_review(session: Session) -> list[Claim]:
    return list(session.scalars(select(Claim).where(Claim.status == "in_review").order_by(Claim.id)))


def flagged(session: Session) -> list[Claim]:
    return list(session.scalars(select(Claim).where(Claim.needs_staff.is_(True), Claim.active.is_(True))))


def approve(app: Flask, session: Session, claim_id: int, staff: User) -> Claim:
    from ..badge_claim.issuers import backend_for

    claim = session.get(Claim, claim_id)
    if claim is None or claim.status != "in_review":
        raise ClaimError("not_in_review")
    backend = backend_for(app)
    request = _request(app, session, claim)
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
