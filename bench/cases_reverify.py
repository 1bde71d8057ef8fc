"""Bench case of issue 17 item 3: the worker at region scale.

Five `wallet worker --reverify-only`-like processes (services/reverification.py: leases with
FOR UPDATE SKIP LOCKED, one HttpCache each) re-verify a set of stale badges on a throwaway
PostgreSQL cluster (scripts/pg_cluster.sh; SQLite and ONE worker when no cluster can be started),
against ten loopback partner servers in a process of their own. Every partner has an issuer, three
badge classes, a signing key and a revocation list (ETag, answered 304 when unchanged) and hosts
its badges: OB 2.0 hosted assertions (no cache headers, as Moodle serves them), OB 2.0 signed
badges, and OB 3.0 eddsa-rdfc-2022 credentials (did:key) with a bitstring status list (ETag).
Two passes over the same badges with the same worker processes: cold (empty caches) and warm.
Reported: verifications per second (wall time of a pass) and the partners' requests per badge.

    python -m bench.cases_reverify run [BADGES]     (one run; prints one JSON line)
"""

from __future__ import annotations

import json
import multiprocessing
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

from .registry import Cell, Row, at_most, case

REPO_ROOT = Path(__file__).resolve().parents[1]
PARTNERS = 10
WORKERS = 5
MIX = {"ob2-hosted": 0.7, "ob2-signed": 0.2, "ob3-di": 0.1}


def at_least(limit: float):
    def judge(ours: Cell, ref: Cell) -> bool | None:
        return ours.value >= limit if ours.ok else None

    return judge


# --- the harness side ------------------------------------------------------------------------

@case("reverify-5-workers", "re-verify stale badges with 5 workers (PostgreSQL), cold and warm caches")
def reverify_workers(bench):
    count = 200 if bench.quick else 600
    done = subprocess.run([sys.executable, "-m", "bench.cases_reverify", "run", str(count)], cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=600, check=False)
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        why = (done.stderr or done.stdout).strip()[-300:]
        yield Row("re-verification with workers", Cell.failed(why), Cell.none(), "—")
        return
    answer = json.loads(lines[-1])
    where = f"{answer['workers']} worker(s) on {answer['database']}"
    mix = ", ".join(f"{n} {kind}" for kind, n in answer["mix"].items())
    cold, warm = answer["cold"], answer["warm"]
    caches = answer["workers"]
    notes = (
        (f"{answer['badges']} badges ({mix}) of {PARTNERS} partners; {where}; after both passes: "
         f"{answer['statuses']}; politeness {answer['min_interval_ms']} ms per host and process"),
        (f"cold pass: {cold['requests']} partner requests ({cold['not_modified']} answered 304) for {cold['verified']} "
         f"badges in {cold['seconds']:.2f} s, of which {cold['shared_requests']} fill the caches with issuers, "
         f"badge classes and keys ({caches} process cache(s) × {PARTNERS} partners × 5 documents): a one-off "
         "per cache, renewed every WALLET_HTTP_CACHE_MIN_TTL"),
        (f"warm pass: {warm['requests']} requests ({warm['not_modified']} answered 304) in {warm['seconds']:.2f} s: "
         "one per badge (hosted: its assertion; signed OB 2.0: the revocation list; OB 3.0: the status list)"),
    )
    for label, run, judge, target in (("cold", cold, None, "— (fills the caches)"),
                                      ("warm", warm, at_most(1.2), "≤ 1.2")):
        yield Row(f"re-verification, {where}, {label}", Cell(round(run["verified"] / run["seconds"], 1), "verif/s"),
                  Cell.none(), "≥ 3.3 verif/s", at_least(3.3), notes if label == "cold" else ())
        yield Row(f"  partner requests per re-verified badge, {label}",
                  Cell(round(run["requests"] / run["verified"], 3), "count"), Cell.none(), target,
                  judge or (lambda ours, ref: None))


# --- the partners' process ---------------------------------------------------------------------

def _conditional(server, path: str, body: bytes, content_type: str, counter: dict) -> None:
    from werkzeug.wrappers import Response

    etag = f'"{uuid.uuid4().hex[:12]}"'

    def answer(request):
        if request.headers.get("If-None-Match") == etag:
            counter["not_modified"] += 1
            return Response(b"", status=304, headers={"ETag": etag})
        return Response(body, status=200, content_type=content_type, headers={"ETag": etag})

    server.handler(path, answer)


