"""The upgrade path of issue 12 item 6: badges judged under the first-wave rules are re-verified once
by `wallet worker`; a waiting claim their old verdict supported is stopped with a reason.

A badge "judged under the old rules" is made the way the old verifier judged a T60 forgery: the
forged badge is stored `valid` with rules_version 1 (what migration 0006 gives every stored OB 2.0
badge), exactly as a database upgraded from the first wave holds it."""

from __future__ import annotations

import json
from html import unescape

import pytest
from sqlalchemy import select, text

from tests.service.test_claims import claims
from tests.service.test_t60_forgery import Forger, communiquer, submit, t60_config
from tests.web.accounts_helpers import post_form, registered_user
from tests.web.test_badges import badges_in_db, upload
from tests.web.test_regional import aligned_assertion


@pytest.fixture
def app_config(app_config, hosts, attacker, tmp_path):
    return t60_config(app_config, hosts, attacker, tmp_path, first_attempt="worker")


def judged_by_old_rules(app, badge_id: int, issuer_id: str | None = None) -> None:
    """Give a stored badge the verdict the first-wave verifier gave it (and rules_version 1): valid,
    with the issuer id its documents declared."""
    from wallet.db import new_session
    from wallet.models import Badge

    with new_session(app) as session:
        badge = session.get(Badge, badge_id)
        verdict = json.loads(badge.verdict)
        verdict.update(status="valid", valid=True)
        if issuer_id:
            verdict["issuer"]["id"] = badge.issuer_id = issuer_id
        for check in verdict["checks"]:
            check["ok"] = True
        badge.status, badge.verdict, badge.rules_version = "valid", json.dumps(verdict), 1
        session.commit()


def worker(app) -> str:
    result = app.test_cli_runner().invoke(args=["worker", "--once"])
    assert result.exit_code == 0, result.output
    return result.output


def forged_learner(client, outbox, app, hosts, attacker) -> int:
    """A learner with one genuine partner badge and one T60 forgery the old rules called valid."""
    one, _two = hosts
    registered_user(client, outbox)
    upload(client, text=aligned_assertion(one, 2))
    submit(client, Forger(attacker, one).build("linked"))
    [forged] = [b for b in badges_in_db(app) if b.credential_id != one.url("/assertions/2")]
    judged_by_old_rules(app, forged.id, issuer_id=one.url("/issuer"))
    assert "Vous pouvez le demander" in communiquer(client)  # what the old verdict allowed
    return forged.id


def events(app, badge_id: int) -> list[tuple[str, str, str]]:
    from wallet.db import new_session
    from wallet.models import BadgeEvent

    with new_session(app) as session:
        return [(e.kind, e.old, e.new) for e in session.scalars(select(BadgeEvent).where(BadgeEvent.badge_id == badge_id))]


def test_worker_reverifies_badges_judged_under_old_rules_once(client, outbox, app, hosts, attacker):
    from wallet.services.rules import RULES_VERSION

    forged_id = forged_learner(client, outbox, app, hosts, attacker)
    output = worker(app)
    assert f"rules v{RULES_VERSION}: re-verified 1 badge(s)" in output
    forged = next(b for b in badges_in_db(app) if b.id == forged_id)
    assert (forged.status, forged.rules_version) == ("invalid", RULES_VERSION)
    assert events(app, forged_id) == [("status_changed", "valid", "invalid")]
    assert "Invalide" in unescape(client.get(f"/badges/{forged_id}").text)  # the learner sees it
    assert "1 sur 2" in communiquer(client)

    hits = attacker.hits["/assertions/1"]
    assert "rules v" not in worker(app)  # once: nothing is judged under older rules any more
    assert attacker.hits["/assertions/1"] == hits


def test_badges_judged_under_the_current_rules_are_left_alone(client, outbox, app, hosts):
    one, _two = hosts
    registered_user(client, outbox)
    upload(client, text=aligned_assertion(one, 2))
    hits = one.hits["/assertions/2"]
    assert "rules v" not in worker(app)
    assert one.hits["/assertions/2"] == hits


