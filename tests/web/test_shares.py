"""Share links over HTTP: the learner makes, lists and revokes links; an employer with no account
opens `/p/<token>`, reads the verdict, checks the recipient. Privacy rules (SECURITY.md T51–T53)
are checked by grepping every response for the learner's email, the recipient salt and hash, and
the internal ids. Badges come from a real loopback issuer."""

from __future__ import annotations

import hashlib
import io
import json
import re
import secrets
from datetime import UTC, datetime, timedelta
from html import unescape
from urllib.parse import parse_qs, quote, urlsplit

import pytest
from PIL import Image
from sqlalchemy import select, text

from tests.conftest import csrf_from, plain
from tests.fakes.badges import plain_svg
from tests.web.accounts_helpers import BASE, logout, post_form, registered_user
from tests.web.test_badges import link_targets, png_image, upload
from wallet.openbadges import bake, unbake
from wallet.openbadges.identity import hash_identity

EMAIL = "Alice.Martin@Exemple.fr"
SALT = "sel-tres-secret-42"
NAME = "Alice Martin"


@pytest.fixture
def app_config(app_config, host):
    app_config["FETCH_ALLOW"] = host.authority
    # Flask-Limiter keeps `enabled` on the shared limiter object: say it for every app made here.
    app_config["RATELIMIT_ENABLED"] = True
    app_config["SHARE_VIEW_FLUSH_SECONDS"] = 0  # views written at once (the default batches them)
    return app_config


@pytest.fixture
def ids(app):
    """Push the internal ids far from share positions (1, 2, …) so a leak would show in a grep."""
    from wallet.db import new_session
    from wallet.models import Badge, Share, User

    with new_session(app) as session:
        session.add(User(id=4711, display_name="Filler", password_hash="x"))
        session.flush()
        session.add(Badge(id=8100, owner_id=4711, credential_key="k", source="paste", payload="{}",
                          payload_format="json", version="2.0", status="invalid", verdict="{}"))
        session.flush()
        session.add(Share(id=9200, owner_id=4711, token_hash="0" * 64))
        session.flush()
        if session.get_bind().dialect.name == "postgresql":
            # Explicit ids do not move PostgreSQL's sequences: move them so that new rows follow.
            from sqlalchemy import text

            for table, value in (("users", 4711), ("badges", 8100), ("shares", 9200)):
                session.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), {value})"))
        session.commit()
    return {"user": 4712, "badge": 8101, "share": 9201}


@pytest.fixture
def alice(client, outbox, ids):
    registered_user(client, outbox, email=EMAIL, name=NAME)
    return client


def import_hosted(client, factory, host, *, recipient=None, path="/assertions/1", **kwargs) -> int:
    hosted = factory.ob2_hosted(path=path, recipient=recipient or factory.recipient(EMAIL.lower(), salt=SALT),
                                **kwargs)
    host.route("/badges/1/image.png", png_image(), content_type="image/png")
    r = upload(client, (f"badge{path[-1]}.png", bake(png_image(), json.dumps(hosted.assertion))))
    assert r.status_code == 200
    return _last_badge_id(client)


def _last_badge_id(client) -> int:
    from flask import current_app  # noqa: F401 - the app is reached through the client

    app = client.application
    from wallet.db import new_session
    from wallet.models import Badge

    with new_session(app) as session:
        return session.scalar(select(Badge.id).order_by(Badge.id.desc()))


def create_link(client, badge_ids, label="", expiry="30j"):
    page = client.get("/partages/nouveau")
    r = client.post("/partages/nouveau", data={"csrf_token": csrf_from(page.text), "badge": [str(i) for i in badge_ids],
                                              "label": label, "expiry": expiry})
    assert r.status_code == 302, r.text
    created = client.get(r.headers["Location"])
    match = re.search(r'id="share-url" type="text" readonly value="([^"]+)"', created.text)
    assert match, "the link is not shown after creation"
    url = unescape(match.group(1))
    assert url.startswith(BASE + "/p/")
    return url[len(BASE):], created


def employer(app):
    return app.test_client()


def db(app, sql, **params):
    from wallet.db import new_session

    with new_session(app) as session:
        result = session.execute(text(sql), params)
        rows = result.all() if result.returns_rows else []
        session.commit()
        return rows


# --- the learner's side -------------------------------------------------------------------------

