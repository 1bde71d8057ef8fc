"""Claims end to end on the embedded builtin issuer: eligibility re-checked at submit time, one
active claim, exactly one delivery, the issued badge imported and verified."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from html import unescape

import pytest
from sqlalchemy import func, select

from tests.conftest import csrf_from, run_at_once
from tests.web.accounts_helpers import post_form, registered_user
from tests.web.test_badges import upload
from tests.web.test_regional import aligned_assertion, regional_config


@pytest.fixture
def app_config(app_config, hosts, tmp_path):
    regional_config(app_config, hosts, tmp_path)
    app_config["CLAIM_FIRST_ATTEMPT"] = "inline"
    return app_config


def count(app, model) -> int:
    from wallet.db import new_session

    with new_session(app) as session:
        return session.scalar(select(func.count()).select_from(model))


def claims(app):
    from wallet.db import new_session
    from wallet.models import Claim

    with new_session(app) as session:
        return session.scalars(select(Claim).order_by(Claim.id)).all()


@pytest.fixture
def eligible(client, outbox, hosts):
    one, _two = hosts
    registered_user(client, outbox)
    upload(client, text=aligned_assertion(one, 1))
    upload(client, text=aligned_assertion(one, 2))
    return client


def test_eligible_learner_claims_in_one_tap_and_holds_the_verified_badge(eligible, app, outbox):
    page = unescape(eligible.get("/badges-regionaux/").text)
    assert "Demander ce badge" in page
    confirm = unescape(eligible.get("/demandes/nouvelle/communiquer-1").text)
    assert "Communication 1" in confirm and "Communication 2" in confirm and "ana@example.org" in confirm
    r = post_form(eligible, "/demandes/nouvelle/communiquer-1", recipient="ana@example.org")
    assert r.status_code == 303
    [claim] = claims(app)
    assert claim.status == "issued" and claim.issued_badge_id is not None
    detail = unescape(eligible.get(r.headers["Location"]).text)
    assert "Délivrée" in detail and "Voir le badge" in detail
    from wallet.db import new_session
    from wallet.models import Badge, Outbox

    with new_session(app) as session:
        badge = session.get(Badge, claim.issued_badge_id)
        assert badge.status == "valid" and badge.matched and badge.version == "3.0"
        assert badge.badge_class_id.endswith("/issuers/region/badges/communiquer-1")
        assert session.scalars(select(Outbox)).one().state == "done"
    regional = unescape(eligible.get("/badges-regionaux/").text)
    assert "Obtenu" in regional
    assert any("est arrivé" in m.subject for m in outbox)


def test_not_eligible_is_refused_and_writes_nothing(client, outbox, app):
    from wallet.models import Claim, Outbox

    registered_user(client, outbox)
    r = post_form(client, "/demandes/nouvelle/communiquer-1", recipient="ana@example.org")
    assert r.status_code == 400 and "conditions" in unescape(r.text)
    assert count(app, Claim) == 0 and count(app, Outbox) == 0


def test_form_tampering_is_ignored(eligible, app):
    r = post_form(eligible, "/demandes/nouvelle/communiquer-1", recipient="victim@example.org")
    assert r.status_code == 400 and "adresses confirmées" in unescape(r.text)
    assert claims(app) == []


def test_claim_is_refused_when_a_supporting_badge_was_revoked_since_import(eligible, app, hosts):
    one, _two = hosts
    from wallet.db import new_session
    from wallet.models import Badge

    with new_session(app) as session:  # make the verdicts old so that submit re-verifies them
        for badge in session.scalars(select(Badge)):
            badge.checked_at = datetime.now(UTC) - timedelta(days=2)
        session.commit()
    one.route("/assertions/2", b"", status=410)
    r = post_form(eligible, "/demandes/nouvelle/communiquer-1", recipient="ana@example.org")
    assert r.status_code == 400
    assert claims(app) == []


def test_twenty_concurrent_submissions_make_one_claim_and_one_delivery(eligible, app):
    app.config["CLAIM_FIRST_ATTEMPT"] = "worker"
    token = csrf_from(eligible.get("/demandes/nouvelle/communiquer-1").text)
    cookie = eligible.get_cookie("wallet_session").value
    statuses = []

    def submit():
        client = app.test_client()
        client.set_cookie("wallet_session", cookie)
        statuses.append(client.post("/demandes/nouvelle/communiquer-1",
                                    data={"csrf_token": token, "recipient": "ana@example.org"}).status_code)

    threads = [threading.Thread(target=submit) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    from wallet.models import Claim, IssuedCredential, Outbox

    assert len(statuses) == 20, "a submission crashed (see the thread exception above)"
    assert count(app, Claim) == 1 and count(app, Outbox) == 1
    # The rate limit (10 a minute) answers some of them; at least two really raced.
    assert set(statuses) <= {303, 429} and statuses.count(303) >= 2, statuses
    runner = app.test_cli_runner()
    for _ in range(2):
        assert runner.invoke(args=["worker", "--once"]).exit_code == 0
    assert count(app, IssuedCredential) == 1
    assert claims(app)[0].status == "issued"


def test_review_mode_then_staff_approval(eligible, app, outbox):
    app.config["ISSUER_APPROVAL"] = "review"
    post_form(eligible, "/demandes/nouvelle/communiquer-1", recipient="ana@example.org")
    [claim] = claims(app)
    assert claim.status == "in_review"
    assert "En cours d'examen" in unescape(eligible.get(f"/demandes/{claim.id}").text)
    runner = app.test_cli_runner()
    runner.invoke(args=["users", "create-admin", "admin@region.example", "--password", "la region normande admin"])
    staff = app.test_client()
    from tests.web.accounts_helpers import login

    login(staff, email="admin@region.example", password="la region normande admin")
    page = unescape(staff.get("/admin/demandes").text)
    assert "ana@example.org" in page
    r = post_form(staff, "/admin/demandes", f"/admin/demandes/{claim.id}/accepter")
    assert r.status_code == 302
    assert claims(app)[0].status == "issued"


def test_staff_refusal_is_shown_with_its_reason(eligible, app):
    app.config["ISSUER_APPROVAL"] = "review"
    post_form(eligible, "/demandes/nouvelle/communiquer-1", recipient="ana@example.org")
    [claim] = claims(app)
    app.test_cli_runner().invoke(args=["users", "create-admin", "admin@region.example", "--password",
                                       "la region normande admin"])
    staff = app.test_client()
    from tests.web.accounts_helpers import login

    login(staff, email="admin@region.example", password="la region normande admin")
    post_form(staff, "/admin/demandes", f"/admin/demandes/{claim.id}/refuser", reason="")
    assert claims(app)[0].status == "in_review"
    post_form(staff, "/admin/demandes", f"/admin/demandes/{claim.id}/refuser", reason="Badge partenaire en double")
    [claim] = claims(app)
    assert claim.status == "refused" and not claim.active
    detail = unescape(eligible.get(f"/demandes/{claim.id}").text)
    assert "Refusée" in detail and "Badge partenaire en double" in detail
    # a refused claim is not active: the learner may ask again
    assert "Demander ce badge" in unescape(eligible.get("/badges-regionaux/").text)


def test_another_learner_cannot_see_a_claim(eligible, app, outbox):
    post_form(eligible, "/demandes/nouvelle/communiquer-1", recipient="ana@example.org")
    [claim] = claims(app)
    bob = app.test_client()
    registered_user(bob, outbox, email="bob@example.org", name="Bob Durand")
    assert bob.get(f"/demandes/{claim.id}").status_code == 404
    assert "communiquer" not in bob.get("/demandes/").text.lower()


@pytest.mark.postgres
def test_several_workers_on_postgresql_deliver_a_claim_once(eligible, app):
    """Row locks (FOR UPDATE SKIP LOCKED) and the lease: five workers at once, one delivery."""
    from wallet.badge_claim.issuers import backend_for
    from wallet.services.claims.delivery import deliver_due

    app.config["CLAIM_FIRST_ATTEMPT"] = "worker"
    post_form(eligible, "/demandes/nouvelle/communiquer-1", recipient="ana@example.org")
    real = backend_for(app)
    calls = []

    class Counting:
        name, remote = real.name, real.remote

        def deliver(self, request):
            calls.append(request.idempotency_key)
            return real.deliver(request)

        def lookup(self, request):
            return real.lookup(request)

    app.extensions["wallet_issuer_backend"] = Counting()

    run_at_once(lambda: deliver_due(app), 5)
    assert len(calls) == 1
    assert claims(app)[0].status == "issued"
