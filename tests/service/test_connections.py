"""Partner backpacks, end to end against a real OAuth server on loopback (tests/fakes/partner.py):
discovery, registration, the learner's authorization flow, syncs, refresh, failures, disconnect.
SECURITY.md T21, T30–T36."""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import uuid
from datetime import timedelta
from urllib.parse import parse_qs, parse_qsl, urlsplit

import pytest
from sqlalchemy import func, select

from tests.fakes.badges import BadgeFactory
from tests.fakes.partner import OB2_API, OB3_READ, FakePartner
from tests.fakes.server import FakeServer
from tests.service.connections_helpers import (
    authorize,
    connect,
    make_learner,
    ob3_credentials,
    register,
)
from tests.service.connections_helpers import (
    connection_of as _connection,
)
from tests.service.connections_helpers import (
    http_of as _http,
)
from wallet.db import new_session
from wallet.keys import crypto
from wallet.models import Badge, Connection, OAuthFlow, PartnerBackpack, utcnow
from wallet.partners import client as service
from wallet.partners.client import wire as client
from wallet.partners.client.wire import PartnerError


@pytest.fixture
def other_partner():
    with FakePartner(protocol="ob30", name="Autre partenaire") as server:
        yield server


@pytest.fixture
def app_config(app_config, partner, other_partner):
    app_config["FETCH_ALLOW"] = f"{partner.authority},{other_partner.authority}"
    return app_config


@pytest.fixture
def logged():
    """Every log record of the test, whatever its level (pytest's logging plugin may be off)."""
    records: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record):
            # The fake partner's own server logs (authlib, werkzeug) are the partner's business.
            if not record.name.startswith(("authlib", "werkzeug")):
                records.append(f"{record.name}: {self.format(record)}")

    handler, root = Keep(logging.DEBUG), logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield records
    root.removeHandler(handler)
    root.setLevel(old_level)


def registered_secret(partner) -> str:
    (client_obj,) = partner.clients.values()
    return client_obj.client_secret


def _badge_count(session, user) -> int:
    session.rollback()
    return session.scalar(select(func.count(Badge.id)).where(Badge.owner_id == user.id))


# --- discovery and registration (Region staff) ----------------------------------------------

def test_ob3_discovery_registers_the_wallet_and_encrypts_the_secret(app, partner, session):
    row = register(app, partner)
    assert row.protocol == "ob30" and row.name == "Partenaire Formation"
    assert row.api_base == partner.origin + "/ims/ob/v3p0"
    assert row.token_url == partner.origin + "/o/token" and row.revocation_url == partner.origin + "/o/revoke"
    assert row.tos_url == partner.origin + "/tos" and row.privacy_url == partner.origin + "/privacy"
    assert row.issuer == partner.origin
    (sent,) = partner.registrations
    assert sent["redirect_uris"] == [f"http://127.0.0.1:5000/connexions/retour/{row.id}"]
    assert sent["token_endpoint_auth_method"] == "client_secret_basic"
    assert sent["grant_types"] == ["authorization_code", "refresh_token"] and sent["response_types"] == ["code"]
    assert sent["scope"] == f"{OB3_READ} offline_access"
    assert sent["tos_uri"] == "http://127.0.0.1:5000/cgu"
    assert sent["policy_uri"] == "http://127.0.0.1:5000/confidentialite"
    assert sent["software_id"] == service.SOFTWARE_ID and sent["software_version"]
    assert {"client_name", "client_uri", "logo_uri"} <= sent.keys()
    stored = session.get(PartnerBackpack, row.id)
    registered = partner.clients[stored.client_id]
    assert stored.client_secret_enc != registered.client_secret
    assert registered.client_secret not in stored.client_secret_enc
    assert crypto.decrypt(app.config, stored.client_secret_enc) == registered.client_secret
    assert stored.logo and stored.logo.startswith(b"\x89PNG") and stored.logo_type == "image/png"


def test_ob21_manifest_is_read_and_its_api_base_used(app, partner):
    partner.protocol = "ob21"
    row = register(app, partner)
    assert row.protocol == "ob21"
    assert row.api_base == partner.origin + OB2_API
    assert partner.registrations[0]["scope"].split()[0].endswith("/ob/v2p1/scope/assertion.readonly")


