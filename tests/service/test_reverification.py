"""Re-verification at region scale (issue 17 item 3): leases shared by several workers, and one
HTTP cache per worker process so that a partner's issuer and badge class are fetched once for all
its learners. Partners are real loopback servers counting requests."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from tests.conftest import run_at_once
from tests.fakes.badges import BadgeFactory
from tests.service.connections_helpers import make_learner
from wallet.db import new_session
from wallet.models import Badge, utcnow
from wallet.services import badges, reverification

BOB = "bob@example.org"


@pytest.fixture
def app_config(app_config, host):
    app_config["FETCH_ALLOW"] = host.authority
    app_config["PARTNER_MIN_INTERVAL_MS"] = 0  # pacing has its own tests (tests/unit/test_http_cache.py)
    return app_config


def import_url(app, user, url: str) -> int:
    with app.test_request_context(), new_session(app) as session:
        item = badges.import_text(session, user, url, app.extensions["wallet_http"], source="partner")
        assert item.outcome == "imported", item
        return item.badge_id


def age_all(app, days: int = 8) -> None:
    with new_session(app) as session:
        session.execute(update(Badge).values(checked_at=utcnow() - timedelta(days=days)))
        session.commit()


def hosted_badges(app, factory: BadgeFactory, host, learners: int) -> list[int]:
    """One hosted OB 2.0 badge per learner, all of one badge class of one issuer."""
    first = factory.ob2_hosted("/assertions/0")
    ids = [import_url(app, make_learner(app), first.url)]
    for n in range(1, learners):
        email = f"learner{n}@example.org"
        url = factory.url(f"/assertions/{n}")
        host.json(f"/assertions/{n}", factory.ob2_assertion(url, first.badge["id"], {"type": "HostedBadge"},
                                                             recipient=factory.recipient(email)))
        ids.append(import_url(app, make_learner(app, email=email), url))
    return ids


def statuses(app) -> list[str]:
    with new_session(app) as session:
        return list(session.scalars(select(Badge.status).order_by(Badge.id)))


# --- the shared cache -------------------------------------------------------------------------------

def test_a_second_learners_badge_from_the_same_issuer_costs_only_its_assertion(app, host):
    factory = BadgeFactory(host, now=utcnow())
    hosted_badges(app, factory, host, learners=2)
    age_all(app)
    host.hits.clear()
    done = reverification.reverify_stale(app)
    assert done.reverified == 2 and statuses(app) == ["valid", "valid"]
    assert host.hits == {"/assertions/0": 1, "/assertions/1": 1, "/badges/1": 1, "/issuer": 1}

    # A week later, within the cache's minimum TTL: one request per badge, its assertion.
    age_all(app)
    host.hits.clear()
    assert reverification.reverify_stale(app).reverified == 2
    assert host.hits == {"/assertions/0": 1, "/assertions/1": 1}


def test_a_revocation_is_seen_by_the_next_reverification_despite_the_cache(app, host):
    factory = BadgeFactory(host, now=utcnow())
    hosted_badges(app, factory, host, learners=2)
    age_all(app)
    reverification.reverify_stale(app)
    host.route("/assertions/1", b"", status=410)
    age_all(app)
    reverification.reverify_stale(app)
    assert statuses(app) == ["valid", "revoked"]


def test_the_cache_is_one_per_worker_process(app):
    assert reverification.shared_fetch(app) is reverification.shared_fetch(app)
    cache = reverification.shared_fetch(app)
    assert cache.min_ttl == app.config["HTTP_CACHE_MIN_TTL"] == 6 * 3600
    assert cache.pacer.min_interval == 0


def test_wallet_worker_reverify_only(app, host):
    factory = BadgeFactory(host, now=utcnow())
    hosted_badges(app, factory, host, learners=3)
    age_all(app)
    result = app.test_cli_runner().invoke(args=["worker", "--once", "--reverify-only"])
    assert result.exit_code == 0, result.output
    assert "re-verified 3 badge(s)" in result.output
    with new_session(app) as session:
        assert session.scalar(select(Badge.id).where(Badge.reverify_lease_until.is_not(None))) is None


# --- leases -----------------------------------------------------------------------------------------

def _stale_ids(app, count: int) -> list[int]:
    """`count` badges stored directly, stale (no network: leases only)."""
    user = make_learner(app)
    old = utcnow() - timedelta(days=30)
    with new_session(app) as session:
        rows = [Badge(owner_id=user.id, credential_key=f"urn:test:{n}", source="paste", payload="{}",
                      payload_format="json", version="2.0", status="valid", verdict="{}", checked_at=old)
                for n in range(count)]
        session.add_all(rows)
        session.commit()
        return [row.id for row in rows]


def lease_stale(app, limit: int, now=None) -> list[int]:
    with new_session(app) as session:
        return reverification.lease(session, reverification.stale(7, now), Badge.checked_at, now=now, limit=limit)


def test_two_workers_never_take_the_same_badge(app):
    ids = _stale_ids(app, 7)
    first = lease_stale(app, 4)
    second = lease_stale(app, 4)
    assert len(first) == 4 and len(second) == 3
    assert sorted(first + second) == sorted(ids)
    assert lease_stale(app, 4) == []  # all held


def test_an_expired_lease_is_taken_again(app):
    _stale_ids(app, 2)
    taken = lease_stale(app, 2)
    later = utcnow() + reverification.LEASE_PER_BADGE * 2 + timedelta(seconds=1)
    assert sorted(lease_stale(app, 2, now=later)) == sorted(taken)


def test_a_lease_covers_the_whole_batch(app):
    _stale_ids(app, 3)
    lease_stale(app, 3)
    with new_session(app) as session:
        until = set(session.scalars(select(Badge.reverify_lease_until)))
    [until] = until
    assert until - utcnow() > reverification.LEASE_PER_BADGE * 2


def test_concurrent_workers_share_the_badges_exactly(app):
    ids = _stale_ids(app, 60)
    taken: list[int] = []
    lock = threading.Lock()

    def worker():
        while True:
            got = lease_stale(app, 3)
            if not got:
                return
            with lock:
                taken.extend(got)

    run_at_once(worker, 5)
    assert sorted(taken) == sorted(ids)  # each badge once, none left out


@pytest.mark.postgres
def test_skip_locked_on_postgresql_passes_over_rows_another_worker_is_taking(app):
    ids = _stale_ids(app, 6)
    holder = new_session(app)
    try:
        # A worker in the middle of taking its lease: its candidate rows are locked, not yet updated.
        locked = list(holder.scalars(select(Badge.id).where(reverification.stale(7)).order_by(Badge.checked_at, Badge.id)
                                     .limit(3).with_for_update(skip_locked=True)))
        assert len(locked) == 3
        other: list[int] = []
        taker = threading.Thread(target=lambda: other.extend(lease_stale(app, 6)))
        taker.start()
        taker.join(timeout=10)
        waited = taker.is_alive()  # without SKIP LOCKED it would wait for the holder
    finally:
        holder.rollback()
        holder.close()
    taker.join()
    assert not waited
    assert sorted(other) == sorted(set(ids) - set(locked))
    assert sorted(lease_stale(app, 6)) == sorted(locked)


@pytest.mark.postgres
def test_five_workers_on_postgresql_reverify_each_badge_once(app, host):
    factory = BadgeFactory(host, now=utcnow())
    hosted_badges(app, factory, host, learners=12)
    age_all(app)
    host.hits.clear()
    counts: list[int] = []

    def worker():
        counts.append(reverification.reverify_leased(
            app, lambda: reverification.stale(7), Badge.checked_at, limit=100, batch=2).reverified)

    run_at_once(worker, 5)
    assert sum(counts) == 12
    assert all(host.hits[f"/assertions/{n}"] == 1 for n in range(12))
    assert statuses(app) == ["valid"] * 12