def test_link_stays_on_its_page_stored_encrypted_and_looked_up_by_hash(alice, app, factory, host):
    badge_id = import_hosted(alice, factory, host)
    path, created = create_link(alice, [badge_id], label="Pour la boulangerie Dupont", expiry="7j")
    token = path.rsplit("/", 1)[1]
    assert len(token) >= 43  # token_urlsafe(32): 256 bits
    page = unescape(created.text)
    assert 'src="data:image/svg+xml;base64,' in created.text and "QR code" in page
    assert f"/badges/{badge_id}/telecharger" in page  # the owner's baked download
    [(stored, enc, expires, created_at)] = db(
        app, "SELECT token_hash, token_enc, expires_at, created_at FROM shares WHERE id = 9201")
    assert stored == hashlib.sha256(token.encode()).hexdigest()
    assert token not in json.dumps([str(r) for r in db(app, "SELECT * FROM shares")])  # only encrypted
    from wallet.keys import crypto

    assert crypto.decrypt(app, enc) == token
    assert str(expires)[:10] == str(datetime.fromisoformat(str(created_at)) + timedelta(days=7))[:10]
    # The same page, later, still shows the link, its QR code and the ways to send it.
    again = unescape(alice.get("/partages/9201/lien").text)
    assert f'value="{BASE}{path}"' in again and 'data-copy="share-url"' in again
    assert "sms:?&body=" + quote(f"Mes badges vérifiés\u00a0: {BASE}{path}", safe="") in again
    mailto = next(u for u in link_targets(again) if u.startswith("mailto:"))
    assert parse_qs(urlsplit(mailto).query)["subject"] == ["Mes badges vérifiés"]
    assert BASE + path in parse_qs(urlsplit(mailto).query)["body"][0]
    assert f'data-share-url="{BASE}{path}"' in again
    listing = unescape(alice.get("/partages/").text)
    assert "Pour la boulangerie Dupont" in listing and "Actif" in listing and "Pas encore consulté" in listing
    assert "/partages/9201/lien" in listing and token not in listing
    qr = alice.get("/partages/9201/qr-code.png")
    assert qr.status_code == 200 and qr.mimetype == "image/png" and "attachment" in qr.headers["Content-Disposition"]
    # A withdrawn link is not shown any more.
    post_form(alice, "/partages/", "/partages/9201/desactiver")
    gone = unescape(alice.get("/partages/9201/lien").text)
    assert token not in gone and "Ce lien est désactivé" in gone
    assert alice.get("/partages/9201/qr-code.png").status_code == 404


def test_a_share_made_before_tokens_were_kept_says_so(alice, app, factory, host):
    badge_id = import_hosted(alice, factory, host)
    path, _created = create_link(alice, [badge_id])
    db(app, "UPDATE shares SET token_enc = NULL WHERE id = 9201")  # as migration 0012 leaves old rows
    page = unescape(alice.get("/partages/9201/lien").text)
    assert path.rsplit("/", 1)[1] not in page
    assert "il ne peut plus être affiché" in page and "/partages/nouveau?depuis=9201" in page
    assert alice.get("/partages/9201/qr-code.png").status_code == 404
    assert employer(app).get(path).status_code == 200  # the old link itself still works


def test_a_tampered_or_foreign_encrypted_token_is_never_shown(alice, app, factory, host):
    from wallet.keys import crypto

    badge_id = import_hosted(alice, factory, host)
    create_link(alice, [badge_id])
    create_link(alice, [badge_id])
    [(other_enc,)] = db(app, "SELECT token_enc FROM shares WHERE id = 9202")
    db(app, "UPDATE shares SET token_enc = :enc WHERE id = 9201", enc=other_enc)
    page = unescape(alice.get("/partages/9201/lien").text)
    assert crypto.decrypt(app, other_enc) not in page and "il ne peut plus être affiché" in page


