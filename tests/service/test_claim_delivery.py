"""Delivering claims to a flaky REMOTE issuer (a real Open Badge Factory fake on loopback): nothing
lost, nothing issued twice, Retry-After honoured, refusals shown with their reason."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from html import unescape

import pytest
from sqlalchemy import select

from tests.fakes.obf import FakeObf
from tests.web.accounts_helpers import post_form, registered_user
from tests.web.test_badges import upload
from tests.web.test_regional import aligned_assertion, regional_config
from wallet.http import SafeHttp

EMAIL = "ana@example.org"


@pytest.fixture
def obf():
    with FakeObf(badge_ids=("OBFCOMM1",)) as fake:
        yield fake


@pytest.fixture
def app_config(app_config, hosts, tmp_path, obf):
    regional_config(app_config, hosts, tmp_path)
    app_config.update(ISSUER="obf", ISSUER_OBF_BASE_URL=obf.base_url, ISSUER_OBF_CLIENT_ID=obf.client_id,
                      ISSUER_OBF_CLIENT_SECRET=obf.client_secret, ISSUER_OBF_BADGES="communiquer-1=OBFCOMM1",
                      CLAIM_FIRST_ATTEMPT="worker")
    app_config["FETCH_ALLOW"] += f",{obf.authority}"
    return app_config


@pytest.fixture
def app(app):
    # Short timeouts so that a stalled issuer answer ends the wait at once (no test sleeps).
    app.extensions["wallet_http"] = SafeHttp.from_config(app.config, read_timeout=0.5, deadline=1.5)
    return app


@pytest.fixture
def claimed(client, outbox, hosts, app):
    one, _two = hosts
    registered_user(client, outbox)
    upload(client, text=aligned_assertion(one, 1))
    upload(client, text=aligned_assertion(one, 2))
    r = post_form(client, "/demandes/nouvelle/communiquer-1", recipient=EMAIL)
    assert r.status_code == 303
    return client


def the_claim(app):
    from wallet.db import new_session
    from wallet.models import Claim, Outbox

    with new_session(app) as session:
        claim = session.scalars(select(Claim)).one()
        row = session.scalars(select(Outbox)).one()
        return claim, row


def deliver(app, now):
    from wallet.services.claims.delivery import deliver_due

    return deliver_due(app, now=now)


@pytest.fixture
def T0(claimed):
    """A moment just after the claim was submitted (its outbox row is due)."""
    return datetime.now(UTC) + timedelta(seconds=2)


def test_three_500s_then_success_issues_one_badge(claimed, app, obf, T0):
    obf.fail_next(3)
    moment = T0
    for _ in range(3):
        deliver(app, moment)
        claim, row = the_claim(app)
        assert claim.status == "sent" and row.state == "pending" and row.next_at > moment
        moment = row.next_at + timedelta(seconds=1)
    deliver(app, moment)
    claim, row = the_claim(app)
    assert claim.status == "issued" and row.state == "done" and row.attempts == 4
    assert obf.count(EMAIL) == 1
    assert "Délivrée" in unescape(claimed.get(f"/demandes/{claim.id}").text)
    from wallet.db import new_session
    from wallet.models import Badge

    with new_session(app) as session:
        badge = session.get(Badge, claim.issued_badge_id)
        assert badge.status == "valid" and badge.matched and badge.source == "claim"


def test_timeout_after_the_issuer_created_the_badge_still_gives_one_badge(claimed, app, obf, T0):
    obf.stall_next()
    deliver(app, T0)
    claim, row = the_claim(app)
    assert claim.status == "sent" and row.outcome_unknown and obf.count(EMAIL) == 1
    deliver(app, row.next_at + timedelta(seconds=1))
    claim, row = the_claim(app)
    assert claim.status == "issued" and obf.count(EMAIL) == 1


def test_429_retry_after_is_honoured(claimed, app, obf, T0):
    obf.throttle_next(retry_after="120")
    deliver(app, T0)
    _claim, row = the_claim(app)
    assert row.next_at >= T0 + timedelta(seconds=120)
    report = deliver(app, T0 + timedelta(seconds=60))
    assert report.delivered == 0 and the_claim(app)[0].status == "sent"
    deliver(app, row.next_at + timedelta(seconds=1))
    assert the_claim(app)[0].status == "issued" and obf.count(EMAIL) == 1


def test_a_4xx_refusal_is_shown_with_the_reason_and_not_retried(claimed, app, obf, T0):
    obf.refuse_next(422, "Badge en brouillon")
    deliver(app, T0)
    claim, row = the_claim(app)
    assert claim.status == "refused" and row.state == "done" and not claim.active
    page = unescape(claimed.get(f"/demandes/{claim.id}").text)
    assert "Refusée" in page and "Badge en brouillon" in page
    deliver(app, T0 + timedelta(days=1))
    assert obf.count(EMAIL) == 0


def test_worker_killed_between_send_and_record_finishes_without_duplicate(claimed, app, obf, T0, monkeypatch):
    from wallet.services.claims import delivery

    def killed(*args, **kwargs):
        raise SystemExit("worker killed")

    monkeypatch.setattr(delivery, "record_result", killed)
    with pytest.raises(SystemExit):
        deliver(app, T0)
    assert obf.count(EMAIL) == 1
    monkeypatch.undo()
    deliver(app, T0 + timedelta(seconds=10))  # still leased by the dead worker: nothing happens
    assert the_claim(app)[0].status == "sent"
    deliver(app, T0 + delivery.LEASE + timedelta(seconds=1))
    claim, _row = the_claim(app)
    assert claim.status == "issued" and obf.count(EMAIL) == 1
    assert len(set(obf.idempotency_keys)) == 1


def test_after_too_many_failures_the_claim_is_flagged_for_staff(claimed, app, obf, T0):
    from wallet.services.claims.delivery import MAX_ATTEMPTS

    obf.fail_next(MAX_ATTEMPTS)
    moment = T0
    for _ in range(MAX_ATTEMPTS):
        deliver(app, moment)
        moment += timedelta(days=1)
    claim, row = the_claim(app)
    assert row.state == "dead" and claim.needs_staff
    assert "Envoyée" in unescape(claimed.get(f"/demandes/{claim.id}").text)  # never an error page
