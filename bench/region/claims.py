"""Claims under load (issue 17, item 4): N claims delivered by W workers to a flaky remote issuer.

The issuer (tests/fakes/flaky_issuer.py, Badgr's API on 127.0.0.1) answers 500s, 429s with
Retry-After, and times out AFTER creating the award; it never de-duplicates. The workers are the
app's own `deliver_due` (wallet/services/claims/delivery.py) in W threads, each with its own database
session: leases with SKIP LOCKED on PostgreSQL, the conditional UPDATE everywhere. Backoff and
Retry-After are honoured on a simulated clock (`now`), which moves forward only while no row is
leased, so no run waits minutes and no lease expires under a delivery in flight.

    python -m bench.region claims --url … --claims 1000 --workers 5

Pass: exactly N awards at the issuer, one per claim (recipient and badge class), and N claims
`issued` in the wallet, each with its badge imported and verified.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections import Counter
from datetime import UTC, datetime

from sqlalchemy import func, select, update


def issuer_config(app_config: dict, fake, keys: list[str]) -> dict:
    """Point the app at the flaky Badgr, one badge class per regional badge key."""
    mapping = ",".join(f"{key}={fake.badges[i % len(fake.badges)]}" for i, key in enumerate(keys))
    app_config.update(ISSUER="badgr", ISSUER_BADGR_BASE_URL=fake.base_url, ISSUER_BADGR_TOKEN=fake.token,
                      ISSUER_BADGR_BADGECLASSES=mapping, CLAIM_FIRST_ATTEMPT="worker")
    allow = [a for a in str(app_config.get("FETCH_ALLOW") or "").split(",") if a]
    app_config["FETCH_ALLOW"] = ",".join([*allow, fake.authority])
    return app_config


def short_timeouts(app) -> None:
    """A stalled issuer answer ends the client's wait after 0.5 s (as in tests/service)."""
    from wallet.http import SafeHttp

    app.extensions["wallet_http"] = SafeHttp.from_config(app.config, read_timeout=0.5, deadline=1.5)
    app.extensions.pop("wallet_issuer_backend", None)


def queue_claims(app, pairs: list[tuple[int, str]], now: datetime) -> list[int]:
    """Claims as submit_claim writes them (claim, evidence share, outbox row), for (user id, key)."""
    from wallet.db import new_session
    from wallet.models import Claim, Outbox, Share, User
    from wallet.services import referentials

    ids = []
    with app.app_context():
        session = new_session(app)
        referential = referentials.current(session, app)
        for user_id, key in pairs:
            user = session.get(User, user_id)
            badge = next(b for b in referential.badges if b.key == key)
            share = Share(owner_id=user_id, kind="evidence", label=badge.name.get("fr"),
                          token_hash=hashlib.sha256(f"claims-bench:{user_id}:{key}".encode()).hexdigest())
            session.add(share)
            session.flush()
            claim = Claim(user_id=user_id, regional_badge_id=badge.id, regional_badge_key=key, status="pending",
                          active=True, idempotency_key=hashlib.sha256(f"{user_id}:{key}".encode()).hexdigest()[:32],
                          recipient_email=user.confirmed_addresses[0], issuer_backend="badgr",
                          evidence_share_id=share.id, evidence=json.dumps({"page": "", "badges": []}),
                          history=json.dumps([{"at": now.isoformat(), "status": "pending", "note": ""}]),
                          created_at=now, updated_at=now)
            session.add(claim)
            session.flush()
            session.add(Outbox(claim_id=claim.id, next_at=now, created_at=now))
            ids.append(claim.id)
        session.commit()
        session.close()
    return ids


class Clock:
    def __init__(self, start: datetime) -> None:
        self.now = start
        self.lock = threading.Lock()


def deliver_with_workers(app, claim_ids: list[int], workers: int, start: datetime,
                         budget_seconds: float = 600) -> dict:
    """Run `workers` threads of deliver_due until every claim is issued or dead (bounded in time)."""
    from wallet.db import new_session
    from wallet.models import Outbox
    from wallet.services.claims.delivery import deliver_due

    clock = Clock(start)
    deadline = time.monotonic() + budget_seconds
    ids = set(claim_ids)
    passes = Counter()
    errors: list[str] = []

    def open_rows(session) -> tuple[int, int, datetime | None]:
        pending = [row for row in session.scalars(select(Outbox).where(Outbox.claim_id.in_(ids),
                                                                       Outbox.state == "pending"))]
        leased = sum(1 for r in pending if r.locked_until is not None and r.locked_until > clock.now)
        due = min((r.next_at for r in pending if not (r.locked_until and r.locked_until > clock.now)), default=None)
        return len(pending), leased, due

    def worker(number: int) -> None:
        try:
            while time.monotonic() < deadline and not errors:
                with clock.lock:
                    moment = clock.now
                report = deliver_due(app, now=moment, limit=10)
                passes[number] += 1
                if report.delivered or report.retried or report.refused:
                    continue
                with app.app_context():
                    session = new_session(app)
                    try:
                        with clock.lock:
                            pending, leased, due = open_rows(session)
                            if pending == 0:
                                return
                            if leased == 0 and due is not None and due > clock.now:
                                clock.now = due  # nothing in flight: jump to the next due row
                    finally:
                        session.close()
                time.sleep(0.01)
        except Exception as exc:  # noqa: BLE001 - reported, and the run fails on it
            errors.append(f"worker {number}: {type(exc).__name__}: {exc}")

    started = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(n,), daemon=True) for n in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(max(1.0, deadline - time.monotonic()))
    elapsed = time.perf_counter() - started
    return {"seconds": elapsed, "simulated": str(clock.now - start), "passes": dict(passes), "errors": errors}


