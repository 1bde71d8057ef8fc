"""Syncs: read the partner's pages and import each badge like an upload; record how it went.

A page the client cannot read (network, 5xx, an envelope with no known key) stops the sync where
it is: what was imported stays, `since` does not move (so nothing is skipped for good), the next
try waits longer each time (30 min, 1 h, 2 h … at most a day, or the partner's Retry-After), and
both the learner (connection status) and Region staff (the partner's latest problem) are told."""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from ...models import Connection, PartnerBackpack, User
from ...openbadges.fetching import MemoFetcher
from ...services import badges
from . import wire as client
from .messages import ConnectionProblem
from .shared import ENDED, MAX_PAGES, RETRY_DELAY, SYNC_INTERVAL, end_read, endpoints, now_or
from .tokens import access_token, needs_reconnect, refresh
from .wire import PartnerError

log = logging.getLogger("wallet.connections")

# Failures that say something about the partner's service, shown to Region staff.
PARTNER_SIDE = ("unknown_page", "bad_response", "partner_down", "other_origin")


@dataclass(frozen=True)
class SyncResult:
    partner: str
    connection_id: int
    items: list[badges.ImportItem] = field(default_factory=list)
    complete: bool = True
    error: str | None = None
    retry_at: datetime | None = None

    @property
    def imported(self) -> int:
        return sum(1 for item in self.items if item.outcome in ("imported", "not_yours"))


def get_owned(session: Session, user: User, connection_id: int) -> Connection | None:
    return session.scalar(select(Connection).where(Connection.id == connection_id, Connection.user_id == user.id))


def sync_now(session: Session, user: User, connection_id: int, http, config: Mapping[str, Any],
             now: datetime | None = None) -> SyncResult:
    """"Synchroniser": the learner asks for a sync. Honours a partner's Retry-After."""
    now = now_or(now)
    connection = get_owned(session, user, connection_id)
    if connection is None:
        raise ConnectionProblem("unknown_partner", 404)
    if connection.status != "active":
        raise ConnectionProblem("reconnect_needed", 409)
    if connection.last_error == "rate_limited" and connection.next_sync_at and connection.next_sync_at > now:
        raise ConnectionProblem("rate_limited", 429, until=connection.next_sync_at)
    return run_sync(session, connection, http, config, now)


def run_sync(session: Session, connection: Connection, http, config: Mapping[str, Any],
             now: datetime) -> SyncResult:
    connection_id = connection.id
    backpack = connection.backpack
    backpack_id = backpack.id
    user = session.get(User, connection.user_id)
    where = endpoints(backpack)
    partner = backpack.name
    since = connection.since
    started = now
    fetch = MemoFetcher(http.fetch)  # one per sync: issuers and keys fetched once for all badges
    batch_http = _BatchHttp(http)  # and badge images once per URL
    items: list[badges.ImportItem] = []
    end_read(session)
    try:
        access = access_token(session, connection_id, http, config, now)
        url: str | None = client.first_page_url(where, since=since)
        seen: set[str] = set()
        while url and len(seen) < MAX_PAGES:
            seen.add(url)
            try:
                page = client.fetch_page(http, where, access, url)
            except PartnerError as err:
                if err.code != "unauthorized":
                    raise
                # The partner refused the token before its time: refresh once, retry this page.
                access = refresh(session, connection_id, http, config, now, stale=access)
                try:
                    page = client.fetch_page(http, where, access, url)
                except PartnerError as again:
                    if again.code == "unauthorized":
                        needs_reconnect(session, connection_id)
                    raise
            for label, text in page.items:
                items.append(_import(session, user, text, label, batch_http, fetch, now))
            url = page.next_url if page.next_url not in seen else None
    except PartnerError as err:
        retry_at = _record_failure(session, connection_id, backpack_id, err, now)
        log.info("sync of connection %s stopped: %s", connection_id, err.code)
        return SyncResult(partner, connection_id, items, complete=False, error=err.code, retry_at=retry_at)
    connection = session.get(Connection, connection_id, populate_existing=True)
    if connection is not None:
        connection.last_sync_at = now
        connection.since = _iso(started)
        connection.next_sync_at = now + SYNC_INTERVAL
        connection.last_error = None
        connection.failures = 0
        connection.backpack.sync_problem = None
        session.commit()
    log.info("sync of connection %s done: %s item(s)", connection_id, len(items))
    return SyncResult(partner, connection_id, items)


