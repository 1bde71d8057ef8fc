"""The staff console's dashboard: the issuer's status (backend, key, deliveries waiting or dead,
the latest event) and the figures (accounts by role, badges by status, claims by state)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ...models import CLAIM_STATES, Badge, Claim, IssuedCredential, Outbox, User
from .. import referentials

# ------------------------------------------------------------------------------ issuer status

@dataclass(frozen=True, slots=True)
class IssuerStatus:
    backend: str
    approval: str
    issuer_id: str | None = None
    key_id: str | None = None
    key_problem: str | None = None
    issued: int = 0
    revoked: int = 0
    pending: int = 0
    dead: int = 0
    needs_staff: int = 0
    last_error: str | None = None
    last_event: dict | None = None  # {at, status, note} of the most recently updated claim


def issuer_status(session: Session, app: Flask | None = None) -> IssuerStatus:
    app = app or current_app
    backend = app.config["ISSUER"]
    values: dict[str, Any] = {"backend": backend, "approval": app.config.get("ISSUER_APPROVAL", "auto")}
    if backend == "builtin":
        from ...keys.issuer_keys import IssuerKeyError, keys_for

        values["issuer_id"] = app.config["BASE_URL"] + "/issuers/region"
        try:
            values["key_id"] = keys_for(app).current.id
        except IssuerKeyError as err:
            values["key_problem"] = str(err)
        values["issued"] = session.scalar(select(func.count(IssuedCredential.id))) or 0
        values["revoked"] = session.scalar(select(func.count(IssuedCredential.id))
                                           .where(IssuedCredential.revoked_at.is_not(None))) or 0
    values["pending"] = session.scalar(select(func.count(Outbox.id)).where(Outbox.state == "pending")) or 0
    values["dead"] = session.scalar(select(func.count(Outbox.id)).where(Outbox.state == "dead")) or 0
    values["needs_staff"] = session.scalar(select(func.count(Claim.id)).where(Claim.needs_staff.is_(True))) or 0
    values["last_error"] = session.scalar(select(Outbox.last_error).where(Outbox.last_error.is_not(None))
                                          .order_by(Outbox.id.desc()).limit(1))
    history = session.scalar(select(Claim.history).where(Claim.issuer_backend == backend)
                             .order_by(Claim.updated_at.desc(), Claim.id.desc()).limit(1))
    if history:
        try:
            events = json.loads(history)
            values["last_event"] = events[-1] if events else None
        except (ValueError, IndexError):
            pass
    session.commit()
    return IssuerStatus(**values)


# ------------------------------------------------------------------------------ figures

@dataclass(frozen=True, slots=True)
class Bar:
    label: str
    value: int
    percent: int  # of the largest value in its chart (0–100), for the bar's width


@dataclass(frozen=True, slots=True)
class Figures:
    learners: int
    counsellors: int
    admins: int
    badges: int
    badges_by_status: tuple[Bar, ...]
    claims_by_state: tuple[Bar, ...]
    issued_by_badge: tuple[Bar, ...]


def _bars(pairs: list[tuple[str, int]]) -> tuple[Bar, ...]:
    top = max((v for _k, v in pairs), default=0)
    return tuple(Bar(label, value, round(100 * value / top) if top else 0) for label, value in pairs)


def figures(session: Session, lang: str = "fr", app: Flask | None = None) -> Figures:
    roles = dict(session.execute(select(User.role, func.count(User.id)).group_by(User.role)).all())
    by_status = sorted(session.execute(select(Badge.status, func.count(Badge.id)).group_by(Badge.status)).all(),
                       key=lambda row: (-row[1], row[0]))
    by_state = dict(session.execute(select(Claim.status, func.count(Claim.id)).group_by(Claim.status)).all())
    issued = dict(session.execute(select(Claim.regional_badge_key, func.count(Claim.id))
                                  .where(Claim.status == "issued").group_by(Claim.regional_badge_key)).all())
    session.commit()
    referential = referentials.current(session, app)
    issued_rows = [(b.name.get(lang), issued.get(b.key, 0)) for b in referential.badges]
    return Figures(
        learners=roles.get("learner", 0), counsellors=roles.get("counsellor", 0), admins=roles.get("admin", 0),
        badges=sum(count for _s, count in by_status),
        badges_by_status=_bars([(str(s), int(c)) for s, c in by_status]),
        claims_by_state=_bars([(s, int(by_state.get(s, 0))) for s in CLAIM_STATES]),
        issued_by_badge=_bars(issued_rows),
    )
