"""Locust users of the region load bench (run by bench/region/load.py, never by hand-picked hosts).

The plan (`$REGION_PLAN`, JSON written by load.py) holds everything a simulated person needs:
learners' session cookies and client addresses, share tokens, eligible claims, badges to import.
Every request goes to the `--host` given by load.py (127.0.0.1). `X-Forwarded-For` carries a
TEST-NET documentation address per person: the bench server trusts one proxy hop like production.
The database time of each response (`X-Bench-DB`) is added up per page name and written to
`$REGION_DB_OUT` when the run stops.
"""

from __future__ import annotations

import json
import os
import random
import re
import threading
from collections import defaultdict

from locust import FastHttpUser, HttpUser, between, constant, events, task
from locust.exception import StopUser

with open(os.environ["REGION_PLAN"], encoding="utf-8") as _plan:
    PLAN = json.load(_plan)
UA = PLAN["user_agent"]
_db: dict[str, list[float]] = defaultdict(lambda: [0, 0.0, 0.0, 0])  # name -> [n, db ms, total ms, queries]
_lock = threading.Lock()
_claims = list(PLAN["claimers"])
_imports = list(PLAN["importers"])
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@events.request.add_listener
def _record(request_type, name, response_time, response_length, response=None, exception=None, **kwargs):
    header = response.headers.get("X-Bench-DB") if response is not None and response.headers else None
    if not header:
        return
    ms, _sep, count = header.partition(";")
    with _lock:
        entry = _db[name]
        entry[0] += 1
        entry[1] += float(ms)
        entry[2] += response_time
        entry[3] += int(count or 0)


@events.quitting.add_listener
def _write(environment, **kwargs):
    with open(os.environ["REGION_DB_OUT"], "w", encoding="utf-8") as out:
        json.dump({name: {"requests": n, "db_ms": db, "total_ms": total, "queries": q}
                   for name, (n, db, total, q) in _db.items()}, out)


def _headers(ip: str) -> dict:
    return {"User-Agent": UA, "X-Forwarded-For": ip}


class _Learner(HttpUser):
    abstract = True

    def login_as(self, person: dict) -> None:
        self.client.cookies.clear()
        self.client.cookies.set(PLAN["cookie_name"], person["cookie"], domain="127.0.0.1", path="/")
        self.person = person

    def get(self, path: str, name: str, **kwargs):
        with self.client.get(path, name=name, headers=_headers(self.person["ip"]), allow_redirects=False,
                             catch_response=True, **kwargs) as response:
            if response.status_code != 200:
                response.failure(f"HTTP {response.status_code}")
            return response


class LearnerUser(_Learner):
    """A learner opening the wallet (median about 20 badges), the regional page, the home page."""

    weight = 8
    wait_time = between(0.5, 2.0)

    def on_start(self):
        self.login_as(random.choice(PLAN["learners"]))

    @task(5)
    def wallet(self):
        self.get("/badges/", "wallet /badges/")

    @task(3)
    def regional(self):
        self.get("/badges-regionaux/", "regional /badges-regionaux/")

    @task(1)
    def dashboard(self):
        self.get("/tableau-de-bord", "home /tableau-de-bord")

    @task(1)
    def someone_else(self):
        self.login_as(random.choice(PLAN["learners"]))


class HeavyLearnerUser(_Learner):
    """The fullest wallets of the region (500 badges). Two users of the sixteen, paced like the
    others, so that a run holds some fifty of their pages: over ten, a p95 is only the slowest."""

    weight = 2
    wait_time = between(0.5, 2.0)

    def on_start(self):
        self.login_as(random.choice(PLAN["heavy"]))

    @task(2)
    def wallet(self):
        self.get("/badges/", "wallet /badges/ (500 badges)")

    @task(1)
    def regional(self):
        self.get("/badges-regionaux/", "regional /badges-regionaux/ (500 badges)")


class ClaimerUser(_Learner):
    """A learner who can claim a regional badge: the confirmation page, then the claim (issued at
    once by the builtin issuer: signed, imported, verified)."""

    weight = 1
    wait_time = between(2.0, 5.0)

    @task
    def claim(self):
        if not _claims:
            raise StopUser()
        person = _claims.pop()
        self.login_as(person)
        page = self.get(f"/demandes/nouvelle/{person['key']}", "claim: confirmation page")
        found = CSRF.search(page.text or "")
        if not found:
            return
        with self.client.post(f"/demandes/nouvelle/{person['key']}", name="claim: submit",
                              data={"csrf_token": found.group(1), "recipient": person["email"]},
                              headers=_headers(person["ip"]), allow_redirects=False,
                              catch_response=True) as response:
            if response.status_code != 303 or "/demandes/" not in response.headers.get("Location", ""):
                response.failure(f"HTTP {response.status_code}")


class ImporterUser(_Learner):
    """A learner importing a hosted OB 2.0 badge by its URL (served by a loopback partner)."""

    weight = 1
    wait_time = between(2.0, 5.0)

    @task
    def import_badge(self):
        if not _imports:
            raise StopUser()
        person = _imports.pop()
        self.login_as(person)
        page = self.get("/badges/importer", "import: form")
        found = CSRF.search(page.text or "")
        if not found:
            return
        with self.client.post("/badges/importer", name="import: hosted URL",
                              data={"csrf_token": found.group(1), "url": person["url"]},
                              headers=_headers(person["ip"]), catch_response=True) as response:
            if response.status_code != 200 or "result-imported" not in response.text:
                response.failure(f"HTTP {response.status_code}: not imported")


class EmployerUser(FastHttpUser):
    """An employer opening a shared link (no account)."""

    weight = 4
    wait_time = between(0.5, 2.0)

    @task
    def public_page(self):
        token = random.choice(PLAN["shares"])
        ip = f"203.0.113.{random.randrange(1, 255)}"
        with self.client.get(f"/p/{token}", name="public /p/<token>", headers=_headers(ip),
                             catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"HTTP {response.status_code}")


# --- throughput: no wait, one page at a time (load.py runs each class alone) ---------------------

class HealthzFlood(FastHttpUser):
    weight = 1
    wait_time = constant(0)

    @task
    def healthz(self):
        self.client.get("/healthz", name="throughput /healthz", headers={"User-Agent": UA})


def _once_each(tokens: list[str]):
    """Each link in turn, in a random order: every visit is a first view until all are seen."""
    order = random.sample(tokens, len(tokens))
    while order:
        yield from order


class PublicFlood(FastHttpUser):
    """Every visit a first view, by a visitor of its own, of a link whose page the app kept when
    the link was made (load.py prime_pages)."""
    weight = 1
    wait_time = constant(0)
    _links = _once_each(PLAN["shares"])
    _page = "throughput /p/<token>"

    def share(self) -> tuple[str, str]:
        with _lock:
            return next(self._links), self._page


    @task
    def public_page(self):
        token, name = self.share()
        ip = f"198.51.100.{random.randrange(1, 255)}"
        with self.client.get(f"/p/{token}", name=name, headers=_headers(ip), catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"HTTP {response.status_code}")


class PublicFloodUnkept(PublicFlood):
    """Every visit a first view of a link whose page is not kept (its badge changed since)."""
    _links = _once_each(PLAN.get("unkept", []))
    _page = "throughput /p/<token> (page not kept)"


class PublicCrowd(PublicFlood):
    """A crowd on one link (posted on a job board): every visitor opens the same share page."""

    def share(self) -> tuple[str, str]:
        return PLAN["shares"][0], "crowd /p/<token>"