def test_linkedin_gets_a_permanent_link_of_its_own(alice, app, factory, host):
    badge_id = import_hosted(alice, factory, host)
    path, created = create_link(alice, [badge_id], expiry="30j")
    page = unescape(created.text)
    assert "LinkedIn garde le lien d'une certification pour toujours" in page
    assert not any(u.startswith("https://www.linkedin.com/") for u in link_targets(page))  # not this 30-day link
    r = post_form(alice, "/partages/9201/lien", f"/partages/linkedin/{badge_id}")
    assert r.status_code == 303 and r.headers["Location"].endswith("/lien#linkedin")
    share_id = int(r.headers["Location"].split("/")[-2])
    own = unescape(alice.get(r.headers["Location"]).text)
    assert "Lien permanent pour LinkedIn" in own and "Il n'a pas de date de fin" in own
    linkedin = next(u for u in link_targets(own) if u.startswith("https://www.linkedin.com/profile/add?"))
    query = parse_qs(urlsplit(linkedin).query)
    assert query["startTask"] == ["CERTIFICATION_NAME"] and query["name"] == ["Premiers secours"]
    assert query["organizationName"] == ["Organisme Formation"]
    assert "issueYear" in query and "issueMonth" in query
    cert = query["certUrl"][0]
    assert cert.startswith(BASE + "/p/") and cert != BASE + path
    assert f'value="{cert}"' in own  # the page's own link is that permanent link
    [(expires, purpose)] = db(app, "SELECT expires_at, purpose FROM shares WHERE id = :i", i=share_id)
    assert expires is None and purpose == "linkedin"
    assert db(app, "SELECT token_hash FROM shares WHERE id = :i", i=share_id) == [
        (hashlib.sha256(cert.rsplit("/", 1)[1].encode()).hexdigest(),)]
    assert employer(app).get(cert[len(BASE):]).status_code == 200
    # Asked again, the same permanent link; the 30-day share's page now links LinkedIn straight to it.
    again = post_form(alice, "/partages/9201/lien", f"/partages/linkedin/{badge_id}")
    assert again.headers["Location"] == r.headers["Location"]
    page = unescape(alice.get("/partages/9201/lien").text)
    linkedin = next(u for u in link_targets(page) if u.startswith("https://www.linkedin.com/profile/add?"))
    assert parse_qs(urlsplit(linkedin).query)["certUrl"] == [cert]
    assert "Lien permanent pour LinkedIn" in unescape(alice.get("/partages/").text)
    # Revoked, it stops working; the next request makes a new one.
    post_form(alice, "/partages/", f"/partages/{share_id}/desactiver")
    assert employer(app).get(cert[len(BASE):]).status_code == 404
    third = post_form(alice, "/partages/9201/lien", f"/partages/linkedin/{badge_id}")
    assert third.headers["Location"] != r.headers["Location"]


def test_linkedin_link_only_for_my_matched_badges(alice, app, outbox, factory, host):
    other = import_hosted(alice, factory, host, recipient=factory.recipient("quelqu.un@ailleurs.example", hashed=False))
    assert post_form(alice, "/partages/", f"/partages/linkedin/{other}").status_code == 404
    mine = import_hosted(alice, factory, host, path="/assertions/2")
    assert alice.post(f"/partages/linkedin/{mine}").status_code == 400  # CSRF
    logout(alice)
    registered_user(alice, outbox, email="bob@example.org", name="Bob")
    assert post_form(alice, "/partages/", f"/partages/linkedin/{mine}").status_code == 404
    assert db(app, "SELECT count(*) FROM shares WHERE purpose = 'linkedin'") == [(0,)]


def test_badge_detail_offers_sharing_only_for_matched_badges(alice, factory, host):
    mine = import_hosted(alice, factory, host)
    other = import_hosted(alice, factory, host, path="/assertions/2",
                          recipient=factory.recipient("quelqu.un@ailleurs.example", hashed=False))
    assert "/partages/nouveau?badge=" in alice.get(f"/badges/{mine}").text
    assert "/partages/nouveau" not in alice.get(f"/badges/{other}").text


def test_unmatched_badge_cannot_be_shared(alice, app, factory, host):
    other = import_hosted(alice, factory, host, recipient=factory.recipient("quelqu.un@ailleurs.example", hashed=False))
    form = alice.get("/partages/nouveau").text
    assert f'value="{other}"' not in form
    r = alice.post("/partages/nouveau", data={"csrf_token": csrf_from(form), "badge": str(other), "expiry": "30j"})
    assert r.status_code == 400
    assert "adresses confirmées" in unescape(r.text)
    assert db(app, "SELECT count(*) FROM shares WHERE owner_id = 4712") == [(0,)]


def test_create_share_service_validates(alice, app, factory, host):
    from wallet.db import new_session
    from wallet.models import User
    from wallet.services import public_shares as shared
    from wallet.services import sharing

    mine = import_hosted(alice, factory, host)
    other = import_hosted(alice, factory, host, path="/assertions/2",
                          recipient=factory.recipient("quelqu.un@ailleurs.example", hashed=False))
    with app.app_context(), new_session(app) as session:
        user = session.get(User, 4712)
        filler = session.get(User, 4711)
        for ids_, kwargs, code in [([], {}, "no_badges"), ([other], {}, "not_matched"), ([8100], {}, "not_found"),
                                   ([mine, other], {"kind": "badge"}, "one_badge_only"),
                                   ([mine], {"kind": "public"}, "bad_kind"),
                                   ([mine], {"expires_in": timedelta(0)}, "bad_expiry")]:
            with pytest.raises(sharing.SharingError) as err:
                sharing.create_share(session, user, ids_, **kwargs)
            assert err.value.code == code
        with pytest.raises(sharing.SharingError):
            sharing.create_share(session, filler, [mine])
        share, token = sharing.create_share(session, user, [mine], kind="evidence", label="Numérique")
        assert shared.share_for_token(session, token).id == share.id
        assert sharing.public_url(token, "https://wallet.example/") == "https://wallet.example/p/" + token
        assert shared.share_for_token(session, token, now=datetime.now(UTC) + timedelta(days=3650)) is not None
        short, short_token = sharing.create_share(session, user, [mine], expires_in=timedelta(days=7))
        later = datetime.now(UTC) + timedelta(days=8)
        assert shared.share_for_token(session, short_token, now=later) is None
        assert shared.lookup(session, short_token, now=later).state == "expired"
        assert sharing.revoke_share(session, filler, short.id) is False
        assert sharing.revoke_share(session, user, short.id) is True
        assert shared.lookup(session, short_token).state == "revoked"


