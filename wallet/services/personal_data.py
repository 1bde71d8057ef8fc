"""Personal data (RGPD): export everything about a person, erase an account completely, and the
purge job that applies the retention periods published on the privacy page.

Retention (documented on /confidentialite, enforced by `purge`):

- accounts: until the person deletes them; unconfirmed accounts: 30 days after registration;
- share links: until they expire or are withdrawn (and with the account);
- audit log: 12 months;
- OAuth flows in progress: 1 day; counsellor codes: until used or expired;
- invitations: until used or expired; links sent by mail (confirm, reset, unlock): until used or
  expired; mail waiting to be sent: until sent (or given up after a few days of failures);
- the counters per address (login backstop, reset mails; an HMAC, no address): one hour after the last event;
- claims the Region keeps as a record of what it issued: pseudonymised when the account is deleted
  (no user, no address, no learner-identifying evidence), then deleted 5 years after creation.

Erasure walks `Base.metadata`: every row of every table referencing the user is deleted, or its
reference set to NULL where the schema says ON DELETE SET NULL (a counsellor's name on a claim
they prepared, an admin's name on a referential version). Claims are pseudonymised first.
"""

from __future__ import annotations

import io
import json
import logging
import re
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import Flask
from sqlalchemy import Table, and_, delete, func, or_, select, update
from sqlalchemy.orm import Session

from .. import db
from ..db import Base
from ..models import (
    AddressThrottle,
    AuditEvent,
    Badge,
    BadgeEvent,
    Claim,
    ClaimDraft,
    Connection,
    Consent,
    CounsellorCode,
    Email,
    Invitation,
    MailToken,
    OAuthFlow,
    Outbox,
    Share,
    User,
    utcnow,
)

log = logging.getLogger("wallet.personal_data")

EXPORT_FORMAT = "wallet-export/1"

AUDIT_RETENTION = timedelta(days=365)
UNCONFIRMED_RETENTION = timedelta(days=30)
OAUTH_FLOW_RETENTION = timedelta(days=1)
CLAIM_RETENTION = timedelta(days=5 * 365)
THROTTLE_RETENTION = timedelta(hours=1)  # throttles.WINDOW: older counts no longer matter


def _longest_link_age(app: Flask) -> timedelta:
    from .mail_links import MAX_AGE_SETTING

    return timedelta(seconds=max(int(app.config[key]) for key in MAX_AGE_SETTING.values()))

# Claims still on their way are withdrawn when the account goes (nobody to deliver them to).
_OPEN_CLAIM_STATES = ("pending", "sent", "in_review", "failed")


# ------------------------------------------------------------------------------------ export

def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _json(text: str | None, default: Any) -> Any:
    try:
        return json.loads(text) if text else default
    except ValueError:
        return default


