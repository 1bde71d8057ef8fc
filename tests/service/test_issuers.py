"""The Region's issuer backends (wallet/badge_claim/issuers): the builtin issuer signs verifiable
OB 3.0 credentials exactly once per claim; the Open Badge Factory and Badgr clients turn every
answer and failure of a real (fake, loopback) server into the right DeliveryResult (T48, T50)."""

from __future__ import annotations

import json
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.conftest import run_at_once
from tests.fakes.badgr import FakeBadgr
from tests.fakes.obf import FakeObf
from tests.fakes.server import FakeServer
from wallet.badge_claim.issuers.badgr import BadgrIssuer
from wallet.badge_claim.issuers.common import json_items, parse_retry_after
from wallet.badge_claim.issuers.obf import ObfIssuer
from wallet.badge_claim.model import ClaimRequest, DeliveryResult, Evidence, IssuerBackend
from wallet.http import SafeHttp
from wallet.openbadges import Status, verify

EMAIL = "ana@example.org"
BASE = "http://127.0.0.1:5000"


def claim_request(key: str = "claim-key-0001", email: str = EMAIL, badge: str = "organiser-1",
                  **changes: Any) -> ClaimRequest:
    fields: dict[str, Any] = {
        "idempotency_key": key, "regional_badge_id": f"{BASE}/issuers/region/badges/{badge}",
        "regional_badge_key": badge, "name": "Organiser — Je pratique",
        "description": "Atteste la capacité à planifier son activité.",
        "criteria": "Avoir obtenu au moins 2 badges de partenaires reconnus.",
        "image_path": f"images/{badge}.svg", "recipient_email": email, "recipient_name": "Ana Martin",
        "evidence": (Evidence(f"{BASE}/p/preuve-1", "Badges partenaires vérifiés", "Communication 1, Communication 2"),),
        "narrative": "Vous détenez 2 badges partenaires « Organiser ».", "claim_id": None}
    fields.update(changes)
    return ClaimRequest(**fields)


# --- remote issuers -------------------------------------------------------------------------------


@dataclass
class Remote:
    kind: str
    fake: Any
    backend: Any
    http: SafeHttp

    def count(self, email: str = EMAIL) -> int:
        return self.fake.count(email)


def make_backend(kind: str, fake: Any, http: SafeHttp, **overrides: Any):
    if kind == "obf":
        options = {"base_url": fake.base_url, "client_id": fake.client_id, "client_secret": fake.client_secret,
                   "badges": {"organiser-1": fake.badge_id}}
        options.update(overrides)
        return ObfIssuer(http, **options)
    options = {"base_url": fake.base_url, "token": fake.token, "badgeclasses": {"organiser-1": fake.badgeclass}}
    options.update(overrides)
    return BadgrIssuer(http, **options)


@contextmanager
def running(kind: str):
    """A fake issuer of `kind` ("obf" or "badgr") on loopback, and our backend for it."""
    with FakeObf() if kind == "obf" else FakeBadgr() as fake:
        http = SafeHttp(allow=[fake.authority], read_timeout=0.5, deadline=1)
        yield Remote(kind, fake, make_backend(kind, fake, http), http)


@pytest.fixture(params=["obf", "badgr"])
def remote(request):
    with running(request.param) as started:
        yield started


def alone(kind: str):
    """A fixture named `kind`: (fake, backend) of that one issuer, for the tests of its specifics."""
    @pytest.fixture(name=kind)
    def fixture():
        with running(kind) as started:
            yield started.fake, started.backend

    return fixture


def assert_verifies(remote: Remote, result: DeliveryResult) -> None:
    assert result.outcome == "issued", result
    assert result.credential and result.credential.startswith(remote.fake.url("/"))
    verdict = verify(result.credential, fetch=remote.http.fetch, recipients=(EMAIL,))
    assert verdict.status == Status.VALID, verdict.checks
    assert verdict.recipient_matched is True


def test_remote_backends_follow_the_interface(remote):
    assert isinstance(remote.backend, IssuerBackend)
    assert remote.backend.name == remote.kind and remote.backend.remote is True


def test_success_issues_a_badge_our_verifier_finds_valid_for_the_learner(remote):
    result = remote.backend.deliver(claim_request())
    assert_verifies(remote, result)
    assert result.reference
    assert remote.count() == 1


