"""The learner's access token: used while it lasts, refreshed under a lease (one refresher at a
time, T35), and — when the partner gave no refresh token or ended the grant — the connection
turns "à reconnecter" instead of failing again and again."""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, update
from sqlalchemy.orm import Session

from ...keys import crypto
from ...models import Connection
from . import wire as client
from .shared import ENDED, LEASE, TOKEN_MARGIN, end_read, endpoints, refresh_url, secret
from .wire import PartnerError

# Tests replace it to observe a refresher waiting for another one's lease.
_pause = time.sleep


def access_token(session: Session, connection_id: int, http, config: Mapping[str, Any], now: datetime) -> str:
    connection = session.get(Connection, connection_id, populate_existing=True)
    end_read(session)
    if connection is None or connection.status != "active":
        raise PartnerError("invalid_grant")
    if connection.access_token_enc and (connection.token_expires_at is None
                                        or connection.token_expires_at > now + TOKEN_MARGIN):
        return secret(config, connection.access_token_enc)
    stale = secret(config, connection.access_token_enc) if connection.access_token_enc else None
    return refresh(session, connection_id, http, config, now, stale=stale)


def needs_reconnect(session: Session, connection_id: int) -> None:
    connection = session.get(Connection, connection_id, populate_existing=True)
    if connection is not None:
        _forget_tokens(connection)
        session.commit()


def _forget_tokens(connection: Connection) -> None:
    connection.status = "reconnect"
    connection.access_token_enc = None
    connection.refresh_token_enc = None
    connection.refreshing_until = None


def _take_lease(session: Session, connection_id: int, now: datetime) -> bool:
    """One refresher at a time: UPDATE … WHERE the lease is free or lapsed (atomic on every backend)."""
    taken = session.execute(
        update(Connection)
        .where(Connection.id == connection_id,
               or_(Connection.refreshing_until.is_(None), Connection.refreshing_until < now))
        .values(refreshing_until=now + LEASE)
        .execution_options(synchronize_session=False))
    session.commit()
    return taken.rowcount == 1


def store_tokens(config: Mapping[str, Any], connection: Connection, tokens: client.Tokens, now: datetime) -> None:
    connection.access_token_enc = crypto.encrypt(config, tokens.access_token)
    if tokens.refresh_token:  # rotation: the new refresh token replaces the old one
        connection.refresh_token_enc = crypto.encrypt(config, tokens.refresh_token)
    connection.token_expires_at = now + timedelta(seconds=tokens.expires_in) if tokens.expires_in else None
    connection.scope = tokens.scope or connection.scope or ""
    connection.refreshing_until = None


def refresh(session: Session, connection_id: int, http, config: Mapping[str, Any], now: datetime,
            stale: str | None) -> str:
    """A fresh access token. Only the lease holder calls the partner; the others wait for it and
    use what it stored (a stale refresh token is never sent twice). Without a refresh token the
    access has ended (`access_ended`): the learner reconnects."""
    waited_until = time.monotonic() + LEASE.total_seconds()
    while not _take_lease(session, connection_id, now):
        if time.monotonic() > waited_until:
            raise PartnerError("busy")
        _pause(0.05)
    connection = session.get(Connection, connection_id, populate_existing=True)
    try:
        if connection is None or connection.status != "active":
            raise PartnerError("invalid_grant")
        current = secret(config, connection.access_token_enc) if connection.access_token_enc else None
        if current and current != stale and (connection.token_expires_at is None
                                             or connection.token_expires_at > now + TOKEN_MARGIN):
            connection.refreshing_until = None
            session.commit()
            return current  # another refresher just did it
        if not connection.refresh_token_enc:
            raise PartnerError("access_ended")
        backpack = connection.backpack
        client_secret = secret(config, backpack.client_secret_enc)
        refresh_token = secret(config, connection.refresh_token_enc)
        scope = client.requested_scope(backpack.protocol, backpack.scopes)
        where, target = endpoints(backpack), refresh_url(backpack)
        end_read(session)
        tokens = client.refresh(http, where, client_secret, refresh_token, scope, refresh_url=target)
    except PartnerError as err:
        connection = session.get(Connection, connection_id, populate_existing=True)
        if connection is not None:
            connection.refreshing_until = None
            if err.code in ENDED:
                _forget_tokens(connection)  # no retry loop: the learner must reconnect (T35)
            session.commit()
        raise
    connection = session.get(Connection, connection_id, populate_existing=True)
    store_tokens(config, connection, tokens, now)
    session.commit()
    return tokens.access_token
