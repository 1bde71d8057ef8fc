"""Region staff: discover and register partner backpacks (RFC 7591), and see how their learners'
syncs go."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ...keys import crypto
from ...models import Connection, PartnerBackpack
from ...services import images
from . import wire as client
from .messages import admin_message
from .shared import SOFTWARE_ID, end_read, redirect_uri
from .wire import PartnerError

log = logging.getLogger("wallet.connections")


def list_backpacks(session: Session) -> list[PartnerBackpack]:
    """Partners ready for learners (registration finished)."""
    return list(session.scalars(select(PartnerBackpack).where(PartnerBackpack.client_id != "")
                                .order_by(PartnerBackpack.name)))


def get_backpack(session: Session, backpack_id: int) -> PartnerBackpack | None:
    return session.scalar(select(PartnerBackpack).where(PartnerBackpack.id == backpack_id,
                                                        PartnerBackpack.client_id != ""))


def _software_version() -> str:
    try:
        from importlib.metadata import version

        return version("wallet")
    except Exception:  # noqa: BLE001 - not installed as a distribution (a source checkout)
        return "0.1.0"


def register_backpack(session: Session, base_url: str, http, config: Mapping[str, Any],
                      now: datetime | None = None) -> PartnerBackpack:
    """Discover a partner, reserve its row (its id is in our redirect URI), register by DCR,
    store the client secret encrypted and the scope granted, fetch its logo. Raises PartnerError.

    Commits twice by design: the reserved row, then the finished registration (or its removal)."""
    base = client.normalize_base_url(base_url)
    if session.scalar(select(PartnerBackpack.id).where(PartnerBackpack.base_url == base)) is not None:
        raise PartnerError("already_registered")
    end_read(session)
    discovery = client.discover(http, base)
    row = PartnerBackpack(
        name=discovery.name, base_url=base, protocol=discovery.protocol, api_base=discovery.api_base,
        authorization_url=discovery.authorization_url, token_url=discovery.token_url,
        revocation_url=discovery.revocation_url, registration_url=discovery.registration_url,
        issuer=discovery.issuer, scopes="", client_id="", client_secret_enc="",
        discovery=json.dumps(discovery.document, ensure_ascii=False), tos_url=discovery.tos_url,
        privacy_url=discovery.privacy_url)
    session.add(row)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise PartnerError("already_registered") from None

    ours = str(config["BASE_URL"]).rstrip("/")
    try:
        registration = client.register(
            http, discovery, redirect_uri=redirect_uri(config, row.id),
            client_name="Mon portefeuille de badges", client_uri=ours + "/",
            logo_uri=ours + "/static/favicon.svg", tos_uri=ours + "/cgu",
            policy_uri=ours + "/confidentialite", software_id=SOFTWARE_ID,
            software_version=_software_version(), now=now)
    except PartnerError:
        session.delete(row)
        session.commit()
        raise
    logo = images.fetch_image(discovery.image_url, http) if discovery.image_url else None
    row.client_id = registration.client_id
    row.client_secret_enc = crypto.encrypt(config, registration.client_secret)
    row.scopes = registration.scope  # what was granted: offline_access only when the partner kept it
    if logo is not None:
        row.logo, row.logo_type = logo
    session.commit()
    log.info("partner backpack %s registered (%s, %s)", row.id, row.protocol, row.base_url)
    return row


@dataclass(frozen=True)
class PartnerSummary:
    """One line of the admin's partner list: how its learners' connections are doing."""

    backpack: PartnerBackpack
    connections: int
    to_reconnect: int
    failing: int
    problem: str | None  # the latest sync failure on the partner's side, in words
    problem_at: datetime | None


def admin_overview(session: Session) -> list[PartnerSummary]:
    counts = {
        (backpack_id, status, failing): count
        for backpack_id, status, failing, count in session.execute(
            select(Connection.backpack_id, Connection.status, Connection.last_error.is_not(None),
                   func.count(Connection.id))
            .group_by(Connection.backpack_id, Connection.status, Connection.last_error.is_not(None)))
    }
    out = []
    for backpack in list_backpacks(session):
        mine = {key[1:]: n for key, n in counts.items() if key[0] == backpack.id}
        problem, at = None, None
        if backpack.sync_problem:
            try:
                data = json.loads(backpack.sync_problem)
                problem = admin_message(data["code"], data.get("params"))
                at = datetime.fromisoformat(data["at"]) if data.get("at") else None
            except (ValueError, KeyError, TypeError):
                problem, at = None, None
        out.append(PartnerSummary(
            backpack, connections=sum(mine.values()),
            to_reconnect=sum(n for (status, _), n in mine.items() if status != "active"),
            failing=sum(n for (status, failing), n in mine.items() if status == "active" and failing),
            problem=problem, problem_at=at))
    return out