def test_server_error_means_retry_and_nothing_was_created(remote):
    remote.fake.fail_next(3, status=500)
    for _ in range(3):
        result = remote.backend.deliver(claim_request())
        assert result.outcome == "retry" and "500" in (result.reason or "")
    assert remote.count() == 0
    assert_verifies(remote, remote.backend.deliver(claim_request()))
    assert remote.count() == 1


def test_rate_limit_means_retry_not_before_retry_after(remote):
    remote.fake.throttle_next(retry_after="120")
    result = remote.backend.deliver(claim_request())
    assert result.outcome == "retry" and result.retry_after == 120
    assert remote.count() == 0


def test_client_error_is_a_refusal_with_the_issuers_reason(remote):
    remote.fake.refuse_next(422, "Ce badge est en brouillon : il ne peut pas être délivré.")
    result = remote.backend.deliver(claim_request())
    assert result.outcome == "refused"
    assert "Ce badge est en brouillon" in result.reason
    assert remote.count() == 0


def test_timeout_after_creation_is_unknown_then_lookup_finds_the_one_award(remote):
    remote.fake.stall_next()
    request = claim_request()
    assert remote.backend.deliver(request).outcome == "unknown"
    found = remote.backend.lookup(request)
    assert found is not None
    assert_verifies(remote, found)
    assert remote.count() == 1
    assert remote.fake.stalled == 1


def test_lookup_is_none_when_nothing_was_awarded(remote):
    assert remote.backend.lookup(claim_request()) is None


def test_lookup_ignores_other_learners_awards(remote):
    assert remote.backend.deliver(claim_request(email="bob@example.org")).outcome == "issued"
    assert remote.backend.lookup(claim_request()) is None


def test_unreachable_issuer_is_unknown_and_its_lookup_says_retry(remote):
    with FakeServer() as closed:
        authority, origin = closed.authority, closed.origin
    http = SafeHttp(allow=[authority], read_timeout=0.5, deadline=1)
    base = origin + ("/v1" if remote.kind == "obf" else "")
    backend = make_backend(remote.kind, remote.fake, http, base_url=base)
    # Nothing could have been created, but a network failure cannot be told from a drop after
    # sending: "unknown" makes the worker ask before re-sending, and asking fails → "retry".
    assert backend.deliver(claim_request()).outcome in ("unknown", "retry")
    assert backend.lookup(claim_request()).outcome == "retry"


def test_the_idempotency_key_is_sent_along(remote):
    remote.backend.deliver(claim_request(key="stable-claim-key"))
    remote.fake.fail_next(1)
    remote.backend.deliver(claim_request(key="stable-claim-key"))
    assert set(remote.fake.idempotency_keys) == {"stable-claim-key"}


def test_unmapped_regional_badge_is_retried_for_the_admins_and_sends_nothing(remote):
    result = remote.backend.deliver(claim_request(badge="communiquer-2"))
    assert result.outcome == "retry" and "communiquer-2" in result.reason
    assert f"WALLET_ISSUER_{remote.kind.upper()}_" in result.reason  # the setting to fix
    looked_up = remote.backend.lookup(claim_request(badge="communiquer-2"))
    assert looked_up is not None and looked_up.outcome == "retry" and "communiquer-2" in looked_up.reason
    assert remote.fake.idempotency_keys == []


# --- Open Badge Factory specifics -----------------------------------------------------------------


obf = alone("obf")


def test_obf_issue_call_carries_the_claim_and_sends_no_email(obf):
    fake, backend = obf
    backend.deliver(claim_request(key="k-obf"))
    [body] = fake.issue_requests
    assert body["recipient"] == [EMAIL] and body["send_email"] == 0
    assert body["log_entry"]["claim"] == "k-obf"
    assert isinstance(body["issued_on"], int)


def test_obf_token_is_cached_then_fetched_again_once_after_a_401(obf):
    fake, backend = obf
    assert backend.deliver(claim_request(key="k1")).outcome == "issued"
    assert backend.deliver(claim_request(key="k2", email="bob@example.org")).outcome == "issued"
    assert fake.token_requests == 1
    fake.reject_tokens()
    assert backend.deliver(claim_request(key="k3", email="chloe@example.org")).outcome == "issued"
    assert fake.token_requests == 2
    assert fake.count("chloe@example.org") == 1


