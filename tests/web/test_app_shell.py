"""The installable app over HTTP: the manifest and its icons, the service worker's script and
scope, which answers the server lets the worker keep (only a signed-in person's own GET pages),
and the emptying of everything kept when the person signs out."""

from __future__ import annotations

import io
import json
import re

import pytest
from PIL import Image

from tests.conftest import csrf_from
from tests.web.accounts_helpers import PASSWORD, logout, post_form, registered_user
from tests.web.test_policies import _routes
from wallet.views.app_shell import may_keep_offline


def test_manifest_in_the_readers_language_with_the_regions_colour(client):
    page = client.get("/connexion").text
    assert '<link rel="manifest" href="/manifest.webmanifest?lang=fr">' in page
    answer = client.get("/manifest.webmanifest?lang=fr")
    assert answer.mimetype == "application/manifest+json"
    manifest = answer.json if answer.is_json else json.loads(answer.text)
    assert manifest["name"] == "Mon portefeuille de badges — Région Normandie"
    assert manifest["short_name"] == "Mes badges" and manifest["lang"] == "fr"
    assert (manifest["start_url"], manifest["scope"], manifest["display"]) == ("/tableau-de-bord", "/", "standalone")
    assert manifest["theme_color"] == "#0b4f8a"
    english = json.loads(client.get("/manifest.webmanifest?lang=en").text)
    assert english["short_name"] == "My badges" and english["lang"] == "en"
    purposes = {(icon["purpose"], icon["sizes"]) for icon in manifest["icons"]}
    assert purposes == {("any", "192x192"), ("any", "512x512"), ("maskable", "192x192"), ("maskable", "512x512")}


def _near(rgb, expected) -> bool:
    """The same colour give or take the rounding of a 32-colour palette."""
    return all(abs(a - b) <= 2 for a, b in zip(rgb, expected, strict=True))


