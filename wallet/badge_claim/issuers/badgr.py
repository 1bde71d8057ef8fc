"""Badgr / Canvas Credentials as the Region's issuer (API v2, PROTOCOLS.md §6.2).

- Auth: a Bearer token with the `rw:issuer` scope (WALLET_ISSUER_BADGR_TOKEN), kept in the
  environment or the secret store. Badgr cannot renew such a token for us: a 401/403 gives a
  "retry" whose reason tells the Region's admins to renew it.
- Award: `POST {base}/v2/badgeclasses/{entityId}/assertions` {recipient {identity, type: email,
  hashed: true}, issuedOn, evidence [{url, narrative}], narrative, notify: false,
  allowDuplicateAwards: false} → {"status": {"success": true}, "result": [{entityId, openBadgeId}]}.
  `openBadgeId` (the hosted OB 2.0 assertion URL) is the credential the wallet imports.
- `allowDuplicateAwards: false` makes Badgr refuse a second award to the same recipient (400, "A
  previous award of this badge already exists for this recipient."): that refusal is answered by
  a lookup, so a claim re-sent after a timeout ends with the one existing award.
- Lookup: `GET {base}/v2/badgeclasses/{entityId}/assertions?recipient=<email>`.
- Regional badge key → BadgeClass entityId: WALLET_ISSUER_BADGR_BADGECLASSES.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from urllib.parse import quote, urlencode

from ...http import SafeHttp
from ...openbadges.errors import FetchError
from ...openbadges.identity import identity_matches
from ..model import ISSUED, RETRY, UNKNOWN, ClaimRequest, DeliveryResult
from .builtin_documents import iso
from .common import (
    answers_stop,
    error_answer,
    failure_after_sending,
    failure_before_sending,
    issuer_reason,
    json_items,
    lookup_error,
    mapped_badge,
)

log = logging.getLogger("wallet.badge_claim.badgr")

_DUPLICATE_MARKERS = ("previous award", "already exists", "already been awarded", "duplicate")


class BadgrIssuer:
    name = "badgr"
    remote = True

    def __init__(self, http: SafeHttp, *, base_url: str, token: str, badgeclasses: Mapping[str, str],
                 now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.http = http
        self.base_url = base_url.rstrip("/")
        self._token = token
        self.badgeclasses = dict(badgeclasses)
        self._now = now

    def __repr__(self) -> str:  # never show the token
        return f"BadgrIssuer(base_url={self.base_url!r})"

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._token}", "Accept": "application/json"}

    def _assertions_url(self, entity_id: str) -> str:
        return f"{self.base_url}/v2/badgeclasses/{quote(entity_id, safe='')}/assertions"

    # --- IssuerBackend ----------------------------------------------------------------------------
    @answers_stop
    def deliver(self, request: ClaimRequest) -> DeliveryResult:
        entity_id = mapped_badge(self.badgeclasses, request, "Badgr badge class", "WALLET_ISSUER_BADGR_BADGECLASSES")
        body = {
            "recipient": {"identity": request.recipient_email, "type": "email", "hashed": True},
            "issuedOn": iso(self._now()),
            "evidence": [_evidence(e.url, e.narrative or e.name) for e in request.evidence],
            "narrative": request.narrative,
            "notify": False,
            "allowDuplicateAwards": False,
        }
        try:
            response = self.http.request("POST", self._assertions_url(entity_id),
                                         headers={**self._headers(), "Idempotency-Key": request.idempotency_key},
                                         json=body, allow_redirects=False)
        except FetchError as exc:
            return failure_after_sending(exc, "Badgr award")
        if 200 <= response.status < 300:
            award = _first_award(response.body)
            if award is None:
                return DeliveryResult(UNKNOWN, reason="Badgr award: no assertion in the answer")
            log.info("Badgr: awarded %s for claim %s", award.reference, request.claim_id)
            return award
        if response.status == 400 and _is_duplicate(response.body):
            # allowDuplicateAwards=false: the learner already holds it (e.g. our earlier timed-out call).
            found = self.lookup(request)
            if found is not None:
                return found
            return DeliveryResult(RETRY, reason="Badgr: duplicate award refused but none found")
        return error_answer(response.status, response.body, response.headers, "Badgr award")

    @answers_stop
    def lookup(self, request: ClaimRequest) -> DeliveryResult | None:
        entity_id = mapped_badge(self.badgeclasses, request, "Badgr badge class")
        url = self._assertions_url(entity_id) + "?" + urlencode({"recipient": request.recipient_email})
        try:
            response = self.http.request("GET", url, headers=self._headers())
        except FetchError as exc:
            return failure_before_sending(exc, "Badgr lookup")
        if not 200 <= response.status < 300:
            return lookup_error(response.status, response.body, response.headers, "Badgr lookup")
        for item in json_items(response.body):
            if item.get("revoked") is True or not isinstance(item.get("openBadgeId"), str):
                continue
            if not _is_recipient(item.get("recipient"), request.recipient_email):
                continue
            return DeliveryResult(ISSUED, credential=item["openBadgeId"], reference=str(item.get("entityId") or ""))
        return None


def _evidence(url: str, narrative: str) -> dict[str, str]:
    return {"url": url, "narrative": narrative} if narrative else {"url": url}


def _first_award(body: bytes) -> DeliveryResult | None:
    for item in json_items(body):
        badge_url = item.get("openBadgeId")
        if isinstance(badge_url, str) and badge_url:
            return DeliveryResult(ISSUED, credential=badge_url, reference=str(item.get("entityId") or ""))
    return None


def _is_duplicate(body: bytes) -> bool:
    reason = issuer_reason(body).lower()
    return any(marker in reason for marker in _DUPLICATE_MARKERS)


def _is_recipient(recipient: object, email: str) -> bool:
    """Badgr filtered by recipient already; check again when it tells who the recipient is."""
    if not isinstance(recipient, Mapping):
        return True
    plain = recipient.get("plaintextIdentity")
    if isinstance(plain, str) and plain:
        return plain.strip().lower() == email.strip().lower()
    identity = recipient.get("identity")
    if not isinstance(identity, str):
        return True
    hashed = bool(recipient.get("hashed"))
    salt = recipient.get("salt") if isinstance(recipient.get("salt"), str) else None
    if hashed and salt is None and "$" in identity:
        return True  # Badgr does not return the salt here: trust its own recipient filter
    return identity_matches(identity, hashed, salt, [email]) is not None
