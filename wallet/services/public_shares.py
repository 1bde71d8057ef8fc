"""What an employer's visit to `/p/<token>` reads: the share a token names, its badges and their
holder, the view counts, the recipient check and the public originals.

CONTRACT (stable): `lookup(session, token, now=None) -> Lookup(share, state)` and
`share_for_token(session, token, now=None) -> Share | None` (the active share, or None: unknown,
revoked or expired).

A visit reads everything its page needs in one statement (`visit()`): the share, the badge at the
asked position with its holder's name, and the page as last rendered (`PublicPage`), served again
only while its fingerprint (`page_fingerprint()`, `cards_fingerprint()`) still matches.

Privacy (SECURITY.md T51–T53): only sha256(token) is looked up, through the unique index; the
public originals (baked image, OB 3.0 JSON) are offered only when the recipient identity is hashed
and the bytes hold none of the owner's addresses; displayed images carry no baked badge.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, bindparam, case, inspect, literal, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, defer

from ..models import Badge, Email, PublicPage, Share, ShareItem, User, utcnow
from ..openbadges.baking import unbake
from ..openbadges.identity import identity_matches
from .sharing import TOKEN_RE, Lookup, hash_token, state_of


def lookup(session: Session, token: str, now: datetime | None = None) -> Lookup:
    """The share a token names and its state. Malformed tokens never reach the database."""
    if not isinstance(token, str) or not TOKEN_RE.fullmatch(token):
        return Lookup(None, "missing")
    share = session.scalar(_SHARE_BY_HASH, {"token_hash": hash_token(token)})
    if share is None:
        return Lookup(None, "missing")
    return Lookup(share, state_of(share, now))


@dataclass(frozen=True, slots=True)
class Visit:
    """What a visit to a public page found: the share and its state, the badge at the asked
    position (None when there is none, or it is no longer its owner's), the holder's display name,
    and the page kept for it as (fingerprint, html), or None."""

    share: Share | None
    state: str
    badge: Badge | None = None
    holder: str = ""
    page: tuple[str, str] | None = None


def _visit_statement(page_position):
    return (
        select(Share, Badge, User.display_name, PublicPage.fingerprint, PublicPage.html)
        .select_from(Share)
        .outerjoin(ShareItem, and_(ShareItem.share_id == Share.id, ShareItem.position == bindparam("position")))
        .outerjoin(Badge, and_(Badge.id == ShareItem.badge_id, Badge.matched.is_(True),
                               Badge.owner_id == Share.owner_id))
        .outerjoin(User, User.id == Badge.owner_id)
        .outerjoin(PublicPage, and_(PublicPage.share_id == Share.id, PublicPage.position == page_position,
                                    PublicPage.lang == bindparam("lang")))
        .where(Share.token_hash == bindparam("token_hash"))
        .options(defer(Badge.payload))
    )


# Built once: a visit's one statement. A link's own page (`/p/<token>`) is its badge's page for a
# one-badge link (position 1) and the collection's page (position 0) otherwise.
_VISIT_BADGE = _visit_statement(bindparam("position"))
_VISIT_LANDING = _visit_statement(case((Share.kind == "badge", literal(1)), else_=literal(0)))


def visit(session: Session, token: str, lang: str, position: int | None = None,
          now: datetime | None = None) -> Visit:
    """One statement for a public page: `position` None is the link's own page."""
    if not isinstance(token, str) or not TOKEN_RE.fullmatch(token):
        return Visit(None, "missing")
    statement = _VISIT_LANDING if position is None else _VISIT_BADGE
    row = session.execute(statement, {"token_hash": hash_token(token), "position": position or 1,
                                      "lang": lang}).first()
    if row is None:
        return Visit(None, "missing")
    share, badge, holder, fingerprint, html = row
    return Visit(share, state_of(share, now), badge, holder or "", (fingerprint, html) if html else None)


# What a badge's public page shows: every column loaded with it but the verification's date
# (filled in on each visit, so a re-verification that changes nothing keeps the page) and the
# worker's lease.
_SHOWN = tuple(a.key for a in inspect(Badge).column_attrs
               if not a.deferred and a.key not in ("payload", "checked_at", "reverify_lease_until"))


def _digest(parts: list) -> str:
    return hashlib.sha256(repr(parts).encode("utf-8", "surrogatepass")).hexdigest()


def page_fingerprint(version: str, lang: str, share: Share, position: int, badge: Badge, holder: str) -> str:
    """What a badge's public page is rendered from (`version`: the templates, texts and Region)."""
    return _digest([version, lang, share.kind, share.label, position, holder,
                    *(getattr(badge, key) for key in _SHOWN)])


def cards_fingerprint(version: str, lang: str, share: Share, holder: str,
                      items: list[tuple[int, Badge]]) -> str:
    """What a collection's own page is rendered from."""
    return _digest([version, lang, share.kind, share.label, 0, holder,
                    *((p, *(getattr(b, key) for key in _SHOWN)) for p, b in items)])


def store_page(session: Session, share_id: int, position: int, lang: str, fingerprint: str, html: str) -> None:
    """Keep a rendered page (insert or replace). A page is only a copy: a failure to keep it is
    logged and forgotten, never the visitor's error."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    values = {"share_id": share_id, "position": position, "lang": lang, "fingerprint": fingerprint,
              "html": html, "rendered_at": utcnow()}
    statement = insert(PublicPage).values(**values).on_conflict_do_update(
        index_elements=["share_id", "position", "lang"],
        set_={"fingerprint": fingerprint, "html": html, "rendered_at": values["rendered_at"]})
    try:
        session.execute(statement)
        session.commit()
    except SQLAlchemyError:
        session.rollback()
        logging.getLogger("wallet").warning("public page of share %s not kept", share_id, exc_info=True)


def share_for_token(session: Session, token: str, now: datetime | None = None) -> Share | None:
    """The active share for a token, or None (unknown, revoked or expired)."""
    found = lookup(session, token, now)
    return found.share if found.state == "active" else None


def shared_badges_and_holder(session: Session, share: Share) -> tuple[list[tuple[int, Badge]], str]:
    """(position, badge) of the share's badges still matched to their owner, in order, and the
    owner's display name, in one query (a collection page's hot path); "" when no badge is left."""
    rows = session.execute(_BADGES_AND_HOLDER, {"share_id": share.id, "owner_id": share.owner_id}).all()
    return [(position, badge) for position, badge, _name in rows], (rows[0][2] or "" if rows else "")


def shared_badge(session: Session, share: Share, position: int) -> Badge | None:
    stmt = (select(Badge).join(ShareItem, ShareItem.badge_id == Badge.id)
            .where(ShareItem.share_id == share.id, ShareItem.position == position,
                   Badge.matched.is_(True), Badge.owner_id == share.owner_id))
    return session.scalar(stmt)


# Built once: the public page's hot path, one query. Most visits are first views (an employer opens
# a link once), so the columns a page shows come with the row (three lazy loads cost three round
# trips); only the payload, which no page shows, stays behind.
_BADGE_AND_HOLDER = (
    select(Badge, User.display_name).join(ShareItem, ShareItem.badge_id == Badge.id)
    .join(User, User.id == Badge.owner_id)
    .where(ShareItem.share_id == bindparam("share_id"), ShareItem.position == bindparam("position"),
           Badge.matched.is_(True), Badge.owner_id == bindparam("owner_id"))
    .options(defer(Badge.payload))
)
_BADGES_AND_HOLDER = (
    select(ShareItem.position, Badge, User.display_name).join(Badge, Badge.id == ShareItem.badge_id)
    .join(User, User.id == Badge.owner_id)
    .where(ShareItem.share_id == bindparam("share_id"), Badge.matched.is_(True),
           Badge.owner_id == bindparam("owner_id"))
    .order_by(ShareItem.position).options(defer(Badge.payload))
)
_SHARE_BY_HASH = select(Share).where(Share.token_hash == bindparam("token_hash"))


def shared_badge_and_holder(session: Session, share: Share, position: int) -> tuple[Badge, str] | None:
    """The badge at `position` with its owner's display name, in one query (the page's hot path)."""
    row = session.execute(_BADGE_AND_HOLDER, {"share_id": share.id, "position": position,
                                              "owner_id": share.owner_id}).first()
    return (row[0], row[1]) if row else None


class ViewCounter:
    """Counts views in memory and writes them every `interval` seconds in one batched UPDATE (an
    executemany, a row per share).

    A write per page view would make every employer's visit queue for the database's write lock
    (SQLite has one writer): instead each process adds up its views and a timer thread flushes
    them (`view_count = view_count + n`, never a read-modify-write). `interval=0` writes at once.
    Views still pending when a process dies are lost (at most `interval` seconds of them).
    """

    def __init__(self, session_factory, interval: float) -> None:
        self._factory = session_factory
        self.interval = interval
        self._pending: dict[int, list] = {}
        self._lock = threading.Lock()
        self._timer: threading.Timer | None = None

    def add(self, share_id: int, now: datetime | None = None) -> None:
        moment = now or utcnow()
        with self._lock:
            entry = self._pending.setdefault(share_id, [0, moment])
            entry[0] += 1
            entry[1] = max(entry[1], moment)
            if self.interval > 0:
                if self._timer is None:
                    self._timer = threading.Timer(self.interval, self.flush)
                    self._timer.daemon = True
                    self._timer.start()
                return
        self.flush()

    def flush(self) -> None:
        with self._lock:
            pending, self._pending, self._timer = self._pending, {}, None
        if not pending:
            return
        # One statement for all the shares (an executemany: psycopg sends it in one pipeline), in
        # id order, so that two processes flushing at once take the rows' locks in the same order.
        rows = [{"share_id": share_id, "views": count, "last": last}
                for share_id, (count, last) in sorted(pending.items())]
        with self._factory() as session:
            session.execute(_COUNT_VIEWS, rows)
            session.commit()


_SHARES = Share.__table__
# A view count added in place (never a read-modify-write of the row), keeping the latest view date.
_COUNT_VIEWS = (
    update(_SHARES).where(_SHARES.c.id == bindparam("share_id"))
    .values(view_count=_SHARES.c.view_count + bindparam("views"),
            last_viewed_at=case((_SHARES.c.last_viewed_at > bindparam("last", type_=_SHARES.c.last_viewed_at.type),
                                 _SHARES.c.last_viewed_at),
                                else_=bindparam("last", type_=_SHARES.c.last_viewed_at.type)))
)


def record_view(session: Session, share: Share | int, now: datetime | None = None, *, count: int = 1,
                commit: bool = True) -> None:
    """Count views with a single UPDATE (no read-modify-write of the row)."""
    share_id = share if isinstance(share, int) else share.id
    session.execute(_COUNT_VIEWS, {"share_id": share_id, "views": count, "last": now or utcnow()})
    if commit:
        session.commit()


def check_recipient(badge: Badge, email: str) -> bool:
    """Whether `email` is the badge's recipient (any case). Answers yes/no only."""
    email = (email or "").strip()
    if not email or "@" not in email or len(email) > 320:
        return False
    for identity in _identities(badge):
        if identity.get("type", "email") not in ("email", "emailAddress"):
            continue
        if identity_matches(identity.get("identity") or "", bool(identity.get("hashed")), identity.get("salt"),
                            [email]):
            return True
    return False