def test_another_learner_cannot_see_or_revoke_my_shares(alice, app, outbox, factory, host):
    badge_id = import_hosted(alice, factory, host)
    path, _ = create_link(alice, [badge_id], label="Mon CV")
    logout(alice)
    registered_user(alice, outbox, email="bob@example.org", name="Bob")
    assert "Mon CV" not in alice.get("/partages/").text
    assert alice.get("/partages/9201/lien").status_code == 404
    assert alice.get("/partages/nouveau?depuis=9201").status_code == 404
    r = post_form(alice, "/partages/", "/partages/9201/desactiver")
    assert r.status_code == 404
    assert employer(app).get(path).status_code == 200


def test_every_post_needs_a_csrf_token(alice, app, factory, host):
    badge_id = import_hosted(alice, factory, host)
    path, _ = create_link(alice, [badge_id])
    assert alice.post("/partages/nouveau", data={"badge": str(badge_id), "expiry": "30j"}).status_code == 400
    assert alice.post("/partages/9201/desactiver").status_code == 400
    visitor = employer(app)
    visitor.get(path)
    assert visitor.post(path + "/badges/1/verifier").status_code == 400
    assert visitor.post(path + "/badges/1/destinataire", data={"email": EMAIL}).status_code == 400
    assert db(app, "SELECT revoked_at FROM shares WHERE id = 9201") == [(None,)]


# --- the employer's side ------------------------------------------------------------------------

def test_employer_reads_the_verdict_and_details_without_an_account(alice, app, factory, host):
    badge_id = import_hosted(alice, factory, host)
    path, _ = create_link(alice, [badge_id])
    r = employer(app).get(path)
    page = unescape(r.text)
    assert r.status_code == 200
    assert (f"Badge authentique · délivré par Organisme Formation ({host.authority}) à {NAME} le" in page)
    assert "sans date de fin de validité" in page
    for expected in ("Premiers secours", "Gestes de premiers secours", "Réussir la formation", "Compétence A",
                     "Dernière vérification le", "Vérifier à nouveau",
                     "Vérifier que ce badge appartient bien au candidat", "Le badge publié par l'émetteur"):
        assert expected in page, expected
    assert r.headers["Cache-Control"] == "private, no-store"
    assert "noindex" in r.headers["X-Robots-Tag"]
    assert r.headers["Referrer-Policy"] == "no-referrer"
    assert "frame-ancestors 'none'" in r.headers["Content-Security-Policy"]
    assert '<meta name="robots" content="noindex, nofollow">' in r.text
    assert f'<meta property="og:image" content="{BASE}{path}/apercu.png">' in r.text
    assert 'name="twitter:card" content="summary_large_image"' in r.text
    # No third-party request: every src and stylesheet is ours; outbound links are plain links.
    for target in link_targets(r.text):
        if target.startswith(("http://", "https://")):
            assert target.startswith((BASE, host.origin, "https://ref.example/")), target
    assert not re.search(r'<(img|script|link|iframe)[^>]+(src|href)="https?://(?!127\.0\.0\.1:5000)', r.text)


def test_public_page_and_css_weigh_under_50_kb(alice, app, factory, host):
    badge_id = import_hosted(alice, factory, host)
    path, _ = create_link(alice, [badge_id])
    visitor = employer(app)
    html = visitor.get(path).data
    css = visitor.get("/static/wallet.css").data
    assert len(html) + len(css) < 50 * 1024


def test_nothing_private_leaks_on_public_responses(alice, app, factory, host):
    badge_id = import_hosted(alice, factory, host)
    path, _ = create_link(alice, [badge_id])
    visitor = employer(app)
    page = visitor.get(path)
    responses = {
        "page": page.data,
        "preview": visitor.get(path + "/apercu.png").data,
        "image": visitor.get(path + "/badges/1/image").data,
        "recipient": visitor.post(path + "/badges/1/destinataire",
                                  data={"csrf_token": csrf_from(page.text), "email": EMAIL}).data,
        "qr": alice.get("/partages/9201/lien").data,  # the owner's page: no address of hers either
    }
    digest = hash_identity(EMAIL.lower(), SALT).split("$", 1)[1]
    for name, body in responses.items():
        lowered = body.lower()
        assert EMAIL.lower().encode() not in lowered, name
        assert b"alice.martin" not in lowered, name
        if name != "qr":
            assert SALT.encode() not in body and digest.encode() not in lowered, name
            for internal in (b"4712", b"8101", b"9201"):
                assert internal not in body, (name, internal)
    for target in link_targets(page.text):
        assert "/badges/8101" not in target and "/partages" not in target
    preview = Image.open(io.BytesIO(responses["preview"]))
    assert preview.size == (1200, 630) and preview.format == "PNG"
    assert not preview.text  # no text chunks at all
    assert unbake(responses["image"]) is None