def test_obf_wrong_client_secret_is_retried_and_never_leaks(obf):
    fake, _ = obf
    http = SafeHttp(allow=[fake.authority], read_timeout=0.5, deadline=1)
    backend = make_backend("obf", fake, http, client_secret="not-the-secret-xyz")
    result = backend.deliver(claim_request())
    assert result.outcome == "retry" and "client" in result.reason
    assert "not-the-secret-xyz" not in (result.reason + repr(backend))
    assert fake.count(EMAIL) == 0


def test_obf_lookup_reads_a_json_array_as_well(obf):
    fake, backend = obf
    fake.ndjson = False
    backend.deliver(claim_request())
    found = backend.lookup(claim_request())
    assert found is not None and found.outcome == "issued"


# --- Badgr specifics ------------------------------------------------------------------------------


badgr = alone("badgr")


def test_badgr_award_forbids_duplicates_and_hashes_the_recipient(badgr):
    fake, backend = badgr
    backend.deliver(claim_request())
    [body] = fake.award_requests
    assert body["allowDuplicateAwards"] is False and body["notify"] is False
    assert body["recipient"] == {"identity": EMAIL, "type": "email", "hashed": True}
    assert body["evidence"] == [{"url": f"{BASE}/p/preuve-1", "narrative": "Communication 1, Communication 2"}]


def test_badgr_resend_after_a_lost_answer_gets_the_existing_award(badgr):
    fake, backend = badgr
    fake.stall_next()
    assert backend.deliver(claim_request()).outcome == "unknown"
    again = backend.deliver(claim_request())      # Badgr refuses the duplicate → looked up
    assert again.outcome == "issued"
    assert fake.count(EMAIL) == 1
    assert again.credential == fake.awards[0].open_badge_id


def test_badgr_rejected_token_is_retried_with_a_reason_for_the_admins(badgr):
    fake, backend = badgr
    fake.reject_token()
    result = backend.deliver(claim_request())
    assert result.outcome == "retry" and "401" in result.reason
    assert fake.token not in result.reason and fake.token not in repr(backend)
    assert fake.count(EMAIL) == 0


# --- shared answer parsing ------------------------------------------------------------------------


def test_retry_after_accepts_seconds_and_http_dates():
    now = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    assert parse_retry_after("120") == 120
    assert parse_retry_after("Mon, 02 Mar 2026 10:02:00 GMT", now) == 120
    assert parse_retry_after("Mon, 02 Mar 2026 09:00:00 GMT", now) == 0
    assert parse_retry_after("bientôt") is None and parse_retry_after(None) is None
    assert parse_retry_after("99999999") == 24 * 3600


def test_list_answers_as_array_envelope_or_newline_delimited_json():
    assert json_items(b'[{"id": "a"}, 3]') == [{"id": "a"}]
    assert json_items(b'{"status": {}, "result": [{"id": "b"}]}') == [{"id": "b"}]
    assert json_items(b'{"id": "c"}\n\n{"id": "d"}\nnot json\n') == [{"id": "c"}, {"id": "d"}]
    assert json_items(b"") == []


# --- the builtin issuer ---------------------------------------------------------------------------


def issued_rows(app) -> int:
    from wallet.db import new_session
    from wallet.models import IssuedCredential

    with new_session(app) as session:
        return session.scalar(select(func.count()).select_from(IssuedCredential))


@pytest.fixture
def builtin(app):
    from wallet.badge_claim.issuers import backend_for

    return backend_for(app)


def verify_own(app, credential: str, email: str = EMAIL):
    return verify(credential, fetch=app.extensions["wallet_http"].fetch, recipients=(email,))


def test_builtin_is_the_default_backend(builtin):
    assert isinstance(builtin, IssuerBackend)
    assert builtin.name == "builtin" and builtin.remote is False