def _identities(badge: Badge) -> list[dict]:
    try:
        items = json.loads(badge.recipient or "[]")
    except ValueError:
        return []
    return [i for i in items if isinstance(i, dict)]


def has_email_identity(badge: Badge) -> bool:
    return any(i.get("type", "email") in ("email", "emailAddress") for i in _identities(badge))


def identity_is_hashed(badge: Badge) -> bool:
    identities = _identities(badge)
    return bool(identities) and all(bool(i.get("hashed")) for i in identities)


def _holds_an_address(session: Session, badge: Badge, data: bytes) -> bool:
    """Belt and braces: do the bytes name any address of the owner, or a plain recipient?"""
    lowered = data.lower()
    addresses = session.scalars(select(Email.normalized).where(Email.user_id == badge.owner_id)).all()
    plain = [i.get("identity") or "" for i in _identities(badge) if not i.get("hashed")]
    return any(a and a.lower().encode() in lowered for a in [*addresses, *plain])


def public_original(session: Session, badge: Badge) -> tuple[bytes, str, str] | None:
    """The baked file for a public page, ONLY when the recipient identity is hashed (T53)."""
    from .badges import baked_download

    if not identity_is_hashed(badge):
        return None
    baked = baked_download(badge)
    if baked is None or _holds_an_address(session, badge, baked[0]):
        return None
    return baked