class _BatchHttp:
    """SafeHttp for one sync: unauthenticated GETs (badge images) are answered once per URL."""

    def __init__(self, http) -> None:
        self._http = http
        self._cache: dict[tuple, Any] = {}

    def request(self, method: str, url: str, **kwargs: Any):
        headers = kwargs.get("headers") or {}
        if method.upper() != "GET" or any(k.lower() == "authorization" for k in headers):
            return self._http.request(method, url, **kwargs)
        key = (url, tuple(sorted(headers.items())), kwargs.get("max_bytes"))
        if key not in self._cache:
            self._cache[key] = self._http.request(method, url, **kwargs)  # failures are not kept
        return self._cache[key]

    def __getattr__(self, name: str):
        return getattr(self._http, name)


def _iso(moment: datetime) -> str:
    # Milliseconds, rounded down: a badge issued in the same instant comes again (and is skipped as
    # a duplicate) rather than being missed.
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _import(session: Session, user: User, text: str, label: str, http, fetch, now: datetime) -> badges.ImportItem:
    """Verify and store one badge exactly like an upload; a badge proved forged (`invalid`) is
    not kept: a partner's copy that fails its own proof is refused, and says so. The result line
    is labelled with the document's own name, else the verified badge's name (a hosted OB 2.0
    assertion has none of its own; never its URL), else left empty for the page to number."""
    label = "" if label in ("credential", "assertion", "badge") else label
    item = badges.import_text(session, user, text, http, now, source="partner", label=label, fetch=fetch)
    if item.outcome in ("imported", "not_yours") and item.status == "invalid" and item.badge_id is not None:
        badges.delete(session, user, item.badge_id)
        item = badges.ImportItem(label, "error", code="partner_invalid", name=item.name, status="invalid")
    return dataclasses.replace(item, label=label or item.name or "")


def _record_failure(session: Session, connection_id: int, backpack_id: int, err: PartnerError,
                    now: datetime) -> datetime | None:
    """Say what went wrong and when to try again: never for an ended grant; the partner's
    Retry-After when it gave one; else 30 min, doubled at each failure in a row, at most a day."""
    connection = session.get(Connection, connection_id, populate_existing=True)
    if connection is None:
        return None
    connection.last_error = err.code
    connection.failures = (connection.failures or 0) + 1
    retry_at: datetime | None
    if err.code in ENDED or err.code == "secret_unreadable" or connection.status != "active":
        retry_at = None
    elif err.retry_after is not None:
        retry_at = now + timedelta(seconds=err.retry_after)
    else:
        retry_at = now + min(RETRY_DELAY * 2 ** min(connection.failures - 1, 10), SYNC_INTERVAL)
    connection.next_sync_at = retry_at
    if err.code in PARTNER_SIDE:
        backpack = session.get(PartnerBackpack, backpack_id)
        if backpack is not None:
            backpack.sync_problem = json.dumps({"code": err.code, "params": _plain(err.params),
                                                "at": now.astimezone(UTC).isoformat()})
    session.commit()
    return retry_at


def _plain(params: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in params.items() if isinstance(v, (str, int, float, bool)) or v is None}


def run_due_syncs(app, now: datetime | None = None) -> int:
    """For `wallet worker`: sync every active connection whose next_sync_at has come (a partner's
    Retry-After included). Returns the number of syncs run (finished or not)."""
    from ... import db

    now = now_or(now)
    http = app.extensions["wallet_http"]
    session = db.new_session(app)
    count = 0
    try:
        due = list(session.scalars(
            select(Connection.id)
            .where(Connection.status == "active",
                   or_(Connection.next_sync_at.is_(None), Connection.next_sync_at <= now))
            .order_by(Connection.next_sync_at)
            .limit(200)))
        end_read(session)
        for connection_id in due:
            connection = session.get(Connection, connection_id)
            if connection is None or connection.status != "active":
                continue
            try:
                run_sync(session, connection, http, app.config, now)
            except Exception:
                session.rollback()
                log.exception("sync of connection %s failed", connection_id)
            count += 1
    finally:
        session.close()
    return count
