"""Bench cases of the issue "Connect partner backpacks", section Performance.

One sync of 500 OB 3.0 credentials (did:key, eddsa-rdfc-2022) over 10 pages of 50 from the fake
partner (tests/fakes/partner.py: a real OAuth server + OB 3.0 API on loopback), through the app's
own services (SafeHttp, verification, storage in SQLite). Each run happens in a fresh process
(`python -m bench.cases_sync run N`), with the partner in a process of its own so that it does not
share our GIL; the run reports the sync's wall time (token exchange included), the time of each
credential's verify-and-store, and the peak RSS growth during the sync. There is no reference tool.
"""

from __future__ import annotations

import multiprocessing
import statistics
import sys
import time
from datetime import timedelta

from . import procmem
from .fresh import REPO_ROOT, add_learner, fresh_case, main, throwaway_app
from .registry import Cell, Row, at_most, below, case

MIB = 1024 * 1024
COUNT = 500


# --- the harness side ------------------------------------------------------------------------

@case("partner-sync", "sync 500 OB 3.0 credentials over 10 pages from a loopback partner")
@fresh_case("bench.cases_sync", COUNT, f"partner sync, {COUNT} credentials / 10 pages")
def partner_sync(answers: list[dict], runs: int):
    totals = [a["total"] for a in answers]
    per_item = [a["per_credential_median"] for a in answers]
    growth = [a["rss_growth"] / MIB for a in answers]
    first = answers[0]
    note = (f"{first['imported']} imported, {first['pages']} pages, {first['requests']} HTTP requests to the "
            f"partner; RSS before the sync {first['rss_before'] / MIB:.0f} MiB")
    yield Row(f"partner sync, {COUNT} credentials / 10 pages, total", Cell.seconds(statistics.median(totals),
              f"n={runs}"), Cell.none(), "≤ 60 s", at_most(60), (note,))
    yield Row("  per credential (verify + store), median", Cell.seconds(statistics.median(per_item)),
              Cell.none(), "≤ 50 ms", at_most(0.05))
    yield Row("  peak RSS growth during the sync", Cell.mib(statistics.median(growth)), Cell.none(),
              "< 100 MiB", below(100))


# --- the measured process ----------------------------------------------------------------------

def _serve_partner(count: int, pipe) -> None:
    """The partner process: sign `count` credentials, serve them, answer the origin, wait for 'stop'."""
    sys.path.insert(0, str(REPO_ROOT))
    import logging

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    from tests.fakes.badges import BadgeFactory
    from tests.fakes.partner import FakePartner
    from tests.service.connections_helpers import ob3_credentials, serve_assets
    from wallet.models import utcnow

    with FakePartner(protocol="ob30") as partner:
        serve_assets(partner)
        partner.auto_approve = True
        partner.add(*ob3_credentials(BadgeFactory(partner, now=utcnow() - timedelta(days=1)), count))
        pipe.send({"origin": partner.origin, "authority": partner.authority})
        while pipe.recv() != "stop":
            pipe.send({"pages": len(partner.pages_requested()), "requests": len(partner.requests)})
        pipe.send({"pages": len(partner.pages_requested()), "requests": len(partner.requests)})


def run(count: int) -> dict:
    import logging
    from urllib.parse import parse_qsl, urlsplit

    logging.disable(logging.INFO)
    context = multiprocessing.get_context("spawn")
    ours, theirs = context.Pipe()
    process = context.Process(target=_serve_partner, args=(count, theirs), daemon=True)
    process.start()
    try:
        hello = ours.recv()
        with throwaway_app(FETCH_ALLOW=hello["authority"]) as app:
            from wallet.db import new_session
            from wallet.partners import client as service

            with app.test_request_context():
                session = new_session(app)
                user = add_learner(session, "x")
                http = app.extensions["wallet_http"]
                backpack = service.register_backpack(session, hello["origin"], http, app.config)
                url = service.start_connect(session, user, backpack.id, app.config)
                consent = http.request("GET", url, allow_redirects=False)
                args = dict(parse_qsl(urlsplit(consent.headers["Location"]).query))

                durations: list[float] = []
                real_import = service.sync._import

                def timed_import(*a, **k):
                    start = time.perf_counter()
                    try:
                        return real_import(*a, **k)
                    finally:
                        durations.append(time.perf_counter() - start)

                service.sync._import = timed_import
                procmem.reset_peak()
                rss_before = procmem.rss()
                start = time.perf_counter()
                result = service.finish_connect(session, user, backpack.id, args, http, app.config)
                total = time.perf_counter() - start
                peak = procmem.peak()
                session.close()
        ours.send("stop")
        served = ours.recv()
    finally:
        process.join(timeout=10)
        if process.is_alive():
            process.terminate()
    if not result.complete or result.imported != count:
        raise RuntimeError(f"sync incomplete: {result.error}, {result.imported} imported")
    return {"total": total, "per_credential_median": statistics.median(durations), "imported": result.imported,
            "rss_before": rss_before, "rss_growth": max(0, peak - rss_before), "pages": served["pages"],
            "requests": served["requests"]}


if __name__ == "__main__":
    main("bench.cases_sync", run, COUNT)
