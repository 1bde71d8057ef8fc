"""The wallet as a Badge Connect 2.1 provider for a Moodle 4.5 in its "Open Badges v2.1" mode:
discovery, dynamic registration, consent with PKCE, tokens, refresh, revocation, export — the
Moodle-like client (tests/fakes/moodle_client.py) against the live app over real HTTP; the
learner's browser is a test client with CSRF on."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
from sqlalchemy import func, select

from tests.conftest import csrf_from, plain
from tests.fakes.moodle_client import MoodleError, Ob21Backpack
from tests.web.host_helpers import *
from tests.web.host_helpers import learner
from wallet.partners.host.common import SCOPE_ASSERTION_CREATE, SCOPE_ASSERTION_READ, SCOPE_PROFILE_READ

ANA = "ana@example.org"


def count(app, model, *where) -> int:
    from wallet.db import new_session

    with new_session(app) as session:
        return session.scalar(select(func.count()).select_from(model).where(*where))


def rows(app, model, *where):
    from wallet.db import new_session

    with new_session(app) as session:
        return list(session.scalars(select(model).where(*where)))


@pytest.fixture
def ana(app, outbox, wallet):
    return learner(app, outbox)


def consent(client, wallet: str, url: str, decision: str = "allow"):
    """The learner's browser: open the consent page, answer it; the wallet's redirect."""
    path = url[len(wallet):]
    page = client.get(path)
    assert page.status_code == 200, page.text
    return client.post(path, data={"csrf_token": csrf_from(page.text), "decision": decision})


@pytest.fixture
def moodle(wallet, moodle_site):
    site = Ob21Backpack(web_url=wallet, wwwroot=moodle_site.origin)
    site.discover()
    site.register()
    return site


@pytest.fixture
def connected(moodle, ana, wallet):
    answer = consent(ana, wallet, moodle.login_url())
    moodle.upgrade_token(moodle.code_from(answer.headers["Location"]))
    return moodle


def test_discovery_gives_moodle_every_endpoint_and_the_scopes_in_a_useful_order(wallet, moodle):
    assert set(moodle.endpoints) == {"authorization_endpoint", "token_endpoint", "registration_endpoint",
                                     "tokenrevocation_endpoint", "termsofservice_endpoint", "privacypolicy_endpoint"}
    assert all(url.startswith(wallet + "/") for url in moodle.endpoints.values())
    assert moodle.api_base == wallet + "/ims/ob/v2p1"
    assert moodle.scopes_supported.split() == [SCOPE_ASSERTION_READ, SCOPE_ASSERTION_CREATE, SCOPE_PROFILE_READ]
    registration = json.loads(moodle.http.sent[1].answer)
    assert moodle.http.sent[1].status == 201
    assert registration["client_secret_expires_at"] == 0 and registration["token_endpoint_auth_method"] == \
        "client_secret_basic"
    assert registration["redirect_uris"] == [moodle.callback_url]


def test_moodle_connects_with_the_learners_consent_and_exports_a_badge(app, wallet, ana, moodle, badges):
    from wallet.models import Badge, HostAccess, HostClient, HostPush

    url = moodle.login_url()
    query = parse_qs(urlsplit(url).query)
    assert query["scope"] == [f"{SCOPE_ASSERTION_CREATE} {SCOPE_PROFILE_READ}"]  # Moodle left the first out
    page = ana.get(url[len(wallet):])
    assert "Le centre de formation « Centre de formation Exemple » veut déposer des badges dans votre " \
           "portefeuille" in plain(page.text)
    assert "form-action 'self' " + moodle.wwwroot in page.headers["Content-Security-Policy"]
    answer = ana.post(url[len(wallet):], data={"csrf_token": csrf_from(page.text), "decision": "allow"})
    assert answer.status_code == 302
    token = moodle.upgrade_token(moodle.code_from(answer.headers["Location"]))
    sent = moodle.http.sent[-1]
    assert sent.headers["Authorization"].startswith("Basic ") and b"client_secret" not in sent.body
    assert token["scope"] == f"{SCOPE_ASSERTION_CREATE} {SCOPE_PROFILE_READ}" and token["expires_in"] == 3600
    hosted = badges.ob2_hosted("/badges/assertion.php")
    result = moodle.export(hosted.assertion)
    assert result["ok"], result
    assert result["answer"] == {"status": {"error": None, "statusCode": 200, "statusText": "OK"}}  # no "result"
    [badge] = rows(app, Badge)
    assert (badge.source, badge.status, badge.matched, badge.credential_id) == ("push", "valid", True, hosted.url)
    [client] = rows(app, HostClient)
    [access] = rows(app, HostAccess)
    assert (access.kind, access.client_id, access.user_id is not None) == ("oauth", client.id, True)
    [push] = rows(app, HostPush)
    assert (push.mode, push.partner, push.outcome) == ("badge_connect", "Centre de formation Exemple", "imported")
    # Secrets at rest are hashes only (T34): no column holds the client secret or a token.
    from wallet.models import HostToken

    stored = " ".join(str(getattr(row, c.key)) for row in rows(app, HostToken) + [client]
                      for c in type(row).__table__.columns)
    for secret in (moodle.client_secret, token["access_token"], token["refresh_token"]):
        assert secret not in stored


def test_the_pushed_copy_is_only_a_pointer(app, wallet, connected, badges, moodle_site):
    from wallet.models import Badge

    hosted = badges.ob2_hosted("/badges/assertion/7")
    forged = {**hosted.assertion, "badge": {**hosted.badge, "name": "Diplôme d'ingénieur"}}
    assert connected.export(forged)["ok"]
    [badge] = rows(app, Badge)
    assert badge.name == "Premiers secours"  # as the issuer's own documents say
    assert moodle_site.hits["/badges/assertion/7"] == 1 and moodle_site.hits["/badges/1"] >= 1


def test_refresh_sends_the_client_credentials_in_the_form(app, wallet, connected, badges):
    first = connected.token["token"]
    answer = connected.refresh()
    sent = connected.http.sent[-1]
    form = parse_qs(sent.body.decode())
    assert "Authorization" not in sent.headers
    assert form["client_id"] == [connected.client_id] and form["client_secret"] == [connected.client_secret]
    assert form["grant_type"] == ["refresh_token"] and answer["access_token"] != first
    # The old access token went with the old refresh token.
    old = requests.get(connected.api_base + "/profile", headers={"Authorization": "Bearer " + first}, timeout=10)
    assert old.status_code == 401 and old.json()["status"]["statusText"] == "UNAUTHENTICATED"
    assert connected.export(badges.ob2_hosted("/badges/assertion/8").assertion)["ok"]


def test_an_expired_token_is_refused_and_moodle_refreshes_it(app, wallet, connected, badges, clock):
    clock.advance(hours=1, seconds=5)
    stale = requests.post(connected.api_base + "/assertions", data=json.dumps({"assertion": {}}),
                          headers={"Authorization": "Bearer " + connected.token["token"],
                                   "Content-Type": "application/json"}, timeout=10)
    assert stale.status_code == 401 and stale.json()["status"]["statusText"] == "UNAUTHENTICATED"
    result = connected.export(badges.ob2_hosted("/badges/assertion/9").assertion, now=time.time() + 3700)
    assert result["ok"] and connected.http.sent[-2].url == connected.endpoints["token_endpoint"]


def test_rfc7009_revocation_cuts_the_token(app, wallet, connected):
    token = connected.token["token"]
    revoke = requests.post(connected.endpoints["tokenrevocation_endpoint"], data={"token": token,
                           "token_type_hint": "access_token"}, auth=(connected.client_id, connected.client_secret),
                           timeout=10)
    assert revoke.status_code == 200
    unknown = requests.post(connected.endpoints["tokenrevocation_endpoint"], data={"token": "nope"},
                            auth=(connected.client_id, connected.client_secret), timeout=10)
    assert unknown.status_code == 200
    answer = requests.get(connected.api_base + "/profile", headers={"Authorization": "Bearer " + token}, timeout=10)
    assert answer.status_code == 401


def test_a_replayed_code_is_refused_and_revokes_what_it_gave(app, wallet, ana, moodle):
    answer = consent(ana, wallet, moodle.login_url())
    code = moodle.code_from(answer.headers["Location"])
    moodle.upgrade_token(code)
    token = moodle.token["token"]
    with pytest.raises(MoodleError, match="400"):
        moodle.upgrade_token(code)
    profile = requests.get(moodle.api_base + "/profile", headers={"Authorization": "Bearer " + token}, timeout=10)
    assert profile.status_code == 401


def test_a_code_lives_ten_minutes(app, wallet, ana, moodle, clock):
    code = moodle.code_from(consent(ana, wallet, moodle.login_url()).headers["Location"])
    clock.advance(minutes=10, seconds=1)
    with pytest.raises(MoodleError, match="invalid_grant"):
        moodle.upgrade_token(code)


def test_pkce_is_required_and_checked(app, wallet, ana, moodle):
    url = moodle.login_url()
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items() if not k.startswith("code_challenge")}
    page = ana.get(parts.path + "?" + urlencode(query))
    assert page.status_code == 302 and "error=invalid_request" in page.headers["Location"]
    answer = consent(ana, wallet, url)
    code = moodle.code_from(answer.headers["Location"])
    moodle.code_verifier = base64.urlsafe_b64encode(secrets.token_bytes(43)).decode().rstrip("=")
    with pytest.raises(MoodleError, match="invalid_grant"):
        moodle.upgrade_token(code)


def test_an_unregistered_redirect_uri_is_never_redirected_to(app, wallet, ana, moodle):
    from wallet.models import HostAuthorizationCode

    url = moodle.login_url().replace("oauth2callback.php", "evil.php")
    page = ana.get(url[len(wallet):])
    assert page.status_code == 400 and "Location" not in page.headers
    assert "Demande d'accès incorrecte" in page.text
    assert count(app, HostAuthorizationCode) == 0


def test_refusing_gives_the_partner_nothing(app, wallet, ana, moodle):
    from wallet.models import HostAccess, HostAuthorizationCode

    answer = consent(ana, wallet, moodle.login_url(), decision="deny")
    assert answer.status_code == 302
    with pytest.raises(MoodleError, match="access_denied"):
        moodle.code_from(answer.headers["Location"])
    assert count(app, HostAccess) == 0 and count(app, HostAuthorizationCode) == 0


def test_the_consent_page_asks_to_log_in_first_and_comes_back(app, wallet, moodle):
    url = moodle.login_url()
    anonymous = app.test_client()
    response = anonymous.get(url[len(wallet):])
    assert response.status_code == 302 and "/connexion" in response.headers["Location"]
    assert "o/authorize" in response.headers["Location"]


def test_moodles_token_cannot_read_assertions_it_did_not_ask_for(app, wallet, connected):
    answer = requests.get(connected.api_base + "/assertions",
                          headers={"Authorization": "Bearer " + connected.token["token"]}, timeout=10)
    assert answer.status_code == 401 and answer.json()["status"]["statusText"] == "PERMISSION_DENIED"
    profile = requests.get(connected.api_base + "/profile",
                           headers={"Authorization": "Bearer " + connected.token["token"]}, timeout=10)
    assert profile.json()["profile"] == {"@context": "https://w3id.org/openbadges/v2", "type": "Profile",
                                         "name": "Ana Martin", "email": ANA}


def _full_token(ana, wallet, moodle) -> str:
    """A client that asks for every scope (not Moodle's quirk): authorize, consent, exchange."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
    params = {"client_id": moodle.client_id, "response_type": "code", "redirect_uri": moodle.callback_url,
              "state": "s", "scope": moodle.scopes_supported, "code_challenge": challenge,
              "code_challenge_method": "S256"}
    answer = consent(ana, wallet, moodle.endpoints["authorization_endpoint"] + "?" + urlencode(params))
    code = parse_qs(urlsplit(answer.headers["Location"]).query)["code"][0]
    token = requests.post(moodle.endpoints["token_endpoint"], auth=(moodle.client_id, moodle.client_secret),
                          data={"grant_type": "authorization_code", "code": code,
                                "redirect_uri": moodle.callback_url, "code_verifier": verifier}, timeout=10)
    assert token.status_code == 200, token.text
    return token.json()["access_token"]


def test_assertions_are_paged_with_link_and_total(app, wallet, ana, moodle, connected, badges):
    for n in range(3):
        assert connected.export(badges.ob2_hosted(f"/badges/assertion/p{n}").assertion)["ok"]
    token = _full_token(ana, wallet, moodle)
    headers = {"Authorization": "Bearer " + token}
    first = requests.get(moodle.api_base + "/assertions?limit=2", headers=headers, timeout=10)
    assert first.status_code == 200 and first.headers["X-Total-Count"] == "3"
    assert len(first.json()["assertions"]) == 2 and first.json()["status"]["statusCode"] == 200
    links = first.headers["Link"]
    assert 'rel="next"' in links and 'rel="last"' in links and 'rel="first"' in links and 'rel="prev"' not in links
    second = requests.get(moodle.api_base + "/assertions?limit=2&offset=2", headers=headers, timeout=10)
    assert [a["id"] for a in second.json()["assertions"]] == [badges.url("/badges/assertion/p0")]
    assert 'rel="prev"' in second.headers["Link"] and 'rel="next"' not in second.headers["Link"]
    bad = requests.get(moodle.api_base + "/assertions?limit=-1", headers=headers, timeout=10)
    assert bad.status_code == 400 and bad.json()["status"]["statusText"] == "REQUEST_VALIDATION_ERROR"


@pytest.mark.parametrize("case", ["unreachable", "blocked_host", "not_json", "50_mb", "empty", "other_learner"])
def test_bad_exports_get_a_clear_status_and_store_nothing(app, wallet, outbox, connected, badges, fake_server, case):
    from wallet.models import Badge

    if case == "unreachable":  # a copy whose id points at nothing on the centre's host: forged
        hosted = badges.ob2_hosted("/badges/assertion/x")
        body, expected = json.dumps({"assertion": {**hosted.assertion, "id": badges.url("/nothing")}}), \
            (400, "INVALID_BADGE")
    elif case == "blocked_host":
        assertion = badges.ob2_assertion(fake_server.url("/a"), badges.url("/badges/1"), {"type": "HostedBadge"})
        body, expected = json.dumps({"assertion": assertion}), (400, "INVALID_BADGE")
    elif case == "not_json":
        body, expected = "<assertion/>", (400, "REQUEST_VALIDATION_ERROR")
    elif case == "50_mb":
        body, expected = json.dumps({"assertion": {"x": "y" * (50 * 1024 * 1024)}}), (413, "REQUEST_VALIDATION_ERROR")
    elif case == "empty":
        body, expected = json.dumps({"assertion": None, "signedAssertion": None}), (400, "REQUEST_VALIDATION_ERROR")
    else:
        learner(app, outbox, email="bob@example.org", name="Bob")
        hosted = badges.ob2_hosted("/badges/assertion/b", recipient=badges.recipient("bob@example.org", hashed=False))
        body, expected = json.dumps({"assertion": hosted.assertion}), (400, "RECIPIENT_PROFILE_MISMATCH")
    response = requests.post(connected.api_base + "/assertions", data=body, timeout=60,
                             headers={"Authorization": "Bearer " + connected.token["token"],
                                      "Content-Type": "application/json"})
    answer = response.json()
    assert (response.status_code, answer["status"]["statusText"]) == expected
    assert answer["status"]["statusCode"] == expected[0] and len(answer["status"]["error"]) > 20
    assert count(app, Badge) == 0 and fake_server.hits == {}


def test_an_authentic_badge_for_another_address_is_kept_not_yet_yours(app, wallet, connected, badges):
    from wallet.models import Badge

    hosted = badges.ob2_hosted("/badges/assertion/o", recipient=badges.recipient("ana.centre@example.org"))
    assert connected.export(hosted.assertion)["ok"]
    [badge] = rows(app, Badge)
    assert (badge.status, badge.matched) == ("valid", False)


@pytest.mark.parametrize("change, error", [
    ({"redirect_uris": ["http://evil.example/cb"]}, "invalid_redirect_uri"),
    ({"redirect_uris": []}, "invalid_redirect_uri"),
    ({"redirect_uris": ["https://a.example/cb", "https://b.example/cb"]}, "invalid_redirect_uri"),
    ({"redirect_uris": ["https://a.example/cb#x"]}, "invalid_client_metadata"),  # authlib says so first
    ({"grant_types": ["implicit"]}, "invalid_client_metadata"),
    ({"token_endpoint_auth_method": "none"}, "invalid_client_metadata"),
    ({"client_uri": "javascript:alert(1)"}, "invalid_client_metadata"),
])
def test_registration_refuses_what_the_profile_does_not_allow(app, wallet, change, error):
    body = {"client_name": "X", "client_uri": "https://a.example/", "redirect_uris": ["https://a.example/cb"],
            "grant_types": ["authorization_code", "refresh_token"], "response_types": ["code"],
            "token_endpoint_auth_method": "client_secret_basic", "scope": SCOPE_ASSERTION_CREATE, **change}
    answer = requests.post(wallet + "/o/register", json=body, timeout=10)
    assert answer.status_code == 400 and answer.json()["error"] == error, answer.text


def test_registration_reduces_unknown_scopes_and_needs_json(app, wallet):
    body = {"client_name": "X", "redirect_uris": ["https://a.example/cb"],
            "scope": f"{SCOPE_ASSERTION_CREATE} offline_access https://purl.imsglobal.org/spec/ob/v2p1/scope/profile.update"}
    answer = requests.post(wallet + "/o/register", json=body, timeout=10)
    assert answer.status_code == 201 and answer.json()["scope"] == SCOPE_ASSERTION_CREATE
    not_json = requests.post(wallet + "/o/register", data="client_name=X", timeout=10)
    assert not_json.status_code == 400 and not_json.json()["error"] == "invalid_client_metadata"
