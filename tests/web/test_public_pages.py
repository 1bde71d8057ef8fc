"""Public pages kept as rendered (wallet/models/shares.py PublicPage): a first view reads its page
with its link in one statement; a page is served again only while what it shows is unchanged, and
it never holds the token (only its hash is stored, SECURITY.md T51) nor anyone's CSRF token."""

from __future__ import annotations

import re
from html import unescape

from sqlalchemy import event

from tests.conftest import csrf_from, plain
from tests.web import test_shares as shares
from tests.web.test_shares import EMAIL, create_link, db, employer, import_hosted

# The share tests' fixtures: their app serves a partner's hosted badges, and alice is signed in.
app_config, ids, alice = shares.app_config, shares.ids, shares.alice

SHARE = 9201


def kept(app, share=SHARE):
    return {(p, lang): (fp, html) for p, lang, fp, html in
            db(app, "SELECT position, lang, fingerprint, html FROM public_pages WHERE share_id = :s", s=share)}


def selects(app):
    """The SELECT statements run from now on (a list that fills as requests run)."""
    from wallet.db import engine

    seen: list[str] = []

    def listen(_conn, _cursor, statement, *_args):
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append(statement)

    event.listen(engine(app), "before_cursor_execute", listen)
    return seen


def test_a_new_link_has_its_page_kept_without_its_token(alice, app, factory, host):
    badge_id = import_hosted(alice, factory, host)
    path, _ = create_link(alice, [badge_id])
    token = path.rsplit("/", 1)[1]
    pages = kept(app)
    assert list(pages) == [(1, "fr")]
    html = pages[(1, "fr")][1]
    assert token not in html and "csrf" in html  # the form is there, with a slot for its token
    assert "Badge authentique" in unescape(html)
    assert re.search(r'name="csrf_token" value="slot[0-9a-f]{32}"', html)


def test_a_first_view_is_the_kept_page_read_with_its_link_in_one_statement(alice, app, factory, host):
    badge_id = import_hosted(alice, factory, host)
    path, _ = create_link(alice, [badge_id])
    token = path.rsplit("/", 1)[1]
    # Mark the kept copy: a visit that renders again would not show the mark.
    db(app, "UPDATE public_pages SET html = replace(html, 'Badge authentique', 'Badge authentique (copie)')")
    seen = selects(app)
    first, second = employer(app), employer(app)
    page_one, page_two = first.get(path).text, second.get(path).text
    assert "Badge authentique (copie)" in unescape(page_one)
    assert len(seen) == 2, seen  # one read for each visit
    # Each visitor gets the link's own URLs, a CSRF token of their own and no slot.
    assert f"/p/{token}/badges/1/verifier" in page_one
    assert not re.search(r"slot[0-9a-f]{32}", page_one + page_two)
    assert csrf_from(page_one) != csrf_from(page_two)
    answer = second.post(path + "/badges/1/destinataire", data={"csrf_token": csrf_from(page_two), "email": EMAIL})
    assert answer.status_code == 200 and "Oui" in answer.text
    assert second.post(path + "/badges/1/destinataire",
                       data={"csrf_token": csrf_from(page_one), "email": EMAIL}).status_code == 400


def test_a_changed_badge_is_rendered_again_and_kept_again(alice, app, factory, host):
    badge_id = import_hosted(alice, factory, host)
    path, _ = create_link(alice, [badge_id])
    before = kept(app)[(1, "fr")][0]
    db(app, "UPDATE public_pages SET html = replace(html, 'Badge authentique', 'Badge authentique (copie)')")
    db(app, "UPDATE badges SET status = 'revoked' WHERE id = :i", i=badge_id)
    page = unescape(employer(app).get(path).text)
    assert "Badge révoqué par l'émetteur" in page and "(copie)" not in page
    fingerprint, html = kept(app)[(1, "fr")]
    assert fingerprint != before and "Badge révoqué" in unescape(html)
    db(app, "UPDATE users SET display_name = 'Alice Durand' WHERE id = 4712")
    assert "Alice Durand" in employer(app).get(path).text


def test_a_new_verification_date_keeps_the_page_and_shows_the_date(alice, app, factory, host):
    badge_id = import_hosted(alice, factory, host)
    path, _ = create_link(alice, [badge_id])
    db(app, "UPDATE public_pages SET html = replace(html, 'Badge authentique', 'Badge authentique (copie)')")
    db(app, "UPDATE badges SET checked_at = '2025-03-04 08:05:00' WHERE id = :i", i=badge_id)
    page = plain(unescape(employer(app).get(path).text))
    assert "(copie)" in page
    assert "Dernière vérification le 4 mars 2025 à 9 h 05." in page  # Europe/Paris