@pytest.mark.parametrize("purpose, size", [("any", 192), ("any", 512), ("maskable", 192), ("maskable", 512)])
def test_icons_are_pngs_of_their_size_in_the_regions_colour(client, purpose, size):
    manifest = json.loads(client.get("/manifest.webmanifest").text)
    src = next(i["src"] for i in manifest["icons"] if i["purpose"] == purpose and i["sizes"] == f"{size}x{size}")
    answer = client.get(src)
    assert answer.mimetype == "image/png" and answer.headers["Cache-Control"].endswith("immutable")
    image = Image.open(io.BytesIO(answer.data)).convert("RGBA")
    assert image.size == (size, size)
    corner, centre_left = image.getpixel((1, 1)), image.getpixel((size // 8, size // 2))
    assert _near(centre_left[:3], (0x0B, 0x4F, 0x8A))  # the Region's colour around the medal
    if purpose == "maskable":
        assert corner[3] == 255  # fills the square: launchers cut it to their own shape
    else:
        assert corner[3] == 0  # a rounded square on transparency
    assert len(answer.data) < 12 * 1024


@pytest.fixture
def maroon(app_config):
    app_config["REGION_COLOR"] = "#5c1a1a"
    return app_config


def test_icons_follow_another_regions_colour(maroon, client):
    manifest = json.loads(client.get("/manifest.webmanifest").text)
    assert manifest["theme_color"] == "#5c1a1a"
    image = Image.open(io.BytesIO(client.get(manifest["icons"][0]["src"]).data)).convert("RGBA")
    assert _near(image.getpixel((192 // 8, 96))[:3], (0x5C, 0x1A, 0x1A))


def test_unknown_icon_sizes_are_404(client):
    assert client.get("/icons/any-64.png").status_code == 404
    assert client.get("/icons/round-192.png").status_code == 404


def test_service_worker_script_at_the_root_scope(client):
    answer = client.get("/sw.js")
    assert answer.status_code == 200 and answer.mimetype == "text/javascript"
    assert answer.headers["Cache-Control"] == "no-cache"  # a new version is picked up at once
    assert "worker-src 'self'" in client.get("/connexion").headers["Content-Security-Policy"]
    config = json.loads(re.search(r"const CONFIG = (\{.*?\});\n", answer.text).group(1))
    assert "/hors-ligne?lang=fr" in config["shell"] and "/static/wallet.css" in config["shell"]
    assert config["leaving"] == ["/deconnexion", "/connexion"]
    assert re.fullmatch(r"[0-9a-f]{12}", config["version"])
    # Nothing personal is ever part of what the worker keeps for everyone.
    assert not [url for url in config["shell"] if url.startswith(("/badges", "/partages", "/tableau"))]


def test_offline_page_in_both_languages(client):
    fr, en = client.get("/hors-ligne?lang=fr"), client.get("/hors-ligne?lang=en")
    assert "<h1>Pas de réseau</h1>" in fr.text and "<h1>No network</h1>" in en.text
    assert '<html lang="en">' in en.text
    assert "X-Offline" not in fr.headers
    assert 'src="/static/app.js"' in fr.text and "data-sw" not in fr.text  # lists, never registers


def test_only_the_owners_own_get_pages_may_be_kept(app):
    keepable = {rule.endpoint for rule in _routes(app, "GET") if may_keep_offline(rule.endpoint)}
    assert keepable == {"main.dashboard", "badges.index", "badges.detail", "badges.image",
                        "shares.index", "shares.created"} | {e for e in keepable if e.startswith("shares.")}
    assert not {e for e in keepable if e.split(".")[0] in {"admin", "counsellor", "public", "auth", "account",
                                                              "data", "consents", "claims", "host_account"}}
    assert "shares.new" not in keepable and "badges.delete" not in keepable


def _tag(answer) -> str | None:
    return answer.headers.get("X-Offline")


def test_owner_pages_are_marked_with_an_opaque_owner_tag(app, client, outbox):
    registered_user(client, outbox)
    dashboard, badges, account = client.get("/tableau-de-bord"), client.get("/badges/"), client.get("/compte/")
    assert _tag(dashboard) == _tag(badges) and re.fullmatch(r"owner=[0-9a-f]{32}", _tag(badges))
    assert badges.headers["Content-Language"] == "fr"
    assert _tag(account) is None  # not one of the pages kept offline
    assert _tag(client.get("/badges/999")) is None  # a 404 is never kept
    assert "ana@example.org" not in _tag(badges) and "1" != _tag(badges)[6:]
    other = app.test_client()
    registered_user(other, outbox, email="bob@example.org", name="Bob")
    assert _tag(other.get("/badges/")) != _tag(badges)


def test_anonymous_pages_tell_the_worker_to_forget(client):
    for path in ("/connexion", "/", "/page-qui-n-existe-pas", "/mentions-legales"):
        assert _tag(client.get(path)) == "forget", path
    assert _tag(client.get("/static/wallet.css")) is None
    assert _tag(client.get("/badges/")) is None  # a redirect to the login page: no page to keep


def test_post_answers_are_never_marked(client, outbox):
    registered_user(client, outbox)
    page = client.get("/partages/nouveau")
    answer = client.post("/partages/nouveau", data={"csrf_token": csrf_from(page.text), "badge": "1",
                                                    "expiry": "30j"})
    assert answer.status_code == 400 and _tag(answer) is None


def test_logout_clears_the_site_data(client, outbox):
    registered_user(client, outbox)
    answer = logout(client)
    assert answer.status_code == 302
    assert answer.headers["Clear-Site-Data"] == '"cache", "storage"'


def test_deleting_the_account_clears_the_site_data(client, outbox):
    registered_user(client, outbox)
    answer = post_form(client, "/compte/supprimer", confirm="yes", password=PASSWORD)
    assert answer.status_code == 302 and answer.headers["Clear-Site-Data"] == '"cache", "storage"'


def test_no_clearing_when_nobody_signs_out(client, outbox):
    registered_user(client, outbox)
    refused = client.post("/deconnexion", data={})  # no CSRF token: refused, still signed in
    assert refused.status_code == 400 and "Clear-Site-Data" not in refused.headers
    kept = post_form(client, "/compte/supprimer", confirm="", password=PASSWORD)
    assert kept.status_code == 400 and "Clear-Site-Data" not in kept.headers
    logout(client)
    login = post_form(client, "/connexion", email="ana@example.org", password=PASSWORD)
    assert login.status_code == 302 and "Clear-Site-Data" not in login.headers  # signing in keeps the rest


def test_only_signed_in_pages_register_the_worker(client, outbox):
    assert "data-sw" not in client.get("/connexion").text and "app.js" not in client.get("/connexion").text
    registered_user(client, outbox)
    page = client.get("/badges/").text
    assert '<script src="/static/app.js" data-sw="/sw.js" defer></script>' in page
    assert 'id="offline-note" role="status" hidden' in page