def test_builtin_issues_an_ob3_credential_our_verifier_finds_valid_and_matched(app, builtin):
    result = builtin.deliver(claim_request(email="Ana@Example.org"))
    assert result.outcome == "issued"
    verdict = verify_own(app, result.credential)
    assert verdict.status == Status.VALID, verdict.checks
    assert verdict.recipient_matched is True
    credential = json.loads(result.credential)
    assert credential["id"] == result.reference
    assert credential["issuer"]["id"] == f"{BASE}/issuers/region"
    assert credential["issuer"]["name"] == "Région Normandie"
    assert credential["proof"]["verificationMethod"] == f"{BASE}/issuers/region#key-1"
    achievement = credential["credentialSubject"]["achievement"]
    assert achievement["id"] == f"{BASE}/issuers/region/badges/organiser-1"
    assert achievement["image"]["id"] == f"{BASE}/issuers/region/badges/organiser-1/image"
    [identifier] = credential["credentialSubject"]["identifier"]
    assert identifier["hashed"] is True and EMAIL not in result.credential.lower()
    assert f"{BASE}/p/preuve-1" in [e.get("id") for e in credential["evidence"]]
    status = credential["credentialStatus"]
    assert status["statusListCredential"] == f"{BASE}/issuers/region/status/1"


def test_builtin_same_idempotency_key_twice_gives_the_same_credential(app, builtin):
    first = builtin.deliver(claim_request())
    second = builtin.deliver(claim_request())
    assert first == second
    assert issued_rows(app) == 1
    other = builtin.deliver(claim_request(key="another-claim"))
    assert other.credential != first.credential
    assert json.loads(other.credential)["credentialStatus"]["statusListIndex"] != \
        json.loads(first.credential)["credentialStatus"]["statusListIndex"]


def test_builtin_ten_concurrent_deliveries_of_one_claim_issue_once(app, builtin):
    results: list[DeliveryResult] = []
    errors: list[BaseException] = []

    def deliver():
        try:
            results.append(builtin.deliver(claim_request(key="raced-claim")))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    run_at_once(deliver, 10)
    assert errors == []
    assert {r.outcome for r in results} == {"issued"}
    assert len({r.credential for r in results}) == 1
    assert issued_rows(app) == 1


def test_builtin_lookup_finds_only_what_it_issued(builtin):
    assert builtin.lookup(claim_request()) is None
    issued = builtin.deliver(claim_request())
    assert builtin.lookup(claim_request()) == issued


def test_builtin_revocation_shows_in_the_status_list(app, builtin):
    result = builtin.deliver(claim_request())
    assert verify_own(app, result.credential).status == Status.VALID
    assert builtin.revoke(result.reference, "Attribué par erreur") is True
    verdict = verify_own(app, result.credential)
    assert verdict.status == Status.REVOKED
    assert builtin.revoke("urn:uuid:00000000-0000-4000-8000-000000000000", "x") is False


def test_builtin_status_list_credential_is_signed_by_the_issuer(app, builtin, client):
    from wallet.openbadges.ob3_status import verified_status_list
    from wallet.openbadges.session import Session
    from wallet.openbadges.status import bitstring_bit

    revoked = builtin.deliver(claim_request(key="to-revoke"))
    kept = builtin.deliver(claim_request(key="to-keep", email="bob@example.org"))
    builtin.revoke(revoked.reference, "erreur")
    response = client.get("/issuers/region/status/1")
    assert response.status_code == 200 and "json" in response.content_type
    assert response.headers["Cache-Control"].startswith("public")
    session = Session(app.extensions["wallet_http"].fetch, datetime.now(UTC))
    status_list = verified_status_list(session, f"{BASE}/issuers/region/status/1", 1)
    assert status_list["issuer"] == f"{BASE}/issuers/region"
    encoded = status_list["credentialSubject"]["encodedList"]

    def index(result: DeliveryResult) -> int:
        return int(json.loads(result.credential)["credentialStatus"]["statusListIndex"])

    assert bitstring_bit(encoded, index(revoked)) is True
    assert bitstring_bit(encoded, index(kept)) is False
    # A tampered copy does not verify: the proof covers the list.
    from wallet.openbadges.ob3 import OK, check_proofs_detached
    from wallet.openbadges.status import encode_bitstring

    forged = encode_bitstring(set())
    assert forged != encoded
    tampered = dict(status_list, credentialSubject={**status_list["credentialSubject"], "encodedList": forged})
    outcome, _ = check_proofs_detached(Session(app.extensions["wallet_http"].fetch, datetime.now(UTC)),
                                       tampered, None, 1)
    assert outcome != OK


def test_builtin_status_list_is_recent(app, builtin, client):
    doc = client.get("/issuers/region/status/1").get_json(force=True)
    valid_from = datetime.fromisoformat(doc["validFrom"])
    assert abs(datetime.now(UTC) - valid_from) < timedelta(minutes=10)
    assert client.get("/issuers/region/status/2").status_code == 404


