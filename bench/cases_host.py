"""Bench cases of the issue "the wallet as a backpack host": 100 badges pushed by one Moodle-like
client (tests/fakes/moodle_client.py) into the live wallet on loopback, in each of Moodle's modes.

Each run happens in a fresh process (`python -m bench.cases_host run N`): the wallet is served by
werkzeug in a thread of that process, the badge host (the training centre's Moodle, serving its
hosted assertions, badge class, issuer and image: tests/fakes/badges.py) in a process of its own
(bench/loopback.py). A push is timed around the client's call — HTTP request, verification
(the wallet fetches the assertion, its badge class, issuer and image from the badge host through
SafeHttp: the loopback host answers from memory, the "hosted documents cached" of the target),
storage in SQLite, answer. Login, registration and consent happen once, before the timing.
There is no reference tool.
"""

from __future__ import annotations

import json
import statistics
import threading
import time

from .fresh import LEARNER, add_learner, fresh_case, main, throwaway_app
from .registry import Cell, Row, at_most, case

COUNT = 100


@case("host-push", "100 badges pushed by one Moodle-like client into the wallet (both modes)")
@fresh_case("bench.cases_host", COUNT, f"host push, {COUNT} badges")
def host_push(answers: list[dict], runs: int):
    for mode, label in (("ob20", "Moodle OB 2.0 mode (import {url})"), ("ob21", "Moodle OB 2.1 mode (export JSON)")):
        medians = [a[mode]["median"] for a in answers]
        p90 = [a[mode]["p90"] for a in answers]
        note = (f"{answers[0][mode]['stored']} stored of {COUNT}; p90 {statistics.median(p90) * 1000:.1f} ms; "
                f"{answers[0][mode]['fetches']} fetches from the badge host")
        yield Row(f"{label}: {COUNT} pushes, median per push", Cell.seconds(statistics.median(medians), f"n={runs}"),
                  Cell.none(), "≤ 50 ms", at_most(0.05), (note,))


# --- the measured process ----------------------------------------------------------------------

class _Host:
    """BadgeFactory's view of the bench's loopback server (routes set across the pipe)."""

    def __init__(self, remote) -> None:
        self.remote = remote
        self.authority = remote.authority
        self.origin = remote.origin
        self.host, self.port = remote.authority.rsplit(":", 1)

    def url(self, path: str = "/") -> str:
        return self.remote.url(path)

    def json(self, path: str, doc, status: int = 200, content_type: str = "application/ld+json", headers=None):
        self.remote.route(path, json.dumps(doc).encode(), content_type)

    def route(self, path: str, body=b"", status: int = 200, content_type: str = "text/plain", headers=None):
        self.remote.route(path, body if isinstance(body, bytes) else body.encode(), content_type)


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _timed(push, items) -> list[float]:
    durations = []
    for item in items:
        start = time.perf_counter()
        push(item)
        durations.append(time.perf_counter() - start)
    return durations


def run(count: int) -> dict:
    import logging
    import re
    from datetime import UTC, datetime

    from werkzeug.serving import make_server

    from bench.loopback import RemoteServer
    from tests.fakes.badges import BadgeFactory, plain_png
    from tests.fakes.moodle_client import Ob20Backpack, Ob21Backpack

    logging.disable(logging.INFO)
    remote = RemoteServer()
    host = _Host(remote)
    factory = BadgeFactory(host, now=datetime.now(UTC))
    host.route("/badges/1/image.png", plain_png(), "image/png")
    ob20 = [factory.ob2_hosted(f"/assertions/a{n}").url for n in range(count)]
    ob21 = [factory.ob2_hosted(f"/assertions/b{n}").assertion for n in range(count)]
    sockets = {}
    server = make_server("127.0.0.1", 0, lambda env, start: sockets["app"](env, start), threaded=True)
    base = f"http://127.0.0.1:{server.server_port}"
    try:
        with throwaway_app(BASE_URL=base, FETCH_ALLOW=f"{host.authority},{remote.authority}",
                           RATELIMIT_ENABLED=False) as app:
            from wallet.db import new_session
            from wallet.keys.passwords import hash_password
            from wallet.models import Badge, utcnow
            from wallet.partners.host import app_passwords

            with app.app_context():
                session = new_session(app)
                user = add_learner(session, hash_password("bench password 1234"))
                secret = app_passwords.create(session, user, "Moodle", utcnow()).password
                session.close()
            sockets["app"] = app
            threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True).start()

            before = remote.count()
            badgr = Ob20Backpack(api_url=base + "/v2", email=LEARNER, password=secret,
                                 token_port=server.server_port)
            badgr.authenticate()
            ob20_times = _timed(badgr.import_badge, ob20)
            ob20_fetches = remote.count() - before

            moodle = Ob21Backpack(web_url=base, wwwroot=remote.origin)
            moodle.discover()
            moodle.register()
            browser = app.test_client()
            page = browser.get("/connexion").text
            token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
            browser.post("/connexion", data={"csrf_token": token, "email": LEARNER,
                                             "password": "bench password 1234"})
            path = moodle.login_url()[len(base):]
            token = re.search(r'name="csrf_token" value="([^"]+)"', browser.get(path).text).group(1)
            answer = browser.post(path, data={"csrf_token": token, "decision": "allow"})
            moodle.upgrade_token(moodle.code_from(answer.headers["Location"]))
            before = remote.count()
            ob21_times = _timed(moodle.export, ob21)
            ob21_fetches = remote.count() - before

            with app.app_context():
                session = new_session(app)
                stored = {prefix: session.query(Badge).filter(Badge.credential_id.like(f"%/assertions/{prefix}%"))
                          .count() for prefix in ("a", "b")}
                session.close()
    finally:
        server.shutdown()
        server.server_close()
        remote.stop()
    return {mode: {"median": statistics.median(times), "p90": _percentile(times, 0.9), "stored": stored[prefix],
                   "fetches": fetches}
            for mode, times, prefix, fetches in (("ob20", ob20_times, "a", ob20_fetches),
                                                 ("ob21", ob21_times, "b", ob21_fetches))}


if __name__ == "__main__":
    main("bench.cases_host", run, COUNT)