def test_a_withdrawn_link_is_gone_at_once_though_its_page_is_kept(alice, app, factory, host):
    badge_id = import_hosted(alice, factory, host)
    path, _ = create_link(alice, [badge_id])
    assert kept(app)
    db(app, "UPDATE shares SET revoked_at = '2026-01-01 00:00:00' WHERE id = :s", s=SHARE)
    gone = employer(app).get(path)
    assert gone.status_code == 404 and "Badge authentique" not in unescape(gone.text)
    db(app, "UPDATE shares SET revoked_at = NULL, expires_at = '2020-01-01 00:00:00' WHERE id = :s", s=SHARE)
    assert employer(app).get(path).status_code == 404
    db(app, "UPDATE shares SET expires_at = NULL WHERE id = :s", s=SHARE)
    db(app, "UPDATE badges SET matched = :f WHERE id = :i", f=False, i=badge_id)  # no longer the owner's
    assert employer(app).get(path).status_code == 404


def test_the_owner_and_a_flash_never_get_or_leave_a_kept_page(alice, app, factory, host):
    badge_id = import_hosted(alice, factory, host)
    path, _ = create_link(alice, [badge_id])
    db(app, "UPDATE public_pages SET html = replace(html, 'Badge authentique', 'Badge authentique (copie)')")
    own = unescape(alice.get(path).text)
    assert "Badge authentique" in own and "(copie)" not in own
    visitor = employer(app)
    page = visitor.get(path).text
    visitor.post(path + "/badges/1/verifier", data={"csrf_token": csrf_from(page)})
    flashed = unescape(visitor.get(path).text)
    assert "Vérification refaite à l'instant." in flashed and "(copie)" not in flashed
    assert "Vérification refaite" not in unescape(kept(app)[(1, "fr")][1])


def test_each_language_and_each_page_of_a_collection_is_kept_apart(alice, app, factory, host):
    first = import_hosted(alice, factory, host)
    second = import_hosted(alice, factory, host, path="/assertions/2")
    path, _ = create_link(alice, [first, second], label="Mes compétences")
    assert list(kept(app)) == [(0, "fr")]  # the collection's own page, kept when the link was made
    visitor = employer(app)
    assert "Badges de Alice Martin" in unescape(visitor.get(path).text)
    visitor.get(path + "/badges/2")
    visitor.post("/langue", data={"csrf_token": csrf_from(visitor.get(path).text), "locale": "en"})
    english = unescape(visitor.get(path + "/badges/2").text)
    assert 'lang="en"' in english and "Genuine badge" in english
    assert sorted(kept(app)) == [(0, "fr"), (2, "en"), (2, "fr")]
    assert "Badge authentique" in unescape(kept(app)[(2, "fr")][1])


def test_a_page_not_kept_is_still_served(alice, app, factory, host, monkeypatch, caplog):
    from sqlalchemy.exc import OperationalError
    from sqlalchemy.orm import Session

    badge_id = import_hosted(alice, factory, host)
    path, _ = create_link(alice, [badge_id])
    db(app, "DELETE FROM public_pages")
    real = Session.execute

    def refuse(self, statement, *args, **kwargs):
        if getattr(statement, "is_insert", False):
            raise OperationalError("INSERT", {}, Exception("database is locked"))
        return real(self, statement, *args, **kwargs)

    monkeypatch.setattr(Session, "execute", refuse)
    r = employer(app).get(path)
    assert r.status_code == 200 and "Badge authentique" in unescape(r.text)
    assert "not kept" in caplog.text
    monkeypatch.undo()
    assert kept(app) == {}


def test_deleting_the_account_deletes_its_kept_pages(alice, app, factory, host):
    badge_id = import_hosted(alice, factory, host)
    create_link(alice, [badge_id])
    assert kept(app)
    db(app, "DELETE FROM users WHERE id = 4712")
    assert db(app, "SELECT count(*) FROM public_pages") == [(0,)]


def test_the_slots_are_secret_to_the_deployment(app):
    """A badge's own text cannot name a slot: they are derived from the deployment's secret."""
    from wallet.views import public_shares

    with app.test_request_context("/"):
        slots = public_shares._slots()
    app.extensions.pop("wallet_page_slots")
    app.config["SECRET_KEY"] = "another-secret"
    with app.test_request_context("/"):
        other = public_shares._slots()
    assert len(set(slots)) == 3 and not set(slots) & set(other)
