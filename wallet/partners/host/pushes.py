"""A badge pushed in by a partner system: verified and imported like any other, into the wallet of
the learner who gave that partner its access — never anyone else's, never a new account.

The pushed copy is only a pointer: the import service verifies from the ids (a hosted assertion
is fetched from its URL through SafeHttp, its badge class and issuer from theirs), exactly as for an
upload (wallet/services/badges.py — there is no second import path). A push is refused, and nothing
is stored, when the verdict is `invalid` (the badge is proved wrong) or `unverifiable` (its
authenticity could not be established: blocked or unreachable host, issuer down); a partner's
system can retry later. An authentic badge whose recipient is not one of the learner's confirmed
addresses is kept as "pas encore à vous", as an upload would be: the learner can confirm that
address and it becomes theirs — unless its recipient is a plain address already confirmed by
ANOTHER account (a confirmed address belongs to one account only): that badge is someone else's,
and the push is refused (`recipient_elsewhere`; Badge Connect's RECIPIENT_PROFILE_MISMATCH).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ...models import Badge, Email, HostPush, HostToken, User
from ...openbadges.model import Verdict
from ...services import badges
from ...services.accounts import AccountError, normalize_address
from ...services.badges import ImportItem
from .common import host_of, now

REFUSED_STATUSES = {"invalid", "unverifiable"}


@dataclass(frozen=True, slots=True)
class Pushed:
    outcome: str            # imported | not_yours | duplicate | refused
    item: ImportItem        # what the import service said (code, params, verdict of a refusal)
    badge: Badge | None     # the stored badge (imported, not yours, duplicate)


def _policy(session: Session, user: User):
    def accept(verdict: Verdict) -> str | None:
        status = verdict.status.value
        if status in REFUSED_STATUSES:
            return status
        if verdict.recipient_matched is False and _confirmed_elsewhere(session, user, verdict):
            return "recipient_elsewhere"
        return None

    return accept


def _confirmed_elsewhere(session: Session, user: User, verdict: Verdict) -> bool:
    for identity in verdict.credential.identities:
        if identity.hashed or identity.type != "email" or "@" not in (identity.identity or ""):
            continue
        try:
            _typed, key = normalize_address(identity.identity)
        except AccountError:
            continue
        if session.scalar(select(Email.id).where(Email.normalized == key, Email.verified_at.is_not(None),
                                                 Email.user_id != user.id)) is not None:
            return True
    return False


def _source_host(payload: str) -> str:
    text = payload.strip()
    if text.startswith(("https://", "http://")):
        return host_of(text)
    if text.startswith("{"):
        try:
            doc = json.loads(text)
        except ValueError:
            return ""
        return host_of(doc.get("id")) if isinstance(doc, dict) and isinstance(doc.get("id"), str) else ""
    return ""


def push(session: Session, token: HostToken, payload: str, http, mode: str) -> Pushed:
    """Verify and import `payload` (a URL, OB 2.0 JSON, or a compact JWS) for the token's learner.

    One import transaction (the import service's), then one for the push record."""
    access = token.access
    user = session.get(User, access.user_id, options=[selectinload(User.emails)])
    source_host = _source_host(payload)
    partner = access.client.name if access.client is not None else source_host
    access_id, user_id = access.id, user.id
    session.commit()  # no transaction stays open across the network calls of the verification
    item = badges.import_text(session, user, payload, http, source="push", label=partner or "push",
                              accept=_policy(session, user))
    if item.outcome == "error":
        outcome = "refused"
    else:
        outcome = item.outcome  # imported | not_yours | duplicate
    session.add(HostPush(user_id=user_id, access_id=access_id, mode=mode, partner=partner[:200],
                         source_host=source_host, outcome=outcome, code=(item.code or "")[:40],
                         badge_id=item.badge_id if outcome != "refused" else None, created_at=now()))
    session.commit()
    badge = session.get(Badge, item.badge_id) if item.badge_id is not None else None
    return Pushed(outcome, item, badge)
