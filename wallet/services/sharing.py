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
- `share_for_token(session, token, now=None) -> Share | None` — the active share, or None (unknown,
  revoked or expired). `lookup(session, token, now)` also says why (`state`).

Privacy (SECURITY.md T51–T53): only sha256(token) is looked up, through the unique index (the
encrypted copy is never searched, and is decrypted only for the owner); the
public originals (baked image, OB 3.0 JSON) are offered only when the recipient identity is hashed
and the bytes hold none of the owner's addresses; displayed images carry no baked badge.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import io
import json
import re
import secrets
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

from sqlalchemy import bindparam, case, select, update
from sqlalchemy.orm import Session, defer, joinedload

from .. import crypto
from ..models import Badge, Email, Share, ShareItem, User, utcnow
from ..openbadges.baking import unbake
from ..openbadges.identity import identity_matches

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
_TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{20,100}")


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


# ------------------------------------------------------------------------------------- public side

def lookup(session: Session, token: str, now: datetime | None = None) -> Lookup:
    """The share a token names and its state. Malformed tokens never reach the database."""
    if not isinstance(token, str) or not _TOKEN_RE.fullmatch(token):
        return Lookup(None, "missing")
    share = session.scalar(_SHARE_BY_HASH, {"token_hash": hash_token(token)})
    if share is None:
        return Lookup(None, "missing")
    return Lookup(share, state_of(share, now))


def share_for_token(session: Session, token: str, now: datetime | None = None) -> Share | None:
    """The active share for a token, or None (unknown, revoked or expired)."""
    found = lookup(session, token, now)
    return found.share if found.state == "active" else None


def shared_badges(session: Session, share: Share) -> list[tuple[int, Badge]]:
    """(position, badge) of the share's badges still matched to their owner, in order."""
    stmt = (select(ShareItem.position, Badge).join(Badge, Badge.id == ShareItem.badge_id)
            .where(ShareItem.share_id == share.id, Badge.matched.is_(True), Badge.owner_id == share.owner_id)
            .order_by(ShareItem.position))
    return [(position, badge) for position, badge in session.execute(stmt)]


def shared_badge(session: Session, share: Share, position: int) -> Badge | None:
    stmt = (select(Badge).join(ShareItem, ShareItem.badge_id == Badge.id)
            .where(ShareItem.share_id == share.id, ShareItem.position == position,
                   Badge.matched.is_(True), Badge.owner_id == share.owner_id))
    return session.scalar(stmt)


# Built once: the public page's hot path. The large text columns load only when a page is rendered
# (a cache miss); a cached page needs just the badge's id, status and check time.
_BADGE_AND_HOLDER = (
    select(Badge, User.display_name).join(ShareItem, ShareItem.badge_id == Badge.id)
    .join(User, User.id == Badge.owner_id)
    .where(ShareItem.share_id == bindparam("share_id"), ShareItem.position == bindparam("position"),
           Badge.matched.is_(True), Badge.owner_id == bindparam("owner_id"))
    .options(defer(Badge.payload), defer(Badge.verdict), defer(Badge.recipient), defer(Badge.details))
)
_SHARE_BY_HASH = select(Share).where(Share.token_hash == bindparam("token_hash"))


def shared_badge_and_holder(session: Session, share: Share, position: int) -> tuple[Badge, str] | None:
    """The badge at `position` with its owner's display name, in one query (the page's hot path)."""
    row = session.execute(_BADGE_AND_HOLDER, {"share_id": share.id, "position": position,
                                              "owner_id": share.owner_id}).first()
    return (row[0], row[1]) if row else None


def owner_name(session: Session, share: Share) -> str:
    return session.scalar(select(User.display_name).where(User.id == share.owner_id)) or ""