def _partners(badges: int, pipe) -> None:
    """Serve PARTNERS partners; send the badges to store; answer 'count' until 'stop'."""
    sys.path.insert(0, str(REPO_ROOT))
    import logging

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    from tests.fakes.badges import OB2, BadgeFactory, public_pem, rsa_key
    from tests.fakes.server import FakeServer
    from wallet.models import utcnow
    from wallet.openbadges.proofs import sign_jws

    counter = {"not_modified": 0}
    servers = [FakeServer().start() for _ in range(PARTNERS)]
    factories = [BadgeFactory(server, now=utcnow()) for server in servers]
    key = rsa_key()
    status: dict[str, dict] = {}  # the status list entry of each partner's credentials
    for factory, server in zip(factories, servers, strict=True):
        issuer = factory.ob2_issuer(publicKey=[factory.url("/keys/1")], revocationList=factory.url("/revocations"))
        for k in range(3):
            factory.ob2_badgeclass(issuer["id"], path=f"/badges/{k}")
        server.json("/keys/1", {"@context": OB2, "type": "CryptographicKey", "id": factory.url("/keys/1"),
                                "owner": issuer["id"], "publicKeyPem": public_pem(key)})
        revocations = {"@context": OB2, "type": "RevocationList", "id": factory.url("/revocations"),
                       "issuer": issuer["id"], "revokedAssertions": []}
        _conditional(server, "/revocations", json.dumps(revocations).encode(), "application/ld+json", counter)
        status[server.authority] = factory.bitstring_list(set(), index=7)
        signed_list = server.routes["/status/bits"](None).get_data()  # what bitstring_list serves
        _conditional(server, "/status/bits", signed_list, "application/vc+ld+json", counter)
    stored = []
    kinds = [kind for kind, share in MIX.items() for _ in range(round(badges * share))][:badges]
    for n, kind in enumerate(kinds):
        factory = factories[n % PARTNERS]
        email = f"learner{n}@example.org"
        badge_class = factory.url(f"/badges/{n % 3}")
        if kind == "ob2-hosted":
            url = factory.url(f"/assertions/{n}")
            factory.server.json(f"/assertions/{n}", factory.ob2_assertion(
                url, badge_class, {"type": "HostedBadge"}, recipient=factory.recipient(email)))
            stored.append((kind, email, url, "url"))
        elif kind == "ob2-signed":
            assertion = factory.ob2_assertion(f"urn:uuid:{uuid.uuid4()}", badge_class,
                                              {"type": "SignedBadge", "creator": factory.url("/keys/1")},
                                              recipient=factory.recipient(email))
            stored.append((kind, email, sign_jws(assertion, key, "RS256"), "jws"))
        else:
            credential = factory.ob3_di(id=f"urn:uuid:{uuid.uuid4()}", email=email,
                                        status=status[factory.server.authority]).credential
            stored.append((kind, email, json.dumps(credential, ensure_ascii=False), "json"))
    pipe.send({"allow": ",".join(s.authority for s in servers), "badges": stored})
    while True:
        command = pipe.recv()
        pipe.send({"requests": sum(len(s.requests) for s in servers), "not_modified": counter["not_modified"],
                   "shared": sum(1 for s in servers for seen in s.requests
                                 if seen.path in ("/issuer", "/keys/1") or seen.path.startswith("/badges/"))})
        if command == "stop":
            break
    for server in servers:
        server.stop()


# --- the workers -------------------------------------------------------------------------------

def _config(database_url: str, allow: str) -> dict:
    return {"TESTING": True, "SECRET_KEY": "bench-" + "x" * 32, "MAIL_BACKEND": "memory",
            "DATABASE_URL": database_url, "FETCH_ALLOW": allow, "RATELIMIT_STORAGE_URI": "memory://"}


def _worker(index: int, database_url: str, allow: str, instance: str, barrier, results, passes: int) -> None:
    sys.path.insert(0, str(REPO_ROOT))
    import logging

    logging.disable(logging.WARNING)
    os.environ["WALLET_INSTANCE_PATH"] = instance
    from wallet import create_app
    from wallet.models import Badge
    from wallet.services import reverification

    app = create_app(_config(database_url, allow))
    for _ in range(passes):
        barrier.wait()
        done = reverification.reverify_leased(app, lambda: reverification.stale(7), Badge.checked_at,
                                              limit=10**9)
        results.put({"worker": index, "verified": done.reverified})
        barrier.wait()