def test_a_reduced_scope_is_accepted_and_offline_access_then_not_asked(app, partner, learner, session):
    partner.registration_scope = OB3_READ
    row = register(app, partner)
    assert row.scopes == OB3_READ
    url = service.start_connect(session, learner, row.id, app.config)
    assert parse_qs(urlsplit(url).query)["scope"] == [OB3_READ]


def test_registering_the_same_partner_twice_is_refused(app, partner):
    register(app, partner)
    with pytest.raises(PartnerError) as caught:
        register(app, partner)
    assert caught.value.code == "already_registered"


MALICIOUS = {
    "private_ip": ({"components": {"securitySchemes": {"OAuth2ACG": {
        "x-imssf-registrationUrl": "https://10.0.0.5/o/register"}}}}, "url_refused"),
    "loopback_other_port": ({"components": {"securitySchemes": {"OAuth2ACG": {
        "x-imssf-registrationUrl": "http://127.0.0.1:6379/"}}}}, "url_refused"),
    "javascript": ({"components": {"securitySchemes": {"OAuth2ACG": {"flows": {"authorizationCode": {
        "authorizationUrl": "javascript:alert(1)"}}}}}}, "url_refused"),
    "file": ({"components": {"securitySchemes": {"OAuth2ACG": {"flows": {"authorizationCode": {
        "tokenUrl": "file:///etc/passwd"}}}}}}, "url_refused"),
    "other_origin": ({"components": {"securitySchemes": {"OAuth2ACG": {"flows": {"authorizationCode": {
        "tokenUrl": "https://evil.example/token"}}}}}}, "other_origin"),
    "issuer_mismatch": ({"components": {"securitySchemes": {"OAuth2ACG": {
        "x-imssf-issuer": "https://honest.example"}}}}, "issuer_mismatch"),
}


@pytest.mark.parametrize("case", sorted(MALICIOUS))
def test_a_malicious_discovery_document_is_refused(app, partner, session, case):
    partner.discovery_patch, code = MALICIOUS[case]
    with pytest.raises(PartnerError) as caught:
        register(app, partner)
    assert caught.value.code == code
    message = service.message_for(caught.value.code, caught.value.params)
    assert "%(" not in message and len(message) > 30
    assert partner.registrations == []  # never registered with it
    assert session.scalar(select(func.count(PartnerBackpack.id))) == 0


def test_a_logo_on_another_origin_is_never_fetched_and_the_partner_still_registers(app, partner, other_partner,
                                                                                  session):
    """T32's tracking pixel: the logo is only ever downloaded from the partner's own origin."""
    other_partner.route("/pixel", b"GIF89a", content_type="image/gif")
    partner.discovery_patch = {"info": {"x-imssf-image": other_partner.url("/pixel")}}
    row = session.get(PartnerBackpack, register(app, partner).id)
    assert row.client_id and row.logo is None
    assert other_partner.hits["/pixel"] == 0


def test_an_oversized_discovery_document_is_refused(app, partner, session):
    partner.discovery_body = json.dumps({"openapi": "3.0.1", "pad": "x" * (300 * 1024)}).encode()
    with pytest.raises(PartnerError) as caught:
        register(app, partner)
    assert caught.value.code == "too_large"
    assert "256" in service.message_for(caught.value.code, caught.value.params)
    assert session.scalar(select(func.count(PartnerBackpack.id))) == 0


def test_an_ob21_manifest_declaring_another_id_is_refused(app, partner):
    partner.protocol = "ob21"
    partner.discovery_patch = {"id": "https://honest.example/.well-known/badgeconnect.json"}
    with pytest.raises(PartnerError) as caught:
        register(app, partner)
    assert caught.value.code == "issuer_mismatch"


def test_a_failed_registration_leaves_no_partner_behind(app, partner, session):
    partner.registration_scope = "https://purl.imsglobal.org/spec/ob/v3p0/scope/profile.readonly"
    with pytest.raises(PartnerError) as caught:
        register(app, partner)
    assert caught.value.code == "scope_refused"
    assert session.scalar(select(func.count(PartnerBackpack.id))) == 0


# --- the learner's flow -----------------------------------------------------------------------

