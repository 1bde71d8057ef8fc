"""« Mes données » (SECURITY.md T54, T45): the export holds exactly the person's own data and no
partner secret; deleting the account leaves no row referencing the person in any table, keeps
claims pseudonymised, and asks the partner to revoke its tokens; the purge job applies the
retention periods of the privacy page."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from datetime import timedelta
from html import unescape

import pytest
from sqlalchemy import func, select

from tests.conftest import user_by_address
from tests.service.connections_helpers import connect, png, register
from tests.web.accounts_helpers import PASSWORD, post_form, registered_user
from wallet.db import Base, new_session
from wallet.keys import crypto
from wallet.models import (
    AuditEvent,
    Badge,
    Claim,
    Connection,
    Consent,
    Email,
    Outbox,
    PartnerBackpack,
    Share,
    ShareItem,
    User,
    utcnow,
)
from wallet.services.personal_data import purge

ANA, BOB = ("ana@example.org", "Ana Martin"), ("bob@example.org", "Bob Durandeau")


@pytest.fixture
def app_config(app_config, partner):
    app_config["FETCH_ALLOW"] = partner.authority
    return app_config


def seed(app, address: str, name: str, counsellor_id: int | None = None) -> int:
    """Badges (one with its original file), a share link, a claim with full evidence, a consent
    and an audit event, all naming the person."""
    session = new_session(app)
    try:
        user = session.scalar(select(User).join(Email).where(Email.normalized == address))
        payloads = []
        for number in (1, 2):
            payload = json.dumps({"@context": "https://w3id.org/openbadges/v2", "type": "Assertion",
                                  "id": f"https://issuer.example/{name.split()[0]}/{number}",
                                  "recipient": {"type": "email", "hashed": False, "identity": address},
                                  "badge": "https://issuer.example/badges/1", "name": f"{name} badge {number}"})
            payloads.append(payload)
            verdict = {"status": "valid", "id": f"https://issuer.example/{number}",
                       "recipient": {"type": "email", "hashed": True, "matched": True,
                                     "identity": "sha256$" + hashlib.sha256(address.encode()).hexdigest()}}
            session.add(Badge(owner_id=user.id, credential_key=f"{address}-{number}", source="upload",
                              payload=payload, payload_format="json", version="2.0",
                              name=f"Secourisme {number}", issuer_name="Croix Rouge",
                              issuer_id="https://issuer.example/issuer", status="valid", matched=True,
                              recipient=json.dumps([{"type": "email", "identity": address}]),
                              verdict=json.dumps(verdict), image=png(), image_type="image/png",
                              original_file=png((1, 2, 3)) if number == 1 else None,
                              original_file_type="image/png" if number == 1 else None))
        session.flush()
        badges = list(session.scalars(select(Badge).where(Badge.owner_id == user.id).order_by(Badge.id)))
        share = Share(owner_id=user.id, token_hash=hashlib.sha256(b"share-token:" + address.encode()).hexdigest(),
                      label=f"Pour l'employeur de {name}", view_count=3)
        share.items = [ShareItem(badge_id=badges[0].id, position=0)]
        session.add(share)
        session.flush()
        evidence = {"page": f"http://127.0.0.1:5000/p/secret-{name}", "badges": [
            {"credential_id": b.credential_key, "name": b.name, "issuer": b.issuer_name, "issuer_id": b.issuer_id,
             "payload": b.payload, "verdict": json.loads(b.verdict)} for b in badges]}
        claim = Claim(user_id=user.id, regional_badge_id="http://127.0.0.1:5000/issuers/region/badges/organiser-1",
                      regional_badge_key="organiser-1", status="issued", active=True,
                      idempotency_key=hashlib.sha256(name.encode()).hexdigest()[:32], recipient_email=address,
                      evidence=json.dumps(evidence), evidence_share_id=share.id, issuer_backend="builtin",
                      issued_badge_id=badges[1].id, history=json.dumps([{"at": "x", "status": "issued", "note": ""}]))
        session.add(claim)
        pending = Claim(user_id=user.id, regional_badge_id="http://127.0.0.1:5000/issuers/region/badges/organiser-2",
                        regional_badge_key="organiser-2", status="pending", active=True,
                        idempotency_key=hashlib.sha256(name.encode()).hexdigest()[32:], recipient_email=address,
                        evidence=json.dumps(evidence), issuer_backend="builtin")
        session.add(pending)
        session.flush()
        session.add(Outbox(claim_id=pending.id))
        if counsellor_id is not None:
            session.add(Consent(learner_id=user.id, counsellor_id=counsellor_id, scope="view"))
        session.add(AuditEvent(actor_id=user.id, subject_id=user.id, action="test.seeded", detail=name))
        session.commit()
        return user.id
    finally:
        session.close()


def zip_of(response) -> tuple[dict, dict[str, bytes]]:
    assert response.status_code == 200 and response.headers["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    files = {name: archive.read(name) for name in archive.namelist()}
    return json.loads(files["mes-donnees.json"]), files


def test_the_export_holds_exactly_my_data_and_no_partner_secret(app, client, outbox, partner):
    registered_user(client, outbox, *ANA)
    other = app.test_client()
    registered_user(other, outbox, *BOB)
    ana_id = seed(app, *ANA)
    seed(app, *BOB, counsellor_id=ana_id)  # Bob lets Ana follow him: still Bob's data, not Ana's
    backpack = register(app, partner)
    connect(app, user_by_address(app, ANA[0]), partner, backpack.id)

    assert "Télécharger mes données" in unescape(client.get("/mes-donnees/").text)
    document, files = zip_of(client.get("/mes-donnees/export.zip"))
    assert document["profile"]["display_name"] == "Ana Martin"
    assert [e["address"] for e in document["emails"]] == [ANA[0]]
    assert sorted(b["name"] for b in document["badges"]) == ["Secourisme 1", "Secourisme 2"]
    assert all(b["verdict"]["status"] == "valid" and b["payload"] for b in document["badges"])
    assert {c["regional_badge"] for c in document["claims"]} == {"organiser-1", "organiser-2"}
    assert [s["label"] for s in document["share_links"]] == ["Pour l'employeur de Ana Martin"]
    assert document["share_links"][0]["views"] == 3
    assert document["consents"] == []  # Ana gave none; Bob's consent to her is Bob's data
    assert [c["partner"] for c in document["partner_connections"]] == ["Partenaire Formation"]
    assert any(a["action"] == "test.seeded" for a in document["audit_events"])
    # The original file byte for byte, the other badge baked from its payload.
    badge_files = sorted(name for name in files if name.startswith("badges/"))
    assert len(badge_files) == 2
    by_name = {b["name"]: b["file"] for b in document["badges"]}
    assert files[by_name["Secourisme 1"]] == png((1, 2, 3))
    assert files[by_name["Secourisme 2"]].startswith(b"\x89PNG") and b"openbadges" in files[by_name["Secourisme 2"]]

    everything = b"".join(files.values())
    for foreign in (BOB[0].encode(), BOB[1].encode(), b"Bob"):
        assert foreign not in everything
    session = new_session(app)
    try:
        connection = session.scalar(select(Connection))
        backpack_row = session.get(PartnerBackpack, connection.backpack_id)
        secrets = [crypto.decrypt(app.config, connection.access_token_enc),
                   crypto.decrypt(app.config, connection.refresh_token_enc),
                   crypto.decrypt(app.config, backpack_row.client_secret_enc),
                   connection.access_token_enc, connection.refresh_token_enc, backpack_row.client_secret_enc]
        share_hash = session.scalar(select(Share.token_hash).where(Share.owner_id == connection.user_id))
    finally:
        session.close()
    for secret in [*secrets, share_hash]:
        assert secret and secret.encode() not in everything
    for word in (b"access_token", b"refresh_token", b"client_secret", b"salt"):
        assert word not in files["mes-donnees.json"]

    # No other person's data, whatever the query string asks for (T45).
    bob_id = user_by_address(app, BOB[0]).id
    same, _files = zip_of(client.get(f"/mes-donnees/export.zip?user_id={bob_id}"))
    assert same["profile"]["display_name"] == "Ana Martin" and BOB[0] not in json.dumps(same)


def test_export_needs_login(client):
    response = client.get("/mes-donnees/export.zip")
    assert response.status_code == 302 and "/connexion" in response.headers["Location"]


def _references_to(session, user_id: int) -> dict[str, int]:
    found = {}
    for table in Base.metadata.sorted_tables:
        for fk in table.foreign_keys:
            if fk.column.table.name == "users":
                count = session.scalar(select(func.count()).select_from(table).where(fk.parent == user_id))
                if count:
                    found[f"{table.name}.{fk.parent.name}"] = count
    return found


def _delete_account(client) -> None:
    """Delete the logged-in person's account, confirming with the password."""
    response = post_form(client, "/compte/supprimer", password=PASSWORD, confirm="yes")
    assert response.status_code == 302


