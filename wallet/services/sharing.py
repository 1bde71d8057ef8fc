"""Share links: one badge, a collection, or a claim's evidence, shown to employers at `/p/<token>`.

CONTRACT (stable; the claim feature relies on it):
- `create_share(session, user, badge_ids, *, kind="badge"|"collection"|"evidence", label="",
  expires_in=None|timedelta, now=None, purpose="") -> tuple[Share, str]` — validates ownership and
  matching, commits, and returns the share with its token (`secrets.token_urlsafe(32)`, 256 bits).
  The database keeps its sha256 (`Share.token_hash`, the only thing a public page is looked up by)
  and the token encrypted with WALLET_TOKEN_KEYS (`Share.token_enc`), which `owner_token` reads
  back for the owner's own pages (link, QR code, LinkedIn) at any time.
  Raises `SharingError(code)`; codes: `no_badges`, `too_many`, `not_found` (a badge is not the
  user's), `not_matched` (a badge is not addressed to a confirmed identity — DESIGN.md §6),
  `one_badge_only` (kind "badge" with several badges), `bad_kind`, `bad_expiry`.
- `owner_token(share, config=None) -> str | None` — the token of a share (the caller has checked
  ownership), or None for a share made before tokens were kept (or a key since removed).
- `linkedin_share(session, user, badge_id, now=None) -> Share` — the badge's permanent link for
  LinkedIn (purpose "linkedin", no expiry, revocable): the active one, or a new one.
- `public_url(token, base_url=None) -> str` — BASE_URL + "/p/<token>".
- `revoke_share(session, user, share_id, now=None) -> bool` — False when it is not the user's share.

What an employer's visit reads (lookup by token, the shared badges, view counts, the public
originals) is in `services/public_shares.py`; QR codes and the preview card in `share_images.py`.

Privacy (SECURITY.md T51–T53): only sha256(token) is looked up, through the unique index (the
encrypted copy is never searched, and is decrypted only for the owner).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlencode

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from ..keys import crypto
from ..models import Badge, Share, ShareItem, User, utcnow

KINDS = ("badge", "collection", "evidence")
PURPOSES = ("", "linkedin")
MAX_BADGES = 50
MAX_LABEL = 200
# The choices offered on the form: code → lifetime (None = never expires).
EXPIRY_CHOICES: dict[str, timedelta | None] = {
    "7j": timedelta(days=7),
    "30j": timedelta(days=30),
    "6m": timedelta(days=182),
    "jamais": None,
}
TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{20,100}")


class SharingError(ValueError):
    """A share cannot be made; `code` says why (the view maps it to a French sentence)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True, slots=True)
class Lookup:
    share: Share | None
    state: str  # active | revoked | expired | missing


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


# ------------------------------------------------------------------------------------ learner side

def new_token(config=None) -> tuple[str, str, str]:
    """(token, its sha256, its encrypted copy) for a new public link."""
    token = secrets.token_urlsafe(32)
    return token, hash_token(token), crypto.encrypt(_config(config), token)


def _config(config):
    if config is not None:
        return config
    from flask import current_app

    return current_app.config


def owner_token(share: Share, config=None) -> str | None:
    """The share's token for its owner's pages; None when it was never kept (shares made before
    migration 0012) or cannot be decrypted any more (a key removed from WALLET_TOKEN_KEYS)."""
    if not share.token_enc:
        return None
    try:
        token = crypto.decrypt(_config(config), share.token_enc)
    except crypto.TokenDecryptError:
        return None
    # Belt and braces: the encrypted copy must name this very share.
    return token if hmac.compare_digest(hash_token(token), share.token_hash) else None


