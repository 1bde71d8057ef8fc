"""`wallet demo`: a newcomer walks import → eligibility → claim → issued badge with no outside service."""

from __future__ import annotations

import io
from html import unescape

import pytest

from tests.conftest import csrf_from
from tests.web.accounts_helpers import login, post_form


@pytest.fixture
def app_config(app_config):
    app_config["CLAIM_FIRST_ATTEMPT"] = "inline"
    return app_config


def test_demo_walkthrough(app, client):
    result = app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    assert "demo@exemple.fr" in result.output
    again = app.test_cli_runner().invoke(args=["demo"])
    assert again.exit_code == 0
    assert login(client, email="demo@exemple.fr", password="essai du portefeuille 2026").status_code == 302
    page = unescape(client.get("/demo/").text)
    assert "fictifs" in page and "Atelier CV et lettre" in page
    files = []
    for partner, slug in (("demo-association-insertion", "atelier-cv"), ("demo-centre-formation", "accueil-client")):
        r = client.get(f"/demo/badges/{partner}/{slug}.png")
        assert r.status_code == 200 and r.mimetype == "image/png"
        files.append((f"{slug}.png", r.data))
    token = csrf_from(client.get("/badges/importer").text)
    r = client.post("/badges/importer", data={"csrf_token": token,
                                              "files": [(io.BytesIO(d), n) for n, d in files]},
                    content_type="multipart/form-data")
    text = unescape(r.text)
    assert text.count("Importé") == 2 and text.count("Valide") == 2
    regional = unescape(client.get("/badges-regionaux/").text)
    assert "Demander ce badge" in regional
    r = post_form(client, "/demandes/nouvelle/communiquer-1", recipient="demo@exemple.fr")
    assert r.status_code == 303
    assert "Délivrée" in unescape(client.get(r.headers["Location"]).text)
    assert "Obtenu" in unescape(client.get("/badges-regionaux/").text)


def test_demo_is_404_until_seeded_and_refused_in_production(app, client, outbox):
    from tests.web.accounts_helpers import registered_user

    registered_user(client, outbox)
    assert client.get("/demo/").status_code == 404
    assert client.get("/demo/partners/centre-formation").status_code == 404
