"""Bench cases of the issues "The learner's wallet", "Regional referential and eligibility" and
"One-click claim" (no reference tool: targets are absolute).

Everything runs in-process against the real app (SQLite in a temporary instance folder) and real
loopback servers for the partner badge hosts.
"""

from __future__ import annotations

import io
import json
import os
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from .registry import Cell, Row, below, case

BASE = "http://127.0.0.1:5000"
LEVEL = BASE + "/referentials/normandie/competences/communiquer/niveau-1"


class _App:
    """A throwaway app with a referential that trusts one loopback partner."""

    def __init__(self, host) -> None:
        from wallet import create_app
        from wallet.db import Base, engine
        from wallet.eligibility import default_referential_path

        self.tmp = tempfile.TemporaryDirectory(prefix="wallet-bench-")
        folder = Path(self.tmp.name)
        text = default_referential_path().read_text(encoding="utf-8")
        text += f'\n[[partners]]\nkey = "bench-partner"\nname = "Bench"\nissuer_ids = ["{host.url("/issuer")}"]\n'
        (folder / "ref.toml").write_text(text, encoding="utf-8")
        os.environ["WALLET_INSTANCE_PATH"] = str(folder / "instance")
        self.app = create_app({
            "TESTING": True, "SECRET_KEY": "bench-" + "x" * 40, "DATABASE_URL": f"sqlite:///{folder / 'w.db'}",
            "MAIL_BACKEND": "memory", "FETCH_ALLOW": host.authority, "REFERENTIAL": str(folder / "ref.toml"),
            "RATELIMIT_ENABLED": False, "CLAIM_FIRST_ATTEMPT": "inline", "WTF_CSRF_ENABLED": False})
        with self.app.app_context():
            Base.metadata.create_all(engine())

    def user(self, email: str):
        from wallet.db import new_session
        from wallet.services import accounts

        session = new_session(self.app)
        user = accounts.create_demo_learner(session, email, "bench password long enough", "Bench Learner")
        session.close()
        return user

    def close(self) -> None:
        self.tmp.cleanup()


def _png() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (64, 64), (10, 90, 160)).save(out, format="PNG")
    return out.getvalue()


def _hosted(host, number: int, email: str) -> str:
    from tests.fakes.badges import BadgeFactory

    factory = BadgeFactory(host, now=datetime.now(UTC))
    issuer = factory.ob2_issuer()
    badge = factory.ob2_badgeclass(issuer["id"], path=f"/badges/{number}", name=f"Badge {number}",
                                   alignment=[{"targetName": "Communiquer", "targetUrl": LEVEL}])
    path = f"/assertions/{number}"
    assertion = factory.ob2_assertion(host.url(path), badge["id"], {"type": "HostedBadge"},
                                      recipient=factory.recipient(email))
    host.json(path, assertion)
    return json.dumps(assertion)


@case("wallet-import-50", "import 50 baked badges (hosted on loopback) in one batch")
def import_fifty(bench):
    from tests.fakes.server import FakeServer
    from wallet.db import new_session
    from wallet.models import User
    from wallet.openbadges import bake
    from wallet.openbadges.fetching import MemoFetcher
    from wallet.services import badges

    with FakeServer() as host:
        env = _App(host)
        try:
            env.user("ana@example.org")
            image = _png()
            files = [bake(image, _hosted(host, n, "ana@example.org")) for n in range(50)]
            host.hits.clear()
            with env.app.test_request_context():
                session = new_session(env.app)
                user = session.get(User, 1)
                http = env.app.extensions["wallet_http"]
                fetch = MemoFetcher(http.fetch)
                per_badge = []
                started = time.perf_counter()
                for n, data in enumerate(files):
                    t = time.perf_counter()
                    item = badges._import_one(session, user, data, f"{n}.png", "upload", http, fetch, None,
                                              original_file=data)
                    per_badge.append(time.perf_counter() - t)
                    assert item.outcome == "imported", item
                total = time.perf_counter() - started
                session.close()
            issuer_hits = host.hits["/issuer"]
        finally:
            env.close()
    return [
        Row("import 50 badges, total", Cell.seconds(total), Cell.none(), "printed", notes=()),
        Row("import 50 badges, per-badge median", Cell.seconds(statistics.median(per_badge)), Cell.none(),
            "printed"),
        Row("  issuer documents fetched in the batch", Cell(issuer_hits, "count"), Cell.none(), "1",
            judge=lambda ours, ref: ours.value == 1),
    ]


