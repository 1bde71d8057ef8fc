"""What a claim sends to the Region's issuer and what comes back (pure: no Flask, no database).

CONTRACT (binding: the claim use case and the outbox worker code against it):
- `ClaimRequest`: everything an issuer needs, built server-side from verified data only.
- `DeliveryResult.outcome`:
  - "issued": the badge exists; `credential` is the text to import (OB 3.0 JSON, a compact JWS,
    or a hosted OB 2.0 assertion URL), `reference` the issuer's id for the award;
  - "in_review": the issuer holds the claim for a person to approve (builtin issuer, review mode);
  - "refused": the issuer said no; `reason` is its reason, shown to the learner;
  - "retry": nothing was created; try again later (not before `retry_after` seconds if given);
  - "unknown": the request may have created the award (a timeout or a dropped connection after
    sending); call `IssuerBackend.lookup` before sending again.
- `IssuerBackend.deliver(request)` never raises for network trouble.
- `IssuerBackend.lookup(request)`: after an "unknown" outcome, was the award made? An "issued"
  result when found; None when the issuer says there is none (re-sending is then safe); a "retry"
  result when the issuer could not be asked (do not re-send yet).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

ISSUED = "issued"
IN_REVIEW = "in_review"
REFUSED = "refused"
RETRY = "retry"
UNKNOWN = "unknown"
OUTCOMES = frozenset({ISSUED, IN_REVIEW, REFUSED, RETRY, UNKNOWN})


@dataclass(frozen=True, slots=True)
class Evidence:
    url: str
    name: str = ""
    narrative: str = ""


@dataclass(frozen=True, slots=True)
class ClaimRequest:
    idempotency_key: str                 # stable for the claim: retries reuse it
    regional_badge_id: str               # the Achievement/BadgeClass id from the referential
    regional_badge_key: str
    name: str
    description: str
    criteria: str                        # French texts from the referential
    image_path: str | None               # referential-relative path of the badge image
    recipient_email: str                 # the learner's confirmed email the badge is issued to
    recipient_name: str
    evidence: tuple[Evidence, ...]
    narrative: str                       # a short French text: why the learner is eligible
    claim_id: int | None = None


@dataclass(frozen=True, slots=True)
class DeliveryResult:
    outcome: str                         # one of OUTCOMES
    credential: str | None = None        # issued: OB3 JSON, compact JWS, or hosted OB2 assertion URL
    reference: str | None = None         # the issuer's id for the award
    reason: str | None = None            # refused: the issuer's reason; retry/unknown: technical detail
    retry_after: float | None = None     # seconds, from Retry-After

    def __post_init__(self) -> None:
        if self.outcome not in OUTCOMES:
            raise ValueError(f"unknown delivery outcome {self.outcome!r}")


@runtime_checkable
class IssuerBackend(Protocol):
    name: str                            # "builtin" | "obf" | "badgr"
    remote: bool

    def deliver(self, request: ClaimRequest) -> DeliveryResult: ...

    def lookup(self, request: ClaimRequest) -> DeliveryResult | None: ...
