"""Mes badges régionaux: states, progress, what counts and why the rest does not."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from html import unescape

import pytest

from tests.conftest import plain
from tests.fakes.badges import BadgeFactory
from tests.fakes.server import FakeServer
from tests.web.accounts_helpers import registered_user
from tests.web.test_badges import upload
from wallet.eligibility import default_referential_path

BASE = "http://127.0.0.1:5000"
LEVEL = BASE + "/referentials/normandie/competences/communiquer/niveau-{}"


@pytest.fixture
def app_config(app_config, hosts, tmp_path):
    return regional_config(app_config, hosts, tmp_path)


def regional_config(app_config, hosts, tmp_path, **settings):
    """A referential with two test partners (the loopback servers) and fetches allowed to them;
    `settings` are set after (CLAIM_FIRST_ATTEMPT="inline", RATELIMIT_ENABLED=True…)."""
    one, two = hosts
    text = default_referential_path().read_text(encoding="utf-8")
    for key, server in (("test-partner-one", one), ("test-partner-two", two)):
        text += (f'\n[[partners]]\nkey = "{key}"\nname = "Partenaire {key}"\n'
                 f'issuer_ids = ["{server.url("/issuer")}"]\n')
    path = tmp_path / "referential.toml"
    path.write_text(text, encoding="utf-8")
    app_config["REFERENTIAL"] = str(path)
    app_config["FETCH_ALLOW"] = f"{one.authority},{two.authority}"
    app_config.update(settings)
    return app_config


def aligned_assertion(server, number: int, level: int = 1, **kwargs) -> str:
    """An OB 2.0 hosted assertion of BadgeClass /badges/<number>, aligned to Communiquer."""
    factory = BadgeFactory(server, now=datetime.now(UTC))
    issuer = factory.ob2_issuer()
    alignment = [{"targetName": "Communiquer", "targetUrl": LEVEL.format(level)}]
    badge = factory.ob2_badgeclass(issuer["id"], path=f"/badges/{number}", name=f"Communication {number}",
                                   alignment=alignment)
    path = f"/assertions/{number}"
    assertion = factory.ob2_assertion(server.url(path), badge["id"], {"type": "HostedBadge"}, **kwargs)
    server.json(path, assertion)
    return json.dumps(assertion)


def card(page: str, name: str) -> str:
    """The text of one regional card (tags removed, no-break spaces as plain ones)."""
    page = plain(page)
    start = page.index(f"<h3>{name}</h3>")
    end = page.find('class="card regional-card', start)
    return re.sub(r"<[^>]+>", "", page[start:end if end != -1 else len(page)])


def test_two_partner_badges_make_communiquer_1_eligible(client, outbox, hosts):
    one, _two = hosts
    registered_user(client, outbox)
    upload(client, text=aligned_assertion(one, 1))
    page = unescape(client.get("/badges-regionaux/").text)
    communiquer = card(page, "Communiquer — Je pratique")
    assert "En cours" in communiquer and "1 sur 2" in communiquer
    assert "Il vous faut encore 1 badge « Communiquer »." in communiquer
    upload(client, text=aligned_assertion(one, 2))
    page = unescape(client.get("/badges-regionaux/").text)
    communiquer = card(page, "Communiquer — Je pratique")
    assert "Vous pouvez le demander" in communiquer and "2 sur 2" in communiquer
    assert "Communication 1" in communiquer and "Communication 2" in communiquer
    assert "Pas encore commencé" in card(page, "Organiser — Je pratique")


def test_mastery_needs_two_different_partners(client, outbox, hosts):
    one, two = hosts
    registered_user(client, outbox)
    for number in range(1, 5):
        upload(client, text=aligned_assertion(one, number, level=2))
    page = unescape(client.get("/badges-regionaux/").text)
    master = card(page, "Communiquer — Je maîtrise")
    assert "En cours" in master and "4 sur 4" in master and "Partenaires différents : 1 sur 2" in master
    assert "d'un autre partenaire" in master
    upload(client, text=aligned_assertion(two, 5, level=2))
    master = card(unescape(client.get("/badges-regionaux/").text), "Communiquer — Je maîtrise")
    assert "Vous pouvez le demander" in master


def test_expired_and_unmatched_badges_say_why_they_do_not_count(client, outbox, hosts):
    one, _two = hosts
    registered_user(client, outbox)
    past = datetime.now(UTC) - timedelta(days=1)
    upload(client, text=aligned_assertion(one, 1, issued_on=past - timedelta(days=30), expires=past))
    other = BadgeFactory(one).recipient("someone@else.example")
    upload(client, text=aligned_assertion(one, 2, recipient=other))
    communiquer = card(unescape(client.get("/badges-regionaux/").text), "Communiquer — Je pratique")
    assert "Pas encore commencé" in communiquer
    assert "Communication 1 — expiré : il ne compte plus" in communiquer
    assert "Communication 2 — délivré à une adresse que vous n'avez pas encore confirmée" in communiquer


def _age_badges(app) -> None:
    from sqlalchemy import update

    from wallet.db import new_session
    from wallet.models import Badge, utcnow

    with new_session(app) as session:
        session.execute(update(Badge).values(checked_at=utcnow() - timedelta(days=8)))
        session.commit()


def test_a_badge_revoked_on_reverification_stops_counting_at_once(app, client, outbox, hosts):
    # The page reads the facts stored beside each verdict: re-verification must rewrite them.
    from wallet.services import reverification

    one, _two = hosts
    registered_user(client, outbox)
    upload(client, text=aligned_assertion(one, 1))
    upload(client, text=aligned_assertion(one, 2))
    assert "Vous pouvez le demander" in card(unescape(client.get("/badges-regionaux/").text),
                                             "Communiquer — Je pratique")
    one.route("/assertions/2", b"", status=410)
    _age_badges(app)
    assert reverification.reverify_stale(app).reverified == 2
    communiquer = card(unescape(client.get("/badges-regionaux/").text), "Communiquer — Je pratique")
    assert "En cours" in communiquer and "1 sur 2" in communiquer
    assert "Communication 2 — révoqué par l'émetteur : il ne compte plus" in communiquer


@pytest.mark.parametrize("facts", [None, '{"eligibility_facts": 0, "id": "x", "status": "valid"}', "{}"])
def test_a_badge_without_facts_of_this_version_is_judged_on_its_verdict(app, client, outbox, hosts, facts):
    from sqlalchemy import select, update

    from wallet.db import new_session
    from wallet.models import Badge

    one, _two = hosts
    registered_user(client, outbox)
    upload(client, text=aligned_assertion(one, 1))
    upload(client, text=aligned_assertion(one, 2))
    with new_session(app) as session:
        first = session.scalars(select(Badge.id).order_by(Badge.id)).first()
        session.execute(update(Badge).where(Badge.id == first).values(facts=facts))
        session.commit()
    communiquer = card(unescape(client.get("/badges-regionaux/").text), "Communiquer — Je pratique")
    assert "Vous pouvez le demander" in communiquer and "2 sur 2" in communiquer
    assert "Communication 1" in communiquer and "Communication 2" in communiquer


def test_badges_from_non_partners_are_listed_once(client, outbox):
    with FakeServer() as stranger:
        registered_user(client, outbox)
        client.application.config["FETCH_ALLOW"] = stranger.authority
        client.application.extensions["wallet_http"] = type(client.application.extensions["wallet_http"]).from_config(
            client.application.config)
        upload(client, text=aligned_assertion(stranger, 1))
    page = unescape(client.get("/badges-regionaux/").text)
    assert page.count("pas partenaire de la Région") == 1
    assert "Pas encore commencé" in card(page, "Communiquer — Je pratique")


def groups(page: str) -> list[tuple[str, bool, list[str]]]:
    """(heading, folded, card names) of each group of the page, in page order."""
    found = []
    for match in re.finditer(r'<(section|details) class="regional-group[^"]*"[^>]*>(.*?)</\1>', page, re.DOTALL):
        heading = re.search(r"<h2[^>]*>(.*?)</h2>", match.group(2), re.DOTALL).group(1).strip()
        names = re.findall(r"<h3>(.*?)</h3>", match.group(2))
        folded = match.group(1) == "details" and " open" not in match.group(0).split(">", 1)[0]
        found.append((heading, folded, names))
    return found


def test_claimable_first_then_in_progress_then_the_rest_folded(client, outbox, hosts):
    one, _two = hosts
    registered_user(client, outbox)
    for number in range(1, 5):
        upload(client, text=aligned_assertion(one, number, level=2))
    found = groups(unescape(client.get("/badges-regionaux/").text))
    assert [(heading, folded) for heading, folded, _names in found] == [
        ("Vous pouvez le demander (1\u00a0badge)", False),
        ("En cours (1\u00a0badge)", False),
        ("Pas encore commencés (7\u00a0badges)", True),
    ]
    assert found[0][2] == ["Communiquer — Je pratique"]
    assert found[1][2] == ["Communiquer — Je maîtrise"]
    assert "Organiser — Je pratique" in found[2][2] and len(found[2][2]) == 7


def test_a_claim_sent_moves_the_badge_to_in_progress(app, client, outbox, hosts):
    from tests.web.accounts_helpers import post_form

    app.config["CLAIM_FIRST_ATTEMPT"] = "worker"  # the claim stays sent, not yet issued
    one, _two = hosts
    registered_user(client, outbox)
    for number in (1, 2):
        upload(client, text=aligned_assertion(one, number))
    assert post_form(client, "/demandes/nouvelle/communiquer-1", recipient="ana@example.org").status_code == 303
    found = groups(unescape(client.get("/badges-regionaux/").text))
    assert [heading for heading, _f, _n in found] == ["En cours (1\u00a0badge)",
                                                      "Pas encore commencés (8\u00a0badges)"]
    assert found[0][2] == ["Communiquer — Je pratique"]


def test_nothing_started_shows_the_folded_group_open(client, outbox):
    registered_user(client, outbox)
    found = groups(unescape(client.get("/badges-regionaux/").text))
    assert found == [("Pas encore commencés (9\u00a0badges)", False, found[0][2])] and len(found[0][2]) == 9


def test_referential_load_command_and_regional_images(app, client, outbox):
    result = app.test_cli_runner().invoke(args=["referential", "load"])
    assert result.exit_code == 0 and "loaded" in result.output
    again = app.test_cli_runner().invoke(args=["referential", "load"])
    assert "already in force" in again.output
    registered_user(client, outbox)
    page = client.get("/badges-regionaux/").text
    assert page.count('class="card regional-card') == 9
    image = client.get("/badges-regionaux/images/images/communiquer-1.svg")
    assert image.status_code == 200 and "sandbox" in image.headers["Content-Security-Policy"]
    assert client.get("/badges-regionaux/images/../normandie.toml").status_code == 404


def test_a_broken_referential_is_refused_with_lines(app, tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text(default_referential_path().read_text(encoding="utf-8").replace(
        'skill = "communiquer", level = 1', 'skill = "cuisiner", level = 1', 1), encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["referential", "load", str(bad)])
    assert result.exit_code == 1
    assert "bad.toml:" in result.output and "cuisiner" in result.output


def test_admin_sees_the_referential_and_publishes_a_checked_version(app, client, outbox):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["users", "create-admin", "admin@region.example", "--password",
                               "la region normande admin"]).exit_code == 0
    from tests.web.accounts_helpers import login, post_form

    assert login(client, email="admin@region.example", password="la region normande admin").status_code == 302
    page = unescape(client.get("/admin/referentiel").text)
    assert "Communiquer — Je maîtrise" in page and "[Démo] Centre de formation Les Tilleuls" in page
    text = default_referential_path().read_text(encoding="utf-8")
    bad = text.replace('skill = "communiquer", level = 1', 'skill = "cuisiner", level = 1', 1)
    r = post_form(client, "/admin/referentiel", text=bad)
    assert r.status_code == 400 and "cuisiner" in unescape(r.text) and "référentiel:" in unescape(r.text)
    newer = text.replace('version = "2026.1"', 'version = "2026.2"').replace(
        'name = { fr = "Communiquer — Je pratique"', 'name = { fr = "Communiquer — Niveau 1"', 1)
    r = post_form(client, "/admin/referentiel", text=newer)
    assert r.status_code == 302
    page = plain(unescape(client.get("/admin/referentiel").text))
    assert "Version en vigueur : 2026.2" in page
    learner_page = unescape(client.get("/badges-regionaux/").text)
    assert "Communiquer — Niveau 1" in learner_page and "Communiquer — Je pratique" not in learner_page


def test_admin_pages_are_404_for_learners(client, outbox):
    registered_user(client, outbox)
    assert client.get("/admin/referentiel").status_code == 404
    assert client.get("/admin/").status_code == 404
