"""The partner-backpack pages: admin registration, connect, callback, sync, disconnect (CSRF on,
owner-scoped, admin-only registration). The partner is a real OAuth server on loopback."""

from __future__ import annotations

from html import unescape
from urllib.parse import urlsplit

import pytest

from tests.conftest import csrf_from, plain
from tests.service import partner_fixtures
from tests.service.connections_helpers import callback_path, ob3_credentials, register
from tests.web.accounts_helpers import login, post_form, registered_user

ADMIN, ADMIN_PASSWORD = "admin@region.example", "la region normande admin"

factory = partner_fixtures.factory  # badges served by `partner`


@pytest.fixture
def learner(client, outbox):
    """The test client, logged in as Ana (registered, address confirmed)."""
    registered_user(client, outbox)
    return client


@pytest.fixture
def app_config(app_config, partner, badgr):
    app_config["FETCH_ALLOW"] = f"{partner.authority},{badgr.authority},{badgr.front.authority}"
    return app_config


def connect_in_browser(client, partner, backpack_id: int):
    """Tap "Connecter", consent (auto-approve), come back: the callback response."""
    response = post_form(client, "/connexions/", f"/connexions/{backpack_id}/connecter")
    assert response.status_code == 303
    return client.get(callback_path(partner, response.headers["Location"]))


def test_admin_registers_a_partner_and_learners_cannot(app, client, outbox, partner):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["users", "create-admin", ADMIN, "--password", ADMIN_PASSWORD]).exit_code == 0
    assert login(client, email=ADMIN, password=ADMIN_PASSWORD).status_code == 302
    page = client.get("/admin/sacs-a-badges")
    assert page.status_code == 200 and "Enregistrer un partenaire" in unescape(page.text)
    partner.discovery_patch = {"components": {"securitySchemes": {"OAuth2ACG": {
        "x-imssf-registrationUrl": "javascript:alert(1)"}}}}
    refused = post_form(client, "/admin/sacs-a-badges", base_url=partner.origin)
    assert refused.status_code == 400 and "a été refusée" in unescape(refused.text)
    assert partner.registrations == []
    partner.discovery_patch = None
    assert client.post("/admin/sacs-a-badges", data={"base_url": partner.origin}).status_code == 400  # CSRF
    response = post_form(client, "/admin/sacs-a-badges", base_url=partner.origin)
    assert response.status_code == 302
    page = unescape(client.get("/admin/sacs-a-badges").text)
    assert "Partenaire Formation" in page and "est enregistré" in page
    assert len(partner.registrations) == 1
    twice = post_form(client, "/admin/sacs-a-badges", base_url=partner.origin + "/")
    assert twice.status_code == 400 and "déjà enregistré" in unescape(twice.text)

    learner = app.test_client()
    registered_user(learner, outbox, email="bob@example.org", name="Bob")
    assert learner.get("/admin/sacs-a-badges").status_code == 404
    assert learner.post("/admin/sacs-a-badges", data={"csrf_token": csrf_from(learner.get("/connexions/").text),
                                                      "base_url": partner.origin}).status_code == 404
    assert len(partner.registrations) == 1


def test_learner_connects_sees_the_results_then_the_connection(app, learner, partner, factory, backpack):
    partner.add(*ob3_credentials(factory, 2))
    index = learner.get("/connexions/")
    page = unescape(index.text)
    assert "Connecter mon compte Partenaire Formation" in page
    # The consent redirect follows a form post: form-action allows this partner, and only it.
    csp = index.headers["Content-Security-Policy"]
    assert csp.endswith(f"form-action 'self' {partner.origin}") and "script-src 'self';" in csp
    assert learner.post(f"/connexions/{backpack.id}/connecter").status_code == 400  # no CSRF token
    response = post_form(learner, "/connexions/", f"/connexions/{backpack.id}/connecter")
    assert response.status_code == 303
    location = urlsplit(response.headers["Location"])
    assert f"{location.hostname}:{location.port}" == partner.authority and location.path == "/o/authorize"
    result = learner.get(callback_path(partner, response.headers["Location"]))
    assert result.status_code == 200 and result.headers["Cache-Control"] == "no-store"
    text = unescape(result.text)
    assert "Synchronisation avec Partenaire Formation" in text and text.count("Importé") >= 2
    assert "2 badges importés" in text

    (token,) = partner.access_tokens.values()
    page = unescape(learner.get("/connexions/").text)
    assert "Dernière synchronisation" in page and "Synchroniser" in page and "Déconnecter" in page
    for body in (page, text):
        assert token.access_token not in body and token.refresh_token not in body
    with learner.session_transaction() as cookie:
        assert token.access_token not in repr(dict(cookie)) and token.refresh_token not in repr(dict(cookie))
    assert "2 badges" in unescape(learner.get("/badges/").text)
    logo = learner.get(f"/connexions/partenaires/{backpack.id}/logo")
    assert logo.status_code == 200 and logo.mimetype == "image/png"