class ViewCounter:
    """Counts views in memory and writes them with one UPDATE per share every `interval` seconds.

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
        with self._factory() as session:
            for share_id, (count, last) in pending.items():
                record_view(session, share_id, last, count=count, commit=False)
            session.commit()


def record_view(session: Session, share: Share | int, now: datetime | None = None, *, count: int = 1,
                commit: bool = True) -> None:
    """Count views with a single UPDATE (no read-modify-write of the row)."""
    share_id = share if isinstance(share, int) else share.id
    moment = now or utcnow()
    session.execute(update(Share).where(Share.id == share_id)
                    .values(view_count=Share.view_count + count,
                            last_viewed_at=case((Share.last_viewed_at > moment, Share.last_viewed_at),
                                                else_=moment)))
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


# --------------------------------------------------------------------------------- learner extras

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


def qr_svg_data_uri(url: str) -> str:
    """A QR code of `url` as an SVG data URI (server-rendered, no script)."""
    import segno

    out = io.BytesIO()
    segno.make(url, error="m").save(out, kind="svg", scale=6, border=2, xmldecl=False)
    return "data:image/svg+xml;base64," + base64.b64encode(out.getvalue()).decode()


def qr_png(url: str) -> bytes:
    """A QR code of `url` as a PNG (to download and print)."""
    import segno

    out = io.BytesIO()
    segno.make(url, error="m").save(out, kind="png", scale=10, border=2)
    return out.getvalue()


def qr_png_data_uri(url: str) -> str:
    """The same PNG as a data URI (a printed page carries it: no request)."""
    return "data:image/png;base64," + base64.b64encode(qr_png(url)).decode()



# ------------------------------------------------------------------------------- preview (OG card)

_FONT_DIRS = ("/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/dejavu", "/usr/share/fonts/TTF")


def _font(size: int, bold: bool = False):
    from PIL import ImageFont

    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    for folder in _FONT_DIRS:
        path = Path(folder) / name
        if path.is_file():
            return ImageFont.truetype(str(path), size)
    return ImageFont.load_default(size=size)


def _wrap(draw, text: str, font, width: int, max_lines: int) -> list[str]:
    words, lines, line = text.split(), [], ""
    for word in words:
        candidate = f"{line} {word}".strip()
        if draw.textlength(candidate, font=font) <= width:
            line = candidate
            continue
        if line:
            lines.append(line)
        line = word
        if len(lines) == max_lines:
            break
    if line and len(lines) < max_lines:
        lines.append(line)
    if len(lines) == max_lines and " ".join(lines) != " ".join(words):
        lines[-1] = lines[-1].rstrip(".,;: ") + "…"
    return lines


@functools.lru_cache(maxsize=64)
def _preview(image: bytes | None, image_type: str | None, name: str, issuer: str, status_text: str,
             ok: bool) -> bytes:
    from PIL import Image, ImageDraw

    canvas = Image.new("RGB", (1200, 630), (246, 246, 248))
    draw = ImageDraw.Draw(canvas)
    draw.rectangle((0, 0, 1200, 24), fill=(11, 79, 138))
    badge = None
    if image is not None and image_type == "image/png":
        try:
            with Image.open(io.BytesIO(image), formats=["PNG"]) as opened:
                badge = opened.convert("RGBA")
                badge.thumbnail((380, 380))
        except (OSError, ValueError):
            badge = None
    if badge is not None:
        canvas.paste(badge, (60 + (380 - badge.width) // 2, 125 + (380 - badge.height) // 2), badge)
    else:
        draw.ellipse((90, 155, 410, 475), fill=(11, 79, 138))
    colour = (21, 87, 36) if ok else (110, 110, 120)
    y = 130
    for line in _wrap(draw, name, _font(54, bold=True), 680, 3):
        draw.text((480, y), line, font=_font(54, bold=True), fill=(27, 27, 31))
        y += 66
    y += 14
    for line in _wrap(draw, issuer, _font(36), 680, 2):
        draw.text((480, y), line, font=_font(36), fill=(74, 74, 85))
        y += 46
    y += 24
    for line in _wrap(draw, status_text, _font(36, bold=True), 680, 2):
        draw.text((480, y), line, font=_font(36, bold=True), fill=colour)
        y += 46
    out = io.BytesIO()
    canvas.save(out, format="PNG", optimize=True)
    return out.getvalue()


def preview_png(badge: Badge, issuer_line: str, status_text: str) -> bytes:
    """A 1200×630 PNG card (badge image, name, issuer, status) for OpenGraph/Twitter previews."""
    shown = public_image(badge)
    image, image_type = shown if shown else (None, None)
    return _preview(image, image_type, badge.name or "Badge", issuer_line, status_text,
                    badge.status == "valid")
