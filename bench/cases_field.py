"""Bench cases of issue 12 "Trust what real issuers send": badges as a Moodle 4.5 site serves them
(tests/fakes/field/moodle.py, in the bench's loopback server process).

- verify one Moodle badge warm: its embedded BadgeClass and Issuer are re-fetched from their own
  ids (authority of nodes), so 3 documents per badge; badgecheck on the same URL, same run;
- import 50 Moodle badges of one site in one batch through the import service with the batch
  fetcher (MemoFetcher): the BadgeClass and the Issuer are fetched once for the whole batch, so
  about one fetch per badge — next to the same import with a fresh fetcher per badge.
"""

from __future__ import annotations

import collections
import statistics
import time

from .cases_core import _compare
from .context import Bench, OursMissing
from .registry import Cell, Row, at_most, case

LEARNER = "ana@example.org"
BATCH = 50


def _moodle(bench: Bench) -> dict:
    if "moodle" not in bench.cache:
        bench.cache["moodle"] = bench.server.moodle(BATCH + 1, LEARNER)
    return bench.cache["moodle"]


def _names(paths: list[str]) -> str:
    return ", ".join(path.rsplit("/", 1)[-1] for path in paths)


@case("verify-moodle-warm", "verify a Moodle 4.5 badge (embedded BadgeClass + Issuer re-fetched), warm")
def verify_moodle(bench: Bench):
    url = _moodle(bench)["urls"][0]
    counts: list[int] = []
    seen: dict[str, object] = {}

    def reference() -> float:
        answer = bench.ref.call(op="verify", input=url)
        seen["reference"] = "valid" if answer["valid"] else f"invalid {answer['messages']}"[:200]
        return answer["seconds"]

    ours_fn, missing = None, None
    try:
        verify = bench.ours("wallet.openbadges", "verify")
        fetch = bench.ours("wallet.http", "SafeHttp")(allow=[bench.server.authority]).fetch

        def ours() -> float:
            first = bench.server.count()
            start = time.perf_counter()
            verdict = verify(url, fetch=fetch, recipients=(LEARNER,))
            seconds = time.perf_counter() - start
            paths = bench.server.paths_since(first)
            counts.append(len(paths))
            seen["paths"], seen["ours"] = paths, verdict.status.value
            return seconds

        ours_fn = ours
    except OursMissing as exc:
        missing = str(exc)
    ours_cell, ref_cell = _compare(bench, bench.reps(31, 9), ours_fn, reference, ours_missing=missing)
    notes = [f"verdict ours: {seen.get('ours', '?')}; badgecheck: {seen.get('reference', '?')}"]
    if counts:
        notes.append(f"documents fetched per verify: {_names(seen['paths'])}")
    yield Row("verify Moodle OB 2.0 (loopback), warm", ours_cell, ref_cell, "printed",
              lambda o, r: seen.get("ours") == "valid", tuple(notes))
    if counts:
        yield Row("  HTTP requests per Moodle verify", Cell(statistics.median(counts), "count"), Cell.none(),
                  "3 (assertion, BadgeClass, Issuer)", lambda o, r: o.value == 3)


def _import_batch(bench: Bench, texts: list[str], shared: bool) -> tuple[float, list[float], list[str], list[str]]:
    """Import `texts` for one learner; one MemoFetcher for the batch (shared) or one per badge."""
    from wallet.db import new_session
    from wallet.models import User
    from wallet.openbadges.fetching import MemoFetcher
    from wallet.services import badges

    from .cases_wallet import _App

    env = _App(bench.server)
    try:
        env.user(LEARNER)
        with env.app.test_request_context():
            session = new_session(env.app)
            user = session.get(User, 1)
            http = env.app.extensions["wallet_http"]
            memo = MemoFetcher(http.fetch)
            first = bench.server.count()
            outcomes, per_badge = [], []
            started = time.perf_counter()
            for n, text in enumerate(texts):
                t = time.perf_counter()
                item = badges.import_text(session, user, text, http, label=f"moodle-{n}",
                                          fetch=memo if shared else MemoFetcher(http.fetch))
                per_badge.append(time.perf_counter() - t)
                outcomes.append(f"{item.outcome}/{item.status}")
            total = time.perf_counter() - started
            paths = bench.server.paths_since(first)
            session.close()
    finally:
        env.close()
    return total, per_badge, paths, outcomes


@case("import-moodle-50", "import 50 Moodle badges of one site in one batch (batch fetcher), fetches per badge")
def import_moodle_batch(bench: Bench):
    texts = _moodle(bench)["texts"][1:BATCH + 1]
    try:
        bench.ours("wallet.services.badges", "import_text")
    except OursMissing as exc:
        yield Row(f"import {BATCH} Moodle badges, one batch", Cell.missing_ours(str(exc)), Cell.none(), "printed")
        return
    total, per_badge, paths, outcomes = _import_batch(bench, texts, shared=True)
    _, _, alone_paths, _ = _import_batch(bench, texts, shared=False)
    alone_documents = sum(1 for p in alone_paths if p.endswith((".php",)))
    kinds = dict(sorted(collections.Counter(p.rsplit("/", 1)[-1] for p in paths).items()))
    ok = all(o == "imported/valid" for o in outcomes)
    notes = (f"outcomes: {sorted(set(outcomes))}",
             f"requests in the batch: {kinds}; with a fresh fetcher per badge: {len(alone_paths)}")
    yield Row(f"import {BATCH} Moodle badges, one batch, total", Cell.seconds(total), Cell.none(), "printed",
              lambda o, r: ok, notes)
    yield Row(f"import {BATCH} Moodle badges, per-badge median", Cell.seconds(statistics.median(per_badge)),
              Cell.none(), "printed")
    documents = sum(kinds.get(name, 0) for name in ("assertion.php", "badge_json.php", "issuer_json.php"))
    yield Row("  document fetches per badge (batch fetcher)", Cell(documents / BATCH, "count"), Cell.none(),
              "≈ 1: BadgeClass and Issuer once per batch", at_most(1 + 2 / BATCH),
              (f"with a fresh fetcher per badge: {alone_documents / BATCH:.2f} document fetches per badge",))
    images = len(paths) - documents
    why = ("the import fetches the badge image (the BadgeClass's image URL) outside the batch fetcher: "
           "the same image once per badge")
    yield Row("  badge image fetches per badge", Cell(images / BATCH, "count"), Cell.none(), "printed",
              notes=(why,) if images >= BATCH else ())
