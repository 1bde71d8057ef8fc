"""A fake Open Badge Factory (REST API v1, PROTOCOLS.md §6.1) on a real loopback server.

    with FakeObf() as obf:
        backend = ObfIssuer(SafeHttp(allow=[obf.authority], read_timeout=0.5, deadline=1),
                            base_url=obf.base_url, client_id=obf.client_id,
                            client_secret=obf.client_secret, badges={"organiser-1": obf.badge_id})
        obf.fail_next(3); obf.stall_next(); obf.reject_tokens()     # see tests/fakes/issuer_base.py
        obf.count("ana@example.org", obf.badge_id)                   # awards made

Endpoints: POST /v1/client/oauth2/token (form, client credentials), POST /v1/badge/{client}/{badge}
(201 + Location /v1/event/{client}/{event}), GET /v1/event/{client}?badge_id&recipient (newline-
delimited JSON, as OBF sometimes answers), GET /v1/event/{client}/{event}/assertion?email. Each
award is served as a hosted OB 2.0 assertion (with its BadgeClass and Issuer) on the same origin.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime

from werkzeug.wrappers import Request, Response

from tests.fakes.issuer_base import FakeIssuer


@dataclass
class ObfAward:
    event_id: str
    badge: str                     # the badge id
    recipient: str
    assertion_url: str
    issued_on: int
    log_entry: dict = field(default_factory=dict)


class FakeObf(FakeIssuer):
    api_root = "/v1"
    awards: list[ObfAward]

    def __init__(self, client_id: str = "REGIONCLIENT", client_secret: str = "obf-secret-value",
                 badge_ids: tuple[str, ...] = ("OBFBADGE1",), token_lifetime: int = 36000,
                 ndjson: bool = True) -> None:
        super().__init__(badge_ids)
        self.client_id = client_id
        self.client_secret = client_secret
        self.token_lifetime = token_lifetime
        self.ndjson = ndjson
        self.token_requests = 0
        self.issue_requests: list[dict] = []
        self._tokens: set[str] = set()
        s = self.server
        s.handler("/v1/client/oauth2/token", self._token)
        for badge_id in badge_ids:
            s.handler(f"/v1/badge/{client_id}/{badge_id}", self._issue)
        s.handler(f"/v1/event/{client_id}", self._events)

    @property
    def badge_id(self) -> str:
        return self.badges[0]

    def reject_tokens(self) -> None:
        """Every token handed out so far now answers 401 (as an expired or revoked token would)."""
        with self.lock:
            self._tokens.clear()

    # --- endpoints ------------------------------------------------------------------------------
    def _authorized(self, request: Request) -> bool:
        token = self.bearer(request)
        with self.lock:
            return token is not None and token in self._tokens

    def _token(self, request: Request) -> Response:
        form = request.form
        with self.lock:
            self.token_requests += 1
        if request.method != "POST" or form.get("grant_type") != "client_credentials" or \
                form.get("client_id") != self.client_id or form.get("client_secret") != self.client_secret:
            return self.json_response({"error": "invalid_client"}, status=401)
        token = secrets.token_hex(16)
        with self.lock:
            self._tokens.add(token)
        return self.json_response({"access_token": token, "token_type": "bearer",
                                   "expires_in": self.token_lifetime})

    def _issue(self, request: Request) -> Response:
        if request.method != "POST":
            return Response("method not allowed", status=405)
        if not self._authorized(request):
            return self.json_response({"error": "unauthorized"}, status=401)
        return self._issuing_call(request, self.issue_requests, lambda body: self._create(request.path, body))

    def _create(self, path: str, body: dict) -> Response:
        recipients = body.get("recipient")
        if not isinstance(recipients, list) or not recipients:
            return self.json_response({"error": "recipient is required"}, status=400)
        badge_id = path.rsplit("/", 1)[-1]
        event_id = secrets.token_hex(8).upper()
        issued_on = int(body.get("issued_on") or datetime.now(UTC).timestamp())
        for recipient in recipients:
            self._award(event_id, badge_id, str(recipient), issued_on, body.get("log_entry") or {})
        self.server.handler(f"/v1/event/{self.client_id}/{event_id}/assertion", self._assertion)
        return Response("", status=201, headers={"Location": f"/v1/event/{self.client_id}/{event_id}"})

    def _award(self, event_id: str, badge_id: str, recipient: str, issued_on: int, log_entry: dict) -> None:
        number = len(self.awards) + 1
        url = self.publish_ob2(issuer_path=f"/obf/issuers/{self.client_id}.json", issuer_name="Région (OBF)",
                               badge_path=f"/obf/badges/{badge_id}.json", badge_name="Badge régional OBF",
                               assertion_path=f"/obf/assertions/{event_id}-{number}.json", email=recipient,
                               salt=secrets.token_hex(8),
                               issued_on=datetime.fromtimestamp(issued_on, UTC))
        with self.lock:
            self.awards.append(ObfAward(event_id, badge_id, recipient.strip().lower(), url, issued_on, log_entry))

    def _events(self, request: Request) -> Response:
        if not self._authorized(request):
            return self.json_response({"error": "unauthorized"}, status=401)
        badge_ids = set(filter(None, request.args.get("badge_id", "").split("|")))
        recipients = {r.strip().lower() for r in request.args.get("recipient", "").split("|") if r.strip()}
        with self.lock:
            events: dict[str, dict] = {}
            for award in self.awards:
                if badge_ids and award.badge not in badge_ids:
                    continue
                if recipients and award.recipient not in recipients:
                    continue
                event = events.setdefault(award.event_id, {
                    "id": award.event_id, "badge_id": award.badge, "issued_on": award.issued_on,
                    "recipient": [], "log_entry": award.log_entry})
                event["recipient"].append(award.recipient)
        items = sorted(events.values(), key=lambda e: e["issued_on"],
                       reverse=request.args.get("order_by") == "desc")
        if self.ndjson:
            return Response("\n".join(json.dumps(e) for e in items) + "\n", content_type="application/json")
        return self.json_response(items)

    def _assertion(self, request: Request) -> Response:
        if not self._authorized(request):
            return self.json_response({"error": "unauthorized"}, status=401)
        event_id = request.path.split("/")[-2]
        emails = {e.strip().lower() for e in request.args.get("email", "").split("|") if e.strip()}
        with self.lock:
            items = [{"id": f"{a.event_id}-{i}", "json": a.assertion_url, "image": self.url("/image.png"),
                      "pdf": None, "recipient": a.recipient, "status": "accepted"}
                     for i, a in enumerate(self.awards) if a.event_id == event_id
                     and (not emails or a.recipient in emails)]
        return self.json_response(items)