def test_recipient_check_answers_yes_or_no_without_echoing(alice, app, factory, host):
    badge_id = import_hosted(alice, factory, host)
    path, _ = create_link(alice, [badge_id])
    visitor = employer(app)
    page = visitor.get(path).text
    for typed, expected in ((EMAIL.upper(), "Oui : ce badge a bien été délivré"),
                            ("  alice.martin@exemple.fr ", "Oui : ce badge a bien été délivré"),
                            ("alice.martin@exemple.com", "Non : ce badge n'a pas été délivré"),
                            ("pas-une-adresse", "Non : ce badge n'a pas été délivré")):
        r = visitor.post(path + "/badges/1/destinataire", data={"csrf_token": csrf_from(page), "email": typed})
        assert r.status_code == 200
        assert expected in plain(unescape(r.text)), typed
        assert typed.strip().lower().encode() not in r.data.lower()


def test_recipient_check_is_rate_limited(alice, app, factory, host):
    badge_id = import_hosted(alice, factory, host)
    path, _ = create_link(alice, [badge_id])
    visitor = employer(app)
    token = csrf_from(visitor.get(path).text)
    codes = [visitor.post(path + "/badges/1/destinataire", data={"csrf_token": token, "email": f"x{i}@y.fr"}).status_code
             for i in range(11)]
    assert codes[:10] == [200] * 10 and codes[10] == 429


def test_reverify_reruns_verification_and_shows_a_revoked_badge_greyed(alice, app, factory, host):
    badge_id = import_hosted(alice, factory, host)
    path, _ = create_link(alice, [badge_id])
    visitor = employer(app)
    page = visitor.get(path).text
    host.route("/assertions/1", status=410)
    r = visitor.post(path + "/badges/1/verifier", data={"csrf_token": csrf_from(page)})
    assert r.status_code == 302 and r.headers["Location"].endswith(path)
    after = unescape(visitor.get(path).text)
    assert "Badge révoqué par l'émetteur" in after and "Vérification refaite" in after
    assert 'class="share-badge share-greyed"' in after and "verdict-off" in after
    codes = [visitor.post(path + "/badges/1/verifier", data={"csrf_token": csrf_from(page)}).status_code
             for _ in range(5)]
    assert 429 in codes  # 5 per minute per address and share


def test_expired_badge_says_so(alice, app, factory, host):
    badge_id = import_hosted(alice, factory, host)
    path, _ = create_link(alice, [badge_id])
    db(app, "UPDATE badges SET status = 'expired', expires = '2024-03-01 00:00:00' WHERE id = :id", id=badge_id)
    page = unescape(employer(app).get(path).text)
    assert "Badge expiré le 1er mars 2024" in plain(page) and "share-greyed" in page


def test_revoked_share_is_gone_at_once(alice, app, factory, host):
    badge_id = import_hosted(alice, factory, host)
    path, _ = create_link(alice, [badge_id])
    visitor = employer(app)
    assert visitor.get(path).status_code == 200
    r = post_form(alice, "/partages/", "/partages/9201/desactiver")
    assert r.status_code == 302
    for sub in ("", "/badges/1", "/badges/1/image", "/apercu.png", "/badges/1/original"):
        gone = visitor.get(path + sub)
        assert gone.status_code == 404, sub
        assert gone.headers["Cache-Control"] == "private, no-store"
    assert "Désactivé" in unescape(alice.get("/partages/").text)


def test_expired_share_is_404(alice, app, factory, host):
    badge_id = import_hosted(alice, factory, host)
    path, _ = create_link(alice, [badge_id], expiry="7j")
    visitor = employer(app)
    assert visitor.get(path).status_code == 200
    db(app, "UPDATE shares SET expires_at = '2020-01-01 00:00:00' WHERE id = 9201")
    assert visitor.get(path).status_code == 404
    assert "Expiré" in unescape(alice.get("/partages/").text)


def test_view_count_and_last_viewed(alice, app, factory, host):
    badge_id = import_hosted(alice, factory, host)
    path, _ = create_link(alice, [badge_id])
    alice.get(path)  # the owner's own visit does not count
    for _ in range(3):
        employer(app).get(path)
    [(count, last)] = db(app, "SELECT view_count, last_viewed_at FROM shares WHERE id = 9201")
    assert count == 3 and last is not None
    assert "Consulté 3 fois" in unescape(alice.get("/partages/").text)