@pytest.fixture
def review_app_config(app_config):
    app_config["ISSUER_APPROVAL"] = "review"
    return app_config


def test_builtin_review_mode_holds_the_claim_until_approved(review_app_config, app):
    from wallet.badge_claim.issuers import backend_for

    backend = backend_for(app)
    assert backend.deliver(claim_request()).outcome == "in_review"
    assert backend.deliver(claim_request()).outcome == "in_review"
    assert issued_rows(app) == 0
    approved = backend.approve(claim_request())
    assert approved.outcome == "issued"
    assert verify_own(app, approved.credential).status == Status.VALID
    assert backend.deliver(claim_request()) == approved
    assert backend.approve(claim_request()) == approved
    assert issued_rows(app) == 1


def test_builtin_refuses_an_incomplete_request(builtin):
    with pytest.raises(ValueError):
        builtin.deliver(claim_request(recipient_email=""))


# --- the builtin issuer's public documents ------------------------------------------------------


def test_issuer_profile_lists_the_signing_key(app, client):
    from wallet.keys.issuer_keys import keys_for

    response = client.get("/issuers/region")
    assert response.status_code == 200
    assert response.content_type.startswith("application/ld+json")
    assert response.headers["Cache-Control"].startswith("public")
    profile = json.loads(response.get_data())
    assert profile["id"] == f"{BASE}/issuers/region" and profile["type"] == ["Profile"]
    [method] = profile["verificationMethod"]
    assert method == {"id": f"{BASE}/issuers/region#key-1", "type": "Multikey",
                      "controller": f"{BASE}/issuers/region",
                      "publicKeyMultibase": keys_for(app).current.public_multibase}
    assert profile["assertionMethod"] == [method["id"]]
    assert "seed" not in response.get_data(as_text=True)


def test_achievement_document_and_image_are_public(client):
    doc = client.get("/issuers/region/badges/organiser-1").get_json(force=True)
    assert doc["id"] == f"{BASE}/issuers/region/badges/organiser-1"
    assert "Achievement" in doc["type"] and doc["name"].startswith("Organiser")
    assert doc["criteria"]["narrative"]
    image = client.get("/issuers/region/badges/organiser-1/image")
    assert image.status_code == 200 and image.content_type.startswith("image/svg+xml")
    assert image.headers["Content-Security-Policy"] == "default-src 'none'; style-src 'unsafe-inline'; sandbox"
    assert client.get("/issuers/region/badges/inconnu").status_code == 404
    assert client.get("/issuers/region/badges/inconnu/image").status_code == 404


# --- wiring: backend_for(app) builds the configured remote client ----------------------------------


@pytest.mark.parametrize("kind", ["obf", "badgr"])
def test_backend_for_builds_the_configured_remote_issuer(kind, app_config, monkeypatch, tmp_path):
    from wallet import create_app
    from wallet.badge_claim.issuers import backend_for

    fake = FakeObf() if kind == "obf" else FakeBadgr()
    with fake:
        if kind == "obf":
            app_config.update(ISSUER="obf", ISSUER_OBF_BASE_URL=fake.base_url, ISSUER_OBF_CLIENT_ID=fake.client_id,
                              ISSUER_OBF_CLIENT_SECRET=fake.client_secret,
                              ISSUER_OBF_BADGES=f"organiser-1={fake.badge_id}")
        else:
            app_config.update(ISSUER="badgr", ISSUER_BADGR_BASE_URL=fake.base_url, ISSUER_BADGR_TOKEN=fake.token,
                              ISSUER_BADGR_BADGECLASSES=f"organiser-1={fake.badgeclass}")
        app_config["FETCH_ALLOW"] = fake.authority
        monkeypatch.setenv("WALLET_INSTANCE_PATH", str(tmp_path / "instance"))
        application = create_app(app_config)
        backend = backend_for(application)
        assert backend is backend_for(application)
        assert backend.name == kind and backend.remote is True
        result = backend.deliver(claim_request())
        assert result.outcome == "issued"
        verdict = verify(result.credential, fetch=application.extensions["wallet_http"].fetch, recipients=(EMAIL,))
        assert verdict.status == Status.VALID and verdict.recipient_matched
