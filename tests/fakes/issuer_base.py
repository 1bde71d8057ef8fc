"""What the fake remote issuers (tests/fakes/obf.py, tests/fakes/badgr.py) share: failure knobs,
hosted OB 2.0 documents for the awards they make, bearer-token checks.

Knobs act on the next ISSUING calls only (token, lookup and document requests are never failed):

    fake.fail_next(3)                      # 500 ×3, nothing created
    fake.throttle_next(retry_after="120")  # 429 with Retry-After, nothing created
    fake.refuse_next(422, "Badge en brouillon")   # 4xx with the issuer's reason, nothing created
    fake.stall_next()                      # the award IS created, the answer comes too late

A stalled answer waits until `release()` (called by `stop()`), so no test sleeps: the client's own
read timeout ends its wait.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from werkzeug.wrappers import Request, Response

from tests.fakes.server import FakeServer
from wallet.openbadges.identity import hash_identity

OB2 = "https://w3id.org/openbadges/v2"
STALL_LIMIT = 10.0  # seconds a stalled answer waits at most (released at stop)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class Planned:
    kind: str                      # "status" | "stall"
    status: int = 0
    headers: tuple[tuple[str, str], ...] = ()
    body: str = ""


class FakeIssuer:
    """A FakeServer plus the knobs; subclasses add the issuer's API routes below `api_root`.

    `badges` are the issuer's badge ids (the first is the default); each award in `awards` has a
    `recipient` (lower-case email) and the `badge` it is an award of.
    """

    api_root = ""

    def __init__(self, badges: tuple[str, ...]) -> None:
        self.server = FakeServer()
        self.lock = threading.Lock()
        self.badges = badges
        self.awards: list[Any] = []
        self._plan: deque[Planned] = deque()
        self._release = threading.Event()
        self.idempotency_keys: list[str] = []
        self.stalled = 0

    # lifecycle ---------------------------------------------------------------------------------
    def start(self):
        self.server.start()
        return self

    def stop(self) -> None:
        self.release()
        self.server.stop()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def authority(self) -> str:
        return self.server.authority

    def url(self, path: str) -> str:
        return self.server.url(path)

    @property
    def base_url(self) -> str:
        """What the wallet is configured with as the issuer's API base URL."""
        return self.url(self.api_root)

    def count(self, recipient: str, badge: str | None = None) -> int:
        """Awards made to `recipient` for `badge` (the first badge by default)."""
        with self.lock:
            return sum(1 for a in self.awards if a.recipient == recipient.lower()
                       and a.badge == (badge or self.badges[0]))

    # knobs -------------------------------------------------------------------------------------
    def fail_next(self, n: int = 1, status: int = 500) -> None:
        with self.lock:
            self._plan.extend(Planned("status", status, (), "Erreur interne") for _ in range(n))

    def throttle_next(self, retry_after: str = "120", n: int = 1) -> None:
        with self.lock:
            self._plan.extend(Planned("status", 429, (("Retry-After", retry_after),), "") for _ in range(n))

    def refuse_next(self, status: int = 422, reason: str = "Refusé par l'émetteur") -> None:
        body = json.dumps({"error": reason})
        with self.lock:
            self._plan.append(Planned("status", status, (("Content-Type", "application/json"),), body))

    def stall_next(self, n: int = 1) -> None:
        with self.lock:
            self._plan.extend(Planned("stall") for _ in range(n))

    def release(self) -> None:
        """Let stalled answers go."""
        self._release.set()

    def _next_plan(self) -> Planned | None:
        with self.lock:
            return self._plan.popleft() if self._plan else None

    @staticmethod
    def _planned_response(plan: Planned) -> Response:
        headers = dict(plan.headers)
        content_type = headers.pop("Content-Type", "text/plain")
        return Response(plan.body, status=plan.status, headers=headers, content_type=content_type)

    def _stall(self) -> None:
        with self.lock:
            self.stalled += 1
        self._release.wait(STALL_LIMIT)

    def _record_key(self, request: Request) -> None:
        key = request.headers.get("Idempotency-Key")
        if key:
            with self.lock:
                self.idempotency_keys.append(key)

    def _issuing_call(self, request: Request, log: list[dict], create: Callable[[dict], Response]) -> Response:
        """Answer one issuing call the knobs' way: its Idempotency-Key is recorded; a planned status
        answers instead of the issuer (nothing created); otherwise the JSON body is kept in `log` and
        `create(body)` answers, after the planned stall if any (the award IS created; a refusal is
        never stalled)."""
        self._record_key(request)
        plan = self._next_plan()
        if plan is not None and plan.kind == "status":
            return self._planned_response(plan)
        body = json.loads(request.get_data() or b"{}")
        with self.lock:
            log.append(body)
        response = create(body)
        if plan is not None and plan.kind == "stall" and response.status_code < 400:
            self._stall()
        return response

    # helpers -----------------------------------------------------------------------------------
    @staticmethod
    def bearer(request: Request) -> str | None:
        value = request.headers.get("Authorization", "")
        return value[len("Bearer "):] if value.startswith("Bearer ") else None

    @staticmethod
    def json_response(doc: Any, status: int = 200, headers: dict[str, str] | None = None,
                      content_type: str = "application/json") -> Response:
        return Response(json.dumps(doc), status=status, headers=headers or {}, content_type=content_type)

    def publish_ob2(self, **kwargs: Any) -> str:
        """Serve a hosted OB 2.0 assertion (and its BadgeClass and Issuer) on this server's origin."""
        return publish_ob2(self.server, **kwargs)


def publish_ob2(server: FakeServer, *, issuer_path: str, issuer_name: str, badge_path: str, badge_name: str,
                assertion_path: str, email: str, salt: str, issued_on: datetime, revoked: bool = False,
                image_path: str = "/image.png") -> str:
    """Serve a hosted OB 2.0 assertion, its BadgeClass and its Issuer on `server`; return its id."""
    url = server.url
    issuer_id, badge_id, assertion_id = url(issuer_path), url(badge_path), url(assertion_path)
    server.json(issuer_path, {"@context": OB2, "type": "Issuer", "id": issuer_id, "name": issuer_name,
                              "url": url("/"), "email": "contact@issuer.example"})
    server.json(badge_path, {"@context": OB2, "type": "BadgeClass", "id": badge_id, "name": badge_name,
                             "description": "Badge régional", "image": url(image_path),
                             "criteria": {"narrative": "Critères du référentiel"}, "issuer": issuer_id})
    assertion = {"@context": OB2, "type": "Assertion", "id": assertion_id,
                 "recipient": {"type": "email", "hashed": True, "salt": salt,
                               "identity": hash_identity(email.strip().lower(), salt)},
                 "badge": badge_id, "verification": {"type": "HostedBadge"}, "issuedOn": iso(issued_on)}
    if revoked:
        assertion["revoked"] = True
    server.json(assertion_path, assertion)
    return assertion_id