def create_share(session: Session, user: User, badge_ids, *, kind: str = "badge", label: str = "",
                 expires_in: timedelta | None = None, now: datetime | None = None,
                 purpose: str = "") -> tuple[Share, str]:
    """Make a share link for the user's own matched badges; commit; return (share, token)."""
    if purpose not in PURPOSES:
        raise SharingError("bad_kind")
    if kind not in KINDS:
        raise SharingError("bad_kind")
    ids: list[int] = []
    for raw in badge_ids or ():
        try:
            value = int(raw)
        except (TypeError, ValueError):
            raise SharingError("not_found") from None
        if value not in ids:
            ids.append(value)
    if not ids:
        raise SharingError("no_badges")
    if len(ids) > MAX_BADGES:
        raise SharingError("too_many")
    if kind == "badge" and len(ids) != 1:
        raise SharingError("one_badge_only")
    if expires_in is not None and expires_in <= timedelta(0):
        raise SharingError("bad_expiry")
    found = {b.id: b for b in session.scalars(select(Badge).where(Badge.id.in_(ids), Badge.owner_id == user.id))}
    if len(found) != len(ids):
        raise SharingError("not_found")
    if not all(found[i].matched for i in ids):
        raise SharingError("not_matched")
    moment = now or utcnow()
    token, token_hash, token_enc = new_token()
    share = Share(owner_id=user.id, token_hash=token_hash, token_enc=token_enc, kind=kind, purpose=purpose,
                  label=(label or "").strip()[:MAX_LABEL], created_at=moment,
                  expires_at=moment + expires_in if expires_in is not None else None)
    share.items = [ShareItem(badge_id=badge_id, position=index) for index, badge_id in enumerate(ids, start=1)]
    session.add(share)
    session.commit()
    return share, token


def linkedin_share(session: Session, user: User, badge_id: int, now: datetime | None = None) -> Share:
    """The badge's permanent link for a LinkedIn certification: LinkedIn keeps a certification's
    URL for good, so it must not point at a link that expires. One active per badge; revocable
    like any other (a new one is made the next time)."""
    existing = linkedin_shares(session, user, [badge_id]).get(badge_id)
    if existing is not None and state_of(existing, now) == "active":
        return existing
    share, _token = create_share(session, user, [badge_id], kind="badge", now=now,
                                 purpose="linkedin")
    return share


def linkedin_shares(session: Session, user: User, badge_ids) -> dict[int, Share]:
    """badge id → its active (not revoked) LinkedIn link, for the given badges of the user."""
    ids = [int(i) for i in badge_ids]
    if not ids:
        return {}
    stmt = (select(ShareItem.badge_id, Share).join(Share, Share.id == ShareItem.share_id)
            .where(Share.owner_id == user.id, Share.purpose == "linkedin", Share.revoked_at.is_(None),
                   ShareItem.badge_id.in_(ids))
            .order_by(Share.id))
    return {badge_id: share for badge_id, share in session.execute(stmt)}


def public_url(token: str, base_url: str | None = None) -> str:
    """The public address of a share: BASE_URL + /p/<token>."""
    if base_url is None:
        from flask import current_app

        base_url = current_app.config["BASE_URL"]
    return base_url.rstrip("/") + "/p/" + token


def list_shares(session: Session, user: User) -> list[Share]:
    stmt = (select(Share).where(Share.owner_id == user.id)
            .options(joinedload(Share.items).joinedload(ShareItem.badge))
            .order_by(Share.created_at.desc(), Share.id.desc()))
    return list(session.scalars(stmt).unique())


def get_owned_share(session: Session, user: User, share_id: int) -> Share | None:
    return session.scalar(select(Share).where(Share.id == share_id, Share.owner_id == user.id))


def revoke_share(session: Session, user: User, share_id: int, now: datetime | None = None) -> bool:
    """Withdraw a link at once (its page answers 404, or 410 for claim evidence)."""
    share = get_owned_share(session, user, share_id)
    if share is None:
        return False
    if share.revoked_at is None:
        share.revoked_at = now or utcnow()
        session.commit()
    return True


def state_of(share: Share, now: datetime | None = None) -> str:
    if share.revoked_at is not None:
        return "revoked"
    if share.expires_at is not None and share.expires_at <= (now or utcnow()):
        return "expired"
    return "active"


def linkedin_url(badge: Badge, cert_url: str) -> str:
    """LinkedIn's "add a certification" link, filled in (the learner chooses to follow it)."""
    params: dict[str, str | int] = {"startTask": "CERTIFICATION_NAME", "name": badge.name or "Badge",
                                    "organizationName": badge.issuer_name or ""}
    if badge.issued_on:
        params.update(issueYear=badge.issued_on.year, issueMonth=badge.issued_on.month)
    if badge.expires:
        params.update(expirationYear=badge.expires.year, expirationMonth=badge.expires.month)
    params["certUrl"] = cert_url
    return "https://www.linkedin.com/profile/add?" + urlencode(params)