def _assert_erased(session, user_id: int) -> None:
    """The account is gone and no row of any table references it."""
    assert session.get(User, user_id) is None
    assert _references_to(session, user_id) == {}


def test_deleting_the_account_removes_every_row_and_keeps_claims_pseudonymised(app, client, outbox, partner):
    registered_user(client, outbox, *ANA)
    other = app.test_client()
    registered_user(other, outbox, *BOB)
    bob_id = user_by_address(app, BOB[0]).id
    ana_id = seed(app, *ANA, counsellor_id=bob_id)
    seed(app, *BOB, counsellor_id=ana_id)
    backpack = register(app, partner)
    connect(app, user_by_address(app, ANA[0]), partner, backpack.id)
    (token,) = partner.access_tokens.values()
    session = new_session(app)
    try:
        assert _references_to(session, ana_id)  # the check below can fail
        bob_before = _references_to(session, bob_id)
    finally:
        session.close()

    wrong = post_form(client, "/compte/supprimer", password="pas le bon mot de passe", confirm="yes")
    assert wrong.status_code == 400
    _delete_account(client)

    session = new_session(app)
    try:
        _assert_erased(session, ana_id)
        assert session.scalar(select(func.count(Email.id)).where(Email.normalized == ANA[0])) == 0
        # Bob keeps all his data, except the consents between him and Ana (they named her).
        assert bob_before["consents.learner_id"] == bob_before["consents.counsellor_id"] == 1
        assert _references_to(session, bob_id) == {k: v for k, v in bob_before.items() if not k.startswith("consents.")}
        kept = list(session.scalars(select(Claim).where(Claim.user_id.is_(None)).order_by(Claim.id)))
        assert [c.regional_badge_key for c in kept] == ["organiser-1", "organiser-2"]
        for claim in kept:
            stored = claim.recipient_email + claim.evidence + claim.history
            assert claim.recipient_email == "" and claim.evidence_share_id is None and claim.issued_badge_id is None
            assert ANA[0] not in stored and "Ana" not in stored and "sha256$" not in stored
            assert "payload" not in claim.evidence and "secret-" not in claim.evidence
            assert [b["name"] for b in json.loads(claim.evidence)["badges"]] == ["Secourisme 1", "Secourisme 2"]
        assert kept[0].status == "issued" and kept[1].status == "withdrawn" and not kept[1].active
        assert session.scalar(select(func.count(Outbox.id)).where(Outbox.claim_id == kept[1].id)) == 0
        assert session.scalar(select(func.count(Connection.id))) == 0
    finally:
        session.close()
    # The partner was asked to revoke both tokens.
    assert {(r["token"], r["token_type_hint"]) for r in partner.revocations} == {
        (token.refresh_token, "refresh_token"), (token.access_token, "access_token")}
    # Logged out, and the password no longer opens anything.
    assert client.get("/mes-donnees/").status_code == 302


