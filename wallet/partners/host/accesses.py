"""Who may push into a learner's wallet: the learner's list (and one-tap cut-off), and the admin's
figures of which partners push and how often."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session, selectinload

from ...models import AuditEvent, HostAccess, HostPush, User
from . import tokens
from .common import (
    SCOPE_ASSERTION_CREATE,
    SCOPE_ASSERTION_READ,
    SCOPE_BADGR_BACKPACK,
    SCOPE_PROFILE_READ,
    host_of,
)

CAPABILITIES = {  # scope → what the learner is told it allows (rendered by the view)
    SCOPE_BADGR_BACKPACK: ("push",),
    SCOPE_ASSERTION_CREATE: ("push",),
    SCOPE_ASSERTION_READ: ("read_badges",),
    SCOPE_PROFILE_READ: ("read_profile",),
}


def capabilities(scope: str) -> list[str]:
    found: list[str] = []
    for item in (scope or "").split():
        for capability in CAPABILITIES.get(item, ()):
            if capability not in found:
                found.append(capability)
    return found


@dataclass(frozen=True, slots=True)
class AccessLine:
    access: HostAccess
    name: str                 # the partner's name (the learner's label, or the client's name)
    host: str                 # where it runs (client_uri's host), "" for an app password
    capabilities: list[str]
    pushes: int
    last_push_at: datetime | None


def overview(session: Session, user: User) -> list[AccessLine]:
    """The learner's live accesses, newest first, with their pushes."""
    accesses = list(session.scalars(
        select(HostAccess).where(HostAccess.user_id == user.id, HostAccess.revoked_at.is_(None))
        .options(selectinload(HostAccess.client)).order_by(HostAccess.created_at.desc(), HostAccess.id.desc())))
    stats = dict.fromkeys((a.id for a in accesses), (0, None))
    if accesses:
        rows = session.execute(select(HostPush.access_id, func.count(HostPush.id), func.max(HostPush.created_at))
                               .where(HostPush.access_id.in_(list(stats))).group_by(HostPush.access_id))
        stats.update({access_id: (count, last) for access_id, count, last in rows})
    lines = []
    for access in accesses:
        count, last = stats[access.id]
        client = access.client
        lines.append(AccessLine(access, access.label or (client.name if client else ""),
                                host_of(client.client_uri or "") if client else "",
                                capabilities(access.scope), count, last))
    return lines


def export_items(session: Session, user_id: int) -> list[dict]:
    """The learner's accesses for their data export (art. 15/20): no secret, no token hash."""
    items = []
    for access in session.scalars(select(HostAccess).where(HostAccess.user_id == user_id)
                                  .options(selectinload(HostAccess.client)).order_by(HostAccess.id)):
        items.append({
            "kind": access.kind, "name": access.label or (access.client.name if access.client else ""),
            "application_url": access.client.client_uri if access.client else None, "scope": access.scope,
            "created_at": _iso(access.created_at), "last_used_at": _iso(access.last_used_at),
            "revoked_at": _iso(access.revoked_at),
            "pushes": session.scalar(select(func.count(HostPush.id)).where(HostPush.access_id == access.id)) or 0,
        })
    return items


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def cut_off(session: Session, user: User, access_id: int, now: datetime) -> bool:
    """Revoke one of the learner's accesses and every token under it; False if not theirs."""
    access = session.scalar(select(HostAccess).where(HostAccess.id == access_id, HostAccess.user_id == user.id,
                                                     HostAccess.revoked_at.is_(None)))
    if access is None:
        session.rollback()
        return False
    access.revoked_at = now
    tokens.revoke_all(session, access.id, now)
    session.add(AuditEvent(actor_id=user.id, subject_id=user.id, action="host.access_revoked",
                           detail=f"{access.kind}: {access.label}"[:500]))
    session.commit()
    return True


@dataclass(frozen=True, slots=True)
class PartnerFigures:
    mode: str
    partner: str
    pushes: int
    imported: int
    not_yours: int
    duplicates: int
    refused: int
    learners: int
    last_push_at: datetime | None


def partner_figures(session: Session, now: datetime, days: int = 30) -> list[PartnerFigures]:
    """Pushes of the last `days` days by partner (client name, or the host the badges come from)."""
    since = now - timedelta(days=days)

    def count_of(outcome: str):
        return func.sum(case((HostPush.outcome == outcome, 1), else_=0))

    rows = session.execute(
        select(HostPush.mode, HostPush.partner, func.count(HostPush.id), count_of("imported"),
               count_of("not_yours"), count_of("duplicate"), count_of("refused"),
               func.count(func.distinct(HostPush.user_id)), func.max(HostPush.created_at))
        .where(HostPush.created_at >= since).group_by(HostPush.mode, HostPush.partner)
        .order_by(func.count(HostPush.id).desc(), HostPush.partner))
    figures = [PartnerFigures(mode, partner, total, int(imported or 0), int(not_yours or 0), int(dups or 0),
                              int(refused or 0), learners, last)
               for mode, partner, total, imported, not_yours, dups, refused, learners, last in rows]
    session.commit()
    return figures