@pytest.mark.parametrize("waiting", ["pending", "in_review"])
def test_a_waiting_claim_the_new_verdict_no_longer_supports_is_stopped_with_a_reason(
        client, outbox, app, hosts, attacker, waiting):
    from tests.service.test_claims import count
    from wallet.models import IssuedCredential

    forged_learner(client, outbox, app, hosts, attacker)
    if waiting == "in_review":
        app.config.update(ISSUER_APPROVAL="review", CLAIM_FIRST_ATTEMPT="inline")
    assert post_form(client, "/demandes/nouvelle/communiquer-1", recipient="ana@example.org").status_code == 303
    [claim] = claims(app)
    assert claim.status == waiting

    worker(app)
    [claim] = claims(app)
    assert (claim.status, claim.active) == ("refused", False)
    assert count(app, IssuedCredential) == 0  # never delivered
    page = unescape(client.get(f"/demandes/{claim.id}").text)
    assert "« Communication 1 » a été vérifié de nouveau avec des règles plus sûres" in page
    assert "la demande est arrêtée" in page
    assert any("n'a pas été acceptée" in m.body and "règles plus sûres" in m.body for m in outbox)
    # The learner may ask again once they hold two badges that count.
    upload(client, text=aligned_assertion(hosts[0], 3))
    assert "Vous pouvez le demander" in communiquer(client)


def test_a_claim_whose_evidence_still_holds_is_delivered(client, outbox, app, hosts):
    one, _two = hosts
    registered_user(client, outbox)
    for number in (2, 3):
        upload(client, text=aligned_assertion(one, number))
    for badge in badges_in_db(app):
        judged_by_old_rules(app, badge.id)   # old verdicts, still right under the new rules
    assert post_form(client, "/demandes/nouvelle/communiquer-1", recipient="ana@example.org").status_code == 303
    output = worker(app)
    assert "re-verified 2 badge(s)" in output and "0 claim(s) stopped" in output
    [claim] = claims(app)
    assert claim.status == "issued"


def test_stopped_reason_is_in_the_learners_language(client, outbox, app, hosts, attacker):
    forged_learner(client, outbox, app, hosts, attacker)
    from wallet.db import new_session
    from wallet.models import User

    with new_session(app) as session:
        session.scalars(select(User)).one().locale = "en"
        session.commit()
    assert post_form(client, "/demandes/nouvelle/communiquer-1", recipient="ana@example.org").status_code == 303
    worker(app)
    [claim] = claims(app)
    assert "was verified again with safer rules" in claim.refusal_reason


def test_migration_0006_marks_every_stored_badge_for_one_reverification(tmp_path):
    from wallet import migrate
    from wallet.db import make_engine

    engine = make_engine(f"sqlite:///{tmp_path / 'up.db'}")
    try:
        migrate.upgrade(engine, "0005_counsellors")
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO users (id, role, display_name, locale, password_hash, session_token, created_at) "
                              "VALUES (1, 'learner', 'Ana', 'fr', 'x', 't', '2026-01-01 00:00:00')"))
            for number, version in enumerate(("1.0", "2.0", "3.0"), start=1):
                conn.execute(text(
                    "INSERT INTO badges (id, owner_id, credential_key, source, payload, payload_format, version, name,"
                    " description, issuer_id, issuer_name, badge_class_id, status, matched, recipient, details,"
                    " verdict, checked_at, created_at) VALUES (:id, 1, :key, 'paste', '{}', 'json', :version, '', '',"
                    " '', '', '', 'valid', 1, '[]', '{}', '{}', '2026-01-01 00:00:00', '2026-01-01 00:00:00')"),
                    {"id": number, "key": f"k{number}", "version": version})
        migrate.upgrade(engine)
        with engine.connect() as conn:
            rows = dict(conn.execute(text("SELECT version, rules_version FROM badges")).all())
        assert rows == {"1.0": 1, "2.0": 1, "3.0": 1}
    finally:
        engine.dispose()


def test_the_model_default_is_the_current_rules_version():
    from wallet.models import Badge
    from wallet.services.rules import RULES_VERSION

    assert Badge.__table__.c.rules_version.default.arg == RULES_VERSION
