"""The learner disconnects a partner backpack: the tokens are revoked at the partner when it
offers a way (RFC 7009 at the discovery document's revocation URL, or the one its authorization
server's RFC 8414 metadata names) and forgotten here in every case. Imported badges stay."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete
from sqlalchemy.orm import Session

from ...keys import crypto
from ...models import Connection, PartnerBackpack, User
from . import wire as client
from .messages import ConnectionProblem
from .shared import end_read, endpoints
from .sync import get_owned


@dataclass(frozen=True)
class Disconnected:
    """How a disconnect went. `revoked`: the partner confirmed (or there was nothing left to
    revoke); otherwise the learner must also remove the access on the partner's site, and
    `revocable` says whether the partner offers revocation at all."""

    partner: str
    revoked: bool
    revocable: bool


def disconnect(session: Session, user: User, connection_id: int, http, config: Mapping[str, Any]) -> Disconnected:
    connection = get_owned(session, user, connection_id)
    if connection is None:
        raise ConnectionProblem("unknown_partner", 404)
    backpack = connection.backpack
    backpack_id, name = backpack.id, backpack.name
    tokens = [(value, hint) for value, hint in ((connection.refresh_token_enc, "refresh_token"),
                                                (connection.access_token_enc, "access_token")) if value]
    where = endpoints(backpack)
    issuer = backpack.issuer or backpack.base_url
    secret_enc = backpack.client_secret_enc
    end_read(session)
    found = None
    if where.revocation_url is None and tokens:
        # Registered before the partner published one, or only in its RFC 8414 metadata: look again.
        found = client.metadata_revocation_url(http, issuer)
        if found is not None:
            where = client.Endpoints(**{**where.__dict__, "revocation_url": found})
    try:
        secret = crypto.decrypt(config, secret_enc)
    except crypto.TokenDecryptError:
        secret = None
    answered = []
    for value, hint in tokens:
        try:
            token = crypto.decrypt(config, value)
        except crypto.TokenDecryptError:
            continue  # unreadable here: nothing to send
        answered.append(secret is not None and client.revoke(http, where, secret, token, hint))
    session.execute(delete(Connection).where(Connection.id == connection_id, Connection.user_id == user.id))
    if found is not None:
        row = session.get(PartnerBackpack, backpack_id)
        if row is not None and row.revocation_url is None:
            row.revocation_url = found
    session.commit()
    revoked = len(answered) == len(tokens) and all(answered)  # no token left: nothing to revoke
    return Disconnected(name, revoked=revoked, revocable=where.revocation_url is not None)