def _slug(text: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", (text or "").lower()).strip("-")
    return slug[:40] or "badge"


def export_document(session: Session, user: User, now: datetime | None = None) -> tuple[dict, list[tuple[str, bytes]]]:
    """(the JSON document, [(file name in the archive, bytes)]) — only `user`'s own data."""
    from ..partners.host.accesses import export_items as host_access_items
    from .badges import baked_download

    uid = user.id
    badges = list(session.scalars(select(Badge).where(Badge.owner_id == uid).order_by(Badge.id)))
    badge_ids = [b.id for b in badges]
    events = list(session.scalars(select(BadgeEvent).where(BadgeEvent.badge_id.in_(badge_ids))
                                  .order_by(BadgeEvent.id))) if badge_ids else []
    files: list[tuple[str, bytes]] = []
    badge_items = []
    for badge in badges:
        download = baked_download(badge)
        file_name = None
        if download is not None:
            data, _mime, ext = download
            file_name = f"badges/{badge.id}-{_slug(badge.name)}.{ext}"
            files.append((file_name, data))
        badge_items.append({
            "id": badge.id, "name": badge.name, "description": badge.description,
            "issuer_name": badge.issuer_name, "issuer_id": badge.issuer_id,
            "badge_class_id": badge.badge_class_id, "credential_id": badge.credential_id,
            "source": badge.source, "source_url": badge.source_url, "version": badge.version,
            "status": badge.status, "matched": badge.matched, "issued_on": _iso(badge.issued_on),
            "expires": _iso(badge.expires), "checked_at": _iso(badge.checked_at),
            "imported_at": _iso(badge.created_at), "recipient": _json(badge.recipient, []),
            "details": _json(badge.details, {}), "verdict": _json(badge.verdict, {}),
            "payload_format": badge.payload_format, "payload": badge.payload, "file": file_name,
            "events": [{"kind": e.kind, "old": e.old, "new": e.new, "at": _iso(e.created_at)}
                       for e in events if e.badge_id == badge.id],
        })
    shares = list(session.scalars(select(Share).where(Share.owner_id == uid).order_by(Share.id)))
    claims = list(session.scalars(select(Claim).where(Claim.user_id == uid).order_by(Claim.id)))
    consents = list(session.scalars(select(Consent).where(Consent.learner_id == uid).order_by(Consent.id)))
    counsellors = {u.id: u.display_name for u in session.scalars(
        select(User).where(User.id.in_({c.counsellor_id for c in consents})))} if consents else {}
    drafts = list(session.scalars(select(ClaimDraft).where(ClaimDraft.learner_id == uid).order_by(ClaimDraft.id)))
    connections = list(session.scalars(select(Connection).where(Connection.user_id == uid).order_by(Connection.id)))
    audit = list(session.scalars(select(AuditEvent).where(AuditEvent.subject_id == uid).order_by(AuditEvent.id)))
    document = {
        "format": EXPORT_FORMAT,
        "exported_at": _iso(now or utcnow()),
        "profile": {"display_name": user.display_name, "role": user.role, "locale": user.locale,
                    "created_at": _iso(user.created_at)},
        "emails": [{"address": e.address, "primary": e.is_primary, "confirmed_at": _iso(e.verified_at),
                    "added_at": _iso(e.created_at)} for e in user.emails],
        "badges": badge_items,
        "claims": [{
            "regional_badge": c.regional_badge_key, "regional_badge_id": c.regional_badge_id,
            "status": c.status, "recipient_email": c.recipient_email, "created_at": _iso(c.created_at),
            "updated_at": _iso(c.updated_at), "issuer": c.issuer_backend, "issuer_reference": c.issuer_reference,
            "refusal_reason": c.refusal_reason, "history": _json(c.history, []),
            "evidence": _json(c.evidence, {}),
        } for c in claims],
        "consents": [{
            "counsellor": counsellors.get(c.counsellor_id, ""), "scope": c.scope, "granted_at": _iso(c.granted_at),
            "expires_at": _iso(c.expires_at), "withdrawn_at": _iso(c.withdrawn_at),
        } for c in consents],
        "claim_drafts": [{
            "regional_badge": d.regional_badge_key, "recipient_email": d.recipient_email,
            "created_at": _iso(d.created_at), "confirmed_at": _iso(d.confirmed_at),
            "dismissed_at": _iso(d.dismissed_at),
        } for d in drafts],
        # Never the links themselves (an export file passed around would open them): the learner
        # sees each link on its page in « Mes partages ».
        "share_links": [{
            "kind": s.kind, "label": s.label, "created_at": _iso(s.created_at), "expires_at": _iso(s.expires_at),
            "withdrawn_at": _iso(s.revoked_at), "views": s.view_count, "last_viewed_at": _iso(s.last_viewed_at),
            "badges": [item.badge_id for item in s.items],
        } for s in shares],
        # Never a token or a secret: which partner, since when, what was allowed.
        "partner_connections": [{
            "partner": c.backpack.name, "partner_url": c.backpack.base_url, "status": c.status,
            "scope": c.scope, "connected_at": _iso(c.created_at), "last_sync_at": _iso(c.last_sync_at),
        } for c in connections],
        # Partner systems that may push badges in (app passwords, connected applications): never a
        # secret or a token, only who, since when, what for.
        "partner_applications": host_access_items(session, uid),
        "audit_events": [{
            "action": a.action, "at": _iso(a.created_at), "detail": a.detail,
            "by": "you" if a.actor_id == uid else ("someone else" if a.actor_id else "system"),
        } for a in audit],
    }
    session.commit()  # end the read transaction
    return document, files


def export_filename(now: datetime | None = None) -> str:
    """The export's file name, dated in UTC: mes-donnees-2026-12-02.zip."""
    return f"mes-donnees-{(now or utcnow()).strftime('%Y-%m-%d')}.zip"


def export_zip(session: Session, user: User, now: datetime | None = None) -> bytes:
    """A ZIP archive: `mes-donnees.json` and the badge files (baked, as the issuer made them)."""
    document, files = export_document(session, user, now)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("mes-donnees.json", json.dumps(document, ensure_ascii=False, indent=2))
        archive.writestr("LISEZMOI.txt", README)
        for name, data in files:
            archive.writestr(name, data)
    return buffer.getvalue()


README = (
    "Vos données du portefeuille de badges.\n\n"
    "mes-donnees.json : votre profil, vos adresses, vos badges (avec leur contenu d'origine et le résultat "
    "de leur vérification), vos demandes de badges régionaux, vos consentements, vos liens de partage "
    "(sans les liens eux-mêmes, que nous ne conservons pas), vos connexions à des plateformes partenaires "
    "(sans aucun jeton ni secret) et le journal des actions sur votre compte.\n"
    "badges/ : les fichiers de vos badges ; vous pouvez les importer dans un autre portefeuille.\n\n"
    "Your data from the badge wallet: mes-donnees.json (everything, as JSON) and badges/ (your badge files).\n"
)


def summary(session: Session, user: User) -> dict[str, int]:
    """How many items of each kind the account holds (shown on « Mes données »)."""
    def count(model, column) -> int:
        return session.scalar(select(func.count()).select_from(model).where(column == user.id)) or 0

    figures = {
        "emails": count(Email, Email.user_id),
        "badges": count(Badge, Badge.owner_id),
        "shares": count(Share, Share.owner_id),
        "claims": count(Claim, Claim.user_id),
        "consents": count(Consent, Consent.learner_id),
        "connections": count(Connection, Connection.user_id),
    }
    session.commit()
    return figures


# ------------------------------------------------------------------------------------ erasure

@dataclass(frozen=True, slots=True)
class Erased:
    rows: int                  # rows deleted or unlinked, all tables
    claims_kept: int           # claims pseudonymised
    revocations_tried: int     # partner connections whose tokens we tried to revoke


def _references(table: Table) -> list[tuple[Table, Any, Any]]:
    """(referencing table, its FK column, the referenced column) for every FK pointing at `table`."""
    found = []
    for other in Base.metadata.sorted_tables:
        for fk in other.foreign_keys:
            if fk.column.table is table:
                found.append((other, fk.parent, fk.column))
    return found


def _remove(session: Session, table: Table, condition, depth: int = 0) -> int:
    """Delete the rows of `table` matching `condition`, and first whatever references them:
    references declared ON DELETE SET NULL (nullable) become NULL, the others are deleted too.
    Works the same with or without foreign-key enforcement by the database."""
    if depth > 10:  # pragma: no cover - the schema has no such chains
        raise RuntimeError("reference chain too deep")
    changed = 0
    for other, column, target in _references(table):
        values = list(session.execute(select(target).where(condition)).scalars())
        if not values:
            continue
        fk = next(iter(column.foreign_keys))
        if (fk.ondelete or "").upper() == "SET NULL" and column.nullable:
            result = session.execute(update(other).where(column.in_(values)).values({column.name: None}))
            changed += result.rowcount or 0
        elif other is not table:
            changed += _remove(session, other, column.in_(values), depth + 1)
    result = session.execute(delete(table).where(condition))
    return changed + (result.rowcount or 0)


def _pseudonymised_evidence(text: str | None) -> str:
    """Keep what the Region needs to know why it issued (badge names and issuers); drop payloads,
    verdicts (recipient hashes), credential ids and the evidence page address."""
    evidence = _json(text, {})
    badges = evidence.get("badges", []) if isinstance(evidence, dict) else []
    kept = [{"name": b.get("name", ""), "issuer": b.get("issuer", ""), "issuer_id": b.get("issuer_id", "")}
            for b in badges if isinstance(b, dict)]
    return json.dumps({"badges": kept, "pseudonymised": True})


def _pseudonymise_claims(session: Session, user_id: int, now: datetime) -> int:
    claims = list(session.scalars(select(Claim).where(Claim.user_id == user_id)))
    for claim in claims:
        history = _json(claim.history, [])
        if claim.status in _OPEN_CLAIM_STATES:
            claim.status = "withdrawn"
            claim.active = False
            history.append({"at": now.isoformat(), "status": "withdrawn", "note": "account deleted"})
            session.execute(delete(Outbox).where(Outbox.claim_id == claim.id, Outbox.state == "pending"))
        claim.history = json.dumps(history)
        claim.user_id = None
        claim.recipient_email = ""
        claim.evidence = _pseudonymised_evidence(claim.evidence)
        claim.evidence_share_id = None
        claim.issued_badge_id = None
        claim.updated_at = now
    session.flush()
    return len(claims)


def _revoke_connections(session: Session, user: User, http, config: Mapping[str, Any]) -> int:
    """Best effort: ask each partner to revoke our tokens. A partner that is down does not stop
    the deletion (its tokens are deleted with the rest)."""
    from ..partners import client as connections

    ids = list(session.scalars(select(Connection.id).where(Connection.user_id == user.id)))
    session.commit()
    for connection_id in ids:
        try:
            connections.disconnect(session, user, connection_id, http, config)
        except Exception:  # noqa: BLE001 - best effort by design
            session.rollback()
            log.warning("token revocation failed for connection %s; deleting anyway", connection_id)
    return len(ids)


def erase_account(session: Session, user: User, http, config: Mapping[str, Any],
                  now: datetime | None = None) -> Erased:
    """Delete the account and everything about it (claims kept pseudonymised). Commits once the
    partners have been asked to revoke their tokens (network first, outside the transaction)."""
    now = now or utcnow()
    user_id = user.id
    tried = _revoke_connections(session, user, http, config)
    db.begin_write(session)
    kept = _pseudonymise_claims(session, user_id, now)
    users = User.__table__
    rows = _remove(session, users, users.c.id == user_id)
    session.commit()
    session.expunge_all()  # the deleted user's objects must not be flushed again
    return Erased(rows=rows, claims_kept=kept, revocations_tried=tried)


# ------------------------------------------------------------------------------------ purge

def purge(app: Flask, now: datetime | None = None) -> dict[str, int]:
    """Apply the retention periods. Returns how many rows of each kind were removed."""
    now = now or utcnow()
    report = {"audit_events": 0, "oauth_flows": 0, "counsellor_codes": 0, "invitations": 0,
              "unconfirmed_accounts": 0, "claims": 0, "mail_links": 0, "address_throttles": 0}
    session = db.new_session(app)
    try:
        stale_users = list(session.scalars(
            select(User).where(User.created_at < now - UNCONFIRMED_RETENTION,
                               ~User.id.in_(select(Email.user_id).where(Email.verified_at.is_not(None))))))
        session.commit()
        for user in stale_users:
            erase_account(session, user, app.extensions["wallet_http"], app.config, now=now)
            report["unconfirmed_accounts"] += 1
        db.begin_write(session)
        report["audit_events"] = session.execute(
            delete(AuditEvent).where(AuditEvent.created_at < now - AUDIT_RETENTION)).rowcount or 0
        report["oauth_flows"] = session.execute(
            delete(OAuthFlow).where(OAuthFlow.created_at < now - OAUTH_FLOW_RETENTION)).rowcount or 0
        report["counsellor_codes"] = session.execute(
            delete(CounsellorCode).where(or_(CounsellorCode.expires_at < now,
                                             CounsellorCode.used_at.is_not(None)))).rowcount or 0
        report["invitations"] = session.execute(
            delete(Invitation).where(or_(Invitation.expires_at < now, Invitation.used_at.is_not(None)))).rowcount or 0
        report["mail_links"] = session.execute(delete(MailToken).where(or_(
            MailToken.used_at.is_not(None), MailToken.created_at < now - _longest_link_age(app)))).rowcount or 0
        report["address_throttles"] = session.execute(delete(AddressThrottle).where(
            AddressThrottle.last_at < now - THROTTLE_RETENTION)).rowcount or 0
        claims = Claim.__table__
        old = and_(claims.c.user_id.is_(None), claims.c.created_at < now - CLAIM_RETENTION)
        report["claims"] = len(list(session.execute(select(claims.c.id).where(old)).scalars()))
        if report["claims"]:
            _remove(session, claims, old)
        session.commit()
    finally:
        session.close()
    return report
