"""The wallet as the backpack of a training centre's Moodle 4.5 in its "Open Badges v2.0" mode
(Badgr's v2 API): app-password login at the host root, collections, import {url} — driven by the
Moodle-like client (tests/fakes/moodle_client.py) over real HTTP against the live app."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from sqlalchemy import func, select

from tests.fakes.moodle_client import MoodleError, Ob20Backpack
from tests.web.host_helpers import *
from tests.web.host_helpers import app_password, learner

ANA = "ana@example.org"


def moodle_for(wallet: str, password: str, email: str = ANA) -> Ob20Backpack:
    port = urlsplit(wallet).port
    return Ob20Backpack(api_url=wallet + "/v2", email=email, password=password, token_port=port)


def rows(app, model, *where):
    from wallet.db import new_session

    with new_session(app) as session:
        return list(session.scalars(select(model).where(*where)))


def count(app, model) -> int:
    from wallet.db import new_session

    with new_session(app) as session:
        return session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def ana(app, outbox, wallet):
    return learner(app, outbox)


def test_moodle_connects_with_an_app_password_and_pushes_a_hosted_badge(app, wallet, ana, badges, moodle_site):
    from wallet.models import Badge, HostPush

    moodle = moodle_for(wallet, app_password(ana))
    assert moodle.collections() == []
    hosted = badges.ob2_hosted("/badges/assertion/1")
    mapped = moodle.import_badge(hosted.url)
    assert mapped == {"type": "Assertion", "id": hosted.url, "issuedOn": hosted.assertion["issuedOn"]}
    # What Moodle sent to log in: a form at the host root, username + password, nothing else.
    login = moodle.http.sent[0]
    assert (login.method, urlsplit(login.url).path) == ("POST", "/o/token")
    assert parse_qs(login.body.decode()) == {"username": [ANA], "password": [moodle.password]}
    assert [urlsplit(s.url).path for s in moodle.http.sent] == ["/o/token", "/v2/backpack/collections",
                                                                 "/v2/backpack/import"]
    [badge] = rows(app, Badge)
    assert (badge.source, badge.status, badge.matched, badge.credential_id) == ("push", "valid", True, hosted.url)
    assert moodle_site.hits["/badges/assertion/1"] == 1  # verified from its own URL, through SafeHttp
    [push] = rows(app, HostPush)
    assert (push.mode, push.outcome, push.partner, push.badge_id) == ("badgr_v2", "imported", "127.0.0.1", badge.id)


def test_the_token_endpoint_is_at_the_host_root_whatever_the_api_path(app, wallet, ana):
    moodle = moodle_for(wallet, app_password(ana))
    assert urlsplit(moodle.token_url()).path == "/o/token"  # Moodle drops /v2 (and, for real, the port)
    assert moodle.authenticate()
    body = {"username": ANA, "password": moodle.password}
    assert requests.post(wallet + "/v2/o/token", data=body, timeout=10).status_code == 404


def test_the_token_answer_has_what_moodle_needs(app, wallet, ana):
    password = app_password(ana)
    response = requests.post(wallet + "/o/token", data={"username": ANA, "password": password},
                             headers={"Accept": "application/json", "Expect": ""}, timeout=10)
    body = response.json()
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    assert set(body) >= {"access_token", "refresh_token", "expires_in", "token_type"}
    # The refresh (Badgr style, no client) rotates both tokens; the old refresh token is spent.
    refreshed = requests.post(wallet + "/o/token", data={"grant_type": "refresh_token",
                                                         "refresh_token": body["refresh_token"]}, timeout=10)
    assert refreshed.status_code == 200 and refreshed.json()["access_token"] != body["access_token"]
    again = requests.post(wallet + "/o/token", data={"grant_type": "refresh_token",
                                                     "refresh_token": body["refresh_token"]}, timeout=10)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"


def test_a_second_push_of_the_same_badge_is_a_duplicate(app, wallet, ana, badges):
    from wallet.models import Badge

    moodle = moodle_for(wallet, app_password(ana))
    hosted = badges.ob2_hosted("/badges/assertion/2")
    moodle.import_badge(hosted.url)
    with pytest.raises(MoodleError, match="existsinbackpack"):
        moodle.import_badge(hosted.url)
    answer = json.loads(moodle.http.sent[-1].answer)
    assert answer["result"] == [] and answer["status"]["success"] is False
    assert answer["validationErrors"][0]["name"] == "DUPLICATE_BADGE"
    assert count(app, Badge) == 1


def test_wrong_app_password_and_wallet_password_are_refused_alike(app, wallet, ana, outbox):
    from wallet.models import AuditEvent

    app_password(ana)
    wrong = moodle_for(wallet, "aaaa-bbbb-cccc-dddd-eeee")
    mine = moodle_for(wallet, PASSWORD)
    unknown = moodle_for(wallet, PASSWORD, email="nobody@example.org")
    assert not wrong.authenticate() and not mine.authenticate() and not unknown.authenticate()
    answers = [json.loads(m.http.sent[-1].answer) for m in (wrong, mine, unknown)]
    assert all(a == answers[0] for a in answers) and answers[0]["error"] == "invalid_grant"
    assert "mot de passe d'application" in wrong.authentication_error
    assert [e.action for e in rows(app, AuditEvent, AuditEvent.action.like("host.wallet%"))] == [
        "host.wallet_password_refused"]
    page = ana.get("/compte/applications/").text
    assert "votre mot de passe du portefeuille a été saisi" in page


def test_an_unconfirmed_address_does_not_log_in(app, wallet, ana):
    password = app_password(ana)
    ana.post("/compte/adresses", data={"csrf_token": _csrf(ana), "email": "ana.old@example.org"})
    assert not moodle_for(wallet, password, email="ana.old@example.org").authenticate()
    assert moodle_for(wallet, password).authenticate()


def _csrf(client) -> str:
    from tests.conftest import csrf_from

    return csrf_from(client.get("/compte/").text)


def test_a_cut_off_app_password_stops_the_partner_at_once(app, wallet, ana, badges):
    from wallet.models import HostAccess

    moodle = moodle_for(wallet, app_password(ana))
    assert moodle.collections() == []
    [access] = rows(app, HostAccess)
    assert ana.post(f"/compte/applications/{access.id}/couper", data={"csrf_token": _csrf(ana)}).status_code == 302
    response = requests.get(wallet + "/v2/backpack/collections",
                            headers={"Authorization": "Bearer " + moodle.access_token}, timeout=10)
    assert response.status_code == 401
    assert response.json()["result"] == [] and response.json()["status"]["success"] is False
    moodle.access_token = None
    assert not moodle.authenticate()


def test_an_expired_token_is_refused_in_the_envelope(app, wallet, ana, clock):
    moodle = moodle_for(wallet, app_password(ana))
    assert moodle.authenticate()
    clock.advance(hours=1, seconds=1)
    response = requests.get(wallet + "/v2/backpack/collections",
                            headers={"Authorization": "Bearer " + moodle.access_token}, timeout=10)
    assert response.status_code == 401 and response.json()["result"] == []


def test_the_issuer_side_of_badgr_is_refused(app, wallet, ana):
    moodle = moodle_for(wallet, app_password(ana))
    assert moodle.authenticate()
    headers = {"Authorization": "Bearer " + moodle.access_token, "Content-Type": "application/json"}
    for path in ("/v2/issuers", "/v2/issuers/abc/badgeclasses", "/v2/badgeclasses/abc/assertions"):
        response = requests.post(wallet + path, data=json.dumps({"name": "x"}), headers=headers, timeout=10)
        assert response.status_code == 403, path
        assert response.json()["result"] == [] and response.json()["status"]["success"] is False


def test_a_badge_for_another_address_lands_not_yet_yours(app, wallet, ana, badges):
    from wallet.models import Badge

    moodle = moodle_for(wallet, app_password(ana))
    hosted = badges.ob2_hosted("/badges/assertion/3", recipient=badges.recipient("ana.centre@example.org"))
    moodle.import_badge(hosted.url)
    answer = json.loads(moodle.http.sent[-1].answer)
    assert answer["result"][0]["pending"] is True
    [badge] = rows(app, Badge)
    assert (badge.status, badge.matched) == ("valid", False)
    assert "pas encore à moi" in ana.get("/badges/").text


def test_a_badge_of_another_learner_is_refused(app, wallet, ana, outbox, badges):
    from wallet.models import Badge

    learner(app, outbox, email="bob@example.org", name="Bob")
    moodle = moodle_for(wallet, app_password(ana))
    hosted = badges.ob2_hosted("/badges/assertion/4", recipient=badges.recipient("bob@example.org", hashed=False))
    with pytest.raises(MoodleError, match="RECIPIENT_MISMATCH"):
        moodle.import_badge(hosted.url)
    assert count(app, Badge) == 0


@pytest.mark.parametrize("case", ["forged", "blocked_host", "not_json", "50_mb", "no_url", "unreachable"])
def test_bad_pushes_get_a_clear_answer_and_store_nothing(app, wallet, ana, badges, case, fake_server):
    from wallet.models import Badge, HostPush

    moodle = moodle_for(wallet, app_password(ana))
    assert moodle.authenticate()
    headers = {"Authorization": "Bearer " + moodle.access_token, "Content-Type": "application/json"}
    if case == "forged":  # a copy on the centre's host claiming an issuer that does not allow that host
        hosted = badges.ob2_hosted("/badges/assertion/5", issuer_extra={
            "verification": {"allowedOrigins": ["issuer.example"]}})
        body, expected = json.dumps({"url": hosted.url}), (400, "INVALID_BADGE")
    elif case == "blocked_host":  # a loopback port that is not allowed: blocked before connecting
        fake_server.json("/a", {"id": fake_server.url("/a")})
        body, expected = json.dumps({"url": fake_server.url("/a")}), (400, "UNVERIFIABLE_BADGE")
    elif case == "unreachable":
        body, expected = json.dumps({"url": badges.url("/nothing-here")}), (400, "INVALID_BADGE")
    elif case == "not_json":
        body, expected = "url=https://example.org", (400, None)
    elif case == "50_mb":
        body, expected = json.dumps({"url": "https://a.example/" + "x" * (50 * 1024 * 1024)}), (413, None)
    else:
        body, expected = json.dumps({"href": badges.url("/x")}), (400, None)
    response = requests.post(wallet + "/v2/backpack/import", data=body, headers=headers, timeout=60)
    answer = response.json()
    assert response.status_code == expected[0]
    assert answer["result"] == [] and answer["status"]["success"] is False
    assert answer["status"]["description"]
    if expected[1]:
        assert answer["validationErrors"][0]["name"] == expected[1]
        assert len(answer["validationErrors"][0]["description"]) > 20  # says what went wrong
    assert count(app, Badge) == 0
    assert fake_server.hits == {}
    pushes = rows(app, HostPush)
    assert all(p.outcome == "refused" and p.badge_id is None for p in pushes)


def test_repeated_wrong_logins_are_slowed_down_per_account_and_address(app, wallet, ana):
    statuses = [requests.post(wallet + "/o/token", data={"username": ANA, "password": "wrong"}, timeout=10)
                for _ in range(6)]
    assert [r.status_code for r in statuses] == [400] * 5 + [429]
    assert statuses[-1].json()["error"] == "slow_down" and statuses[-1].headers.get("Retry-After")
    # Another account from the same address is not locked by Ana's neighbour.
    other = requests.post(wallet + "/o/token", data={"username": "zoe@example.org", "password": "x"}, timeout=10)
    assert other.status_code == 400
