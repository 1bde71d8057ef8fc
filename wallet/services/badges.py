"""The learner's wallet: import badges (upload, URL, paste), re-match, re-verify, delete, download.

Verification happens before any transaction (it may fetch over the network); each imported item
then gets its own short transaction, so one bad file never stops or half-writes the others.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .. import db
from ..models import Badge, BadgeEvent, User, utcnow
from ..openbadges import BadgeInputError, FetchError, verify
from ..openbadges.baking import bake, sniff_format
from ..openbadges.fetching import MemoFetcher
from ..openbadges.identity import identity_matches
from ..openbadges.model import Verdict
from . import images
from .rules import RULES_VERSION

MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_FILES = 20
MAX_TEXT_BYTES = 256 * 1024


@dataclass(frozen=True, slots=True)
class Upload:
    filename: str
    data: bytes
    truncated: bool = False  # the file was larger than MAX_FILE_BYTES


@dataclass(frozen=True, slots=True)
class ImportItem:
    """The result line of one imported item."""

    label: str
    outcome: str  # imported | duplicate | not_yours | error
    badge_id: int | None = None
    status: str | None = None
    code: str | None = None  # why it failed, for the import doctor
    params: dict[str, Any] = field(default_factory=dict)
    name: str | None = None
    hint: dict[str, Any] = field(default_factory=dict)  # not_yours: what the badge points to
    verdict: Verdict | None = None  # refused by `accept`: the verdict, for the refusal's reason


# --------------------------------------------------------------------------------------------- import

def import_uploads(session: Session, user: User, uploads: list[Upload], http, now: datetime | None = None
                   ) -> list[ImportItem]:
    fetch = MemoFetcher(http.fetch)
    results: list[ImportItem] = []
    for index, upload in enumerate(uploads):
        label = upload.filename or f"fichier {index + 1}"
        if index >= MAX_FILES:
            results.append(ImportItem(label, "error", code="too_many_files", params={"max": MAX_FILES}))
            continue
        if upload.truncated:
            results.append(ImportItem(label, "error", code="file_too_large", params={"max_mb": 2}))
            continue
        if not upload.data:
            results.append(ImportItem(label, "error", code="empty_file"))
            continue
        results.append(_import_one(session, user, upload.data, label, "upload", http, fetch, now,
                                   original_file=upload.data))
    return results


def import_url(session: Session, user: User, url: str, http, now: datetime | None = None) -> ImportItem:
    url = (url or "").strip()
    if not url.startswith(("https://", "http://")) or len(url) > 2048:
        return ImportItem(url[:80] or "URL", "error", code="bad_url")
    return _import_one(session, user, url, url, "url", http, MemoFetcher(http.fetch), now, source_url=url)


def import_text(session: Session, user: User, text: str, http, now: datetime | None = None, *,
                source: str = "paste", label: str = "texte collé", fetch=None,
                accept: Callable[[Verdict], str | None] | None = None) -> ImportItem:
    """Import a badge given as text (JSON, compact JWS, or a URL). Partner syncs, issued claims and
    pushes by partner systems use it too (`source="partner"|"claim"|"push"`, a shared `fetch` memo
    for a whole batch). `accept(verdict)` may refuse a verified badge before anything is stored: it
    returns a refusal code (the item is then an `error` with that code and the verdict's status)."""
    text = (text or "").strip()
    if not text:
        return ImportItem(label, "error", code="empty_text")
    if len(text.encode()) > MAX_TEXT_BYTES:
        return ImportItem(label, "error", code="too_large")
    fetch = fetch or MemoFetcher(http.fetch)
    if text.startswith(("https://", "http://")) and "\n" not in text:
        if source == "paste":
            return import_url(session, user, text, http, now)
        return _import_one(session, user, text, label, source, http, fetch, now, source_url=text, accept=accept)
    return _import_one(session, user, text, label, source, http, fetch, now, accept=accept)


def _import_one(session: Session, user: User, source: bytes | str, label: str, how: str, http, fetch,
                now: datetime | None, original_file: bytes | None = None,
                source_url: str | None = None, accept: Callable[[Verdict], str | None] | None = None
                ) -> ImportItem:
    recipients = tuple(user.confirmed_addresses)
    try:
        verdict = verify(source, fetch=fetch, recipients=recipients, now=now)
    except BadgeInputError as err:
        return ImportItem(label, "error", code=err.code, params=_json_safe(err.params))
    unread = why_nothing_was_read(verdict)
    if unread is not None:  # nothing to keep: no row, the real cause on the result line (T63)
        session.rollback()
        return ImportItem(label, "error", code=unread[0], params=unread[1])
    credential = verdict.credential
    refusal = accept(verdict) if accept is not None else None
    if refusal is not None:
        session.rollback()
        return ImportItem(label, "error", status=verdict.status.value, code=refusal, name=credential.name,
                          verdict=verdict)
    key = credential_key(verdict)
    existing = session.scalar(select(Badge.id).where(Badge.owner_id == user.id, Badge.credential_key == key))
    if existing is not None:
        session.rollback()
        return ImportItem(label, "duplicate", badge_id=existing, status=verdict.status.value,
                          name=credential.name)

    image = None
    if original_file is not None:
        image = images.normalize_image(original_file)
    if image is None:
        if isinstance(fetch, MemoFetcher) and isinstance(credential.image, str):
            image = fetch.keep(("image", credential.image), lambda: images.fetch_image(credential.image, http))
        else:
            image = images.fetch_image(credential.image, http)

    owner_id = user.id
    db.begin_write(session)  # SQLite: the insert below must not upgrade a stale read (workers import too)
    badge = Badge(owner_id=owner_id, source=how, source_url=source_url)
    apply_verdict(badge, verdict)
    badge.credential_key = key
    badge.credential_id = credential.id
    badge.payload = credential.original or (source if isinstance(source, str) else "")
    badge.payload_format = _payload_format(badge.payload)
    badge.recipient = json.dumps([{"type": i.type, "identity": i.identity, "hashed": i.hashed, "salt": i.salt}
                                  for i in credential.identities])
    badge.details = json.dumps({
        "evidence": [{"id": e.id, "name": e.name, "narrative": e.narrative, "description": e.description}
                     for e in credential.evidence],
        "narrative": credential.narrative,
        "issuer_url": credential.issuer_url,
    })
    if image is not None:
        badge.image, badge.image_type = image
    if original_file is not None:
        badge.original_file = original_file
        badge.original_file_type = {"png": "image/png", "svg": "image/svg+xml"}.get(sniff_format(original_file))
    session.add(badge)
    try:
        session.commit()
    except IntegrityError:  # the same badge imported twice at once
        session.rollback()
        existing = session.scalar(select(Badge.id).where(Badge.owner_id == user.id, Badge.credential_key == key))
        return ImportItem(label, "duplicate", badge_id=existing, status=verdict.status.value,
                          name=credential.name)
    if verdict.recipient_matched is False:
        return ImportItem(label, "not_yours", badge_id=badge.id, status=verdict.status.value,
                          name=credential.name, hint=recipient_hint(credential.identities))
    return ImportItem(label, "imported", badge_id=badge.id, status=verdict.status.value, name=credential.name)


_FETCH_REASONS = {"network": "url_unreachable", "offline": "url_unreachable", "timeout": "url_timeout",
                  "blocked": "url_blocked", "scheme": "url_blocked", "too_large": "url_too_large",
                  "redirects": "url_redirects"}


def why_nothing_was_read(verdict: Verdict) -> tuple[str, dict[str, Any]] | None:
    """(doctor code, params) when the verdict holds no badge at all — the URL could not be
    fetched, answered an error, or did not hold a badge — else None. Such an import stores nothing."""
    c = verdict.credential
    if c.version is not None or c.badge_id or c.name or c.issuer_id or c.identities:
        return None
    failed = next((check for check in verdict.checks if not check.ok), None)
    params = failed.params if failed is not None else {}
    if failed is None or failed.id == "structure":
        return "url_not_a_badge", {}
    if failed.id == "revocation":
        return "url_gone", {}
    if failed.id == "fetch" and params.get("reason") == "http_status":
        status = params.get("status")
        code = "url_server_error" if isinstance(status, int) and status >= 500 else "url_not_found"
        return code, {"status": status}
    if failed.id == "fetch":
        return _FETCH_REASONS.get(str(params.get("reason")), "url_not_a_badge"), {}
    return "url_not_a_badge", {}


def credential_key(verdict: Verdict) -> str:
    credential = verdict.credential
    if credential.id:
        return credential.id[:512]
    return "sha256:" + hashlib.sha256(credential.original.encode()).hexdigest()


def _payload_format(payload: str) -> str:
    text = payload.lstrip()
    if text.startswith(("{", "[")):
        return "json"
    if text.startswith(("https://", "http://")):
        return "url"
    return "jws"


def _json_safe(params: dict) -> dict:
    return {k: v for k, v in params.items() if isinstance(v, (str, int, float, bool)) or v is None}


def _parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def apply_verdict(badge: Badge, verdict: Verdict) -> None:
    """Copy what a verdict says onto the stored badge (display fields, status, match)."""
    data = verdict.to_dict("fr")
    for check in data["checks"]:
        check.pop("message", None)  # rendered at display time in the reader's language
    credential = verdict.credential
    badge.version = credential.version or ""
    badge.name = (credential.name or "")[:500]
    badge.description = credential.description or ""
    badge.issuer_id = credential.issuer_id or ""
    badge.issuer_name = (credential.issuer_name or "")[:500]
    badge.badge_class_id = credential.badge_id or ""
    badge.issued_on = _parse_time(verdict.issued_on or credential.issued_on)
    badge.expires = _parse_time(verdict.expires or credential.expires)
    badge.status = verdict.status.value
    badge.matched = bool(verdict.recipient_matched)
    badge.verdict = json.dumps(data)
    badge.checked_at = _parse_time(verdict.checked_at) or utcnow()
    badge.rules_version = RULES_VERSION


def recipient_hint(identities: Iterable) -> dict[str, Any]:
    """What a 'not yours yet' line may say about the recipient: the domain and initials of a plain
    email, or that it is hashed. Never the full address."""
    for identity in identities:
        if identity.hashed:
            return {"hashed": True}
        value = identity.identity or ""
        if "@" in value:
            local, _, domain = value.partition("@")
            return {"hashed": False, "initial": local[:1], "domain": domain}
    return {"hashed": True}


# ------------------------------------------------------------------------------------ re-matching

def rematch(session: Session, user: User) -> int:
    """Match the user's unmatched badges against their confirmed addresses, offline.

    Called inside the transaction that confirms an address; the caller commits.
    """
    addresses = user.confirmed_addresses
    count = 0
    for badge in session.scalars(select(Badge).where(Badge.owner_id == user.id, Badge.matched.is_(False))):
        for identity in json.loads(badge.recipient or "[]"):
            if identity_matches(identity.get("identity") or "", bool(identity.get("hashed")),
                                identity.get("salt"), addresses):
                badge.matched = True
                verdict = json.loads(badge.verdict)
                verdict.setdefault("recipient", {})["matched"] = True
                for check in verdict.get("checks", []):
                    if check.get("id") == "recipient":
                        check["ok"] = True
                badge.verdict = json.dumps(verdict)
                session.add(BadgeEvent(badge_id=badge.id, kind="matched"))
                count += 1
                break
    return count


# ------------------------------------------------------------------------------- re-verification

def reverify(session: Session, badge: Badge, http, now: datetime | None = None, fetch=None) -> Badge:
    """Verify a stored badge again from its original payload and record a status change.

    `fetch`: the fetcher to use instead of `http.fetch` (the worker's shared HttpCache). Ends the
    worker's lease on the badge, if any (services/reverification.py)."""
    owner = badge.owner
    recipients = tuple(owner.confirmed_addresses)
    source = badge.payload if badge.payload_format != "url" else badge.payload.strip()
    session.rollback()  # no transaction open across the network calls
    try:
        verdict = verify(source, fetch=MemoFetcher(fetch or http.fetch), recipients=recipients, now=now)
    except (BadgeInputError, FetchError):
        badge.checked_at = utcnow()
        badge.rules_version = RULES_VERSION  # tried under these rules: the upgrade pass is done with it
        badge.reverify_lease_until = None
        session.commit()
        return badge
    old = badge.status
    badge.reverify_lease_until = None
    apply_verdict(badge, verdict)
    if badge.status != old:
        session.add(BadgeEvent(badge_id=badge.id, kind="status_changed", old=old, new=badge.status))
    session.commit()
    return badge


# ---------------------------------------------------------------------------------- owner actions

def get_owned(session: Session, user: User, badge_id: int) -> Badge | None:
    """The badge if it belongs to the user; None otherwise (the view answers 404 either way)."""
    return session.scalar(select(Badge).where(Badge.id == badge_id, Badge.owner_id == user.id))


def delete(session: Session, user: User, badge_id: int) -> bool:
    badge = get_owned(session, user, badge_id)
    if badge is None:
        return False
    session.delete(badge)
    session.commit()
    return True


def baked_download(badge: Badge) -> tuple[bytes, str, str] | None:
    """(bytes, mime type, extension) of a baked image that holds the original payload unchanged."""
    if badge.original_file is not None and badge.original_file_type:
        ext = "svg" if badge.original_file_type == "image/svg+xml" else "png"
        return badge.original_file, badge.original_file_type, ext
    if badge.image is None or not badge.image_type:
        return None
    try:
        data = bake(badge.image, badge.payload)
    except BadgeInputError:
        return None
    ext = "svg" if badge.image_type == "image/svg+xml" else "png"
    return data, badge.image_type, ext


def summaries(session: Session, user: User) -> list[Any]:
    """(credential_id, id, name, issuer_name, issued_on) of each of the learner's badges: what the
    regional page names the badges that count with."""
    return list(session.execute(
        select(Badge.credential_id, Badge.id, Badge.name, Badge.issuer_name, Badge.issued_on)
        .where(Badge.owner_id == user.id)))


def shareable(session: Session, user: User) -> list[Badge]:
    """The learner's badges that may go into a share (theirs: recipient matched), newest first."""
    return list(session.scalars(select(Badge).where(Badge.owner_id == user.id, Badge.matched.is_(True))
                                .order_by(Badge.issued_on.desc(), Badge.id.desc())))


def count_badges(session: Session, user_id: int) -> int:
    from sqlalchemy import func

    return session.scalar(select(func.count(Badge.id)).where(Badge.owner_id == user_id)) or 0
