"""The builtin Region issuer: the wallet itself signs OB 3.0 credentials for regional badges.

    issuer = BuiltinIssuer(base_url=…, keys=lambda: keys_for(app), session_factory=lambda: new_session(app))
    issuer.deliver(request)    # issued (auto approval) or in_review (review approval)
    issuer.approve(request)    # review mode: a person said yes → issued
    issuer.revoke(credential_id, reason)

Idempotency: `IssuedCredential.idempotency_key` is unique. A second delivery with the same key
returns the credential issued the first time, also when several deliveries race: each signs its
own candidate, the database keeps exactly one, and the losers read the winner back.

No network here; signing happens outside any database transaction, and each write is one short
transaction with a single INSERT/UPDATE (SQLite writers then only wait on the lock, never fail on
a stale read snapshot).
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from ...keys.issuer_keys import IssuerKeys
from ...models import IssuedCredential
from ..model import IN_REVIEW, ISSUED, RETRY, ClaimRequest, DeliveryResult
from . import builtin_documents as docs

log = logging.getLogger("wallet.badge_claim.builtin")

MAX_KEY_LENGTH = 64          # IssuedCredential.idempotency_key
INSERT_ATTEMPTS = 8          # status index collisions are rare (random index in 131072)
STATUS_LIST_TTL = 300.0      # seconds a signed status list is reused while nothing changes


@dataclass(frozen=True, slots=True)
class RegionProfile:
    name: str
    url: str | None = None


def _utcnow() -> datetime:
    return datetime.now(UTC)


class BuiltinIssuer:
    name = "builtin"
    remote = False

    def __init__(self, *, base_url: str, keys: IssuerKeys | Callable[[], IssuerKeys],
                 session_factory: Callable[[], Session], approval: str = "auto",
                 profile: RegionProfile | Callable[[], RegionProfile] = RegionProfile("Région"),
                 now: Callable[[], datetime] = _utcnow, store: Any = None,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        if approval not in ("auto", "review"):
            raise ValueError("approval must be 'auto' or 'review'")
        self.base_url = base_url.rstrip("/")
        self.approval = approval
        self._keys = keys
        self._session_factory = session_factory
        self._profile = profile
        self._now = now
        self._store = store
        self._monotonic = monotonic
        self._status_lock = threading.Lock()
        self._status_cache: tuple[frozenset[int], float, dict] | None = None

    # --- collaborators ----------------------------------------------------------------------------
    @property
    def keys(self) -> IssuerKeys:
        return self._keys() if callable(self._keys) else self._keys

    @property
    def profile(self) -> RegionProfile:
        return self._profile() if callable(self._profile) else self._profile

    @property
    def store(self) -> Any:
        if self._store is None:
            from ...openbadges.jsonld import default_store

            self._store = default_store()
        return self._store

    @property
    def issuer_id(self) -> str:
        return docs.issuer_id(self.base_url)

    # --- IssuerBackend ----------------------------------------------------------------------------
    def deliver(self, request: ClaimRequest) -> DeliveryResult:
        """auto: issue (or return the credential already issued for this key); review: in_review."""
        if self.approval == "review":
            try:
                existing = self._find(request.idempotency_key)
            except SQLAlchemyError as exc:
                return DeliveryResult(RETRY, reason=f"database: {type(exc).__name__}")
            if existing is not None:
                return self._issued(existing)
            return DeliveryResult(IN_REVIEW)
        return self.approve(request)

    def lookup(self, request: ClaimRequest) -> DeliveryResult | None:
        try:
            existing = self._find(request.idempotency_key)
        except SQLAlchemyError as exc:
            return DeliveryResult(RETRY, reason=f"database: {type(exc).__name__}")
        return self._issued(existing) if existing is not None else None

    # --- issuing ----------------------------------------------------------------------------------
    def approve(self, request: ClaimRequest) -> DeliveryResult:
        """Issue the credential for this claim (exactly once per idempotency key)."""
        _check_request(request)
        key = normalized_key(request.idempotency_key)
        try:
            existing = self._find(key)
            if existing is not None:
                return self._issued(existing)
            for _ in range(INSERT_ATTEMPTS):
                index = self._free_index()
                if index is None:
                    log.error("builtin issuer: the status list is full")
                    return DeliveryResult(RETRY, reason="status list full")
                row = self._sign_row(request, key, index)
                try:
                    with self._session_factory() as session:
                        session.add(row)
                        session.commit()
                    log.info("builtin issuer: issued %s for claim %s", row.credential_id, request.claim_id)
                    return self._issued(row)
                except IntegrityError:
                    # Either another delivery of the same claim won (read it back), or the random
                    # status index was taken meanwhile (try another one).
                    existing = self._find(key)
                    if existing is not None:
                        return self._issued(existing)
            return DeliveryResult(RETRY, reason="no free status index")
        except SQLAlchemyError as exc:
            log.warning("builtin issuer: database error %s", type(exc).__name__)
            return DeliveryResult(RETRY, reason=f"database: {type(exc).__name__}")

    def revoke(self, credential_id: str, reason: str | None = None) -> bool:
        """Mark an issued credential revoked (its status list bit is then set). False if unknown."""
        now = self._now()
        with self._session_factory() as session:
            found = session.scalar(select(IssuedCredential.id).where(
                IssuedCredential.credential_id == credential_id))
            if found is None:
                return False
            session.execute(update(IssuedCredential)
                            .where(IssuedCredential.id == found, IssuedCredential.revoked_at.is_(None))
                            .values(revoked_at=now, revocation_reason=reason))
            session.commit()
        with self._status_lock:
            self._status_cache = None
        return True

    # --- documents --------------------------------------------------------------------------------
    def profile_document(self) -> dict:
        keys = self.keys
        profile = self.profile
        return docs.issuer_profile(self.base_url, [(k.id, k.public_multibase) for k in keys.keys],
                                   profile.name, profile.url)

    def revoked_indices(self) -> frozenset[int]:
        with self._session_factory() as session:
            return frozenset(session.scalars(select(IssuedCredential.status_index)
                                             .where(IssuedCredential.revoked_at.is_not(None))))

    def status_list_document(self) -> dict:
        """The signed status list, re-signed when a revocation changed it or after a few minutes."""
        revoked = self.revoked_indices()
        with self._status_lock:
            cached = self._status_cache
            if cached and cached[0] == revoked and self._monotonic() - cached[1] < STATUS_LIST_TTL:
                return cached[2]
        now = self._now()
        current = self.keys.current
        signed = docs.sign(docs.status_list_credential(self.base_url, set(revoked), now),
                           current.private_key, self.base_url, current.id, now, self.store)
        with self._status_lock:
            self._status_cache = (revoked, self._monotonic(), signed)
        return signed

    # --- internals --------------------------------------------------------------------------------
    def _find(self, key: str) -> IssuedCredential | None:
        with self._session_factory() as session:
            return session.scalar(select(IssuedCredential).where(
                IssuedCredential.idempotency_key == normalized_key(key)))

    def _free_index(self) -> int | None:
        with self._session_factory() as session:
            for _ in range(64):
                candidate = secrets.randbelow(docs.STATUS_LIST_SIZE)
                taken = session.scalar(select(IssuedCredential.id).where(
                    IssuedCredential.status_index == candidate))
                if taken is None:
                    return candidate
        return None

    def _sign_row(self, request: ClaimRequest, key: str, index: int) -> IssuedCredential:
        now = self._now()
        profile = self.profile
        current = self.keys.current
        credential_id = f"urn:uuid:{uuid.uuid4()}"
        unsigned = docs.credential(self.base_url, request, credential_id=credential_id, status_index=index,
                                   issuer=docs.profile_reference(self.base_url, profile.name, profile.url),
                                   now=now, salt=secrets.token_hex(16))
        signed = docs.sign(unsigned, current.private_key, self.base_url, current.id, now, self.store)
        return IssuedCredential(credential_id=credential_id, idempotency_key=key, claim_id=request.claim_id,
                                regional_badge_id=request.regional_badge_id, status_index=index,
                                payload=json.dumps(signed, ensure_ascii=False, separators=(",", ":")),
                                created_at=now)

    @staticmethod
    def _issued(row: IssuedCredential) -> DeliveryResult:
        return DeliveryResult(ISSUED, credential=row.payload, reference=row.credential_id)


def normalized_key(key: str) -> str:
    """The idempotency key as stored (a longer key is replaced by its SHA-256, 64 hex digits)."""
    if len(key) <= MAX_KEY_LENGTH:
        return key
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def _check_request(request: ClaimRequest) -> None:
    """Programming errors, not issuer answers: the claim use case builds complete requests."""
    for name in ("idempotency_key", "regional_badge_id", "regional_badge_key", "name", "recipient_email"):
        if not str(getattr(request, name) or "").strip():
            raise ValueError(f"ClaimRequest.{name} is empty")
    if "@" not in request.recipient_email:
        raise ValueError("ClaimRequest.recipient_email is not an email address")