def _start_cluster(directory: Path) -> str | None:
    script = REPO_ROOT / "scripts" / "pg_cluster.sh"
    try:
        done = subprocess.run([str(script), "start", str(directory)], capture_output=True, text=True,
                              timeout=180, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip().splitlines()[-1] if done.returncode == 0 and done.stdout.strip() else None


def run(badges: int) -> dict:
    context = multiprocessing.get_context("spawn")
    ours, theirs = context.Pipe()
    partners = context.Process(target=_partners, args=(badges, theirs), daemon=True)
    partners.start()
    tmp = Path(tempfile.mkdtemp(prefix="bench-reverify-"))
    tmp.chmod(0o755)  # the cluster runs as the OS user postgres when we are root (scripts/pg_cluster.sh)
    cluster = tmp / "pg"
    database_url = _start_cluster(cluster)
    try:
        served = ours.recv()
        database = "PostgreSQL"
        if database_url is None:
            database_url, database = f"sqlite:///{tmp / 'wallet.db'}", "SQLite"
        else:
            version = subprocess.run(["psql", "--version"], capture_output=True, text=True, check=False)
            database += " " + (version.stdout.split()[-1].split(".")[0] if version.returncode == 0 else "")
        workers = WORKERS if database.startswith("PostgreSQL") else 1
        os.environ["WALLET_INSTANCE_PATH"] = str(tmp / "instance")
        from sqlalchemy import func, select, update

        from wallet import create_app
        from wallet.db import Base, engine, new_session
        from wallet.models import Badge, Email, User, utcnow

        app = create_app(_config(database_url, served["allow"]))
        with app.app_context():
            Base.metadata.create_all(engine())
        old = utcnow() - timedelta(days=30)
        with new_session(app) as session:
            for n, (kind, email, payload, fmt) in enumerate(served["badges"]):
                user = User(display_name=f"Learner {n}", password_hash="x")
                user.emails.append(Email(address=email, normalized=email, is_primary=True, verified_at=old))
                session.add(user)
                session.flush()
                session.add(Badge(owner_id=user.id, credential_key=f"bench:{n}", source="partner",
                                  payload=payload, payload_format=fmt, version="3.0" if kind == "ob3-di" else "2.0",
                                  status="valid", verdict="{}", checked_at=old))
            session.commit()
        barrier = context.Barrier(workers + 1)
        results = context.Queue()
        processes = [context.Process(target=_worker, args=(i, database_url, served["allow"],
                                                           str(tmp / f"instance-{i}"), barrier, results, 2),
                                     daemon=True) for i in range(workers)]
        for process in processes:
            process.start()
        passes = {}
        for label in ("cold", "warm"):
            ours.send("count")
            before = ours.recv()
            barrier.wait()
            start = time.perf_counter()
            barrier.wait()
            seconds = time.perf_counter() - start
            verified = sum(results.get(timeout=60)["verified"] for _ in range(workers))
            ours.send("count")
            after = ours.recv()
            passes[label] = {"seconds": seconds, "verified": verified,
                             "requests": after["requests"] - before["requests"],
                             "not_modified": after["not_modified"] - before["not_modified"],
                             "shared_requests": after["shared"] - before["shared"]}
            with new_session(app) as session:
                session.execute(update(Badge).values(checked_at=old))
                session.commit()
        for process in processes:
            process.join(timeout=30)
        with new_session(app) as session:
            counted = dict(session.execute(select(Badge.status, func.count()).group_by(Badge.status)).all())
        engine(app).dispose()
        ours.send("stop")
        ours.recv()
    finally:
        partners.join(timeout=10)
        if partners.is_alive():
            partners.terminate()
        if database_url and database_url.startswith("postgresql"):
            subprocess.run([str(REPO_ROOT / "scripts" / "pg_cluster.sh"), "stop", str(cluster)],
                           capture_output=True, check=False, timeout=60)
        shutil.rmtree(tmp, ignore_errors=True)
    mix: dict[str, int] = {}
    for kind, *_rest in served["badges"]:
        mix[kind] = mix.get(kind, 0) + 1
    return {"badges": len(served["badges"]), "mix": mix, "workers": workers, "database": database.strip(),
            "statuses": ", ".join(f"{n} {status}" for status, n in sorted(counted.items())),
            "min_interval_ms": app.config["PARTNER_MIN_INTERVAL_MS"], **passes}


if __name__ == "__main__":
    if len(sys.argv) >= 2 and sys.argv[1] == "run":
        sys.path.insert(0, str(REPO_ROOT))
        print(json.dumps(run(int(sys.argv[2]) if len(sys.argv) > 2 else 600)))
    else:
        print("usage: python -m bench.cases_reverify run [BADGES]", file=sys.stderr)
        sys.exit(2)
