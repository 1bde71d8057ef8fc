"""What the remote issuer clients share: turning HTTP answers and failures into DeliveryResults.

The rules (DESIGN.md §6, SECURITY.md T48):
- A failure BEFORE anything was sent (blocked URL, bad scheme) → "retry".
- A timeout or a network failure on the issuing request → "unknown": the award may exist, the
  worker looks it up before sending again. SafeHttp's FetchError does not tell a refused
  connection from one dropped after sending, so every network failure counts as "unknown" (the
  cost is one lookup; the alternative risks a duplicate award).
- 429 → "retry" not before Retry-After; 408 and 5xx → "retry"; 504 → "unknown" (a gateway gave up
  waiting for an upstream that may have done the work).
- 401/403/404 → "retry" with a reason for the Region's admins: our credentials or our badge
  mapping are wrong, which is not the learner's fault (the worker escalates after N attempts).
- other 4xx → "refused" with the issuer's reason (shown to the learner).
Secrets never appear in reasons.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar

from ...openbadges.errors import FetchError
from ..model import REFUSED, RETRY, UNKNOWN, ClaimRequest, DeliveryResult

MAX_REASON = 500
MAX_RETRY_AFTER = 24 * 3600.0

_Method = TypeVar("_Method", bound=Callable[..., Any])


class Stop(Exception):
    """A step cannot go on; `result` is what the backend answers the worker (see `answers_stop`)."""

    def __init__(self, result: DeliveryResult) -> None:
        super().__init__(result.reason)
        self.result = result


def answers_stop(method: _Method) -> _Method:
    """A backend method that answers the `result` of a Stop raised anywhere inside it."""
    @functools.wraps(method)
    def answering(*args: Any, **kwargs: Any) -> Any:
        try:
            return method(*args, **kwargs)
        except Stop as stop:
            return stop.result

    return answering  # type: ignore[return-value]


def mapped_badge(mapping: Mapping[str, str], request: ClaimRequest, what: str, setting: str = "") -> str:
    """The issuer's badge mapped to the claimed regional badge. Without one, Stop with "retry": the
    Region's mapping (`setting`, named in the reason when given) is wrong, not the learner's claim."""
    remote = mapping.get(request.regional_badge_key)
    if not remote:
        reason = f"no {what} for {request.regional_badge_key!r}"
        raise Stop(DeliveryResult(RETRY, reason=f"{reason} ({setting})" if setting else reason))
    return remote


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date), capped at a day."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return min(float(value), MAX_RETRY_AFTER)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    delta = (moment - (now or datetime.now(UTC))).total_seconds()
    return min(max(delta, 0.0), MAX_RETRY_AFTER)


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_REASON else text[: MAX_REASON - 1] + "…"


def _texts(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value] if value.strip() else []
    if isinstance(value, list):
        return [t for item in value for t in _texts(item)]
    if isinstance(value, Mapping):
        return [t for item in value.values() for t in _texts(item)]
    return []


def issuer_reason(body: bytes, content_type: str = "") -> str:
    """The issuer's own words for an error answer (Badgr's envelope, OBF's `error`/`message`, or
    plain text), shortened."""
    text = body[:8192].decode("utf-8", "replace").strip()
    try:
        doc = json.loads(text)
    except ValueError:
        doc = None
    if isinstance(doc, Mapping):
        parts: list[str] = []
        parts += _texts(doc.get("validationErrors"))
        parts += _texts(doc.get("fieldErrors"))
        for name in ("message", "error_description", "error", "detail", "description"):
            parts += _texts(doc.get(name))
        status = doc.get("status")
        if isinstance(status, Mapping) and not parts:
            parts += _texts(status.get("description"))
        if parts:
            return _short(" ".join(dict.fromkeys(parts)))
    if "html" in content_type.lower():
        return ""
    return _short(text)


def json_items(body: bytes) -> list[dict]:
    """A list endpoint's items: a JSON array, an object holding one (`result`, `items`, `events`,
    `data`), a single object, or newline-delimited JSON (OBF)."""
    text = body.decode("utf-8", "replace").strip()
    if not text:
        return []
    try:
        doc = json.loads(text)
    except ValueError:
        items = []
        for line in text.splitlines():
            line = line.strip()
            if not line:
                continue
            try:
                item = json.loads(line)
            except ValueError:
                continue
            if isinstance(item, dict):
                items.append(item)
        return items
    if isinstance(doc, list):
        return [item for item in doc if isinstance(item, dict)]
    if isinstance(doc, dict):
        for name in ("result", "items", "events", "data"):
            if isinstance(doc.get(name), list):
                return [item for item in doc[name] if isinstance(item, dict)]
        return [doc]
    return []


def failure_after_sending(exc: FetchError, what: str) -> DeliveryResult:
    """The issuing request failed in transit (see the module docstring)."""
    if exc.reason in ("blocked", "scheme"):
        return DeliveryResult(RETRY, reason=f"{what}: {exc.reason} (check the issuer base URL)")
    return DeliveryResult(UNKNOWN, reason=f"{what}: {exc.reason}")


def failure_before_sending(exc: FetchError, what: str) -> DeliveryResult:
    """A preparatory request (token, lookup) failed: nothing was created."""
    return DeliveryResult(RETRY, reason=f"{what}: {exc.reason}")


def lookup_error(status: int, body: bytes, headers: Mapping[str, str], what: str) -> DeliveryResult:
    """A non-2xx answer to a lookup: always "retry", never "refused" (a lookup creates nothing)."""
    result = error_answer(status, body, headers, what)
    return DeliveryResult(RETRY, reason=result.reason or f"{what}: HTTP {status}", retry_after=result.retry_after)


def error_answer(status: int, body: bytes, headers: Mapping[str, str], what: str) -> DeliveryResult:
    """A non-2xx answer to the issuing request."""
    retry_after = parse_retry_after(headers.get("Retry-After"))
    if status == 429:
        return DeliveryResult(RETRY, reason=f"{what}: rate limited (429)", retry_after=retry_after)
    if status == 504:
        return DeliveryResult(UNKNOWN, reason=f"{what}: gateway timeout (504)")
    if status >= 500 or status == 408:
        return DeliveryResult(RETRY, reason=f"{what}: HTTP {status}", retry_after=retry_after)
    if status in (401, 403):
        return DeliveryResult(RETRY, reason=f"{what}: the issuer refused our credentials (HTTP {status})")
    if status == 404:
        return DeliveryResult(RETRY, reason=f"{what}: not found at the issuer (HTTP 404): check the badge mapping")
    if 400 <= status < 500:
        reason = issuer_reason(body, headers.get("Content-Type", "")) or f"HTTP {status}"
        return DeliveryResult(REFUSED, reason=reason)
    return DeliveryResult(UNKNOWN, reason=f"{what}: unexpected HTTP {status}")
