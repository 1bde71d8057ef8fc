"""Partner backpacks as deployed servers run them (PROTOCOLS.md §9.3): a Badgr-like partner on
loopback (tests/fakes/badgr_backpack.py, after badgr-server's code) — its consent page on its web
front end, its refusal of offline_access at registration, its `results` envelope, no revocation
URL — and RFC 8414 revocation for OB 3.0 partners."""

from __future__ import annotations

import json
from datetime import timedelta
from urllib.parse import parse_qs, parse_qsl, urlsplit

import pytest
from sqlalchemy import func, select

from tests.fakes.badgr_backpack import BADGE_CONNECT_SCOPES, BadgrBackpack
from tests.fakes.partner import OB2_READ, FakePartner
from tests.fakes.server import FakeServer
from tests.service.connections_helpers import connect, ob3_credentials, register
from tests.service.connections_helpers import connection_of as _connection
from tests.service.connections_helpers import http_of as _http
from wallet.db import new_session
from wallet.models import Badge, PartnerBackpack, utcnow
from wallet.partners import client as service
from wallet.partners.client import wire as client
from wallet.partners.client.wire import PartnerError

NAMES = ["Premiers secours", "Accueil du public", "Travail en équipe"]


@pytest.fixture
def app_config(app_config, badgr, partner):
    # The front end is named too: outside the allow list every URL must be https.
    app_config["FETCH_ALLOW"] = f"{badgr.authority},{badgr.front.authority},{partner.authority}"
    return app_config


def _badges(session, user) -> list[str]:
    session.rollback()
    return sorted(session.scalars(select(Badge.name).where(Badge.owner_id == user.id)))


def connect_badgr(app, user, badgr: BadgrBackpack, backpack_id: int, now=None):
    """Start, consent on Badgr's front end, come back: the first SyncResult."""
    session = new_session(app)
    try:
        url = service.start_connect(session, user, backpack_id, app.config, now=now)
        args = dict(parse_qsl(urlsplit(badgr.consent(url)).query))
        return service.finish_connect(session, user, backpack_id, args, _http(app), app.config, now=now)
    finally:
        session.close()


# --- discovery and registration -----------------------------------------------------------------

def test_badgr_is_discovered_through_its_redirect_and_registered_after_refusing_offline_access(
        app, badgr, session):
    row = session.get(PartnerBackpack, register(app, badgr).id)
    assert badgr.hits["/.well-known/badgeconnect.json"] == 1 and badgr.hits[badgr.manifest_path] == 1
    assert row.protocol == "ob21" and row.name == "Badgr"
    assert row.api_base == badgr.origin + "/bcv1"
    assert row.authorization_url == badgr.front.url("/auth/oauth2/authorize")  # another origin: accepted
    assert row.token_url == badgr.origin + "/o/token" and row.registration_url == badgr.origin + "/o/register"
    assert row.tos_url == "https://badgr.com/terms-of-service.html"  # a link on badgr.com, never fetched
    assert row.revocation_url is None
    assert badgr.hits["/.well-known/oauth-authorization-server"] == 1  # RFC 8414 asked, not there
    assert row.logo and row.logo.startswith(b"\x89PNG")  # STATIC_URL's double slash and all
    first, second = badgr.registrations
    assert first["scope"] == f"{OB2_READ} offline_access"
    assert second["scope"] == OB2_READ and {k: v for k, v in first.items() if k != "scope"} == {
        k: v for k, v in second.items() if k != "scope"}
    assert row.scopes == OB2_READ  # what was granted is remembered
    assert len(badgr.clients) == 1


def test_a_server_refusing_every_scope_is_asked_twice_then_not_registered(app, badgr, session):
    badgr.allowed_registration_scopes = set()
    with pytest.raises(PartnerError) as caught:
        register(app, badgr)
    assert caught.value.code == "scope_refused"
    assert len(badgr.registrations) == 2  # once more, never a third time
    message = service.message_for(caught.value.code, caught.value.params)
    assert "Badge Connect Scopes only" in message and "Rien n'a été enregistré" in message
    assert session.scalar(select(func.count(PartnerBackpack.id))) == 0
    assert badgr.clients == {}


def test_a_refusal_for_scope_and_something_else_ends_with_the_other_reason(app, badgr, session):
    # Badgr wants https URIs: a wallet at http://wallet.example is refused for its client_uri (and,
    # the first time, for offline_access too: DRF reports every field at once).
    app.config["BASE_URL"] = "http://wallet.example"
    with pytest.raises(PartnerError) as caught:
        register(app, badgr)
    assert caught.value.code == "registration_failed" and len(badgr.registrations) == 2
    assert "client_uri: Must be a valid HTTPS URI" in service.message_for(caught.value.code, caught.value.params)
    assert session.scalar(select(func.count(PartnerBackpack.id))) == 0