def test_random_tokens_are_all_unknown(alice, app, factory, host):
    from wallet.db import new_session
    from wallet.services import public_shares as shared

    badge_id = import_hosted(alice, factory, host)
    create_link(alice, [badge_id])
    with new_session(app) as session:
        assert all(shared.share_for_token(session, secrets.token_urlsafe(32)) is None for _ in range(10_000))
        assert shared.share_for_token(session, "../../etc") is None


@pytest.fixture
def no_limits(app_config):
    from wallet.app.extensions import limiter

    app_config["RATELIMIT_ENABLED"] = False
    yield app_config
    limiter.enabled = True  # the limiter object outlives this app


def test_random_tokens_answer_404_over_http(no_limits, app):
    visitor = employer(app)
    for _ in range(300):
        assert visitor.get("/p/" + secrets.token_urlsafe(32)).status_code == 404


def test_guessing_tokens_gets_rate_limited(app):
    visitor = employer(app)
    answers = [visitor.get("/p/" + secrets.token_urlsafe(32)) for _ in range(61)]
    codes = [r.status_code for r in answers]
    assert codes[:60] == [404] * 60 and codes[60] == 429, codes
    # The refusal says how long to wait (what is left of the minute); the answers before it carry
    # no X-RateLimit-* headers, which would cost the store two more round trips each.
    assert 1 <= int(answers[60].headers["Retry-After"]) <= 60
    assert not [h for r in answers for h, _value in r.headers if h.lower().startswith("x-ratelimit")]


def test_a_guesser_spends_only_their_guesses_and_valid_links_never_touch_the_store(alice, app, factory, host):
    """Only a 404 spends a guess (T51): the address that spent its budget still opens a real link,
    and a valid visit neither reads nor writes the limiter's store (Redis in production)."""
    from wallet.app.extensions import limiter
    from wallet.views.public_shares import GUESSES

    path, _ = create_link(alice, [import_hosted(alice, factory, host)])
    visitor = employer(app)
    calls: list[str] = []
    strategy = limiter.limiter
    for name in ("hit", "test", "get_window_stats"):
        original = getattr(strategy, name)
        setattr(strategy, name, lambda *a, _f=original, _n=name, **k: calls.append(_n) or _f(*a, **k))
    try:
        assert [visitor.get(path).status_code for _ in range(5)] == [200] * 5
        assert calls == []
        codes = [visitor.get("/p/" + secrets.token_urlsafe(32)).status_code for _ in range(61)]
        assert codes == [404] * 60 + [429]
        assert visitor.get(path).status_code == 200
        assert visitor.get(path + "/badges/9/image").status_code == 429  # a position guessed is a guess too
        with app.test_request_context():
            assert strategy.get_window_stats(GUESSES, "share-guess", "127.0.0.1").remaining == 0
    finally:
        for name in ("hit", "test", "get_window_stats"):
            strategy.__dict__.pop(name, None)


def test_a_collection_page_reads_the_link_then_its_badges_and_holder_in_one_statement(alice, app, factory,
                                                                                       host):
    from sqlalchemy import event

    from wallet.db import engine

    first = import_hosted(alice, factory, host)
    ob3 = factory.ob3_di(email=EMAIL.lower(), salt=SALT)
    assert upload(alice, text=ob3.text).status_code == 200
    path, _ = create_link(alice, [first, _last_badge_id(alice)])
    selects: list[str] = []

    def record(conn, cursor, statement, *args):
        if statement.lstrip().upper().startswith("SELECT"):
            selects.append(statement)

    event.listen(engine(app), "before_cursor_execute", record)
    try:
        page = unescape(employer(app).get(path).text)
    finally:
        event.remove(engine(app), "before_cursor_execute", record)
    assert f"Badges de {NAME}" in page and "Premiers secours" in page and "Travail en équipe" in page
    assert len(selects) == 2, selects  # the link by its hash; its badges with their holder's name


def test_collection_lists_cards_that_open_their_detail(alice, app, factory, host):
    first = import_hosted(alice, factory, host)
    ob3 = factory.ob3_di(email=EMAIL.lower(), salt=SALT)
    assert upload(alice, text=ob3.text).status_code == 200
    second = _last_badge_id(alice)
    path, _ = create_link(alice, [first, second], label="Mon CV")
    visitor = employer(app)
    page = unescape(visitor.get(path).text)
    assert f"Badges de {NAME}" in page and "Premiers secours" in page and "Travail en équipe" in page
    assert "Mon CV" not in page  # the label is the learner's own note
    targets = link_targets(page)
    assert path + "/badges/1" in targets and path + "/badges/2" in targets
    detail = unescape(visitor.get(path + "/badges/2").text)
    assert "Travail en équipe" in detail and "Évaluation par les pairs" in detail
    credential = visitor.get(path + "/badges/2/credential.json")
    assert credential.status_code == 200 and credential.mimetype == "application/json"
    assert json.loads(credential.data)["id"] == ob3.credential["id"]
    assert EMAIL.lower().encode() not in credential.data.lower()
    assert visitor.get(path + "/badges/1/credential.json").status_code == 404  # OB 2.0: none
    assert visitor.get(path + "/badges/3").status_code == 404