def public_credential_json(session: Session, badge: Badge) -> bytes | None:
    """The original OB 3.0 credential (JSON payload), under the same rule as `public_original`."""
    if badge.version != "3.0" or badge.payload_format != "json" or not identity_is_hashed(badge):
        return None
    data = badge.payload.encode("utf-8")
    return None if _holds_an_address(session, badge, data) else data


def hosted_assertion_url(badge: Badge) -> str | None:
    """The issuer's own hosted copy of an OB 2.0 hosted assertion (its id), when http(s)."""
    try:
        proof = json.loads(badge.verdict or "{}").get("proof")
    except ValueError:
        return None
    url = badge.credential_id or ""
    if badge.version.startswith(("1", "2")) and proof == "hosted" and url.startswith(("https://", "http://")):
        return url
    return None


def public_image(badge: Badge) -> tuple[bytes, str] | None:
    """The stored display image, with any baked badge removed (SVG files are kept as uploaded)."""
    if badge.image is None or not badge.image_type:
        return None
    if badge.image_type == "image/svg+xml":
        cleaned = _strip_svg(badge.image)
        return (cleaned, badge.image_type) if cleaned is not None else None
    if unbake(badge.image) is not None:  # stored PNGs are re-encoded; never serve a baked one anyway
        return None
    return badge.image, badge.image_type


def _strip_svg(data: bytes) -> bytes | None:
    try:
        if unbake(data) is None:
            return data
    except Exception:  # noqa: BLE001 - unreadable: do not serve it
        return None
    from xml.etree import ElementTree

    import defusedxml.ElementTree as SafeET

    ob_ns = "{http://openbadges.org}"
    try:
        root = SafeET.fromstring(data, forbid_dtd=True)
    except Exception:  # noqa: BLE001
        return None
    for parent in list(root.iter()):
        for child in list(parent):
            if isinstance(child.tag, str) and child.tag.startswith(ob_ns):
                parent.remove(child)
        for name in [n for n in parent.attrib if n.startswith(ob_ns)]:
            del parent.attrib[name]
    ElementTree.register_namespace("", "http://www.w3.org/2000/svg")
    cleaned = ElementTree.tostring(root, encoding="utf-8")
    try:
        return cleaned if unbake(cleaned) is None and b"openbadges" not in cleaned else None
    except Exception:  # noqa: BLE001
        return None