def test_a_refusal_that_is_not_about_scope_is_not_retried(app, partner, session):
    partner.json("/o/register", {"error": "invalid_redirect_uri", "error_description": "Redirect URI refused"},
                 status=400, content_type="application/json")
    with pytest.raises(PartnerError) as caught:
        register(app, partner)
    assert caught.value.code == "registration_failed" and partner.hits["/o/register"] == 1
    assert "Redirect URI refused" in service.message_for(caught.value.code, caught.value.params)
    assert session.scalar(select(func.count(PartnerBackpack.id))) == 0


@pytest.mark.parametrize("url", ["http://front.example/auth/oauth2/authorize", "javascript:alert(1)",
                                 "https://10.0.0.7/auth/oauth2/authorize"])
def test_an_authorization_page_elsewhere_must_still_be_https_and_public(app, partner, session, url):
    partner.discovery_patch = {"components": {"securitySchemes": {"OAuth2ACG": {"flows": {"authorizationCode": {
        "authorizationUrl": url}}}}}}
    with pytest.raises(PartnerError) as caught:
        register(app, partner)
    assert caught.value.code == "url_refused"
    assert partner.registrations == []


def test_an_authorization_page_on_another_https_origin_is_accepted(app, partner, session):
    partner.discovery_patch = {"components": {"securitySchemes": {"OAuth2ACG": {"flows": {"authorizationCode": {
        "authorizationUrl": "https://app.partner.example/oauth/authorize"}}}}}}
    row = register(app, partner)
    assert row.authorization_url == "https://app.partner.example/oauth/authorize"


# --- the learner's flow -----------------------------------------------------------------------

def test_full_flow_with_badgr_imports_every_badge_named(app, badgr, learner, session):
    urls = [badgr.award(name) for name in NAMES]
    backpack = register(app, badgr)
    result = connect_badgr(app, learner, badgr, backpack.id)
    assert result.complete and result.imported == 3
    assert sorted(item.label for item in result.items) == sorted(NAMES)  # names, not URLs
    assert not any(item.label.startswith("http") for item in result.items)
    assert all(item.status == "valid" for item in result.items), [(i.label, i.status) for i in result.items]
    assert _badges(session, learner) == sorted(NAMES)
    stored = set(session.scalars(select(Badge.credential_id).where(Badge.owner_id == learner.id)))
    assert stored == set(urls)
    # Only the read scope went to the consent page and to the token request (Badgr checks both).
    (authorize,) = [r for r in badgr.front.requests if r.path == "/auth/oauth2/authorize"]
    assert parse_qs(authorize.query)["scope"] == [OB2_READ]
    (token_request,) = [r for r in badgr.requests if r.path == "/o/token"]
    assert parse_qs(token_request.body.decode())["scope"] == [OB2_READ]
    connection = _connection(session, learner)
    assert connection.status == "active" and connection.last_error is None
    assert connection.refresh_token_enc  # registered with the refresh_token grant: Badgr gives one
    assert connection.token_expires_at > utcnow() + timedelta(hours=23)  # 86400 s


def test_badgr_pages_are_followed_by_their_link_header(app, badgr, learner, session):
    for i in range(51):  # the wallet asks 50 a page
        badgr.award(f"Badge {i + 1:02d}")
    backpack = register(app, badgr)
    result = connect_badgr(app, learner, badgr, backpack.id)
    assert result.complete and result.imported == 51
    pages = [parse_qs(r.query) for r in badgr.requests if r.path == "/bcv1/assertions"]
    assert [(p["limit"], p["offset"]) for p in pages] == [(["50"], ["0"]), (["50"], ["50"])]


