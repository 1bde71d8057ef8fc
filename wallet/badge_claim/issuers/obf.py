"""Open Badge Factory as the Region's issuer (REST API v1, PROTOCOLS.md §6.1).

- Auth: OAuth2 client credentials, `POST {base}/client/oauth2/token` (form). The token is kept
  until shortly before it expires, and fetched again once when a call answers 401/403.
- Issue: `POST {base}/badge/{client_id}/{badge_id}` {recipient: [email], issued_on, log_entry,
  send_email: 0} → 201 `Location: /v1/event/{client_id}/{event_id}`; then
  `GET {base}/event/{client_id}/{event_id}/assertion` → items whose `json` is the hosted OB 2.0
  assertion URL: that URL is the credential the wallet imports.
- OBF has no idempotency key: `lookup` lists the events for this badge and recipient
  (`GET {base}/event/{client_id}?badge_id=…&recipient=…`, possibly newline-delimited JSON).
- Regional badge key → OBF badge id: WALLET_ISSUER_OBF_BADGES.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from urllib.parse import quote, urlencode

from ...http import Response, SafeHttp
from ...openbadges.errors import FetchError
from ..model import ISSUED, RETRY, UNKNOWN, ClaimRequest, DeliveryResult
from .common import (
    Stop,
    answers_stop,
    error_answer,
    failure_after_sending,
    failure_before_sending,
    json_items,
    lookup_error,
    mapped_badge,
)

log = logging.getLogger("wallet.badge_claim.obf")

TOKEN_MARGIN = 60.0          # seconds before expiry when the token is renewed
DEFAULT_TOKEN_LIFETIME = 3600.0


class ObfIssuer:
    name = "obf"
    remote = True

    def __init__(self, http: SafeHttp, *, base_url: str, client_id: str, client_secret: str,
                 badges: Mapping[str, str], monotonic: Callable[[], float] = time.monotonic,
                 now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.http = http
        self.base_url = base_url.rstrip("/")
        self.client_id = client_id
        self._secret = client_secret
        self.badges = dict(badges)
        self._monotonic = monotonic
        self._now = now
        self._lock = threading.Lock()
        self._token: tuple[str, float] | None = None   # (access token, monotonic expiry)

    def __repr__(self) -> str:  # never show the secret or the token
        return f"ObfIssuer(base_url={self.base_url!r}, client_id={self.client_id!r})"

    # --- IssuerBackend ----------------------------------------------------------------------------
    @answers_stop
    def deliver(self, request: ClaimRequest) -> DeliveryResult:
        badge_id = mapped_badge(self.badges, request, "OBF badge", "WALLET_ISSUER_OBF_BADGES")
        body = {
            "recipient": [request.recipient_email],
            "issued_on": int(self._now().timestamp()),
            "email_subject": f"Votre badge « {request.name} »",
            "email_body": "La Région vous délivre ce badge. Il est déjà dans votre portefeuille.",
            "log_entry": {"claim": request.idempotency_key, "regional_badge": request.regional_badge_id},
            "send_email": 0,
        }
        url = f"{self.base_url}/badge/{quote(self.client_id, safe='')}/{quote(badge_id, safe='')}"
        try:
            response = self._call("POST", url, json=body, allow_redirects=False,
                                  extra={"Idempotency-Key": request.idempotency_key})
        except FetchError as exc:
            return failure_after_sending(exc, "OBF issue")
        if not 200 <= response.status < 300:
            return error_answer(response.status, response.body, response.headers, "OBF issue")
        event_id = _event_id(response)
        if not event_id:
            # Created, but we cannot tell which event: let the lookup find it.
            return DeliveryResult(UNKNOWN, reason="OBF issue: no event id in the answer")
        log.info("OBF: awarded event %s for claim %s", event_id, request.claim_id)
        found = self._assertion(event_id, request.recipient_email)
        if found.outcome != ISSUED:
            # The award exists; its assertion is not readable yet. The lookup will fetch it.
            return DeliveryResult(UNKNOWN, reference=event_id, reason=found.reason)
        return found

    @answers_stop
    def lookup(self, request: ClaimRequest) -> DeliveryResult | None:
        badge_id = mapped_badge(self.badges, request, "OBF badge")
        query = urlencode({"badge_id": badge_id, "recipient": request.recipient_email, "order_by": "desc"})
        response = self._get(f"{self.base_url}/event/{quote(self.client_id, safe='')}?{query}", "OBF lookup")
        if response.status == 404:
            return None
        if not 200 <= response.status < 300:
            return lookup_error(response.status, response.body, response.headers, "OBF lookup")
        wanted = request.recipient_email.strip().lower()
        for event in json_items(response.body):
            event_id = event.get("id")
            if not isinstance(event_id, str) or not event_id:
                continue
            if str(event.get("badge_id", badge_id)) != badge_id:
                continue
            recipients = event.get("recipient")
            if isinstance(recipients, list) and recipients and \
                    wanted not in {str(r).strip().lower() for r in recipients}:
                continue
            found = self._assertion(event_id, request.recipient_email)
            return found if found.outcome == ISSUED else DeliveryResult(RETRY, reference=event_id,
                                                                         reason=found.reason)
        return None

    # --- internals --------------------------------------------------------------------------------
    @answers_stop
    def _assertion(self, event_id: str, email: str) -> DeliveryResult:
        url = (f"{self.base_url}/event/{quote(self.client_id, safe='')}/{quote(event_id, safe='')}/assertion?"
               + urlencode({"email": email}))
        response = self._get(url, "OBF assertion")
        if not 200 <= response.status < 300:
            return DeliveryResult(RETRY, reason=f"OBF assertion: HTTP {response.status}")
        wanted = email.strip().lower()
        items = [i for i in json_items(response.body) if isinstance(i.get("json"), str) and i["json"]]
        items.sort(key=lambda i: str(i.get("recipient", "")).strip().lower() != wanted)
        if not items:
            return DeliveryResult(RETRY, reason="OBF assertion: no assertion URL yet")
        return DeliveryResult(ISSUED, credential=items[0]["json"], reference=event_id)

    def _get(self, url: str, what: str) -> Response:
        """An authenticated GET; a failure in transit stops the step (a GET creates nothing)."""
        try:
            return self._call("GET", url)
        except FetchError as exc:
            raise Stop(failure_before_sending(exc, what)) from None

    def _call(self, method: str, url: str, *, json: object = None, allow_redirects: bool = True,
              extra: Mapping[str, str] | None = None) -> Response:
        """An authenticated call; on 401/403 the token is fetched again and the call made once more
        (a rejected call created nothing)."""
        response = None
        for attempt in range(2):
            headers = {"Authorization": f"Bearer {self._access_token(force=attempt > 0)}",
                       "Accept": "application/json", **(extra or {})}
            response = self.http.request(method, url, headers=headers, json=json,
                                         allow_redirects=allow_redirects)
            if response.status not in (401, 403):
                return response
            log.info("OBF: %s answered %s; fetching a new token", method, response.status)
        assert response is not None
        return response

    def _access_token(self, force: bool = False) -> str:
        with self._lock:
            if not force and self._token and self._monotonic() < self._token[1]:
                return self._token[0]
            url = f"{self.base_url}/client/oauth2/token"
            try:
                response = self.http.request("POST", url, headers={"Accept": "application/json"},
                                             data={"grant_type": "client_credentials",
                                                   "client_id": self.client_id,
                                                   "client_secret": self._secret})
            except FetchError as exc:
                raise Stop(failure_before_sending(exc, "OBF token")) from None
            if response.status != 200:
                if response.status == 429 or response.status >= 500:
                    raise Stop(error_answer(response.status, b"", response.headers, "OBF token"))
                raise Stop(DeliveryResult(RETRY, reason=f"OBF token: HTTP {response.status} "
                                                         "(check the OBF client id and secret)"))
            try:
                doc = response.json()
            except ValueError:
                doc = None
            token = doc.get("access_token") if isinstance(doc, dict) else None
            if not isinstance(token, str) or not token:
                raise Stop(DeliveryResult(RETRY, reason="OBF token: no access_token in the answer"))
            lifetime = doc.get("expires_in") if isinstance(doc, dict) else None
            seconds = float(lifetime) if isinstance(lifetime, (int, float)) and lifetime > 0 \
                else DEFAULT_TOKEN_LIFETIME
            self._token = (token, self._monotonic() + max(seconds - TOKEN_MARGIN, 0.0))
            return token


def _event_id(response: Response) -> str | None:
    """`Location: /v1/event/{client_id}/{event_id}` (or an `id` in a JSON body)."""
    location = response.headers.get("Location", "").strip()
    if location:
        last = location.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
        if last:
            return last
    try:
        doc = response.json()
    except ValueError:
        return None
    value = doc.get("id") if isinstance(doc, dict) else None
    return value if isinstance(value, str) and value else None