def test_originals_only_when_the_recipient_is_hashed(alice, app, factory, host):
    hashed = import_hosted(alice, factory, host)
    plain = import_hosted(alice, factory, host, path="/assertions/2",
                          recipient=factory.recipient(EMAIL.lower(), hashed=False))
    path, _ = create_link(alice, [hashed, plain])
    visitor = employer(app)
    original = visitor.get(path + "/badges/1/original")
    assert original.status_code == 200 and original.headers["Content-Disposition"].startswith("attachment")
    payload = json.loads(unbake(original.data))
    assert payload["recipient"]["hashed"] is True and EMAIL.lower().encode() not in original.data.lower()
    detail = unescape(visitor.get(path + "/badges/2").text)
    assert "Télécharger le badge original" not in detail
    assert host.url("/assertions/2") in detail  # the issuer's hosted copy instead
    assert visitor.get(path + "/badges/2/original").status_code == 404
    image = visitor.get(path + "/badges/2/image")
    assert EMAIL.lower().encode() not in image.data.lower() and unbake(image.data) is None


def test_baked_svg_is_served_without_its_badge(alice, app, factory, host):
    hosted = factory.ob2_hosted(recipient=factory.recipient(EMAIL.lower(), hashed=False))
    svg = bake(plain_svg(), json.dumps(hosted.assertion))
    assert upload(alice, ("badge.svg", svg)).status_code == 200
    path, _ = create_link(alice, [_last_badge_id(alice)])
    image = employer(app).get(path + "/badges/1/image")
    assert image.status_code == 200 and image.mimetype == "image/svg+xml"
    assert b"<svg" in image.data or b":svg" in image.data
    assert EMAIL.lower().encode() not in image.data.lower() and unbake(image.data) is None
    assert "sandbox" in image.headers["Content-Security-Policy"]


def test_badge_text_is_escaped_on_public_pages(alice, app, factory, host):
    badge_id = import_hosted(alice, factory, host, badge_extra={
        "name": "<img src=x onerror=alert(1)>",
        "criteria": {"narrative": "[voir](javascript:alert(1))"}})
    path, _ = create_link(alice, [badge_id])
    r = employer(app).get(path)
    assert "<img src=x" not in r.text and "&lt;img src=x" in r.text
    assert not any(t.lower().startswith("javascript:") for t in link_targets(r.text))


def test_evidence_page_says_when_it_was_withdrawn(alice, app, factory, host):
    from wallet.db import new_session
    from wallet.models import User
    from wallet.services import sharing

    badge_id = import_hosted(alice, factory, host)
    with app.app_context(), new_session(app) as session:
        share, token = sharing.create_share(session, session.get(User, 4712), [badge_id], kind="evidence",
                                            label="Compétences numériques")
    visitor = employer(app)
    page = plain(unescape(visitor.get("/p/" + token).text))
    assert "Preuves pour la demande du badge régional « Compétences numériques »" in page
    assert "/p/" + token + "/badges/1" in page
    with new_session(app) as session:
        sharing.revoke_share(session, session.get(User, 4712), share.id)
    gone = visitor.get("/p/" + token)
    assert gone.status_code == 410 and "retirées" in unescape(gone.text)
    assert visitor.get("/p/" + token + "/badges/1").status_code == 410


def test_language_switch_gives_the_verdict_in_english(alice, app, factory, host):
    badge_id = import_hosted(alice, factory, host)
    path, _ = create_link(alice, [badge_id])
    visitor = employer(app)
    page = visitor.get(path).text
    r = visitor.post("/langue", data={"csrf_token": csrf_from(page), "locale": "en", "next": path})
    assert r.headers["Location"].endswith(path)
    english = unescape(visitor.get(path).text)
    assert 'lang="en"' in english
    assert "The issuer still publishes this badge" in english  # check messages from the core catalog