def outcome(app, claim_ids: list[int], fake) -> dict:
    from wallet.db import new_session
    from wallet.models import Badge, Claim, Outbox

    with app.app_context():
        session = new_session(app)
        claims = list(session.scalars(select(Claim).where(Claim.id.in_(claim_ids))))
        states = Counter(c.status for c in claims)
        imported = session.scalar(select(func.count(Badge.id)).where(
            Badge.id.in_([c.issued_badge_id for c in claims if c.issued_badge_id]), Badge.status == "valid"))
        attempts = Counter(row.attempts for row in session.scalars(select(Outbox).where(Outbox.claim_id.in_(claim_ids))))
        dead = session.scalar(select(func.count(Outbox.id)).where(Outbox.claim_id.in_(claim_ids),
                                                                  Outbox.state == "dead"))
        session.close()
    awards = fake.awards_per_recipient()
    return {"claims": len(claim_ids), "issued": states.get("issued", 0), "states": dict(states),
            "imported_valid": imported, "awards": sum(awards.values()), "recipients_awarded": len(awards),
            "awarded_twice": sum(1 for n in awards.values() if n > 1), "dead": dead,
            "issuer_answers": dict(fake.fates), "lookups": fake.lookups,
            "attempts_histogram": {str(k): v for k, v in sorted(attempts.items())}}


def run_claims(url: str, count: int, workers: int, log, seed: int = 17) -> dict:
    """On the region database: `count` learners claim a regional badge they have no claim for."""
    import os
    import tempfile
    from pathlib import Path

    from sqlalchemy import create_engine, text

    from tests.fakes.flaky_issuer import FlakyBadgr
    from wallet import create_app

    from .generate import BASE_URL

    engine = create_engine(url)
    with engine.connect() as conn:
        taken = {(u, k) for u, k in conn.execute(text("SELECT user_id, regional_badge_key FROM claims WHERE active"))}
        users = [r[0] for r in conn.execute(text("SELECT id FROM users ORDER BY id"))]
    engine.dispose()
    from .generate import TECHNICAL_SKILLS

    keys = [f"{s[0]}-1" for s in TECHNICAL_SKILLS] + [f"{s[0]}-2" for s in TECHNICAL_SKILLS]
    import random

    rng = random.Random(f"{seed}:claims-bench")
    pairs: list[tuple[int, str]] = []
    for user in rng.sample(users, k=min(len(users), count * 2)):
        key = keys[rng.randrange(len(keys))]
        if (user, key) not in taken and len(pairs) < count:
            pairs.append((user, key))
    with FlakyBadgr(badgeclasses=tuple(f"BC{i:02d}" for i in range(len(keys))), seed=seed) as fake:
        folder = Path(tempfile.mkdtemp(prefix="wallet-region-claims."))
        os.environ["WALLET_INSTANCE_PATH"] = str(folder / "instance")
        config = issuer_config({"DATABASE_URL": url, "SECRET_KEY": "claims-bench-" + "x" * 40, "BASE_URL": BASE_URL,
                                "MAIL_BACKEND": "memory", "RATELIMIT_STORAGE_URI": "memory://"}, fake, keys)
        app = create_app(config)
        short_timeouts(app)
        start = datetime.now(UTC)
        claim_ids = queue_claims(app, pairs, start)
        log(f"region: {len(claim_ids)} claims queued; {workers} workers deliver them to a flaky issuer")
        run = deliver_with_workers(app, claim_ids, workers, start)
        result = {**run, **outcome(app, claim_ids, fake), "workers": workers}
        with app.app_context():  # leave the region as it was: the bench's claims go
            from wallet.db import new_session
            from wallet.models import Badge, Claim, Share

            session = new_session(app)
            issued = [b for (b,) in session.execute(select(Claim.issued_badge_id).where(Claim.id.in_(claim_ids)))]
            shares = [s for (s,) in session.execute(select(Claim.evidence_share_id).where(Claim.id.in_(claim_ids)))]
            session.execute(update(Claim).where(Claim.id.in_(claim_ids)).values(issued_badge_id=None))
            session.execute(Claim.__table__.delete().where(Claim.id.in_(claim_ids)))
            session.execute(Badge.__table__.delete().where(Badge.id.in_([b for b in issued if b])))
            session.execute(Share.__table__.delete().where(Share.id.in_([s for s in shares if s])))
            session.commit()
            session.close()
    log(f"region: claims: {result['issued']} issued of {result['claims']}, {result['awards']} awards, "
        f"{result['awarded_twice']} twice, in {result['seconds']:.1f} s")
    return result

