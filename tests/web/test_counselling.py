"""Counsellors: consent by code or address (scoped, timed, withdrawable, logged), the counsellor's
dashboard (allowlisted fields only), prepared claims the learner confirms, the learner's journal
(SECURITY.md T45, T46, T54c)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from html import unescape

import pytest
from sqlalchemy import select

from tests.conftest import csrf_from, plain
from tests.web.accounts_helpers import post_form, registered_user
from tests.web.test_badges import upload
from tests.web.test_regional import aligned_assertion, regional_config

LEARNER = ("ana@example.org", "Ana Martin")
COUNSELLOR = ("conseil@france-travail.example", "Mme Durand")
COMMUNIQUER = "Communiquer — Je pratique"


@pytest.fixture
def app_config(app_config, hosts, tmp_path):
    return regional_config(app_config, hosts, tmp_path, CLAIM_FIRST_ATTEMPT="inline", RATELIMIT_ENABLED=True)


# --- helpers (imported by test_authorization_matrix.py) ----------------------------------------

def set_role(app, email: str, role: str) -> int:
    from wallet.db import new_session
    from wallet.models import Email, User

    with new_session(app) as session:
        user = session.scalar(select(User).join(Email).where(Email.normalized == email.lower()))
        user.role = role
        session.commit()
        return user.id


def user_id(app, email: str) -> int:
    from wallet.db import new_session
    from wallet.models import Email

    with new_session(app) as session:
        return session.scalar(select(Email.user_id).where(Email.normalized == email.lower()))


def person(app, outbox, email: str, name: str, role: str = "learner"):
    """A new test client logged in as a confirmed user with this role."""
    client = app.test_client()
    registered_user(client, outbox, email=email, name=name)
    if role != "learner":
        set_role(app, email, role)
    return client


def show_code(counsellor) -> str:
    page = unescape(post_form(counsellor, "/conseiller/code").text)
    match = re.search(r'class="counsellor-code"[^>]*><span>(\w{4})</span> <span>(\w{4})</span>', page)
    assert match, page
    return match.group(1) + " " + match.group(2)


def grant(learner, code: str, scope: str = "view", months: str = "3"):
    return post_form(learner, "/accompagnement/autoriser", code=code, scope=scope, months=months)


def connect(learner, counsellor, scope: str = "view"):
    response = grant(learner, show_code(counsellor), scope=scope)
    assert response.status_code == 303, unescape(response.text)


def rows(app, model, **where):
    from wallet.db import new_session

    with new_session(app) as session:
        stmt = select(model)
        for column, value in where.items():
            stmt = stmt.where(getattr(model, column) == value)
        return session.scalars(stmt).all()


def audit_actions(app, subject_id: int) -> list[str]:
    from wallet.models import AuditEvent
    from wallet.services.counselling.journal import JOURNAL_ACTIONS

    return [e.action for e in rows(app, AuditEvent, subject_id=subject_id) if e.action in JOURNAL_ACTIONS]


@pytest.fixture
def learner(app, outbox):
    return person(app, outbox, *LEARNER)


@pytest.fixture
def counsellor(app, outbox):
    return person(app, outbox, *COUNSELLOR, role="counsellor")


def eligible(learner, hosts):
    one, _two = hosts
    upload(learner, text=aligned_assertion(one, 1))
    upload(learner, text=aligned_assertion(one, 2))


# --- granting by code ---------------------------------------------------------------------------

def test_a_learner_types_the_code_and_the_counsellor_sees_them(app, learner, counsellor, hosts):
    eligible(learner, hosts)
    assert "Ana Martin" not in counsellor.get("/conseiller/").text
    code = show_code(counsellor)
    assert re.fullmatch(r"[A-HJ-NP-Z2-9]{4} [A-HJ-NP-Z2-9]{4}", code)
    from wallet.models import CounsellorCode

    [stored] = rows(app, CounsellorCode)
    assert code.replace(" ", "") not in stored.code_hash and len(stored.code_hash) == 64
    response = grant(learner, code.lower().replace(" ", "-"), months="1")
    assert response.status_code == 303
    mine = unescape(learner.get("/accompagnement/").text)
    assert "Mme Durand" in mine and "Voir mes badges et mon éligibilité" in mine
    dashboard = unescape(counsellor.get("/conseiller/").text)
    assert "Ana Martin" in dashboard and "1 à demander, 0 obtenu" in dashboard
    assert "ana@example.org" not in dashboard
    from wallet.models import Consent

    [consent] = rows(app, Consent)
    assert consent.scope == "view" and consent.withdrawn_at is None
    assert timedelta(days=28) < consent.expires_at - consent.granted_at < timedelta(days=32)


def test_wrong_reused_and_expired_codes_say_what_to_do(app, outbox, learner, counsellor):
    wrong = grant(learner, "ABCD EFGH")
    assert wrong.status_code == 400 and "ne correspond à aucun conseiller" in unescape(wrong.text)
    code = show_code(counsellor)
    assert grant(learner, code).status_code == 303
    other = person(app, outbox, "bob@example.org", "Bob Petit")
    reused = grant(other, code)
    assert reused.status_code == 400 and "déjà servi" in unescape(reused.text)
    code = show_code(counsellor)
    from wallet.db import new_session
    from wallet.models import Consent, CounsellorCode

    with new_session(app) as session:
        for row in session.scalars(select(CounsellorCode).where(CounsellorCode.used_at.is_(None))):
            row.expires_at = datetime.now(UTC) - timedelta(seconds=1)
        session.commit()
    expired = grant(other, code)
    assert expired.status_code == 400 and "a expiré" in unescape(expired.text)
    assert [c.learner_id for c in rows(app, Consent)] == [user_id(app, LEARNER[0])]


def test_showing_a_new_code_cancels_the_previous_one(learner, counsellor):
    first = show_code(counsellor)
    second = show_code(counsellor)
    assert first != second
    assert grant(learner, first).status_code == 400
    assert grant(learner, second).status_code == 303


def test_code_attempts_are_rate_limited_per_learner(learner, counsellor):
    for _ in range(5):
        assert grant(learner, "ZZZZ ZZZZ").status_code == 400
    blocked = grant(learner, show_code(counsellor))
    assert blocked.status_code == 429 and "Trop de tentatives" in unescape(blocked.text)


def test_bad_scope_or_duration_is_refused(app, learner, counsellor):
    code = show_code(counsellor)
    assert grant(learner, code, scope="admin").status_code == 400
    assert grant(learner, code, months="120").status_code == 400
    from wallet.models import Consent

    assert rows(app, Consent) == []


# --- granting by address ------------------------------------------------------------------------

def test_granting_by_address_answers_the_same_whether_the_account_exists(app, outbox, learner, counsellor):
    before = len(outbox)
    sent = post_form(learner, "/accompagnement/autoriser", "/accompagnement/autoriser/email",
                     email="Conseil@France-Travail.example", scope="prepare", months="6")
    unknown = post_form(learner, "/accompagnement/autoriser", "/accompagnement/autoriser/email",
                        email="personne@nulle-part.example", scope="prepare", months="6")
    a_learner = post_form(learner, "/accompagnement/autoriser", "/accompagnement/autoriser/email",
                          email="ana@example.org", scope="prepare", months="6")
    assert sent.status_code == unknown.status_code == a_learner.status_code == 303
    messages = [unescape(learner.get("/accompagnement/").text) for _ in range(1)]
    assert "Si ce conseiller a un compte, il a maintenant accès" in messages[0]
    new_mail = outbox[before:]
    assert [m.to for m in new_mail] == [COUNSELLOR[0]]
    assert "Ana Martin vous a donné accès" in new_mail[0].subject
    from wallet.models import Consent

    [consent] = rows(app, Consent)
    assert consent.counsellor_id == user_id(app, COUNSELLOR[0]) and consent.scope == "prepare"
    assert "Ana Martin" in counsellor.get("/conseiller/").text


# --- scope, withdrawal, expiry ------------------------------------------------------------------

def test_withdrawal_takes_effect_on_the_next_request(app, learner, counsellor):
    connect(learner, counsellor)
    ana = user_id(app, LEARNER[0])
    assert counsellor.get(f"/conseiller/apprenants/{ana}").status_code == 200
    from wallet.models import Consent

    [consent] = rows(app, Consent)
    page = learner.get("/accompagnement/").text
    r = learner.post(f"/accompagnement/{consent.id}/retirer", data={"csrf_token": csrf_from(page)})
    assert r.status_code == 303
    assert "Personne n'a accès" in unescape(learner.get("/accompagnement/").text)
    after = counsellor.get(f"/conseiller/apprenants/{ana}")
    assert after.status_code == 404 and "Ana Martin" not in after.text
    assert "Ana Martin" not in counsellor.get("/conseiller/").text
    again = learner.post(f"/accompagnement/{consent.id}/retirer", data={"csrf_token": csrf_from(page)})
    assert again.status_code == 404


def test_an_expired_consent_gives_no_access(app, learner, counsellor):
    connect(learner, counsellor)
    from wallet.db import new_session
    from wallet.models import Consent

    with new_session(app) as session:
        session.scalars(select(Consent)).one().expires_at = datetime.now(UTC) - timedelta(minutes=1)
        session.commit()
    assert counsellor.get(f"/conseiller/apprenants/{user_id(app, LEARNER[0])}").status_code == 404
    assert "Personne n'a accès" in unescape(learner.get("/accompagnement/").text)


def test_view_scope_cannot_prepare_a_claim(app, learner, counsellor, hosts):
    eligible(learner, hosts)
    connect(learner, counsellor, scope="view")
    ana = user_id(app, LEARNER[0])
    page = counsellor.get(f"/conseiller/apprenants/{ana}").text
    assert "Préparer la demande" not in unescape(page)
    r = counsellor.post(f"/conseiller/apprenants/{ana}/preparer",
                        data={"csrf_token": csrf_from(page), "badge": "communiquer-1"})
    assert r.status_code == 403
    from wallet.models import ClaimDraft

    assert rows(app, ClaimDraft) == []


def test_counsellor_pages_are_404_for_learners_and_learner_pages_404_for_counsellors(learner, counsellor):
    for path in ("/conseiller/", "/conseiller/code", "/conseiller/apprenants/1"):
        assert learner.get(path).status_code == 404
    for path in ("/accompagnement/", "/accompagnement/autoriser", "/accompagnement/journal"):
        assert counsellor.get(path).status_code == 404


# --- what the counsellor sees -------------------------------------------------------------------

def test_dashboard_and_learner_page_list_problems_without_personal_addresses(app, learner, counsellor, hosts):
    one, _two = hosts
    from tests.fakes.badges import BadgeFactory

    soon = datetime.now(UTC) + timedelta(days=10)
    upload(learner, text=aligned_assertion(one, 1, expires=soon))
    stranger = BadgeFactory(one).recipient("ancienne.adresse@example.org", hashed=False)
    upload(learner, text=aligned_assertion(one, 2, recipient=stranger))
    connect(learner, counsellor)
    dashboard = unescape(counsellor.get("/conseiller/").text)
    assert "Communication 1 — expire bientôt" in dashboard
    assert "Communication 2 — délivré à une adresse que la personne n'a pas confirmée" in dashboard
    page = unescape(counsellor.get(f"/conseiller/apprenants/{user_id(app, LEARNER[0])}").text)
    assert "Ana Martin" in page and "Communication 1" in page and "Communication 2" in page
    assert COMMUNIQUER in page and "En cours" in page
    for secret in ("ana@example.org", "ancienne.adresse@example.org", "s4lt", "sha256$", "HostedBadge"):
        assert secret not in page and secret not in dashboard, secret


def test_the_counsellor_dto_is_an_allowlist():
    from dataclasses import fields

    from wallet.services.counselling.learners import BadgeRow, ClaimRow, EligibilityRow, LearnerView

    allowed = {"learner_id", "display_name", "scope", "expires_at", "eligibility", "badges", "claims",
               "pending_drafts", "name", "issuer_name", "status", "expires", "problems", "created_at",
               "prepared_by_counsellor", "key", "state", "have", "need"}
    for dto in (LearnerView, BadgeRow, ClaimRow, EligibilityRow):
        names = {f.name for f in fields(dto)}
        assert names <= allowed, names - allowed
        assert not any(word in " ".join(names) for word in ("email", "recipient", "payload", "password", "token"))


# --- prepared claims ----------------------------------------------------------------------------

def test_counsellor_prepares_and_only_the_learner_confirms(app, outbox, learner, counsellor, hosts):
    from wallet.models import Claim, ClaimDraft

    eligible(learner, hosts)
    connect(learner, counsellor, scope="prepare")
    ana = user_id(app, LEARNER[0])
    page = plain(unescape(counsellor.get(f"/conseiller/apprenants/{ana}").text))
    assert f"Préparer la demande de « {COMMUNIQUER} »" in page
    before = len(outbox)
    r = post_form(counsellor, f"/conseiller/apprenants/{ana}", f"/conseiller/apprenants/{ana}/preparer",
                  badge="communiquer-1")
    assert r.status_code == 303
    assert "La personne la recevra par e-mail" in unescape(counsellor.get(r.headers["Location"]).text)
    [draft] = rows(app, ClaimDraft)
    assert draft.learner_id == ana and draft.recipient_email == LEARNER[0]
    assert rows(app, Claim) == []  # preparing never submits
    [mail] = outbox[before:]
    assert mail.to == LEARNER[0] and "Mme Durand a préparé pour vous une demande" in mail.body
    # A second tap does not make a second draft.
    post_form(counsellor, f"/conseiller/apprenants/{ana}", f"/conseiller/apprenants/{ana}/preparer",
              badge="communiquer-1")
    assert len(rows(app, ClaimDraft)) == 1
    # The counsellor cannot confirm in the learner's place.
    token = csrf_from(counsellor.get("/conseiller/").text)
    assert counsellor.post(f"/accompagnement/propositions/{draft.id}/confirmer",
                           data={"csrf_token": token}).status_code == 404
    assert rows(app, Claim) == []
    mine = unescape(learner.get("/accompagnement/").text)
    assert f"Mme Durand a préparé une demande pour le badge « {COMMUNIQUER} »" in plain(mine)
    # Before confirming, the learner sees what goes with it, as on the direct claim's screen.
    card = mine[mine.index("Mme Durand a préparé une demande"):mine.index("Confirmer la demande")]
    text = plain(re.sub(r"<[^>]+>", "", card))
    assert "La Région va recevoir votre demande avec ces badges, vérifiés" in text
    assert "Communication 1 — Organisme" in text and "Communication 2 — Organisme" in text
    assert "une page de preuves qui liste ces badges" in text and "Ana Martin" in text
    assert f"Le badge sera délivré à : {LEARNER[0]}" in text
    r = learner.post(f"/accompagnement/propositions/{draft.id}/confirmer", data={"csrf_token": csrf_from(mine)})
    assert r.status_code == 303 and re.fullmatch(r"/demandes/\d+", r.headers["Location"])
    issued = unescape(learner.get(r.headers["Location"]).text)
    # The flash says what the chip says: issued at once by the builtin issuer (approval auto).
    [notice] = re.findall(r'<p class="notice notice-success" role="status">(.*?)</p>', issued)
    assert plain(notice) == "C'est fait : la Région vous a délivré ce badge."
    history = re.findall(r"<li>[^<]* — ([^<]*)</li>", issued[issued.index("Historique"):])
    assert history == ["Enregistrée", "Envoyée à la Région", "Délivrée"]
    [claim] = rows(app, Claim)
    assert claim.user_id == ana and claim.prepared_by_id == user_id(app, COUNSELLOR[0])
    assert claim.recipient_email == LEARNER[0] and claim.status == "issued"
    assert r.headers["Location"] == f"/demandes/{claim.id}"
    assert learner.post(f"/accompagnement/propositions/{draft.id}/confirmer",
                        data={"csrf_token": csrf_from(mine)}).status_code == 404
    assert len(rows(app, Claim)) == 1
    status = unescape(counsellor.get(f"/conseiller/apprenants/{ana}").text)
    assert "Délivrée" in status


def test_a_draft_can_be_ignored_and_nothing_is_sent(app, learner, counsellor, hosts):
    from wallet.models import Claim, ClaimDraft

    eligible(learner, hosts)
    connect(learner, counsellor, scope="prepare")
    ana = user_id(app, LEARNER[0])
    post_form(counsellor, f"/conseiller/apprenants/{ana}", f"/conseiller/apprenants/{ana}/preparer",
              badge="communiquer-1")
    [draft] = rows(app, ClaimDraft)
    page = learner.get("/accompagnement/").text
    assert learner.post(f"/accompagnement/propositions/{draft.id}/ignorer",
                        data={"csrf_token": csrf_from(page)}).status_code == 303
    assert "Demandes préparées pour vous" not in unescape(learner.get("/accompagnement/").text)
    assert rows(app, Claim) == [] and rows(app, ClaimDraft)[0].dismissed_at is not None


def test_a_claim_cannot_be_prepared_when_the_learner_is_not_eligible(app, learner, counsellor):
    from wallet.models import ClaimDraft

    connect(learner, counsellor, scope="prepare")
    ana = user_id(app, LEARNER[0])
    r = post_form(counsellor, f"/conseiller/apprenants/{ana}", f"/conseiller/apprenants/{ana}/preparer",
                  badge="communiquer-1")
    assert r.status_code == 303
    assert "ne remplit pas (ou plus) les conditions" in unescape(counsellor.get(r.headers["Location"]).text)
    assert rows(app, ClaimDraft) == []


# --- the learner's journal ----------------------------------------------------------------------

def test_the_journal_lists_exactly_the_counsellors_actions(app, outbox, learner, counsellor, hosts):
    eligible(learner, hosts)
    connect(learner, counsellor, scope="prepare")
    ana = user_id(app, LEARNER[0])
    counsellor.get("/conseiller/")
    counsellor.get("/conseiller/")  # the dashboard is logged once an hour per learner
    counsellor.get(f"/conseiller/apprenants/{ana}")
    post_form(counsellor, f"/conseiller/apprenants/{ana}", f"/conseiller/apprenants/{ana}/preparer",
              badge="communiquer-1")
    # Another learner and another counsellor: none of it belongs in Ana's journal.
    other_learner = person(app, outbox, "bob@example.org", "Bob Petit")
    other = person(app, outbox, "autre@conseil.example", "M. Leroy", role="counsellor")
    connect(other_learner, other)
    other.get(f"/conseiller/apprenants/{user_id(app, 'bob@example.org')}")
    other.get(f"/conseiller/apprenants/{ana}")  # refused: no consent, nothing logged

    assert audit_actions(app, ana) == ["consent.granted", "counsellor.viewed_summary", "counsellor.viewed_learner",
                                       "counsellor.viewed_learner", "counsellor.prepared_claim"]
    page = plain(unescape(learner.get("/accompagnement/journal").text))
    items = re.findall(r'<li class="list-item">(.*?)</li>', page, re.DOTALL)
    assert len(items) == 5
    sentence = r"Mme Durand a consulté vos badges le (1er|\d{1,2}) \w+( \d{4})? à \d{1,2} h \d{2}\."
    assert len([i for i in items if re.fullmatch(sentence, i.strip())]) == 2
    assert any(f"Mme Durand a préparé une demande du badge « {COMMUNIQUER} »" in i for i in items)
    assert any(i.startswith("Vous avez donné accès à Mme Durand le ") for i in items)
    assert "M. Leroy" not in page and "Bob Petit" not in page
    token = csrf_from(page)
    from wallet.models import Consent

    consent = next(c for c in rows(app, Consent) if c.learner_id == ana)
    learner.post(f"/accompagnement/{consent.id}/retirer", data={"csrf_token": token})
    page = unescape(learner.get("/accompagnement/journal").text)
    assert "Vous avez retiré l'accès de Mme Durand le " in page


def test_a_counsellor_page_is_logged_when_another_request_commits_during_its_reads(
        app, learner, counsellor, hosts, monkeypatch):
    """On SQLite a transaction that has read cannot write once another one has committed ("database
    is locked" at once, whatever the busy timeout): the view counter's flush or any request could
    land between a counsellor page's reads and its log. The log has a write transaction of its own."""
    from sqlalchemy import text

    from wallet.db import new_session
    from wallet.services.counselling import learners as learner_service

    eligible(learner, hosts)
    connect(learner, counsellor)
    learner_id = user_id(app, LEARNER[0])
    build = learner_service._build_view

    def build_then_someone_commits(*args, **kwargs):
        view = build(*args, **kwargs)
        other = new_session(app)
        other.execute(text("UPDATE users SET display_name = display_name || '.' WHERE id = :id"), {"id": learner_id})
        other.commit()
        other.close()
        return view

    monkeypatch.setattr(learner_service, "_build_view", build_then_someone_commits)
    assert counsellor.get(f"/conseiller/apprenants/{learner_id}").status_code == 200
    assert counsellor.get("/conseiller/").status_code == 200
    actions = audit_actions(app, learner_id)
    assert "counsellor.viewed_learner" in actions and "counsellor.viewed_summary" in actions
