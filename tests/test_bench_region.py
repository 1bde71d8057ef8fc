"""The simulated region's generator (bench/region, issue 17), in small: its rows are what the app reads.

A tiny region is generated into the test database (SQLite in `make test`, PostgreSQL in the second
pass of .ci/run) by plain INSERTs, then read through the app as a learner and an employer would:
the wallet lists every generated badge, eligibility recognises them as partner badges, share links
open. The `postgres` test loads the same rows with COPY, as the bench does.
"""

from __future__ import annotations

import os
import re
import uuid
from html import unescape

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

from bench.region.generate import PASSWORD, Params, Region, learner_email, share_token
from tests.web.accounts_helpers import post_form

TINY = Params(learners=6, badges=90, partners=3, classes=9, claims=3, shares=8, heaviest=40, median=8)


@pytest.fixture
def app_config(app_config):
    app_config["SHARE_VIEW_FLUSH_SECONDS"] = 0  # a share view is written before the test's tables go
    return app_config


@pytest.fixture(scope="module")
def region():
    return Region(TINY, seed=5, log=lambda message: None, cache=None)


def login(client, n: int):
    response = post_form(client, "/connexion", email=learner_email(n), password=PASSWORD)
    assert response.status_code == 302, response.text


def fresh_region() -> Region:
    return Region(TINY, seed=5, log=lambda message: None, cache=None)


@pytest.fixture
def filled(app):
    from wallet.db import engine

    generated = fresh_region()
    with app.app_context():
        generated.fill_sqlalchemy(engine())
    return generated


def test_the_region_has_the_asked_shape(region):
    assert sum(region.counts) == TINY.badges and max(region.counts) == TINY.heaviest
    assert {p.format for p in region.partners} == {"ob2-hosted", "ob2-signed", "ob3"}
    assert len(region.classes) == TINY.classes
    rows = list(region.badges())
    assert len(rows) == TINY.badges
    assert len({(r[1], r[2]) for r in rows}) == TINY.badges  # (owner, credential_key) unique
    assert {r[8] for r in rows} == {"2.0", "3.0"}
    assert {r[16] for r in rows} <= {"valid", "revoked", "expired"}
    claims, outbox, shares, items = region.claims_and_shares()
    assert len(claims) == TINY.claims and len(outbox) == TINY.claims
    assert len(shares) == TINY.shares and len(items) >= TINY.shares


def test_each_generated_badge_carries_the_facts_of_its_own_verdict(region):
    import json

    from wallet.eligibility import are_current_facts, eligibility_facts

    columns = Region.BADGE_COLUMNS
    for row in region.badges():
        values = dict(zip(columns, row))
        facts = json.loads(values["facts"])
        assert are_current_facts(facts)
        assert facts == eligibility_facts(json.loads(values["verdict"]))
        assert facts["id"] == values["credential_id"]


def test_the_same_seed_gives_the_same_rows(region):
    again = fresh_region()
    first = [r[:23] for r in region.badges()]
    assert [r[:23] for r in again.badges()] == first
    other = Region(TINY, seed=6, log=lambda message: None, cache=None, now=region.now)
    assert [r[2] for r in other.badges()] != [r[2] for r in first]


def test_a_learner_sees_every_generated_badge_in_the_wallet(app, client, filled):
    login(client, 1)
    page = client.get("/badges/")
    assert page.status_code == 200
    html = unescape(page.text)
    assert f"{filled.counts[0]} badges" in html
    assert html.count('class="chip chip-') >= filled.counts[0]
    shown = re.findall(r'href="/badges/(\d+)"', page.text)
    first = filled.first_badge[1]
    assert sorted(map(int, shown)) == list(range(first, first + filled.counts[0]))
    detail = client.get(f"/badges/{first}")
    assert detail.status_code == 200
    assert filled.classes[filled.badge_class[first]].name in unescape(detail.text)


def test_eligibility_counts_the_generated_badges_as_partner_badges(app, filled):
    from wallet.db import new_session
    from wallet.models import User
    from wallet.services import referentials

    with app.test_request_context():
        session = new_session(app)
        counted = 0
        for n in range(1, TINY.learners + 1):
            _ref, results = referentials.eligibility_for(session, session.get(User, n))
            counted += sum(len(r.counted) for r in results if r.badge.rule and hasattr(r.badge.rule, "skill"))
            reasons = {nc.reason for r in results for nc in r.not_counted}
            assert "not_a_partner" not in reasons and "not_valid" not in reasons
        session.close()
    assert counted > TINY.learners


def test_the_regional_page_and_a_claim_open_for_their_learner(app, client, filled):
    from wallet.db import new_session
    from wallet.models import Claim

    with app.app_context():
        session = new_session(app)
        claim = session.scalars(select(Claim).order_by(Claim.id)).first()
        owner, claim_id = claim.user_id, claim.id
        session.close()
    login(client, owner)
    assert client.get("/badges-regionaux/").status_code == 200
    page = client.get(f"/demandes/{claim_id}")
    assert page.status_code == 200


def test_an_employer_opens_a_generated_share_link(app, client, filled):
    from wallet.db import new_session
    from wallet.models import Share

    with app.app_context():
        session = new_session(app)
        share = session.scalars(select(Share).where(Share.kind == "badge", Share.revoked_at.is_(None),
                                                    Share.expires_at.is_(None)).order_by(Share.id)).first()
        share_id = share.id
        session.close()
    page = client.get(f"/p/{share_token(5, share_id)}")
    assert page.status_code == 200
    assert "Badge authentique" in unescape(page.text)
    assert client.get(f"/p/{share_token(6, share_id)}").status_code == 404


# --- the bench's own path: COPY into a migrated PostgreSQL database ------------------------------

@pytest.mark.postgres
def test_copy_into_postgresql_gives_the_rows_the_app_reads(app_config, tmp_path, monkeypatch):
    from sqlalchemy import create_engine

    from wallet import create_app
    from wallet.db import make_engine
    from wallet.migrate import upgrade
    from wallet.models import Badge

    url = make_url(os.environ["WALLET_TEST_DATABASE_URL"])
    name = f"wallet_region_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    target = url.set(database=name).render_as_string(hide_password=False)
    try:
        engine = make_engine(target)
        upgrade(engine)
        engine.dispose()
        generated = fresh_region()
        generated.fill_postgresql(target)
        monkeypatch.setenv("WALLET_INSTANCE_PATH", str(tmp_path / "instance"))
        application = create_app({**app_config, "DATABASE_URL": target})
        client = application.test_client()
        login(client, 1)
        page = client.get("/badges/")
        assert f"{generated.counts[0]} badges" in unescape(page.text)
        with application.app_context():
            from wallet.db import engine as app_engine

            with app_engine().connect() as conn:
                assert conn.execute(select(func.count(Badge.id))).scalar() == TINY.badges
                # The sequences follow the copied ids: the app's next insert does not collide.
                assert conn.execute(text("SELECT nextval(pg_get_serial_sequence('badges', 'id'))")).scalar() \
                    == TINY.badges + 1
            app_engine().dispose()
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_the_bench_cluster_caches_a_quarter_of_the_memory_within_bounds(monkeypatch):
    from bench.region import __main__ as region_main

    pages = {"SC_PAGE_SIZE": 4096}
    monkeypatch.setattr(region_main.os, "sysconf", lambda name: pages.get(name, 0))
    for memory_mib, expected in ((16 * 1024, "4096MB"), (256, "128MB"), (256 * 1024, "8192MB")):
        pages["SC_PHYS_PAGES"] = memory_mib * 2**20 // 4096
        assert region_main.shared_buffers() == expected
