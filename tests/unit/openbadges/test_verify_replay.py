"""The library API works without any network: a recorded-replay fetcher (url → Fetched)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from tests.fakes.badges import CONTEXTS_DIR, OB2, TEST_VECTORS, replay_fetch
from wallet.openbadges import Fetched, verify
from wallet.openbadges.identity import hash_identity

VECTOR = TEST_VECTORS / "ob3-eddsa-rdfc-2022" / "credential-signed.json"
ISSUER = "https://example.edu/issuers/565049"
KEY = "z6MkjZRZv3aez3r18pB1RBFJR1kwUVJ5jHt92JmQwXbd5hwi"
NOW = datetime(2025, 1, 1, tzinfo=UTC)


def json_answer(url: str, doc: dict, content_type: str = "application/ld+json") -> Fetched:
    return Fetched(url, 200, content_type, json.dumps(doc).encode())


def test_1edtech_test_vector_verifies_with_a_replayed_key_document():
    controller = {"@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
                  "id": ISSUER, "verificationMethod": [{"id": f"{ISSUER}#{KEY}", "type": "Multikey",
                                                        "controller": ISSUER, "publicKeyMultibase": KEY}]}
    fetch = replay_fetch({ISSUER: json_answer(ISSUER, controller)})
    verdict = verify(VECTOR.read_bytes(), fetch=fetch, now=NOW, contexts=CONTEXTS_DIR)  # a store path
    data = verdict.to_dict("en")
    assert data["status"] == "valid", data["checks"]
    assert data["proof"] == "eddsa-rdfc-2022"
    assert data["badge"]["name"] == "Teamwork" and data["issuer"]["name"] == "Example Corp"
    assert data["issued_on"] == "2010-01-01T00:00:00Z"


def test_test_vector_with_a_key_controlled_by_someone_else_is_invalid():
    controller = {"id": ISSUER, "verificationMethod": [{"id": f"{ISSUER}#{KEY}", "type": "Multikey",
                                                        "controller": "https://evil.example/",
                                                        "publicKeyMultibase": KEY}]}
    fetch = replay_fetch({ISSUER: json_answer(ISSUER, controller)})
    assert verify(VECTOR.read_bytes(), fetch=fetch, now=NOW).status.value == "invalid"


def test_test_vector_offline_is_unverifiable():
    verdict = verify(VECTOR.read_text(), fetch=None, now=NOW)
    assert verdict.status.value == "unverifiable"
    assert [c.params["reason"] for c in verdict.checks if c.id == "fetch"] == ["offline"]


def test_recorded_hosted_exchange():
    base = "https://badges.example.org"
    issuer = {"@context": OB2, "type": "Issuer", "id": f"{base}/issuer", "name": "Org", "url": base,
              "email": "a@example.org"}
    badge = {"@context": OB2, "type": "BadgeClass", "id": f"{base}/bc/1", "name": "B", "description": "D",
             "image": f"{base}/i.png", "criteria": f"{base}/criteria", "issuer": f"{base}/issuer"}
    assertion = {"@context": OB2, "type": "Assertion", "id": f"{base}/a/1", "badge": f"{base}/bc/1",
                 "recipient": {"type": "email", "hashed": True, "salt": "x",
                               "identity": hash_identity("ana@example.org", "x")},
                 "verification": {"type": "HostedBadge"}, "issuedOn": "2024-05-01T10:00:00Z"}
    seen = []
    answers = {doc["id"]: json_answer(doc["id"], doc) for doc in (issuer, badge, assertion)}

    def fetch(url, accept):
        seen.append((url, accept))
        return replay_fetch(answers)(url, accept)

    verdict = verify(f"{base}/a/1", fetch=fetch, recipients=["ana@example.org"], now=NOW)
    assert verdict.status.value == "valid" and verdict.recipient_matched is True
    assert seen[0] == (f"{base}/a/1", "application/ld+json, application/json, image/png, image/svg+xml")
    assert [u for u, _ in seen] == [f"{base}/a/1", f"{base}/bc/1", f"{base}/issuer"]


def test_did_web_issuer_resolved_through_the_fetcher():
    from tests.fakes.badges import BadgeFactory, ed_key
    from wallet.openbadges.keys import multikey_from_ed25519

    key = ed_key("did-web")
    did = "did:web:issuer.example.org"
    vm = did + "#key-1"
    document = {"@context": ["https://www.w3.org/ns/did/v1"], "id": did,
                "verificationMethod": [{"id": vm, "type": "Multikey", "controller": did,
                                        "publicKeyMultibase": multikey_from_ed25519(key.public_key())}],
                "assertionMethod": [vm]}
    factory = BadgeFactory.__new__(BadgeFactory)  # no server needed: only the builders
    factory.now, factory.store = NOW, __import__("tests.fakes.badges", fromlist=["store"]).store()
    factory.server = type("NoServer", (), {"url": staticmethod(lambda p: "https://issuer.example.org" + p)})()
    signed = factory.sign_di(factory.achievement_credential({"id": did, "type": ["Profile"], "name": "W"}), key, vm)
    url = "https://issuer.example.org/.well-known/did.json"
    fetch = replay_fetch({url: json_answer(url, document, "application/did+json")})
    assert verify(json.dumps(signed), fetch=fetch, now=NOW).status.value == "valid"
    document["assertionMethod"] = []
    fetch = replay_fetch({url: json_answer(url, document, "application/did+json")})
    verdict = verify(json.dumps(signed), fetch=fetch, now=NOW)
    assert verdict.status.value == "invalid"
    assert [c.params["reason"] for c in verdict.checks if c.id == "key_owner"] == ["not_assertion_method"]


def test_vc_jwt_signed_by_the_did_key_issuer_verifies_offline():
    from tests.fakes.badges import ed_key
    from wallet.openbadges.keys import did_key_from_ed25519
    from wallet.openbadges.proofs import sign_jws

    key = ed_key("jwt")
    did = did_key_from_ed25519(key.public_key())
    credential = json.loads(VECTOR.read_text())
    credential.pop("proof")
    credential["issuer"] = {"id": did, "type": ["Profile"], "name": "Did Issuer"}
    token = sign_jws({**credential, "iss": did}, key, "EdDSA", kid=did + "#" + did[len("did:key:"):])
    verdict = verify(token, fetch=None, now=NOW)
    assert verdict.status.value == "valid" and verdict.proof == "vc-jwt"
    other = did_key_from_ed25519(ed_key("someone-else").public_key())
    forged = sign_jws({**credential, "iss": did}, ed_key("someone-else"), "EdDSA",
                      kid=other + "#" + other[len("did:key:"):])
    assert verify(forged, fetch=None, now=NOW).status.value == "invalid"
