"""The Region staff console: pages for admins only (404 for everyone else, T45), roles and the
last-admin guard, invitations (single use, 7 days), partner edits as new validated referential
versions, and "what changes for learners" before publishing."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import timedelta
from html import unescape

import pytest
from sqlalchemy import func, select

from tests.conftest import csrf_from, link_from, plain, user_by_address
from tests.web.accounts_helpers import PASSWORD, login, post_form, registered_user
from wallet.db import new_session
from wallet.eligibility import default_referential_path
from wallet.models import AuditEvent, Badge, Email, Invitation, ReferentialVersion, User, utcnow
from wallet.services import referentials

ADMIN, ADMIN_PASSWORD = "admin@region.example", "la region normande admin"
BASE = "http://127.0.0.1:5000"
CENTRE = BASE + "/demo/partners/centre-formation"
PAGES = ["/admin/tableau-de-bord", "/admin/personnes", "/admin/partenaires", "/admin/referentiel/apercu"]


@pytest.fixture
def admin(app, client):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["users", "create-admin", ADMIN, "--password", ADMIN_PASSWORD]).exit_code == 0
    assert login(client, email=ADMIN, password=ADMIN_PASSWORD).status_code == 302
    return client


def _set_role(app, address: str, role: str) -> None:
    session = new_session(app)
    try:
        session.scalar(select(User).join(Email).where(Email.normalized == address)).role = role
        session.commit()
    finally:
        session.close()


def test_every_console_page_for_admins_and_404_for_everyone_else(app, admin, outbox):
    for path in PAGES:
        response = admin.get(path)
        assert response.status_code == 200, path
        assert "Tableau de bord" in unescape(response.text)  # the admin menu
    for role in ("learner", "counsellor"):
        other = app.test_client()
        address = f"{role}@example.org"
        registered_user(other, outbox, email=address, name=f"Personne {role}")
        _set_role(app, address, role)
        for path in PAGES:
            assert other.get(path).status_code == 404, (role, path)
        token = csrf_from(other.get("/compte/").text)
        learner_id = user_by_address(app, address).id
        for path, data in ((f"/admin/personnes/{learner_id}/role", {"role": "admin"}),
                           ("/admin/invitations", {"email": "x@example.org", "role": "admin"}),
                           ("/admin/partenaires", {"edit": "remove_partner", "partner": "demo-atelier-bocage"}),
                           ("/admin/referentiel/publier", {"text": "x"})):
            assert other.post(path, data={**data, "csrf_token": token}).status_code == 404, (role, path)
        assert user_by_address(app, address).role == role
    assert _count(app, Invitation) == 0 and _count(app, ReferentialVersion) == 0


def _count(app, model) -> int:
    session = new_session(app)
    try:
        return session.scalar(select(func.count()).select_from(model))
    finally:
        session.close()


def test_the_dashboard_shows_figures_and_the_builtin_issuer(app, admin, outbox):
    learner = app.test_client()
    registered_user(learner, outbox)
    page = unescape(admin.get("/admin/tableau-de-bord").text)
    assert re.search(r'<span class="console-figure">1</span> titulaire d.un portefeuille', page)
    assert re.search(r'<span class="console-figure">1</span> membre de l.équipe régionale', page)
    assert BASE + "/issuers/region" in page and "WALLET_ISSUER=builtin" in page
    # The chart is drawn by the server: no script but the app shell's (the service worker's loader).
    assert re.findall(r"<script[^>]*>", page) == ['<script src="/static/app.js" data-sw="/sw.js" defer>']
    assert 'class="console-bar-fill"' in page


def test_change_a_role_and_the_last_admin_cannot_step_down(app, admin, outbox):
    other = app.test_client()
    registered_user(other, outbox, email="camille@example.org", name="Camille Conseil")
    camille = user_by_address(app, "camille@example.org")
    page = admin.get("/admin/personnes?q=camille")
    text = unescape(page.text)
    assert "Camille Conseil" in text and "camille@example.org" in text and ADMIN not in text
    response = admin.post(f"/admin/personnes/{camille.id}/role",
                          data={"role": "counsellor", "csrf_token": csrf_from(page.text)})
    assert response.status_code == 302
    assert user_by_address(app, "camille@example.org").role == "counsellor"
    assert "a maintenant le rôle « personne qui accompagne »" in plain(unescape(admin.get("/admin/personnes").text))

    me = user_by_address(app, ADMIN)
    refused = post_form(admin, "/admin/personnes", f"/admin/personnes/{me.id}/role", role="learner")
    assert refused.status_code == 400 and "dernier compte administrateur" in unescape(refused.text)
    assert user_by_address(app, ADMIN).role == "admin"
    assert post_form(admin, "/admin/personnes", f"/admin/personnes/{me.id}/role", role="boss").status_code == 400
    assert post_form(admin, "/admin/personnes", "/admin/personnes/99999/role", role="learner").status_code == 404

    # With a second admin, stepping down is allowed.
    assert post_form(admin, "/admin/personnes", f"/admin/personnes/{camille.id}/role", role="admin").status_code == 302
    assert post_form(admin, "/admin/personnes", f"/admin/personnes/{me.id}/role", role="learner").status_code == 302
    assert user_by_address(app, ADMIN).role == "learner"
    assert admin.get("/admin/personnes").status_code == 404  # takes effect on the next request
    session = new_session(app)
    try:
        actions = [a.detail for a in session.scalars(select(AuditEvent).where(AuditEvent.action == "role.changed"))]
    finally:
        session.close()
    assert actions == ["learner -> counsellor", "counsellor -> admin", "admin -> learner"]


def _invite(admin, email: str, role: str = "counsellor"):
    return post_form(admin, "/admin/personnes", "/admin/invitations", email=email, role=role)


def test_invitation_link_creates_a_confirmed_counsellor_once(app, admin, outbox):
    response = _invite(admin, "Claire.Conseil@Example.org")
    assert response.status_code == 200
    link = link_from(outbox[-1].body)
    assert outbox[-1].to == "Claire.Conseil@example.org" and "7 jours" in outbox[-1].body
    assert link in unescape(response.text)  # shown once to the admin
    token = link.rsplit("/", 1)[1]
    assert len(token) >= 22  # ≥ 128 bits
    session = new_session(app)
    try:
        invitation = session.scalar(select(Invitation))
        assert invitation.token_hash == hashlib.sha256(token.encode()).hexdigest()
        assert timedelta(days=6, hours=23) < invitation.expires_at - invitation.created_at <= timedelta(days=7)
        assert token not in json.dumps([invitation.email, invitation.token_hash, invitation.role])
    finally:
        session.close()
    assert link not in unescape(admin.get("/admin/personnes").text)  # never shown again

    path = link.replace(BASE, "")
    guest = app.test_client()
    page = guest.get(path)
    assert page.status_code == 200 and "personne qui accompagne" in unescape(page.text)
    mismatch = post_form(guest, path, display_name="Claire Conseil", password=PASSWORD, password_confirm="autre")
    assert mismatch.status_code == 400
    weak = post_form(guest, path, display_name="Claire Conseil", password="court", password_confirm="court")
    assert weak.status_code == 400 and "trop court" in unescape(weak.text)
    done = post_form(guest, path, display_name="Claire Conseil", password=PASSWORD, password_confirm=PASSWORD)
    assert done.status_code == 302
    claire = user_by_address(app, "claire.conseil@example.org")
    assert claire.role == "counsellor" and claire.display_name == "Claire Conseil"
    assert guest.get("/compte/").status_code == 200  # logged in
    session = new_session(app)
    try:
        assert session.scalar(select(Email).where(Email.user_id == claire.id)).verified_at is not None
    finally:
        session.close()

    again = app.test_client().get(path)
    assert again.status_code == 400 and "déjà servi" in unescape(again.text)
    reuse = post_form(app.test_client(), path, display_name="Xavier", password=PASSWORD, password_confirm=PASSWORD)
    assert reuse.status_code == 400 and "déjà servi" in unescape(reuse.text)
    assert _count(app, User) == 2
    assert app.test_client().get("/invitation/not-a-real-token").status_code == 400
    # An address that already has a confirmed account is not invited: change its role instead.
    refused = _invite(admin, "claire.conseil@example.org", role="admin")
    assert refused.status_code == 400 and "changez plutôt son rôle" in unescape(refused.text)


def test_an_expired_invitation_is_refused_with_a_clear_message(app, admin, outbox):
    assert _invite(admin, "dominique@example.org", role="admin").status_code == 200
    path = link_from(outbox[-1].body).replace(BASE, "")
    session = new_session(app)
    try:
        session.scalar(select(Invitation)).expires_at = utcnow() - timedelta(seconds=1)
        session.commit()
    finally:
        session.close()
    guest = app.test_client()
    page = guest.get(path)
    assert page.status_code == 400 and "a expiré" in unescape(page.text)
    assert user_by_address(app, "dominique@example.org") is None


def test_partner_edits_publish_new_validated_versions(app, admin):
    page = unescape(admin.get("/admin/partenaires").text)
    assert "[Démo] Centre de formation Les Tilleuls" in page and CENTRE in page
    new_id = "https://greta.example/issuer"
    response = post_form(admin, "/admin/partenaires", edit="add_partner", key="greta-caen", name="GRETA Caen",
                         issuer_id=new_id)
    assert response.status_code == 302
    response = post_form(admin, "/admin/partenaires", edit="add_entry", partner="greta-caen",
                         id="https://greta.example/badges/planning", skill="organiser", level="1", name="Planning")
    assert response.status_code == 302
    only_id = post_form(admin, "/admin/partenaires", edit="remove_issuer", partner="demo-centre-formation",
                        issuer_id=CENTRE)  # its only issuer id
    assert only_id.status_code == 400
    assert re.search(r"référentiel:\d+: partners\[0\]\.issuer_ids: ne doit pas être vide", unescape(only_id.text))
    response = post_form(admin, "/admin/partenaires", edit="remove_partner", partner="demo-atelier-bocage")
    assert response.status_code == 302
    session = new_session(app)
    try:
        versions = referentials.history(session)
        assert len(versions) == 3 and all(v.source == "upload" for v in versions)
        ref = referentials.current(session, app)
    finally:
        session.close()
    greta = ref.partner_for_issuer(new_id)
    assert greta is not None and greta.name == "GRETA Caen"
    assert [(e.id, e.skill, e.level) for e in greta.catalogue] == [("https://greta.example/badges/planning", "organiser", 1)]
    assert ref.partner_for_issuer(BASE + "/demo/partners/atelier-bocage") is None
    assert "# Référentiel régional" in versions[0].content  # the file's comments are kept


def test_a_bad_partner_edit_shows_line_precise_problems_and_publishes_nothing(app, admin):
    response = post_form(admin, "/admin/partenaires", edit="add_entry", partner="demo-centre-formation",
                         id="https://x.example/badges/1", skill="jongler", level="1")
    text = unescape(response.text)
    assert response.status_code == 400
    match = re.search(r"référentiel:(\d+): (partners\[0\]\.catalogue\[3\]\.skill): compétence inconnue « jongler »", text)
    assert match, text
    bad = post_form(admin, "/admin/partenaires", edit="add_issuer", partner="demo-centre-formation",
                    issuer_id="pas une url")
    assert bad.status_code == 400
    assert re.search(r"référentiel:\d+: partners\[0\]\.issuer_ids\[1\]: « pas une url » n'est ni une URL", unescape(bad.text))
    assert post_form(admin, "/admin/partenaires", edit="remove_partner", partner="inconnu").status_code == 400
    assert _count(app, ReferentialVersion) == 0


def _learner_with(app, address: str, badge_ids: list[str]) -> None:
    session = new_session(app)
    try:
        user = User(display_name=address, password_hash="x")
        user.emails.append(Email(address=address, normalized=address, is_primary=True, verified_at=utcnow()))
        session.add(user)
        session.flush()
        for number, badge_id in enumerate(badge_ids):
            verdict = {"status": "valid", "valid": True, "version": "2.0", "proof": "hosted",
                       "id": f"urn:uuid:{address}-{number}",
                       "badge": {"id": badge_id, "name": "B", "description": "", "image": "",
                                 "criteria": {"url": None, "narrative": None}, "tags": [], "alignments": []},
                       "issuer": {"id": CENTRE, "name": "Centre", "url": None},
                       "issued_on": "2026-01-01T00:00:00Z", "expires": None,
                       "recipient": {"type": "email", "hashed": True, "matched": True},
                       "checks": [], "checked_at": "2026-10-01T00:00:00Z"}
            session.add(Badge(owner_id=user.id, credential_key=f"{address}-{number}", source="paste", payload="{}",
                              payload_format="json", version="2.0", status="valid", matched=True,
                              verdict=json.dumps(verdict)))
        session.commit()
    finally:
        session.close()


def _counts(html: str, key: str) -> tuple[int, int, int]:
    def cell(what: str) -> int:
        match = re.search(rf'data-key="{key}-{what}">[+−]?(\d+)<', html)
        assert match, (key, what)
        return int(match.group(1))
    return cell("before"), cell("gained"), cell("lost")


def test_what_changes_for_learners_before_publishing(app, admin):
    planning = CENTRE + "/badges/planning-chantier"  # organiser, level 2, in the catalogue
    extra = CENTRE + "/badges/tri-des-dechets"        # not in the catalogue (yet)
    _learner_with(app, "a@example.org", [planning, extra])
    _learner_with(app, "b@example.org", [planning])
    _learner_with(app, "c@example.org", [])
    original = default_referential_path().read_text(encoding="utf-8")
    entry = '  { id = "{base_url}/demo/partners/centre-formation/badges/tri-des-dechets", skill = "organiser", level = 1 },\n'
    anchor = '  { id = "{base_url}/demo/partners/centre-formation/badges/accueil-client"'
    assert anchor in original
    with_extra = original.replace(anchor, entry + anchor, 1)

    page = post_form(admin, "/admin/referentiel/apercu", text=with_extra)
    html = unescape(page.text)
    assert page.status_code == 200 and "Calculé pour 3 personnes" in html
    assert _counts(html, "organiser-1") == (0, 1, 0)  # A gains « Organiser — Je pratique »
    assert _counts(html, "communiquer-1") == (0, 0, 0)
    assert _count(app, ReferentialVersion) == 0  # nothing published by a preview
    publish_token = csrf_from(page.text)
    assert admin.post("/admin/referentiel/publier", data={"text": with_extra, "csrf_token": publish_token}).status_code == 302
    assert _count(app, ReferentialVersion) == 1

    back = unescape(post_form(admin, "/admin/referentiel/apercu", text=original).text)
    assert _counts(back, "organiser-1") == (1, 0, 1)  # going back: A loses it

    broken = post_form(admin, "/admin/referentiel/apercu", text=original.replace('badges = 2', 'badges = "deux"', 1))
    assert broken.status_code == 400
    assert re.search(r"référentiel:\d+: badges\[0\]\.rule\.badges: doit être un entier", unescape(broken.text))
    assert post_form(admin, "/admin/referentiel/apercu", text="").status_code == 400