def test_view_counter_batches_views_into_one_update(alice, app, factory, host):
    from wallet.db import new_session
    from wallet.services import public_shares as shared

    badge_id = import_hosted(alice, factory, host)
    create_link(alice, [badge_id])
    counter = shared.ViewCounter(lambda: new_session(app), interval=3600)  # the timer never fires here
    early, late = datetime(2026, 1, 5, 9, 0, tzinfo=UTC), datetime(2026, 1, 5, 10, 30, tzinfo=UTC)
    counter.add(9201, late)
    counter.add(9201, early)
    assert db(app, "SELECT view_count FROM shares WHERE id = 9201") == [(0,)]
    counter.flush()
    [(count, last)] = db(app, "SELECT view_count, last_viewed_at FROM shares WHERE id = 9201")
    assert count == 2 and str(last).startswith("2026-01-05 10:30")
    counter.flush()  # nothing pending: nothing written
    assert db(app, "SELECT view_count FROM shares WHERE id = 9201") == [(2,)]


def test_view_counter_writes_the_views_of_many_shares_in_one_statement(alice, app, factory, host):
    """A flood of first views touches a different share each time: a flush is one statement for
    all of them (an UPDATE per share cost each view a round trip), each share getting its own."""
    from sqlalchemy import event

    from wallet.db import engine, new_session
    from wallet.services import public_shares as shared

    badge_id = import_hosted(alice, factory, host)
    for _ in range(3):
        create_link(alice, [badge_id])
    ids = [row[0] for row in db(app, "SELECT id FROM shares ORDER BY id")]
    counter = shared.ViewCounter(lambda: new_session(app), interval=3600)
    for n, share_id in enumerate(ids, start=1):
        for _ in range(n):
            counter.add(share_id, datetime(2026, 1, 5, 9, n, tzinfo=UTC))
    updates = []
    with app.app_context():
        eng = engine()

    def _seen(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("UPDATE"):
            updates.append(len(parameters) if executemany else 1)

    event.listen(eng, "before_cursor_execute", _seen)
    try:
        counter.flush()
    finally:
        event.remove(eng, "before_cursor_execute", _seen)
    assert len(ids) >= 3 and updates == [len(ids)]
    assert db(app, "SELECT view_count FROM shares ORDER BY id") == [(n,) for n in range(1, len(ids) + 1)]


def test_employer_page_header_names_the_check_and_the_region(alice, app, factory, host):
    first = import_hosted(alice, factory, host)
    second = import_hosted(alice, factory, host, path="/assertions/2")
    path, _ = create_link(alice, [first])
    page = unescape(employer(app).get(path).text)
    header = re.search(r'<header class="site-header">(.*?)</header>', page, re.DOTALL).group(1)
    assert "Vérification d'un badge — Région Normandie" in header
    assert "Mon portefeuille de badges" not in page
    assert re.search(r"<title>[^<]* · Vérification d'un badge — Région Normandie</title>", page)
    several, _ = create_link(alice, [first, second])
    assert "Vérification de badges — Région Normandie" in unescape(employer(app).get(several).text)
    english = employer(app)
    english.post("/langue", data={"csrf_token": csrf_from(english.get(path).text), "locale": "en"})
    # Another Region's name comes from its configuration at start (tests/web/test_region.py).
    assert "Badge check — Région Normandie" in unescape(english.get(path + "?en").text)


def test_the_issuer_origin_shown_is_where_the_badge_was_checked(alice, app, factory, host):
    """An issuer may declare any website about itself: the page names the origin its documents
    came from (the authority of its authoritative id), and links the website only as its website."""
    badge_id = import_hosted(alice, factory, host, issuer_extra={"url": "https://bank.example/"})
    path, _ = create_link(alice, [badge_id])
    page = unescape(employer(app).get(path).text)
    assert f"délivré par Organisme Formation ({host.authority}) à {NAME}" in page
    assert "(bank.example)" not in page
    assert f"<dt>Vérifié auprès de</dt><dd>{host.authority}</dd>" in page
    assert 'href="https://bank.example/"' in page  # the issuer's name still links its website
    own = unescape(alice.get(f"/badges/{badge_id}").text)
    assert f"({host.authority})" in own and "(bank.example)" not in own
    assert f"<dt>Vérifié auprès de</dt><dd>{host.authority}</dd>" in own
    # A badge whose authenticity failed names no verified origin at all.
    db(app, "UPDATE badges SET status = 'invalid' WHERE id = :i", i=badge_id)
    assert "Vérifié auprès de" not in unescape(alice.get(f"/badges/{badge_id}").text)


@pytest.mark.parametrize(("issuer_id", "expected"), [
    ("https://Issuer.Example:8443/profile.json", "issuer.example:8443"),
    ("https://user@issuer.example/profile", "issuer.example"),
    ("did:web:issuer.example%3A8443:org:1#key-1", "issuer.example:8443"),
    ("did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK", ""),
    ("urn:uuid:2f0c1b7e-0000-4000-8000-000000000000", ""),
    ("", ""),
])
def test_origin_of_an_issuer_id(issuer_id, expected):
    from wallet.text.rendering import origin

    assert origin(issuer_id) == expected
