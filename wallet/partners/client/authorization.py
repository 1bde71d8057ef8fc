"""The learner connects a partner backpack: the authorization request (single-use state bound to
the learner and the partner, PKCE verifier kept here, encrypted), then the partner's answer
(checked before any token is asked for), then a first sync."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from ...keys import crypto
from ...models import Connection, OAuthFlow, PartnerBackpack, User
from . import wire as client
from .messages import MESSAGES, ConnectionProblem
from .registration import get_backpack, list_backpacks
from .shared import FLOW_LIFETIME, end_read, endpoints, now_or, redirect_uri, secret, state_hash
from .sync import SyncResult, run_sync
from .tokens import store_tokens
from .wire import PartnerError


def overview(session: Session, user: User) -> list[tuple[PartnerBackpack, Connection | None]]:
    """Every registered partner with the learner's connection to it, if any."""
    connections = {c.backpack_id: c for c in session.scalars(select(Connection).where(Connection.user_id == user.id))}
    return [(backpack, connections.get(backpack.id)) for backpack in list_backpacks(session)]


def start_connect(session: Session, user: User, backpack_id: int, config: Mapping[str, Any],
                  now: datetime | None = None) -> str:
    """Open an authorization request: returns the partner's consent page URL (which may be on the
    partner's web front end rather than its API host).

    The state (256 bits) is stored only as its sha256, bound to the learner and the partner; the
    PKCE verifier stays here, encrypted."""
    now = now_or(now)
    backpack = get_backpack(session, backpack_id)
    if backpack is None:
        raise ConnectionProblem("unknown_partner", 404)
    state = secrets.token_urlsafe(32)
    verifier = secrets.token_urlsafe(64)  # 86 characters (RFC 7636: 43–128)
    session.execute(delete(OAuthFlow).where(OAuthFlow.user_id == user.id,
                                            or_(OAuthFlow.used_at.is_not(None),
                                                OAuthFlow.created_at < now - FLOW_LIFETIME)))
    session.add(OAuthFlow(state_hash=state_hash(state), user_id=user.id, backpack_id=backpack.id,
                          code_verifier_enc=crypto.encrypt(config, verifier), created_at=now))
    session.commit()
    return client.authorization_url(
        backpack.authorization_url, client_id=backpack.client_id, redirect_uri=redirect_uri(config, backpack.id),
        scope=client.requested_scope(backpack.protocol, backpack.scopes), state=state, code_verifier=verifier)


def finish_connect(session: Session, user: User, backpack_id: int, args: Mapping[str, str], http,
                   config: Mapping[str, Any], now: datetime | None = None) -> SyncResult:
    """The partner sent the learner back: check the flow, exchange the code, store the tokens
    (encrypted), then import every badge. Raises ConnectionProblem before any token is stored."""
    now = now_or(now)
    state = args.get("state") or ""
    if not state:
        raise ConnectionProblem("missing_state")
    flow = session.scalar(select(OAuthFlow).where(OAuthFlow.state_hash == state_hash(state)))
    if flow is None or flow.user_id != user.id:
        raise ConnectionProblem("bad_state")
    # Single use, even when what follows fails: a state is spent the first time it comes back.
    spent = session.execute(update(OAuthFlow).where(OAuthFlow.id == flow.id, OAuthFlow.used_at.is_(None))
                            .values(used_at=now).execution_options(synchronize_session=False))
    session.commit()
    if spent.rowcount != 1:
        raise ConnectionProblem("used_state")
    if flow.created_at < now - FLOW_LIFETIME:
        raise ConnectionProblem("expired_state")
    if flow.backpack_id != backpack_id:
        raise ConnectionProblem("wrong_partner")
    backpack = get_backpack(session, backpack_id)
    if backpack is None:
        raise ConnectionProblem("unknown_partner", 404)
    if "iss" in args and args.get("iss") != backpack.issuer:  # RFC 9207, when the server sends it
        raise ConnectionProblem("wrong_issuer")
    if args.get("error"):
        code = "denied" if args.get("error") == "access_denied" else "partner_refused"
        raise ConnectionProblem(code, error=str(args.get("error"))[:60])
    code = args.get("code") or ""
    if not code:
        raise ConnectionProblem("missing_code")
    try:
        verifier = crypto.decrypt(config, flow.code_verifier_enc)
        client_secret = secret(config, backpack.client_secret_enc)
    except (crypto.TokenDecryptError, PartnerError):
        raise ConnectionProblem("secret_unreadable", 500) from None
    where = endpoints(backpack)
    end_read(session)
    try:
        tokens = client.exchange_code(http, where, client_secret, code=code,
                                      redirect_uri=redirect_uri(config, backpack.id), code_verifier=verifier,
                                      scope=client.requested_scope(backpack.protocol, backpack.scopes))
    except PartnerError as err:
        raise ConnectionProblem(err.code if err.code in MESSAGES else "token_failed", 502) from None

    connection = session.scalar(select(Connection).where(Connection.user_id == user.id,
                                                         Connection.backpack_id == backpack.id))
    if connection is None:
        connection = Connection(user_id=user.id, backpack_id=backpack.id, created_at=now)
        session.add(connection)
    store_tokens(config, connection, tokens, now)
    connection.status = "active"
    connection.since = None  # a (re)connection imports everything again; duplicates are skipped
    connection.last_error = None
    connection.failures = 0
    connection.next_sync_at = None
    session.commit()
    return run_sync(session, connection, http, config, now)
