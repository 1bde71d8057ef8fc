"""What the steps of a partner connection share: timings, the redirect URI, the partner's
endpoints as the client needs them, decryption of stored secrets, and the rule that no network
call runs inside a database transaction."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from ...keys import crypto
from ...models import PartnerBackpack, utcnow
from . import wire as client
from .wire import Endpoints, PartnerError

FLOW_LIFETIME = timedelta(minutes=10)
SYNC_INTERVAL = timedelta(hours=24)
RETRY_DELAY = timedelta(seconds=client.DEFAULT_RETRY_SECONDS)
LEASE = timedelta(seconds=60)
TOKEN_MARGIN = timedelta(seconds=30)
MAX_PAGES = 1000
SOFTWARE_ID = "7c1e5a2e-2b1f-4a39-9d0e-4f1b6f0a9c31"  # stable across installs (RFC 7591 software_id)

# The connection cannot go on without the learner: no retry, "à reconnecter".
ENDED = ("invalid_grant", "access_ended")


def state_hash(state: str) -> str:
    return hashlib.sha256(state.encode("utf-8")).hexdigest()


def redirect_uri(config: Mapping[str, Any], backpack_id: int) -> str:
    """One redirect URI per partner (mix-up defence, T31)."""
    return f"{str(config['BASE_URL']).rstrip('/')}/connexions/retour/{backpack_id}"


def endpoints(backpack: PartnerBackpack) -> Endpoints:
    return Endpoints(protocol=backpack.protocol, base_url=backpack.base_url, api_base=backpack.api_base,
                     token_url=backpack.token_url, revocation_url=backpack.revocation_url,
                     client_id=backpack.client_id)


def refresh_url(backpack: PartnerBackpack) -> str:
    """OB 3.0's refreshUrl when the (validated) discovery document names one, else the token URL."""
    try:
        document = json.loads(backpack.discovery or "{}")
        scheme = document["components"]["securitySchemes"]["OAuth2ACG"]
        url = scheme["flows"]["authorizationCode"].get("refreshUrl")
    except (ValueError, KeyError, TypeError, AttributeError):
        return backpack.token_url
    if isinstance(url, str) and client.origin_of(url) == client.origin_of(backpack.base_url):
        return url
    return backpack.token_url


def secret(config: Mapping[str, Any], value: str) -> str:
    try:
        return crypto.decrypt(config, value)
    except crypto.TokenDecryptError:
        raise PartnerError("secret_unreadable") from None


def end_read(session: Session) -> None:
    """End the read transaction before talking to a partner (no network inside a transaction)."""
    session.commit()


def now_or(now: datetime | None) -> datetime:
    return now or utcnow()
