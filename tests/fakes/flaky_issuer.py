"""A flaky Badgr on loopback for claims under load (issue 17, item 4; bench/region/claims.py).

Every award request draws its fate from a seeded generator: a 500 (nothing created), a 429 with
Retry-After (nothing created), a timeout AFTER the award was created (the answer comes later than
the client waits), or a normal 201. Unlike Badgr it does NOT refuse a second award to the same
recipient (`honour_duplicates=False`): no remote issuer is assumed to de-duplicate (DESIGN.md §6),
so only the wallet's own "ask before re-sending" keeps a claim to one award.

    with FlakyBadgr(seed=3, p500=0.12, p429=0.08, p_stall=0.08) as issuer:
        ...
        issuer.awards_per_recipient()   # {(email, badgeclass): number of awards}
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter

from werkzeug.wrappers import Request, Response

from tests.fakes.badgr import FakeBadgr


class FlakyBadgr(FakeBadgr):
    def __init__(self, badgeclasses: tuple[str, ...], *, seed: int = 1, p500: float = 0.12, p429: float = 0.08,
                 p_stall: float = 0.08, stall_seconds: float = 1.0, retry_after: str = "30",
                 honour_duplicates: bool = False) -> None:
        super().__init__(badgeclasses=badgeclasses)
        self._rng = random.Random(seed)
        self._rng_lock = threading.Lock()
        self.p500, self.p429, self.p_stall = p500, p429, p_stall
        self.stall_seconds = stall_seconds
        self.retry_after = retry_after
        self.honour_duplicates = honour_duplicates
        self.fates: Counter = Counter()
        self.lookups = 0

    def _assertions(self, request: Request) -> Response:
        if request.method == "GET":
            with self.lock:
                self.lookups += 1
            return super()._assertions(request)
        if request.method == "POST" and self.bearer(request) == self.token:
            with self._rng_lock:
                roll = self._rng.random()
            if roll < self.p500:
                self.fates["500"] += 1
                return Response("Erreur interne", status=500)
            if roll < self.p500 + self.p429:
                self.fates["429"] += 1
                return Response("", status=429, headers={"Retry-After": self.retry_after})
            stall = roll < self.p500 + self.p429 + self.p_stall
            self.fates["stall" if stall else "201"] += 1
            if not self.honour_duplicates:
                request = _without_duplicate_flag(request)
            response = super()._assertions(request)
            if stall:  # created; the client's read timeout ends before this answer leaves
                time.sleep(self.stall_seconds)
            return response
        return super()._assertions(request)

    def awards_per_recipient(self) -> Counter:
        with self.lock:
            return Counter((a.recipient, a.badge) for a in self.awards)


def _without_duplicate_flag(request: Request) -> Request:
    """The same request with allowDuplicateAwards dropped (this issuer ignores it)."""
    import json

    body = json.loads(request.get_data() or b"{}")
    body.pop("allowDuplicateAwards", None)
    data = json.dumps(body).encode()
    environ = dict(request.environ)
    import io

    environ["wsgi.input"] = io.BytesIO(data)
    environ["CONTENT_LENGTH"] = str(len(data))
    return Request(environ)