def test_an_unknown_page_envelope_is_an_error_that_keeps_since_and_is_retried_later(app, badgr, learner, session):
    badgr.award(NAMES[0])
    backpack = register(app, badgr)
    badgr.results_key = "items"
    now = utcnow()
    result = connect_badgr(app, learner, badgr, backpack.id, now=now)
    assert not result.complete and result.error == "unknown_page" and result.items == []
    connection = _connection(session, learner)
    assert connection.since is None  # nothing skipped for good
    assert connection.status == "active" and connection.last_error == "unknown_page" and connection.failures == 1
    assert connection.next_sync_at == now + timedelta(minutes=30)
    assert _badges(session, learner) == []
    learner_text = service.message_for("unknown_page", {"until": connection.next_sync_at})
    assert "ne sait pas lire" in learner_text and "%(" not in learner_text
    (summary,) = service.admin_overview(session)
    assert summary.connections == 1 and summary.failing == 1
    assert "items, status" in summary.problem and summary.problem_at is not None

    later = now + timedelta(minutes=31)
    again = service.sync_now(session, learner, connection.id, _http(app), app.config, now=later)
    assert again.error == "unknown_page"
    connection = _connection(session, learner)
    assert connection.failures == 2 and connection.next_sync_at == later + timedelta(hours=1)  # backoff

    badgr.results_key = "results"
    mended = service.sync_now(session, learner, connection.id, _http(app), app.config, now=later)
    assert mended.complete and [item.label for item in mended.items] == [NAMES[0]]
    connection = _connection(session, learner)
    assert connection.since is not None and connection.failures == 0 and connection.last_error is None
    (summary,) = service.admin_overview(session)
    assert summary.problem is None and summary.failing == 0


def test_an_unknown_page_envelope_stops_ob3_too():
    with FakeServer() as host:
        host.json("/api/credentials", {"data": [{"id": "urn:x"}]})
        endpoints = client.Endpoints(protocol="ob30", base_url=host.origin, api_base=host.origin + "/api",
                                     token_url=host.url("/token"), revocation_url=None, client_id="c")
        from wallet.http import SafeHttp

        http = SafeHttp(allow=[host.authority])
        with pytest.raises(PartnerError) as caught:
            client.fetch_page(http, endpoints, "t", host.url("/api/credentials"))
        assert caught.value.code == "unknown_page" and caught.value.params["keys"] == "data"
        # An empty but known list is an empty page, not an error.
        host.json("/api/credentials", {"credential": [], "compactJwsString": []})
        assert client.fetch_page(http, endpoints, "t", host.url("/api/credentials")).items == []


def test_without_a_refresh_token_the_learner_is_asked_to_reconnect_when_access_ends(app, badgr, learner, session):
    badgr.refresh_tokens_enabled = False
    badgr.award(NAMES[0])
    backpack = register(app, badgr)
    now = utcnow()
    first = connect_badgr(app, learner, badgr, backpack.id, now=now)
    assert first.imported == 1
    connection = _connection(session, learner)
    assert connection.refresh_token_enc is None
    badgr.award(NAMES[1])
    calls, pages = badgr.token_calls, len(badgr.pages_requested())

    result = service.sync_now(session, learner, connection.id, _http(app), app.config, now=now + timedelta(days=2))
    assert result.error == "access_ended" and result.retry_at is None
    assert badgr.token_calls == calls and len(badgr.pages_requested()) == pages  # nothing sent
    connection = _connection(session, learner)
    assert connection.status == "reconnect" and connection.last_error == "access_ended"
    assert connection.access_token_enc is None and connection.next_sync_at is None
    text = service.message_for("access_ended", {"partner": "Badgr"})
    assert "Badgr" in text and "Reconnectez-vous" in text
    assert _badges(session, learner) == [NAMES[0]]  # kept
    with pytest.raises(service.ConnectionProblem) as caught:
        service.sync_now(session, learner, connection.id, _http(app), app.config, now=now + timedelta(days=2))
    assert caught.value.code == "reconnect_needed"
    assert service.run_due_syncs(app, now=now + timedelta(days=3)) == 0  # the worker leaves it alone

    again = connect_badgr(app, learner, badgr, backpack.id, now=now + timedelta(days=2))
    assert again.complete and _badges(session, learner) == sorted(NAMES[:2])
    assert _connection(session, learner).status == "active"


def test_a_401_without_a_refresh_token_asks_to_reconnect(app, badgr, learner, session):
    badgr.refresh_tokens_enabled = False
    backpack = register(app, badgr)
    connect_badgr(app, learner, badgr, backpack.id)
    badgr.expire_access_tokens()  # the partner says 401 before the wallet's clock does
    result = service.sync_now(session, learner, _connection(session, learner).id, _http(app), app.config)
    assert result.error == "access_ended"
    assert _connection(session, learner).status == "reconnect"


# --- disconnect -------------------------------------------------------------------------------