def test_full_flow_ob3_imports_every_credential_and_keeps_tokens_encrypted(app, partner, factory, learner,
                                                                        backpack, session, logged):
    partner.add(*ob3_credentials(factory, 3))
    url = service.start_connect(session, learner, backpack.id, app.config)
    query = parse_qs(urlsplit(url).query)
    assert query["scope"] == [f"{OB3_READ} offline_access"]  # least privilege (T36)
    assert query["code_challenge_method"] == ["S256"] and len(query["code_challenge"][0]) == 43
    assert query["redirect_uri"] == [f"http://127.0.0.1:5000/connexions/retour/{backpack.id}"]
    state = query["state"][0]
    assert len(state) >= 22  # ≥ 128 bits
    flow = session.scalar(select(OAuthFlow))
    assert flow.state_hash == hashlib.sha256(state.encode()).hexdigest() and state not in flow.state_hash
    assert flow.user_id == learner.id and flow.backpack_id == backpack.id

    args = authorize(partner, url)
    assert args["iss"] == partner.origin
    result = service.finish_connect(session, learner, backpack.id, args, _http(app), app.config)
    assert result.complete and result.error is None
    assert [item.outcome for item in result.items] == ["imported"] * 3
    assert {item.status for item in result.items} == {"valid"}
    badges = session.scalars(select(Badge).where(Badge.owner_id == learner.id)).all()
    assert {b.source for b in badges} == {"partner"} and len(badges) == 3

    connection = _connection(session, learner)
    assert connection.status == "active" and connection.last_sync_at is not None and connection.since
    assert connection.next_sync_at - connection.last_sync_at == timedelta(hours=24)
    (token,) = partner.access_tokens.values()
    assert connection.access_token_enc != token.access_token and token.access_token not in connection.access_token_enc
    assert crypto.decrypt(app.config, connection.access_token_enc) == token.access_token
    assert crypto.decrypt(app.config, connection.refresh_token_enc) == token.refresh_token
    exchange = next(r for r in partner.requests if r.path == "/o/token")
    assert exchange.headers["Authorization"].startswith("Basic ")
    body = dict(parse_qsl(exchange.body.decode()))
    assert body["grant_type"] == "authorization_code" and len(body["code_verifier"]) >= 43
    assert body["code_verifier"] not in flow.code_verifier_enc
    text = "\n".join(logged)
    assert "wallet.connections" in text  # the handler saw the app's records
    for secret in (token.access_token, token.refresh_token, registered_secret(partner), body["code_verifier"]):
        assert secret not in text


def test_full_flow_ob21_imports_assertions_and_signed_assertions(app, partner, learner, session):
    partner.protocol = "ob21"
    row = register(app, partner)
    factory = BadgeFactory(partner, now=utcnow() - timedelta(days=1))
    hosted = factory.ob2_hosted(path="/assertions/1")
    signed = factory.ob2_signed()
    partner.add(hosted.assertion, signed.token)
    result = connect(app, learner, partner, row.id)
    assert result.complete
    assert [item.outcome for item in result.items] == ["imported", "imported"]
    assert {item.status for item in result.items} == {"valid"}
    (page,) = partner.pages_requested()
    assert page.path == OB2_API + "/assertions"
    assert _badge_count(session, learner) == 2


def test_vc_jwt_credentials_under_the_plural_key_are_accepted(app, partner, factory, learner, backpack, session):
    partner.jws_key = "compactJwsStrings"
    partner.add(factory.ob3_jwt().text)
    result = connect(app, learner, partner, backpack.id)
    assert [(item.outcome, item.status) for item in result.items] == [("imported", "valid")]


@pytest.mark.parametrize("case", ["missing_state", "wrong_state", "replay", "other_learner", "wrong_backpack",
                                  "iss_mismatch", "expired", "denied"])
