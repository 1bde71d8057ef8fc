"""Load on the simulated region: gunicorn workers on its PostgreSQL database, Redis for the rate
limits, locust (headless, bounded in time) on 127.0.0.1.

Phases, each its own locust run:
  mixed       learners (wallet, regional page, home; a few 500-badge wallets), claimers, importers
              and employers together, with think times — latency per page;
  healthz     /healthz with no think time — the server's ceiling;
  public      /p/<token> with no think time, a different link each time (first views) —
              throughput compared with /healthz, and its p99;
  crowd       one /p/<token> opened by everyone at once (a link posted on a job board): the
              per-process page cache's case.
Then the database's share of each page (X-Bench-DB, bench/region/served.py) and EXPLAIN ANALYZE of
the five statements that took the most time in all.
"""

from __future__ import annotations

import csv
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

from .generate import BASE_URL, learner_email, share_token

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
SECRET = "region-bench-secret-" + "x" * 40
UA = "region-bench/1 (locust)"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


_TEST_NETS = ("192.0.2", "198.51.100", "203.0.113")


def client_ip(n: int) -> str:
    """A documentation (TEST-NET) address per simulated person: only ever a header value."""
    return f"{_TEST_NETS[(n // 254) % 3]}.{n % 254 + 1}"


def _env(url: str, redis_url: str, instance: Path, stats: Path, fetch_allow: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WALLET_")}
    env.update({
        "WALLET_DATABASE_URL": url, "WALLET_SECRET_KEY": SECRET, "WALLET_BASE_URL": BASE_URL,
        "WALLET_RATELIMIT_STORAGE_URI": redis_url, "WALLET_INSTANCE_PATH": str(instance),
        "WALLET_MAIL_BACKEND": "memory", "WALLET_FETCH_ALLOW": fetch_allow, "REGION_STATS_DIR": str(stats),
        "PYTHONPATH": str(REPO),
    })
    return env


def _bench_app(env: dict):
    """The app in this process, configured like the served one (cookies, eligibility)."""
    for key, value in env.items():
        if key.startswith("WALLET_"):
            os.environ[key] = value
    from wallet import create_app

    return create_app()


def _cookie(app, user_id: int, token: str, ip: str) -> str:
    from flask_login.utils import _create_identifier

    with app.test_request_context(environ_base={"REMOTE_ADDR": ip}, headers={"User-Agent": UA}):
        identifier = _create_identifier()
    data = {"_user_id": f"{user_id}:{token}", "_fresh": True, "_id": identifier}
    return app.session_interface.get_signing_serializer(app).dumps(data)


def make_plan(app, url: str, seed: int, partner, sample: int = 3000, claimers: int = 400,
              importers: int = 300, links: int | None = None) -> dict:
    from sqlalchemy import bindparam, create_engine, text

    from wallet.db import new_session
    from wallet.models import User
    from wallet.services import referentials

    rng = random.Random(f"{seed}:plan")
    engine = create_engine(url)
    with engine.connect() as conn:
        learners = conn.execute(text("SELECT count(*) FROM users")).scalar()
        tokens = dict(conn.execute(text("SELECT id, session_token FROM users")).all())
        heavy = [r[0] for r in conn.execute(text(  # the fullest wallets (500 badges), and only those
            "WITH c AS (SELECT owner_id, count(*) AS n FROM badges GROUP BY owner_id) "
            "SELECT owner_id FROM c WHERE n = (SELECT max(n) FROM c) ORDER BY owner_id LIMIT 10")).all()]
        heavy_count = conn.execute(text("SELECT count(*) FROM badges WHERE owner_id = :o"), {"o": heavy[0]}).scalar()
        shares = [r[0] for r in conn.execute(text(
            "SELECT id FROM shares WHERE kind IN ('badge', 'collection') AND revoked_at IS NULL "
            "AND (expires_at IS NULL OR expires_at > now()) AND random() < 0.5 LIMIT :n"),
            {"n": 2 * (links or sample)}).all()]
    unkept = shares[1::2]
    if unkept:  # pages an earlier run kept (primed, or rendered on a visit) are forgotten
        forget = text("DELETE FROM public_pages WHERE share_id IN :ids").bindparams(bindparam("ids", expanding=True))
        with engine.begin() as conn:
            conn.execute(forget, {"ids": unkept})
    people = rng.sample(range(1, learners + 1), k=min(sample, learners))

    def person(n: int) -> dict:
        ip = client_ip(n)
        return {"id": n, "ip": ip, "cookie": _cookie(app, n, tokens[n], ip)}

    plan = {"user_agent": UA, "cookie_name": app.config["SESSION_COOKIE_NAME"],
            "learners": [person(n) for n in people], "heavy": [person(n) for n in heavy],
            "heavy_badges": heavy_count,
            # Half the links get their page kept as the app keeps it when a learner makes a link
            # (prime_pages); the other half stand for links whose badge changed since.
            "shares": [share_token(seed, i) for i in shares[0::2]],
            "unkept": [share_token(seed, i) for i in unkept]}
    # Claimers: learners who can claim a regional badge now (their supporting badges were verified
    # within the hour: a claim re-verifies older ones over the network, which the worker bench measures).
    found: list[dict] = []
    candidates = rng.sample(range(1, learners + 1), k=min(learners, claimers * 4))
    with app.test_request_context():
        session = new_session(app)
        for n in candidates:
            if len(found) >= claimers:
                break
            user = session.get(User, n)
            _ref, results = referentials.eligibility_for(session, user)
            from wallet.services.claims.submission import active_claims_by_badge

            active = active_claims_by_badge(session, user)
            for result in results:
                if result.state == "eligible" and result.id not in active:
                    found.append({**person(n), "key": result.key, "email": learner_email(n)})
                    break
        session.close()
    with engine.begin() as conn:
        conn.execute(text("UPDATE badges SET checked_at = now() WHERE owner_id = ANY(:ids)"),
                     {"ids": [p["id"] for p in found]})
    engine.dispose()
    plan["claimers"] = found
    plan["importers"] = _importers(partner, rng, people, importers, app, tokens)
    return plan


def _importers(partner, rng, people, count, app, tokens) -> list[dict]:
    """Hosted OB 2.0 badges on a loopback partner, one per importing learner."""
    import hashlib

    ob2 = "https://w3id.org/openbadges/v2"
    issuer = partner.url("/issuer")
    partner.json("/issuer", {"@context": ob2, "type": "Issuer", "id": issuer, "name": "Partenaire de charge",
                             "url": partner.url("/"), "email": "badges@partenaire.example"})
    badge = partner.url("/badges/atelier")
    partner.json("/badges/atelier", {"@context": ob2, "type": "BadgeClass", "id": badge, "name": "Atelier charge",
                                     "description": "Un badge importé pendant la charge.",
                                     "image": partner.url("/badges/atelier/image.png"),
                                     "criteria": {"narrative": "Participer."}, "issuer": issuer})
    from .templates import class_image

    partner.route("/badges/atelier/image.png", body=class_image(7), content_type="image/png")
    out = []
    for i, n in enumerate(rng.sample(people, k=min(count, len(people)))):
        salt = f"{i:08x}"
        path = f"/assertions/{i}"
        partner.json(path, {"@context": ob2, "type": "Assertion", "id": partner.url(path), "badge": badge,
                            "recipient": {"type": "email", "hashed": True, "salt": salt, "identity": "sha256$"
                                          + hashlib.sha256((learner_email(n) + salt).encode()).hexdigest()},
                            "issuedOn": "2026-01-05T10:00:00Z", "verification": {"type": "HostedBadge"}})
        ip = client_ip(n)
        out.append({"id": n, "ip": ip, "cookie": _cookie(app, n, tokens[n], ip), "url": partner.url(path)})
    return out


class Gunicorn:
    def __init__(self, env: dict, workers: int, log_dir: Path) -> None:
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = open(log_dir / "gunicorn.log", "wb")  # noqa: SIM115 (closed in stop())
        self.process = subprocess.Popen(
            [str(BIN / "gunicorn"), "-w", str(workers), "-b", f"127.0.0.1:{self.port}", "--timeout", "60",
             "--graceful-timeout", "10", "bench.region.served:app"],
            cwd=REPO, env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 60
        while True:
            if self.process.poll() is not None:
                raise SystemExit(f"region: gunicorn exited; see {log_dir / 'gunicorn.log'}")
            try:
                with urllib.request.urlopen(self.base + "/healthz", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                if time.monotonic() > deadline:
                    raise SystemExit("region: gunicorn did not answer within 60 s")
                time.sleep(0.2)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)  # graceful: workers write their query stats
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.log.close()


def locust(base: str, plan_file: Path, classes: list[str], users: int, seconds: int, out: Path, env: dict) -> dict:
    prefix = out / "_".join(classes)
    db_out = out / ("db-" + "_".join(classes) + ".json")
    run_env = {**env, "REGION_PLAN": str(plan_file), "REGION_DB_OUT": str(db_out)}
    command = [str(BIN / "locust"), "-f", str(Path(__file__).with_name("locustfile.py")), "--headless",
               "-u", str(users), "-r", str(users), "-t", f"{seconds}s", "--stop-timeout", "10",
               "--csv", str(prefix), "--only-summary", "-H", base, "--loglevel", "WARNING", *classes]
    with open(out / "locust.log", "ab") as errors_log:
        subprocess.run(command, cwd=REPO, env=run_env, check=False, timeout=seconds + 120,
                       stdout=subprocess.DEVNULL, stderr=errors_log)
    rows = {}
    with open(f"{prefix}_stats.csv", encoding="utf-8") as stats:
        for row in csv.DictReader(stats):
            rows[row["Name"]] = {
                "requests": int(row["Request Count"]), "failures": int(row["Failure Count"]),
                "p50_ms": float(row["50%"]), "p95_ms": float(row["95%"]), "p99_ms": float(row["99%"]),
                "max_ms": float(row["Max Response Time"]), "rps": float(row["Requests/s"]),
                "mean_ms": float(row["Average Response Time"])}
    db = json.loads(db_out.read_text()) if db_out.is_file() else {}
    for name, figures in db.items():
        if name in rows and figures["total_ms"]:
            rows[name]["db_share"] = figures["db_ms"] / figures["total_ms"]
            rows[name]["queries_per_request"] = figures["queries"] / figures["requests"]
    errors = []
    if Path(f"{prefix}_failures.csv").is_file():
        with open(f"{prefix}_failures.csv", encoding="utf-8") as f:
            errors = list(csv.DictReader(f))
    return {"pages": rows, "errors": errors, "users": users, "seconds": seconds}


def heaviest_queries(url: str, stats_dir: Path, top: int = 5) -> list[dict]:
    """Merge the workers' statement timings; EXPLAIN ANALYZE the `top` costliest SELECTs."""
    import psycopg

    merged: dict[str, dict] = {}
    for file in stats_dir.glob("queries-*.json"):
        for sql, s in json.loads(file.read_text()).items():
            m = merged.setdefault(sql, {"calls": 0, "total_s": 0.0, "max_s": 0.0, "params": None})
            m["calls"] += s["calls"]
            m["total_s"] += s["total_s"]
            if s["max_s"] >= m["max_s"]:
                m["max_s"], m["params"] = s["max_s"], s["params"]
    ranked = sorted(((sql, s) for sql, s in merged.items() if sql.lstrip().upper().startswith("SELECT")),
                    key=lambda item: -item[1]["total_s"])[:top]
    out = []
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
        for sql, s in ranked:
            entry = {"sql": " ".join(sql.split())[:600], "calls": s["calls"], "total_s": round(s["total_s"], 3),
                     "mean_ms": round(1000 * s["total_s"] / s["calls"], 3)}
            try:
                params = s["params"]
                if isinstance(params, list):
                    params = params[0] if params else None
                rows = conn.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params).fetchall()
                entry["plan"] = [r[0] for r in rows]
            except psycopg.Error as exc:  # a statement whose recorded parameters do not replay
                entry["plan"] = [f"(not replayed: {type(exc).__name__}: {exc})"[:300]]
            out.append(entry)
    return out


def prime_pages(app, tokens: list[str], log) -> None:
    """Keep each link's page as the app does when the link is made (wallet.views.public_shares.
    prerender): the generator writes its shares with COPY, past the app."""
    from wallet.views.public_shares import prerender

    started = time.perf_counter()
    with app.app_context():
        for token in tokens:
            prerender(token)
    log(f"region: {len(tokens)} links' pages kept in {time.perf_counter() - started:.0f} s")


def _setting(url: str, name: str) -> str:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(text(f"SHOW {name}")).scalar()
    finally:
        engine.dispose()


def run_load(url: str, scale: float, seed: int, seconds: int, users: int, web_workers: int, log) -> dict:
    from tests.fakes.redis_server import RedisServer
    from tests.fakes.server import FakeServer

    work = Path(tempfile.mkdtemp(prefix="wallet-region-load."))
    stats = work / "stats"
    results: dict = {"scale": scale, "web_workers": web_workers, "started": datetime.now(UTC).isoformat(),
                     "shared_buffers": _setting(url, "shared_buffers")}
    with RedisServer(work / "redis") as redis, FakeServer() as partner:
        env = _env(url, redis.url, work / "instance", stats, partner.authority)
        app = _bench_app(env)  # also creates the issuer key file before the workers start
        started = time.perf_counter()
        plan = make_plan(app, url, seed, partner, links=6000)
        prime_pages(app, plan["shares"], log)
        plan_file = work / "plan.json"
        plan_file.write_text(json.dumps(plan))
        log(f"region: plan ready in {time.perf_counter() - started:.0f} s: {len(plan['learners'])} learners, "
            f"{len(plan['claimers'])} claimers, {len(plan['importers'])} importers, {len(plan['shares'])} links, "
            f"heaviest wallet {plan['heavy_badges']} badges")
        server = Gunicorn(env, web_workers, work)
        try:
            log(f"region: warm-up 10 s on {server.base}")
            locust(server.base, plan_file, ["LearnerUser", "EmployerUser"], 4, 10, work, env)
            for stale in stats.glob("queries-*.json"):
                stale.unlink()
            log(f"region: mixed load, {users} users, {seconds} s")
            results["mixed"] = locust(server.base, plan_file, ["LearnerUser", "HeavyLearnerUser", "ClaimerUser",
                                                               "ImporterUser", "EmployerUser"], users, seconds, work, env)
            flood = max(10, seconds // 3)
            log(f"region: /healthz throughput, {flood} s")
            results["healthz"] = locust(server.base, plan_file, ["HealthzFlood"], 8, flood, work, env)
            log(f"region: public page throughput, {flood} s")
            results["public"] = locust(server.base, plan_file, ["PublicFlood"], 8, flood, work, env)
            log(f"region: public page throughput, pages not kept, {flood} s")
            results["public_unkept"] = locust(server.base, plan_file, ["PublicFloodUnkept"], 8, flood, work, env)
            log(f"region: one public link opened by a crowd, {flood} s")
            results["crowd"] = locust(server.base, plan_file, ["PublicCrowd"], 8, flood, work, env)
        finally:
            server.stop()
        results["claims_made"] = len(plan["claimers"])
        results["heavy_badges"] = plan["heavy_badges"]
        results["heaviest_queries"] = heaviest_queries(url, stats)
    results["work_dir"] = str(work)
    return results


def service_times(url: str, seed: int, log, per_page: int = 60) -> dict:
    """Each page's service time, one request at a time in this process (no network, no queue):
    what a page costs a core, which load on a shared machine cannot show. Medians and p95 in ms."""
    import statistics

    from tests.fakes.redis_server import RedisServer
    from tests.fakes.server import FakeServer

    work = Path(tempfile.mkdtemp(prefix="wallet-region-service."))
    with RedisServer(work / "redis") as redis, FakeServer() as partner:
        env = _env(url, redis.url, work / "instance", work / "stats", partner.authority)
        app = _bench_app(env)
        plan = make_plan(app, url, seed, partner, sample=per_page * 2, claimers=0, importers=0)
        prime_pages(app, plan["shares"][:per_page], log)
        client = app.test_client()
        pages = {
            "wallet /badges/": ("/badges/", plan["learners"]),
            "wallet /badges/ (500 badges)": ("/badges/", plan["heavy"]),
            "regional /badges-regionaux/": ("/badges-regionaux/", plan["learners"]),
            "regional /badges-regionaux/ (500 badges)": ("/badges-regionaux/", plan["heavy"]),
            "home /tableau-de-bord": ("/tableau-de-bord", plan["learners"]),
        }
        out: dict = {}
        for name, (path, people) in pages.items():
            times = []
            for i in range(per_page):
                person = people[i % len(people)]
                client.set_cookie(plan["cookie_name"], person["cookie"], domain="localhost")
                started, cpu = time.perf_counter(), time.process_time()
                response = client.get(path, headers={"User-Agent": UA, "X-Forwarded-For": person["ip"]},
                                      environ_base={"REMOTE_ADDR": person["ip"]})
                times.append((1000 * (time.perf_counter() - started), 1000 * (time.process_time() - cpu)))
                assert response.status_code == 200, (name, response.status_code)
            out[name] = times
        client.delete_cookie(plan["cookie_name"], domain="localhost")
        for name, tokens, path_of in (
                ("public /p/<token> (first view, page kept)", plan["shares"], lambda t: f"/p/{t}"),
                ("public /p/<token> (first view, page rendered)", plan["unkept"], lambda t: f"/p/{t}"),
                ("healthz", plan["shares"], lambda t: "/healthz")):
            times = []
            for token in tokens[:per_page]:
                started, cpu = time.perf_counter(), time.process_time()
                response = client.get(path_of(token), environ_base={"REMOTE_ADDR": "203.0.113.9"})
                times.append((1000 * (time.perf_counter() - started), 1000 * (time.process_time() - cpu)))
                assert response.status_code == 200, (name, response.status_code)
            out[name] = times
    # Wall time includes waiting for a core on a shared machine; the app's CPU time does not (the
    # database server's own CPU is in the wall time only).
    result = {}
    for name, pairs in out.items():
        wall, cpu = [w for w, _c in pairs], [c for _w, c in pairs]
        result[name] = {"median_ms": round(statistics.median(wall), 2),
                        "p95_ms": round(sorted(wall)[int(0.95 * (len(wall) - 1))], 2),
                        "cpu_median_ms": round(statistics.median(cpu), 2), "n": len(wall),
                        "per_core_per_s": round(1000 / max(0.01, statistics.median(cpu)))}
    for name, row in result.items():
        log(f"region: service time {name}: median {row['median_ms']} ms (app CPU {row['cpu_median_ms']} ms), "
            f"p95 {row['p95_ms']} ms")
    return result