def test_disconnecting_badgr_says_the_access_must_be_removed_there(app, badgr, learner, session):
    badgr.award(NAMES[0])
    backpack = register(app, badgr)
    connect_badgr(app, learner, badgr, backpack.id)
    asked = badgr.hits["/.well-known/oauth-authorization-server"]
    done = service.disconnect(session, learner, _connection(session, learner).id, _http(app), app.config)
    assert done == service.Disconnected("Badgr", revoked=False, revocable=False)
    assert badgr.hits["/.well-known/oauth-authorization-server"] == asked + 1  # looked again
    assert badgr.revocations == [] and not any("revoke" in r.path for r in badgr.requests)
    assert _connection(session, learner) is None
    assert _badges(session, learner) == [NAMES[0]]


def _metadata(partner: FakePartner, **extra) -> None:
    partner.json("/.well-known/oauth-authorization-server", {
        "issuer": partner.origin, "authorization_endpoint": partner.url("/o/authorize"),
        "token_endpoint": partner.url("/o/token"), "revocation_endpoint": partner.url("/o/revoke"), **extra},
        content_type="application/json")


def _no_revocation_url(document: dict) -> dict:
    del document["components"]["securitySchemes"]["OAuth2ACG"]["x-imssf-revocationUrl"]
    return document


def test_ob3_disconnect_revokes_at_the_rfc8414_revocation_endpoint(app, partner, factory, learner, session):
    partner.discovery_patch = _no_revocation_url
    _metadata(partner)
    row = register(app, partner)
    assert row.revocation_url == partner.url("/o/revoke")
    partner.add(*ob3_credentials(factory, 1))
    connect(app, learner, partner, row.id)
    (token,) = partner.access_tokens.values()
    done = service.disconnect(session, learner, _connection(session, learner).id, _http(app), app.config)
    assert done == service.Disconnected("Partenaire Formation", revoked=True, revocable=True)
    assert {r["token_type_hint"] for r in partner.revocations} == {"access_token", "refresh_token"}
    assert token.access_revoked and token.refresh_revoked


def test_metadata_for_another_issuer_is_not_used(app, partner, session):
    partner.discovery_patch = _no_revocation_url
    _metadata(partner, issuer="https://honest.example")
    assert register(app, partner).revocation_url is None


def test_metadata_published_after_registration_is_found_at_disconnect(app, partner, factory, learner, session):
    partner.discovery_patch = _no_revocation_url
    row = register(app, partner)
    assert row.revocation_url is None
    partner.add(*ob3_credentials(factory, 1))
    connect(app, learner, partner, row.id)
    _metadata(partner)
    done = service.disconnect(session, learner, _connection(session, learner).id, _http(app), app.config)
    assert done.revoked and done.revocable and len(partner.revocations) == 2
    session.rollback()
    assert session.get(PartnerBackpack, row.id).revocation_url == partner.url("/o/revoke")


def test_a_revocation_the_partner_does_not_confirm_is_reported(app, partner, factory, learner, session):
    row = register(app, partner)
    partner.add(*ob3_credentials(factory, 1))
    connect(app, learner, partner, row.id)
    partner.route("/o/revoke", "busy", status=503)
    done = service.disconnect(session, learner, _connection(session, learner).id, _http(app), app.config)
    assert done == service.Disconnected("Partenaire Formation", revoked=False, revocable=True)
    assert _connection(session, learner) is None  # forgotten here all the same


def test_the_fake_follows_badgr_profile_and_error_shapes(app, badgr, learner):
    """The Badgr-like fake's own wire format, checked once (what the wallet reads elsewhere)."""
    import requests

    assert requests.get(badgr.url("/bcv1/assertions")).json() == {
        "status": {"error": None, "statusCode": 401, "statusText": "UNAUTHENTICATED"}}
    refused = requests.post(badgr.url("/o/register"), json={"client_name": "x"})
    assert refused.status_code == 400 and refused.json()["error"] == "client_uri: This field is required."
    assert BADGE_CONNECT_SCOPES[0] == OB2_READ
    backpack = register(app, badgr)
    connect_badgr(app, learner, badgr, backpack.id)
    (token,) = badgr.access_tokens.values()
    token.scope = " ".join(BADGE_CONNECT_SCOPES)
    profile = requests.get(badgr.url("/bcv1/profile"), headers={"Authorization": f"Bearer {token.access_token}"})
    assert profile.json()["results"] == [{"name": "Ana Martin", "email": "ana@example.org",
                                          "@context": "https://w3id.org/openbadges/v2"}]
    page = requests.get(badgr.url("/bcv1/assertions?limit=1&offset=1"),
                        headers={"Authorization": f"Bearer {token.access_token}"})
    assert page.headers["Link"].startswith("<") and 'rel="first"' in page.headers["Link"]
    assert "X-Total-Count" not in page.headers and json.loads(page.text)["results"] == []