def test_a_bad_callback_is_refused_and_no_token_is_stored(app, partner, other_partner, learner, backpack, session,
                                                          case):
    http = _http(app)
    url = service.start_connect(session, learner, backpack.id, app.config)
    args = authorize(partner, url)
    user, backpack_id, now, expected = learner, backpack.id, None, case
    if case == "missing_state":
        args.pop("state")
    elif case == "wrong_state":
        args["state"] = "A" * 43
        expected = "bad_state"
    elif case == "replay":
        with pytest.raises(service.ConnectionProblem):
            service.finish_connect(session, learner, backpack.id, {**args, "iss": "https://evil.example"},
                                   http, app.config)
        expected = "used_state"
    elif case == "other_learner":
        user = make_learner(app, email="bob@example.org", name="Bob")
        expected = "bad_state"
    elif case == "wrong_backpack":
        backpack_id, expected = register(app, other_partner).id, "wrong_partner"
    elif case == "iss_mismatch":
        args["iss"] = "http://127.0.0.1:1"
        expected = "wrong_issuer"
    elif case == "expired":
        now = utcnow() + timedelta(minutes=11)
        expected = "expired_state"
    elif case == "denied":
        args = {"error": "access_denied", "state": args["state"], "iss": args["iss"]}
    with pytest.raises(service.ConnectionProblem) as caught:
        service.finish_connect(session, user, backpack_id, args, http, app.config, now=now)
    assert caught.value.code == expected and caught.value.status == 400
    assert "%(" not in caught.value.message
    assert partner.token_calls == 0
    session.expire_all()
    assert session.scalar(select(func.count(Connection.id))) == 0


def test_a_used_state_cannot_be_replayed_after_success(app, partner, factory, learner, backpack, session):
    url = service.start_connect(session, learner, backpack.id, app.config)
    args = authorize(partner, url)
    service.finish_connect(session, learner, backpack.id, args, _http(app), app.config)
    with pytest.raises(service.ConnectionProblem) as caught:
        service.finish_connect(session, learner, backpack.id, args, _http(app), app.config)
    assert caught.value.code == "used_state" and partner.token_calls == 1


# --- syncs ----------------------------------------------------------------------------------

def test_three_pages_of_fifty(app, partner, factory, learner, backpack, session):
    partner.add(*ob3_credentials(factory, 150))
    result = connect(app, learner, partner, backpack.id)
    assert result.complete and result.imported == 150
    offsets = [parse_qs(seen.query)["offset"][0] for seen in partner.pages_requested()]
    assert offsets == ["0", "50", "100"]
    assert {parse_qs(seen.query)["limit"][0] for seen in partner.pages_requested()} == {"50"}
    assert _badge_count(session, learner) == 150


def test_a_forged_credential_is_refused_and_the_others_imported(app, partner, factory, learner, backpack, session):
    credentials = ob3_credentials(factory, 5)
    forged = json.loads(json.dumps(credentials[2]))
    forged["name"] = "Diplôme falsifié"  # after signing: the proof no longer holds
    credentials[2] = forged
    partner.add(*credentials)
    result = connect(app, learner, partner, backpack.id)
    outcomes = [item.outcome for item in result.items]
    assert outcomes == ["imported", "imported", "error", "imported", "imported"]
    assert result.items[2].code == "partner_invalid"
    assert _badge_count(session, learner) == 4
    kept = set(session.scalars(select(Badge.credential_id).where(Badge.owner_id == learner.id)))
    assert forged["id"] not in kept and kept == {c["id"] for i, c in enumerate(credentials) if i != 2}


def test_incremental_sync_asks_only_what_is_new(app, partner, factory, learner, backpack, session):
    first, second = ob3_credentials(factory, 2), ob3_credentials(factory, 1, name="Nouveau")
    partner.add(*first)
    connect(app, learner, partner, backpack.id)
    since = _connection(session, learner).since
    partner.add(*second)
    result = service.sync_now(session, learner, _connection(session, learner).id, _http(app), app.config)
    assert [item.label for item in result.items] == ["Nouveau 1"]
    assert parse_qs(partner.pages_requested()[-1].query)["since"] == [since]
    assert _badge_count(session, learner) == 3


def test_an_expired_access_token_is_refreshed_then_the_sync_goes_on(app, partner, factory, learner, backpack,
                                                                   session):
    partner.add(*ob3_credentials(factory, 1))
    connect(app, learner, partner, backpack.id)
    old_refresh = crypto.decrypt(app.config, _connection(session, learner).refresh_token_enc)
    partner.expire_access_tokens()  # the partner says 401 before the wallet's clock does
    partner.add(*ob3_credentials(factory, 1, name="Après"))
    result = service.sync_now(session, learner, _connection(session, learner).id, _http(app), app.config)
    assert result.complete and [item.label for item in result.items] == ["Après 1"]
    assert partner.refresh_calls == 1
    connection = _connection(session, learner)
    new_refresh = crypto.decrypt(app.config, connection.refresh_token_enc)
    assert new_refresh != old_refresh and partner.refresh_tokens[old_refresh].refresh_revoked  # rotated
    assert connection.refreshing_until is None


