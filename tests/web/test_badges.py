"""The learner's wallet over HTTP: import (upload, URL, paste), the doctor, cards, detail, delete,
download, re-verification, and authorization. Badges are served by a real loopback server."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta
from html import unescape

import pytest
from PIL import Image
from sqlalchemy import select

from tests.conftest import csrf_from, plain
from tests.web.accounts_helpers import confirm_last_mail, post_form, registered_user
from wallet.openbadges import bake, unbake


@pytest.fixture
def app_config(app_config, host):
    app_config["FETCH_ALLOW"] = host.authority
    return app_config


@pytest.fixture
def ana(client, outbox):
    registered_user(client, outbox)
    return client


def png_image(color=(200, 30, 30), size=(64, 64)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, format="PNG")
    return out.getvalue()


def link_targets(page: str) -> list[str]:
    """Every href/src value of the page, as a browser would parse them."""
    from html.parser import HTMLParser

    found: list[str] = []

    class Collect(HTMLParser):
        def handle_starttag(self, tag, attrs):
            found.extend(value or "" for name, value in attrs if name in ("href", "src", "action"))

    Collect().feed(page)
    return found


def tag_attributes(page: str) -> list[str]:
    from html.parser import HTMLParser

    names: list[str] = []

    class Collect(HTMLParser):
        def handle_starttag(self, tag, attrs):
            names.extend(name for name, _value in attrs)

    Collect().feed(page)
    return names


def upload(client, *files, **fields):
    page = client.get("/badges/importer")
    data = {"csrf_token": csrf_from(page.text), **fields}
    data["files"] = [(io.BytesIO(content), name) for name, content in files]
    return client.post("/badges/importer", data=data, content_type="multipart/form-data")


def badges_in_db(app):
    from wallet.db import new_session
    from wallet.models import Badge

    with new_session(app) as session:
        return session.scalars(select(Badge).order_by(Badge.id)).all()


def hosted_png(factory, host, **kwargs) -> tuple[bytes, object]:
    hosted = factory.ob2_hosted(**kwargs)
    host.route("/badges/1/image.png", png_image(), content_type="image/png")
    return bake(png_image(), json.dumps(hosted.assertion)), hosted


def test_upload_baked_png_shows_a_valid_card(ana, app, factory, host):
    baked, hosted = hosted_png(factory, host)
    r = upload(ana, ("premiers-secours.png", baked))
    text = unescape(r.text)
    assert r.status_code == 200
    assert "Importé" in text and "Premiers secours" in text and "Valide" in text
    [badge] = badges_in_db(app)
    assert badge.status == "valid" and badge.matched and badge.credential_id == hosted.url
    listing = unescape(ana.get("/badges/").text)
    assert "Premiers secours" in listing and "Organisme Formation" in listing and "Valide" in listing
    detail = unescape(ana.get(f"/badges/{badge.id}").text)
    assert "Réussir la formation" in detail and "Vérifier maintenant" in detail and "Vérifié le" in detail
    assert "Compétence A" in detail and 'class="check check-ok"' in detail  # alignments and checks
    image = ana.get(f"/badges/{badge.id}/image")
    assert image.status_code == 200 and image.mimetype == "image/png"
    assert "sandbox" in image.headers["Content-Security-Policy"]
    assert unbake(image.data) is None  # the displayed copy carries no badge (nor any identity)


def test_batch_with_bad_files_imports_the_good_ones(ana, app, factory, host):
    baked, _hosted = hosted_png(factory, host)
    gif = b"GIF89a" + b"\x00" * 40
    r = upload(ana, ("photo.png", png_image()), ("badge.png", baked), ("anim.png", gif),
               ("huge.png", b"\x89PNG" + b"\x00" * (2 * 1024 * 1024 + 10)), ("empty.png", b""))
    text = unescape(r.text)
    assert r.status_code == 200
    assert "Cette image ne contient pas de badge" in text and "clic droit" in text
    assert "n'est pas une image de badge (format gif)" in text
    assert "Fichier trop lourd" in text
    assert "Ce fichier est vide" in text
    assert text.count("Non importé") == 4
    assert len(badges_in_db(app)) == 1


def test_more_than_twenty_files_are_refused_beyond_the_cap(ana, app):
    files = [(f"p{i}.png", png_image()) for i in range(21)]
    text = unescape(upload(ana, *files).text)
    assert "Trop de fichiers d'un coup (20 au plus)" in text


def test_request_over_the_size_cap_gets_a_french_page(ana, app):
    app.config["MAX_CONTENT_LENGTH"] = 1024
    r = upload(ana, ("big.png", b"x" * 4096))
    assert r.status_code == 413 and "Envoi trop volumineux" in unescape(r.text)


def test_the_same_badge_twice_is_not_duplicated(ana, app, factory, host):
    baked, _ = hosted_png(factory, host)
    upload(ana, ("a.png", baked))
    text = unescape(upload(ana, ("a-again.png", baked)).text)
    assert "Déjà dans votre portefeuille" in text
    assert len(badges_in_db(app)) == 1


def test_nothing_chosen_is_explained(ana):
    r = upload(ana)
    assert r.status_code == 400 and "Choisissez une image de badge" in unescape(r.text)


def test_url_and_pasted_json_import(ana, app, factory, host):
    hosted = factory.ob2_hosted()
    ob3 = factory.ob3_di()
    text = unescape(upload(ana, url=hosted.url, text=ob3.text).text)
    assert text.count("Importé") == 2
    statuses = sorted((b.source, b.status, b.version) for b in badges_in_db(app))
    assert statuses == [("paste", "valid", "3.0"), ("url", "valid", "2.0")]


def test_badge_for_another_plain_email_then_add_and_confirm_it(ana, app, outbox, factory, host):
    baked, _ = hosted_png(factory, host, recipient=factory.recipient("ana.old@ecole.example", hashed=False))
    text = plain(unescape(upload(ana, ("old.png", baked)).text))
    assert "pas encore à vous" in text and "commence par « a » chez ecole.example" in text
    assert "ana.old@ecole.example" not in text
    [badge] = badges_in_db(app)
    assert badge.status == "valid" and not badge.matched
    r = post_form(ana, "/badges/importer", "/compte/adresses", email="ana.old@ecole.example", next="/badges/")
    assert r.status_code == 302 and r.headers["Location"].endswith("/badges/")
    assert confirm_last_mail(ana, outbox).status_code == 302
    [badge] = badges_in_db(app)
    assert badge.matched and json.loads(badge.verdict)["recipient"]["matched"] is True


def test_badge_for_a_hashed_other_email_says_it_is_hidden(ana, app, factory, host):
    baked, _ = hosted_png(factory, host, recipient=factory.recipient("someone@else.example"))
    text = unescape(upload(ana, ("x.png", baked)).text)
    assert "masquée par l'émetteur" in text


def test_hostile_badge_fields_render_inert(ana, app, factory, host):
    baked, _ = hosted_png(factory, host, badge_extra={
        "name": "<img src=x onerror=alert(1)>",
        "description": "</textarea><script>alert(2)</script>",
        "criteria": {"narrative": "[voir](javascript:alert(3)) <a href=\"data:text/html,x\">d</a>",
                     "id": "javascript:alert(4)"}})
    upload(ana, ("x.png", baked))
    [badge] = badges_in_db(app)
    page = ana.get(f"/badges/{badge.id}").text
    assert "<img src=x" not in page and "<script>alert(2)" not in page
    # The text may be shown, but never as a link or markup.
    links = link_targets(page)
    assert links and not [u for u in links if u.strip().lower().startswith(("javascript:", "data:"))]
    assert "onerror" not in " ".join(tag_attributes(page))
    listing = ana.get("/badges/").text
    assert "<img src=x" not in listing




def test_uploaded_file_is_downloaded_byte_for_byte(ana, app, factory, host):
    baked, hosted = hosted_png(factory, host)
    upload(ana, ("b.png", baked))
    [badge] = badges_in_db(app)
    r = ana.get(f"/badges/{badge.id}/telecharger")
    assert r.status_code == 200 and r.data == baked
    assert "attachment" in r.headers["Content-Disposition"]
    assert unbake(r.data) == json.dumps(hosted.assertion)


def test_pasted_badge_download_is_baked_with_the_original_payload(ana, app, factory, host):
    hosted = factory.ob2_hosted()
    host.route("/badges/1/image.png", png_image(), content_type="image/png")
    payload = json.dumps(hosted.assertion)
    upload(ana, text=payload)
    [badge] = badges_in_db(app)
    r = ana.get(f"/badges/{badge.id}/telecharger")
    assert r.status_code == 200 and r.mimetype == "image/png"
    assert unbake(r.data) == payload


def test_verify_now_records_a_revocation(ana, app, factory, host):
    baked, _hosted = hosted_png(factory, host)
    upload(ana, ("b.png", baked))
    [badge] = badges_in_db(app)
    host.route("/assertions/1", b"", status=410)
    r = post_form(ana, f"/badges/{badge.id}", f"/badges/{badge.id}/verifier")
    assert r.status_code == 302
    [badge] = badges_in_db(app)
    assert badge.status == "revoked"
    assert "Révoqué" in unescape(ana.get("/badges/").text)
    assert "Révoqué" in unescape(ana.get("/badges/?filtre=revoked").text)
    assert "Aucun badge ne correspond" in unescape(ana.get("/badges/?filtre=valid").text)


def test_worker_reverifies_stale_badges(ana, app, factory, host):
    baked, _ = hosted_png(factory, host)
    upload(ana, ("b.png", baked))
    from wallet.db import new_session
    from wallet.models import Badge, BadgeEvent

    with new_session(app) as session:
        badge = session.scalars(select(Badge)).one()
        badge.checked_at = datetime.now(UTC) - timedelta(days=8)
        session.commit()
    host.route("/assertions/1", b"", status=410)
    result = app.test_cli_runner().invoke(args=["worker", "--once"])
    assert result.exit_code == 0, result.output
    assert "re-verified 1 badge(s), 1 status change(s)" in result.output
    with new_session(app) as session:
        assert session.scalars(select(Badge)).one().status == "revoked"
        assert [e.kind for e in session.scalars(select(BadgeEvent))] == ["status_changed"]


def test_search_and_delete(ana, app, factory, host):
    baked, _ = hosted_png(factory, host)
    upload(ana, ("b.png", baked))
    [badge] = badges_in_db(app)
    assert "Premiers secours" in unescape(ana.get("/badges/?q=secours").text)
    assert "Aucun badge ne correspond" in unescape(ana.get("/badges/?q=boulangerie").text)
    assert ana.get(f"/badges/{badge.id}/supprimer").status_code == 200
    assert len(badges_in_db(app)) == 1  # GET only asks
    r = post_form(ana, f"/badges/{badge.id}/supprimer")
    assert r.status_code == 302 and badges_in_db(app) == []


def test_another_learner_gets_404_for_every_badge_url(ana, app, outbox, factory, host):
    baked, _ = hosted_png(factory, host)
    upload(ana, ("b.png", baked))
    [badge] = badges_in_db(app)
    bob = app.test_client()
    registered_user(bob, outbox, email="bob@example.org", name="Bob Durand")
    token = csrf_from(bob.get("/compte/").text)
    for path in ("", "/image", "/telecharger", "/supprimer"):
        assert bob.get(f"/badges/{badge.id}{path}").status_code == 404, path
    for path in ("/supprimer", "/verifier"):
        assert bob.post(f"/badges/{badge.id}{path}", data={"csrf_token": token}).status_code == 404, path
    assert len(badges_in_db(app)) == 1
    assert "Premiers secours" not in bob.get("/badges/").text


def test_pasted_endorsement_is_named_and_nothing_is_stored(ana, app):
    """Issue 12 item 4: an endorsement is authentic-looking but not a badge; the doctor says so."""
    endorsement = {"@context": "https://w3id.org/openbadges/v2", "type": "Endorsement",
                   "id": "https://e.example/endorsements/1", "issuer": "https://e.example/issuer",
                   "claim": {"id": "https://issuer.example/issuer", "endorsementComment": "Sérieux"},
                   "issuedOn": "2024-01-01T00:00:00Z", "verification": {"type": "HostedBadge"}}
    page = ana.get("/badges/importer")
    r = ana.post("/badges/importer", data={"csrf_token": csrf_from(page.text), "text": json.dumps(endorsement)})
    text = unescape(r.text)
    assert r.status_code == 200 and "recommandation" in text and "Importez le badge lui-même" in text
    assert badges_in_db(app) == []


def test_one_batch_fetches_a_shared_badge_image_once(ana, app, factory, host):
    """Badges of one class imported in one batch (a partner sync, a push): one image fetch."""
    from wallet.db import new_session
    from wallet.models import User
    from wallet.openbadges import MemoFetcher
    from wallet.services import badges as service

    host.route("/badges/1/image.png", png_image(), content_type="image/png")
    urls = [factory.ob2_hosted(f"/assertions/{n}").url for n in range(1, 4)]
    http = app.extensions["wallet_http"]
    with new_session(app) as session:
        user = session.scalars(select(User)).one()
        fetch = MemoFetcher(http.fetch)
        items = [service.import_text(session, user, url, http, source="partner", fetch=fetch) for url in urls]
        assert [item.outcome for item in items] == ["imported"] * 3
        assert host.hits["/badges/1/image.png"] == 1
        assert all(service.get_owned(session, user, item.badge_id).image for item in items)


def _many_badges(app, email: str, count: int) -> None:
    """`count` stored badges for the account (rows, no verification): « Badge 001 » is the oldest."""
    from wallet.db import new_session
    from wallet.models import Badge, Email

    with new_session(app) as session:
        user = session.scalars(select(Email).where(Email.address == email)).one().user
        start = datetime(2025, 1, 1, tzinfo=UTC)
        for n in range(1, count + 1):
            session.add(Badge(owner_id=user.id, credential_key=f"urn:test:{n}", source="paste", payload="{}",
                              payload_format="json", version="2.0", name=f"Badge {n:03d}",
                              issuer_name="Atelier École" if n % 2 else "Mission locale",
                              issuer_id="https://issuer.example/i", status="valid" if n % 3 else "expired",
                              matched=True, recipient="[]", verdict="{}", issued_on=start + timedelta(days=n)))
        session.commit()


def _card_names(page: str) -> list[str]:
    import re

    return re.findall(r">(Badge \d{3})</a>", unescape(page))


def test_a_full_wallet_is_listed_fifty_cards_a_page_keeping_filter_and_search(ana, app):
    _many_badges(app, "ana@example.org", 120)
    first = unescape(ana.get("/badges/").text)
    assert "120 badges · page 1 sur 3" in plain(first)
    assert _card_names(first) == [f"Badge {n:03d}" for n in range(120, 70, -1)]  # newest first
    assert "/badges/?page=2" in link_targets(first) and 'rel="prev"' not in first
    last = ana.get("/badges/?page=3").text
    assert _card_names(last) == [f"Badge {n:03d}" for n in range(20, 0, -1)]
    assert "/badges/?page=2" in link_targets(unescape(last)) and 'rel="next"' not in last
    # Past the end, or not a number: the last page, or the first; never an error.
    assert _card_names(ana.get("/badges/?page=99").text) == _card_names(last)
    assert _card_names(ana.get("/badges/?page=abc").text) == _card_names(first)
    # The filter and the search stay on every page; the count is of what they keep.
    valid = unescape(ana.get("/badges/?filtre=valid").text)
    assert "80 badges · page 1 sur 2" in plain(valid)
    assert "/badges/?page=2&filtre=valid" in link_targets(valid)
    found = unescape(ana.get("/badges/?q=école&page=2").text)  # matched without the case: « École »
    assert "60 badges · page 2 sur 2" in plain(found)
    assert _card_names(found) == [f"Badge {n:03d}" for n in range(19, 0, -2)]
    assert "/badges/?page=1&q=%C3%A9cole" in link_targets(found)
    # A wallet that fits on one page has no pager.
    assert "page 1 sur" not in unescape(ana.get("/badges/?q=badge 007").text)