def test_a_forged_callback_shows_a_kind_400(learner, partner, backpack):
    response = learner.get(f"/connexions/retour/{backpack.id}?code=ATTACKER&state=nope")
    assert response.status_code == 400
    assert "ne correspond à aucune demande" in unescape(response.text)
    assert learner.get(f"/connexions/retour/{backpack.id}?code=ATTACKER").status_code == 400
    assert partner.token_calls == 0


def test_refusing_consent_is_explained(learner, partner, backpack):
    response = post_form(learner, "/connexions/", f"/connexions/{backpack.id}/connecter")
    query = urlsplit(response.headers["Location"]).query
    refused = partner.flask.test_client().post("/o/authorize?" + query, data={"confirm": "no"})
    back = urlsplit(refused.headers["Location"])
    page = learner.get(back.path + "?" + back.query)
    assert page.status_code == 400 and "Vous n'avez pas autorisé l'accès" in unescape(page.text)


def test_sync_and_disconnect(learner, partner, factory, backpack):
    connect_in_browser(learner, partner, backpack.id)
    partner.add(*ob3_credentials(factory, 1, name="Nouveau"))
    page = learner.get("/connexions/").text
    action = "/connexions/1/synchroniser"
    assert action in page
    assert learner.post(action).status_code == 400  # CSRF
    synced = post_form(learner, "/connexions/", action)
    assert synced.status_code == 200 and "1 badge importé" in unescape(synced.text)

    (first,) = [t for t in partner.access_tokens.values()]
    done = post_form(learner, "/connexions/", "/connexions/1/deconnecter")
    assert done.status_code == 302
    page = unescape(learner.get("/connexions/").text)
    assert "est déconnecté" in page and "Connecter mon compte" in page
    assert {r["token_type_hint"] for r in partner.revocations} == {"access_token", "refresh_token"}
    assert first.access_revoked
    assert "1 badge" in unescape(learner.get("/badges/").text)


def test_another_learners_connection_is_404(app, learner, outbox, partner, backpack):
    connect_in_browser(learner, partner, backpack.id)
    other = app.test_client()
    registered_user(other, outbox, email="bob@example.org", name="Bob")
    for action in ("/connexions/1/synchroniser", "/connexions/1/deconnecter"):
        assert post_form(other, "/connexions/", action).status_code == 404
    assert partner.revocations == []
    assert "Synchroniser" in learner.get("/connexions/").text


def test_a_revoked_grant_offers_to_reconnect(learner, partner, backpack):
    connect_in_browser(learner, partner, backpack.id)
    partner.expire_access_tokens()
    partner.fail_next_token("invalid_grant")
    result = post_form(learner, "/connexions/", "/connexions/1/synchroniser")
    assert "Reconnectez votre compte" in unescape(result.text)
    page = unescape(learner.get("/connexions/").text)
    assert "À reconnecter" in page and "Reconnecter" in page and "Synchroniser" not in page
    again = connect_in_browser(learner, partner, backpack.id)
    assert again.status_code == 200
    assert "Synchroniser" in learner.get("/connexions/").text


def test_a_partner_asking_to_wait_is_not_called_again(learner, partner, factory, backpack):
    partner.add(*ob3_credentials(factory, 1))
    partner.fail_page(0, status=429, retry_after="3600")
    result = connect_in_browser(learner, partner, backpack.id)
    assert "demande d'attendre" in unescape(result.text)
    asked = len(partner.pages_requested())
    again = post_form(learner, "/connexions/", "/connexions/1/synchroniser")
    assert again.status_code == 302
    assert "demande d'attendre" in unescape(learner.get("/connexions/").text)
    assert len(partner.pages_requested()) == asked


def test_no_partner_yet(learner):
    page = unescape(learner.get("/connexions/").text)
    assert "Aucun partenaire" in page


# --- Badgr, as badgr-server really answers (tests/fakes/badgr_backpack.py) ----------------------

def _admin(app, outbox):
    admin = app.test_client()
    runner = app.test_cli_runner()
    assert runner.invoke(args=["users", "create-admin", ADMIN, "--password", ADMIN_PASSWORD]).exit_code == 0
    assert login(admin, email=ADMIN, password=ADMIN_PASSWORD).status_code == 302
    return admin