def test_deletion_proceeds_when_the_partner_is_down(app, client, outbox, partner):
    registered_user(client, outbox, *ANA)
    backpack = register(app, partner)
    connect(app, user_by_address(app, ANA[0]), partner, backpack.id)
    ana_id = user_by_address(app, ANA[0]).id
    partner.stop()
    _delete_account(client)
    session = new_session(app)
    try:
        _assert_erased(session, ana_id)
        assert session.scalar(select(func.count(Connection.id))) == 0
    finally:
        session.close()


def test_the_privacy_page_documents_the_retention_periods(client):
    page = unescape(client.get("/confidentialite").text)
    for period in ("12 mois", "30 jours", "5 ans", "1 jour", "Jusqu'à ce que vous le supprimiez"):
        assert period in page
    assert "personne qui vous accompagne" in page and "CNIL" in page


def test_purge_applies_the_retention_periods(app):
    # The rows that only the retention periods remove (the others go with the account, above).
    from wallet.models import AddressThrottle, CounsellorCode, Invitation, MailToken, OAuthFlow

    now = utcnow() + timedelta(days=3650)  # a fixed moment, far from the rows the app made itself
    session = new_session(app)
    try:
        def person(name: str, age_days: int, confirmed: bool) -> User:
            user = User(display_name=name, password_hash="x", created_at=now - timedelta(days=age_days))
            user.emails.append(Email(address=f"{name}@example.org", normalized=f"{name}@example.org", is_primary=True,
                                     verified_at=now - timedelta(days=age_days) if confirmed else None))
            session.add(user)
            return user

        stale, old_confirmed = person("stale", 31, False), person("old", 900, True)
        person("fresh", 29, False)
        session.flush()
        session.add(Badge(owner_id=stale.id, credential_key="k", source="paste", payload="{}", payload_format="json",
                          version="2.0", status="valid", verdict="{}"))
        session.add_all([
            AuditEvent(subject_id=old_confirmed.id, action="old", created_at=now - timedelta(days=366)),
            AuditEvent(subject_id=old_confirmed.id, action="recent", created_at=now - timedelta(days=300)),
        ])
        backpack = PartnerBackpack(name="P", base_url="https://p.example", protocol="ob30", api_base="https://p.example",
                                   authorization_url="https://p.example/a", token_url="https://p.example/t",
                                   registration_url="https://p.example/r", client_id="c", client_secret_enc="x")
        session.add(backpack)
        session.flush()
        session.add_all([
            OAuthFlow(state_hash="a" * 64, user_id=old_confirmed.id, backpack_id=backpack.id, code_verifier_enc="x",
                      created_at=now - timedelta(hours=25)),
            OAuthFlow(state_hash="b" * 64, user_id=old_confirmed.id, backpack_id=backpack.id, code_verifier_enc="x",
                      created_at=now - timedelta(hours=2)),
            CounsellorCode(counsellor_id=old_confirmed.id, code_hash="c" * 64, expires_at=now - timedelta(minutes=1)),
            CounsellorCode(counsellor_id=old_confirmed.id, code_hash="d" * 64, expires_at=now + timedelta(minutes=5),
                           used_at=now - timedelta(minutes=1)),
            CounsellorCode(counsellor_id=old_confirmed.id, code_hash="e" * 64, expires_at=now + timedelta(minutes=5)),
            Invitation(email="x@example.org", token_hash="f" * 64, expires_at=now - timedelta(seconds=1)),
            Invitation(email="y@example.org", token_hash="g" * 64, expires_at=now + timedelta(days=1),
                       used_at=now - timedelta(days=1)),
            Invitation(email="z@example.org", token_hash="h" * 64, expires_at=now + timedelta(days=1)),
            MailToken(purpose="reset", token_hash="i" * 64, user_id=old_confirmed.id,
                      created_at=now - timedelta(hours=49)),  # older than the longest link lifetime
            MailToken(purpose="unlock", token_hash="j" * 64, user_id=old_confirmed.id,
                      created_at=now - timedelta(minutes=5), used_at=now - timedelta(minutes=1)),
            MailToken(purpose="confirm", token_hash="k" * 64, user_id=old_confirmed.id,
                      created_at=now - timedelta(hours=47)),
            AddressThrottle(key="l" * 64, count=12, last_at=now - timedelta(minutes=61)),
            AddressThrottle(key="m" * 64, count=12, last_at=now - timedelta(minutes=59)),
        ])
        for key, user_id, age in (("old-pseudo", None, 5 * 365 + 1), ("young-pseudo", None, 4 * 365),
                                  ("old-owned", old_confirmed.id, 6 * 365)):
            session.add(Claim(user_id=user_id, regional_badge_id=key, regional_badge_key=key, status="issued",
                              active=False, idempotency_key=key, recipient_email="", issuer_backend="builtin",
                              created_at=now - timedelta(days=age)))
        session.commit()
        stale_id = stale.id
    finally:
        session.close()

    report = purge(app, now=now)
    assert report == {"audit_events": 1, "oauth_flows": 1, "counsellor_codes": 2, "invitations": 2,
                      "unconfirmed_accounts": 1, "claims": 1, "mail_links": 2, "address_throttles": 1}
    session = new_session(app)
    try:
        assert sorted(u.display_name for u in session.scalars(select(User))) == ["fresh", "old"]
        assert session.scalar(select(func.count(Badge.id)).where(Badge.owner_id == stale_id)) == 0
        assert [a.action for a in session.scalars(select(AuditEvent))] == ["recent"]
        assert [f.state_hash[0] for f in session.scalars(select(OAuthFlow))] == ["b"]
        assert [c.code_hash[0] for c in session.scalars(select(CounsellorCode))] == ["e"]
        assert [i.email for i in session.scalars(select(Invitation))] == ["z@example.org"]
        assert sorted(c.regional_badge_key for c in session.scalars(select(Claim))) == ["old-owned", "young-pseudo"]
        assert [t.token_hash[0] for t in session.scalars(select(MailToken))] == ["k"]
        assert [t.key[0] for t in session.scalars(select(AddressThrottle))] == ["m"]
    finally:
        session.close()
    assert purge(app, now=now) == dict.fromkeys(report, 0)  # nothing left to do