def test_a_token_expired_by_the_clock_is_refreshed_before_reading(app, partner, factory, learner, backpack, session):
    partner.expires_in = 60
    connect(app, learner, partner, backpack.id)
    later = utcnow() + timedelta(minutes=5)
    before = len(partner.pages_requested())
    result = service.sync_now(session, learner, _connection(session, learner).id, _http(app), app.config,
                              now=later)
    assert result.complete and partner.refresh_calls == 1
    assert len(partner.pages_requested()) == before + 1  # no 401 round trip first
    assert _connection(session, learner).token_expires_at > later


def test_a_revoked_refresh_token_asks_the_learner_to_reconnect(app, partner, factory, learner, backpack, session):
    connect(app, learner, partner, backpack.id)
    partner.expire_access_tokens()
    partner.fail_next_token("invalid_grant")
    connection_id = _connection(session, learner).id
    result = service.sync_now(session, learner, connection_id, _http(app), app.config)
    assert not result.complete and result.error == "invalid_grant"
    connection = _connection(session, learner)
    assert connection.status == "reconnect" and connection.access_token_enc is None
    assert connection.refresh_token_enc is None and connection.next_sync_at is None
    with pytest.raises(service.ConnectionProblem) as caught:
        service.sync_now(session, learner, connection_id, _http(app), app.config)
    assert caught.value.code == "reconnect_needed"
    assert service.run_due_syncs(app, now=utcnow() + timedelta(days=3)) == 0  # no retry loop
    assert partner.refresh_calls == 1


def test_a_partner_down_mid_sync_keeps_page_one_and_retries_later(app, partner, factory, learner, backpack, session):
    partner.add(*ob3_credentials(factory, 100))
    partner.fail_page(50, status=500)
    now = utcnow()
    result = connect(app, learner, partner, backpack.id, now=now)
    assert not result.complete and result.error == "partner_down" and result.imported == 50
    connection = _connection(session, learner)
    assert connection.next_sync_at == now + timedelta(minutes=30) and connection.last_sync_at is None
    assert connection.since is None and connection.status == "active"
    assert _badge_count(session, learner) == 50
    assert service.run_due_syncs(app, now=now + timedelta(minutes=10)) == 0
    partner.heal_page(50)
    assert service.run_due_syncs(app, now=now + timedelta(minutes=31)) == 1
    assert _badge_count(session, learner) == 100
    assert _connection(session, learner).last_sync_at is not None


def test_retry_after_is_honoured(app, partner, factory, learner, backpack, session):
    partner.add(*ob3_credentials(factory, 2))
    partner.fail_page(0, status=429, retry_after="120")
    now = utcnow()
    result = connect(app, learner, partner, backpack.id, now=now)
    assert result.error == "rate_limited" and result.retry_at == now + timedelta(seconds=120)
    asked = len(partner.pages_requested())
    with pytest.raises(service.ConnectionProblem) as caught:
        service.sync_now(session, learner, _connection(session, learner).id, _http(app), app.config,
                         now=now + timedelta(seconds=60))
    assert caught.value.code == "rate_limited"
    assert service.run_due_syncs(app, now=now + timedelta(seconds=60)) == 0
    assert len(partner.pages_requested()) == asked  # nobody knocked before the time
    partner.heal_page(0)
    assert service.run_due_syncs(app, now=now + timedelta(seconds=121)) == 1
    assert _badge_count(session, learner) == 2


def test_the_worker_syncs_every_day(app, partner, factory, learner, backpack, session):
    now = utcnow()
    connect(app, learner, partner, backpack.id, now=now)
    assert service.run_due_syncs(app, now=now + timedelta(hours=1)) == 0
    partner.add(*ob3_credentials(factory, 1))
    assert service.run_due_syncs(app, now=now + timedelta(hours=25)) == 1
    assert _badge_count(session, learner) == 1