def test_badgr_journey_connect_sync_names_then_disconnect(app, learner, outbox, badgr):
    admin = _admin(app, outbox)
    assert post_form(admin, "/admin/sacs-a-badges", base_url=badgr.origin).status_code == 302
    page = plain(unescape(admin.get("/admin/sacs-a-badges").text))
    assert "« Badgr » est enregistré" in page
    assert "ne permet pas de retirer un accès à distance" in page
    hosted = [badgr.award(name) for name in ("Premiers secours", "Accueil du public")]

    index = learner.get("/connexions/")
    assert "Connecter mon compte Badgr" in unescape(index.text)
    # The consent page is on Badgr's web front end: the form may go there, and only there.
    assert index.headers["Content-Security-Policy"].endswith(f"form-action 'self' {badgr.front.origin}")
    response = post_form(learner, "/connexions/", "/connexions/1/connecter")
    assert response.status_code == 303 and response.headers["Location"].startswith(badgr.front.origin)
    back = urlsplit(badgr.consent(response.headers["Location"]))
    result = learner.get(back.path + "?" + back.query)
    text = unescape(result.text)
    assert result.status_code == 200 and "2 badges importés" in text
    assert "Premiers secours" in text and "Accueil du public" in text
    assert not any(url in text for url in hosted)  # named, not shown by their URL

    badgr.award("Travail en équipe")
    synced = unescape(post_form(learner, "/connexions/", "/connexions/1/synchroniser").text)
    assert "1 badge importé" in synced and "Travail en équipe" in synced

    done = post_form(learner, "/connexions/", "/connexions/1/deconnecter")
    assert done.status_code == 302
    page = unescape(learner.get("/connexions/").text)
    assert "est déconnecté" not in page
    assert "ne permet pas de retirer cet accès à distance" in page and "sur le site de Badgr" in page
    assert "Connecter mon compte Badgr" in page
    assert "3 badges" in unescape(learner.get("/badges/").text)


def test_an_unreadable_badgr_page_is_shown_to_the_learner_and_the_admin(app, learner, outbox, badgr):
    admin = _admin(app, outbox)
    post_form(admin, "/admin/sacs-a-badges", base_url=badgr.origin)
    badgr.award("Premiers secours")
    badgr.results_key = "data"
    response = post_form(learner, "/connexions/", "/connexions/1/connecter")
    back = urlsplit(badgr.consent(response.headers["Location"]))
    text = unescape(learner.get(back.path + "?" + back.query).text)
    assert "ne sait pas lire" in text and "0 badge importé" in text
    page = unescape(learner.get("/connexions/").text)
    assert "Connecté" in page and "ne sait pas lire" in page and "nous réessaierons après" in page
    admin_page = plain(unescape(admin.get("/admin/sacs-a-badges").text))
    assert "1 en échec de synchronisation" in admin_page
    assert "clés reçues : data, status" in admin_page and "Dernier problème" in admin_page


def test_when_badgr_access_ends_the_learner_reads_why_and_reconnects(app, learner, badgr):
    register(app, badgr)
    badgr.refresh_tokens_enabled = False
    badgr.award("Premiers secours")
    response = post_form(learner, "/connexions/", "/connexions/1/connecter")
    back = urlsplit(badgr.consent(response.headers["Location"]))
    assert "1 badge importé" in unescape(learner.get(back.path + "?" + back.query).text)
    badgr.expire_access_tokens()
    result = unescape(post_form(learner, "/connexions/", "/connexions/1/synchroniser").text)
    assert "L'accès que vous aviez donné chez Badgr est terminé" in result
    page = unescape(learner.get("/connexions/").text)
    assert "À reconnecter" in page and "L'accès que vous aviez donné chez Badgr est terminé" in page
    assert "Le partenaire a mis fin" not in page and "Reconnecter" in page and "Synchroniser" not in page


def test_a_badge_whose_name_cannot_be_known_is_numbered_not_shown_by_its_url(app, learner, badgr):
    register(app, badgr)
    gone = badgr.award("Premiers secours")
    badgr.remove(urlsplit(gone).path)  # its issuer no longer serves it: unverifiable name
    response = post_form(learner, "/connexions/", "/connexions/1/connecter")
    back = urlsplit(badgr.consent(response.headers["Location"]))
    text = unescape(learner.get(back.path + "?" + back.query).text)
    assert "Badge n° 1" in text and gone not in text