@case("wallet-page-200", "wallet page with 200 badges: server render and page weight")
def wallet_page(bench):
    from tests.fakes.server import FakeServer
    from wallet.db import new_session
    from wallet.models import Badge

    with FakeServer() as host:
        env = _App(host)
        try:
            user = env.user("ana@example.org")
            verdict = json.dumps({"status": "valid", "id": "x", "badge": {"id": "b", "alignments": []},
                                  "issuer": {"id": host.url("/issuer")}, "recipient": {"matched": True},
                                  "checks": []})
            session = new_session(env.app)
            for n in range(200):
                session.add(Badge(owner_id=user.id, credential_key=f"k{n}", credential_id=f"urn:x:{n}",
                                  source="upload", payload="{}", payload_format="json", version="2.0",
                                  name=f"Badge partenaire numéro {n}", issuer_name="Organisme de formation",
                                  issuer_id=host.url("/issuer"), status="valid", matched=True, verdict=verdict,
                                  issued_on=datetime.now(UTC) - timedelta(days=n)))
            session.commit()
            session.close()
            client = env.app.test_client()
            client.post("/connexion", data={"email": "ana@example.org", "password": "bench password long enough"})
            runs = bench.reps(41, 11)
            times = []
            for _ in range(runs):
                t = time.perf_counter()
                response = client.get("/badges/")
                times.append(time.perf_counter() - t)
                assert response.status_code == 200
            html = len(response.data)
            css = len(client.get("/static/wallet.css").data)
        finally:
            env.close()
    weight = (html + css) / 1024
    return [
        Row("wallet page, 200 badges: render (SQLite)", Cell.seconds(statistics.median(times), f"n={runs}"),
            Cell.none(), "< 50 ms", judge=below(0.050)),
        Row("  HTML + CSS of that page", Cell(weight, "KiB"), Cell.none(), "< 60 KiB",
            judge=lambda ours, ref: ours.value < 60),
    ]


@case("eligibility-1000", "evaluate the nine regional rules over 1 000 credentials")
def eligibility(bench):
    from wallet.eligibility import default_referential_path, evaluate, load_referential

    referential = load_referential(default_referential_path(), base_url=BASE)
    partners = [p for p in referential.partners]
    credentials = []
    for n in range(1000):
        partner = partners[n % len(partners)]
        entry = partner.catalogue[n % len(partner.catalogue)] if partner.catalogue else None
        credentials.append({
            "status": "valid" if n % 7 else "expired", "id": f"urn:uuid:{n}",
            "badge": {"id": entry.id if entry and n % 3 else f"{BASE}/other/{n}", "alignments": [], "tags": []},
            "issuer": {"id": partner.issuer_ids[0] if n % 5 else "https://unknown.example"},
            "expires": None, "recipient": {"matched": n % 11 != 0}})
    now = datetime.now(UTC)
    runs = bench.reps(201, 31)
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        evaluate(referential, credentials, now)
        times.append(time.perf_counter() - t)
    return [Row("eligibility: 9 rules × 1 000 credentials", Cell.seconds(statistics.median(times), f"n={runs}"),
                Cell.none(), "< 5 ms", judge=below(0.005))]


@case("claim-tap-to-issued", "claim: tap to issued badge in the wallet (builtin + auto)")
def claim(bench):
    from tests.fakes.server import FakeServer
    from wallet.models import Claim

    with FakeServer() as host:
        env = _App(host)
        try:
            runs = bench.reps(9, 3)
            times = []
            for n in range(runs):
                email = f"learner{n}@example.org"
                env.user(email)
                client = env.app.test_client()
                client.post("/connexion", data={"email": email, "password": "bench password long enough"})
                for k in range(2):
                    client.post("/badges/importer", data={"text": _hosted(host, 1000 + n * 10 + k, email)})
                t = time.perf_counter()
                response = client.post("/demandes/nouvelle/communiquer-1", data={"recipient": email})
                times.append(time.perf_counter() - t)
                assert response.status_code == 303, response.status_code
            from sqlalchemy import select

            from wallet.db import new_session

            session = new_session(env.app)
            statuses = [c.status for c in session.scalars(select(Claim))]
            session.close()
            assert statuses == ["issued"] * runs, statuses
        finally:
            env.close()
    return [Row("claim: tap → issued badge in the wallet", Cell.seconds(statistics.median(times), f"n={runs}"),
                Cell.none(), "< 300 ms", judge=below(0.300))]