def test_disconnect_revokes_at_the_partner_and_forgets_the_tokens(app, partner, factory, learner, backpack, session):
    partner.add(*ob3_credentials(factory, 2))
    connect(app, learner, partner, backpack.id)
    (token,) = partner.access_tokens.values()
    done = service.disconnect(session, learner, _connection(session, learner).id, _http(app), app.config)
    assert done == service.Disconnected("Partenaire Formation", revoked=True, revocable=True)
    assert {(r["token"], r["token_type_hint"]) for r in partner.revocations} == {
        (token.refresh_token, "refresh_token"), (token.access_token, "access_token")}
    assert token.refresh_revoked and token.access_revoked
    assert _connection(session, learner) is None
    assert _badge_count(session, learner) == 2  # imported badges stay


def test_two_concurrent_refreshers_make_one_refresh_call(app, partner, factory, learner, backpack, session,
                                                         monkeypatch):
    partner.add(*ob3_credentials(factory, 1))
    connect(app, learner, partner, backpack.id)
    connection_id = _connection(session, learner).id
    partner.expire_access_tokens()
    partner.hold_refresh = threading.Event()
    second_waits = threading.Event()
    real_pause = service.tokens._pause

    def pause(seconds):
        second_waits.set()
        real_pause(seconds)

    monkeypatch.setattr(service.tokens, "_pause", pause)
    results, errors = {}, []

    def run(name):
        s = new_session(app)
        try:
            results[name] = service.sync_now(s, learner, connection_id, _http(app), app.config)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            s.close()

    first = threading.Thread(target=run, args=("first",))
    first.start()
    assert partner.refresh_started.wait(10)
    second = threading.Thread(target=run, args=("second",))
    second.start()
    assert second_waits.wait(10)  # the second one found the lease taken and waits
    partner.hold_refresh.set()
    first.join(20)
    second.join(20)
    assert not errors
    assert partner.refresh_calls == 1
    assert results["first"].complete and results["second"].complete
    connection = _connection(session, learner)
    newest = [t for t in partner.refresh_tokens.values() if not t.refresh_revoked]
    assert len(newest) == 1
    assert crypto.decrypt(app.config, connection.refresh_token_enc) == newest[0].refresh_token


# --- the client on its own ------------------------------------------------------------------

def test_a_next_link_to_another_origin_is_not_followed(app):
    with FakeServer() as host:
        host.json("/api/credentials", {"credential": []}, headers={
            "Link": '<http://127.0.0.1:1/steal>; rel="next"', "X-Total-Count": "10"})
        http = type(_http(app))(allow=[host.authority])
        endpoints = client.Endpoints("ob30", host.origin, host.origin + "/api", host.url("/token"), None, "c")
        page = client.fetch_page(http, endpoints, "t", host.url("/api/credentials"))
    assert page.next_url is None


def test_link_header_parsing():
    links = client.parse_link_header('<https://p.example/c?offset=50>; rel="next", <https://p.example/c?offset=0>; '
                                     'rel="first", </c?offset=100>; rel=last')
    assert links == {"next": "https://p.example/c?offset=50", "first": "https://p.example/c?offset=0",
                     "last": "/c?offset=100"}


def test_the_authorization_url_keeps_the_endpoint_query_and_uses_s256():
    url = client.authorization_url("https://p.example/o/authorize?tenant=x", client_id="c", redirect_uri="r",
                                   scope="s", state="st", code_verifier="v" * 43)
    query = parse_qs(urlsplit(url).query)
    assert query["tenant"] == ["x"] and query["code_challenge_method"] == ["S256"]
    assert query["code_challenge"] != ["v" * 43]


@pytest.mark.parametrize("value, seconds", [("120", 120), ("", None), ("soon", None),
                                            ("Wed, 21 Oct 2015 07:28:00 GMT", 0)])
def test_retry_after_values(value, seconds):
    assert client.retry_after_seconds({"Retry-After": value} if value else {}) == seconds


def test_the_state_is_not_a_uuid(app, learner, backpack, session):
    url = service.start_connect(session, learner, backpack.id, app.config)
    state = parse_qs(urlsplit(url).query)["state"][0]
    with pytest.raises(ValueError):
        uuid.UUID(state)
