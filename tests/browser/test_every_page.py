"""Every page of the app in a real browser: axe-core finds no serious or critical violation, and no
page asks anything of a third party, for each kind of person — a learner with badges, a share, a
claim and a counsellor; a learner with an empty wallet; a counsellor; Region staff; a visitor
with no account (an employer) — and in the error states (404, 403, 400, 410).

Learners and visitors are on a 360×640 phone, counsellors and staff on a desktop. Every GET route
of the app that answers a page is listed here; `test_every_page_is_listed` fails when a new one
is added without being checked, and NOT_PAGES says why each remaining route is not a page.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from tests.browser.app_shell_helpers import log_in, seed_learner, small_phone
from tests.browser.helpers import axe_check, format_violations
from tests.fakes.badges import BadgeFactory
from tests.web.test_regional import aligned_assertion, regional_config

# endpoint → [(who, path, expected status)]; paths are formatted with the World's fields.
PAGES: dict[str, list[tuple[str, str, int]]] = {
    # a visitor with no account (an employer, someone about to sign up)
    "public.index": [("anon", "/", 200)],
    "public.legal": [("anon", f"/{page}", 200) for page in ("mentions-legales", "cgu", "confidentialite",
                                                             "accessibilite")],
    "public.offline": [("anon", "/hors-ligne?lang=fr", 200)],
    "auth.login": [("anon", "/connexion", 200)],
    "auth.register": [("anon", "/inscription", 200)],
    "auth.check_email": [("anon", "/verifiez-vos-e-mails", 200)],
    "auth.forgot_password": [("anon", "/mot-de-passe-oublie", 200)],
    "auth.confirm_email": [("anon", "/confirmer/lien-inconnu", 200)],
    "auth.reset_password": [("anon", "/reinitialiser/lien-inconnu", 200)],
    "auth.unlock": [("anon", "/connexion/debloquer/lien-inconnu", 200)],
    "auth.invitation": [("anon", "/invitation/lien-inconnu", 400)],
    "public.share_page": [("anon", "/p/{badge_token}", 200), ("anon", "/p/{collection_token}", 200),
                          ("anon", "/p/{withdrawn_token}", 410), ("anon", "/p/lien-inconnu", 404)],
    "public.share_badge": [("anon", "/p/{collection_token}/badges/2", 200)],
    # a learner with badges, a share, a claim and a counsellor
    "main.dashboard": [("ana", "/tableau-de-bord", 200), ("bob", "/tableau-de-bord", 200)],
    "badges.index": [("ana", "/badges/", 200), ("ana", "/badges/?statut=valid&q=zzz", 200),
                     ("bob", "/badges/", 200)],
    "badges.import_badges": [("ana", "/badges/importer", 200), ("bob", "/badges/importer", 200)],
    "badges.detail": [("ana", "/badges/{ana_badge}", 200), ("ana", "/badges/{bob_or_missing}", 404)],
    "badges.delete": [("ana", "/badges/{ana_badge}/supprimer", 200)],
    "regional.index": [("ana", "/badges-regionaux/", 200), ("bob", "/badges-regionaux/", 200),
                       ("dan", "/badges-regionaux/", 200)],
    "claims.index": [("ana", "/demandes/", 200), ("bob", "/demandes/", 200)],
    "claims.detail": [("ana", "/demandes/{ana_claim}", 200)],
    "claims.new": [("dan", "/demandes/nouvelle/communiquer-1", 200), ("bob", "/demandes/nouvelle/communiquer-1", 200)],
    "shares.index": [("ana", "/partages/", 200), ("bob", "/partages/", 200)],
    "shares.new": [("ana", "/partages/nouveau", 200), ("bob", "/partages/nouveau", 200)],
    "shares.created": [("ana", "/partages/{badge_share}/lien", 200)],
    "account.index": [("ana", "/compte/", 200)],
    "account.delete": [("ana", "/compte/supprimer", 200)],
    "host_account.index": [("ana", "/compte/applications/", 200), ("bob", "/compte/applications/", 200)],
    "host_consent.authorize": [("ana", "/o/authorize?client_id=inconnu&response_type=code", 400)],
    "connections.index": [("ana", "/connexions/", 200)],
    "connections.callback": [("ana", "/connexions/retour/1?state=inconnu&code=x", 400)],
    "consents.index": [("ana", "/accompagnement/", 200), ("bob", "/accompagnement/", 200)],
    "consents.grant": [("ana", "/accompagnement/autoriser", 200)],
    "consents.journal": [("ana", "/accompagnement/journal", 200), ("bob", "/accompagnement/journal", 200)],
    "data.index": [("ana", "/mes-donnees/", 200), ("bob", "/mes-donnees/", 200)],
    "demo.index": [("ana", "/demo/", 200)],
    # a counsellor
    "counsellor.index": [("claire", "/conseiller/", 200), ("zoe", "/conseiller/", 200)],
    "counsellor.code": [("claire", "/conseiller/code", 200)],
    "counsellor.learner": [("claire", "/conseiller/apprenants/{ana_id}", 200),
                           ("zoe", "/conseiller/apprenants/{ana_id}", 404)],
    # Region staff
    "admin.index": [("admin", "/admin/", 200)],
    "admin.console": [("admin", "/admin/tableau-de-bord", 200)],
    "admin.users": [("admin", "/admin/personnes", 200)],
    "admin.partners": [("admin", "/admin/partenaires", 200)],
    "admin.referential": [("admin", "/admin/referentiel", 200)],
    "admin.referential_preview": [("admin", "/admin/referentiel/apercu", 200)],
    "admin.claims": [("admin", "/admin/demandes", 200)],
    "admin.backpacks": [("admin", "/admin/sacs-a-badges", 200)],
    "admin.pushes": [("admin", "/admin/envois", 200)],
}

# GET routes that are not pages a person reads, and why.
NOT_PAGES = {
    "static": "files", "public.region_css": "stylesheet", "public.region_logo": "image",
    "public.app_icon": "image", "public.manifest": "JSON manifest", "public.service_worker": "script",
    "public.healthz": "JSON", "public.issuer_profile": "JSON-LD", "public.issuer_achievement": "JSON-LD",
    "public.issuer_achievement_image": "image", "public.issuer_status_list": "JSON credential",
    "public.demo_issuer": "JSON-LD", "public.share_image": "image", "public.share_original": "download",
    "public.share_credential": "JSON download", "public.share_preview": "image", "public.share_qr": "image",
    "badges.image": "image", "shares.qr_png": "image (the share page shows it)", "badges.download": "download", "regional.image": "image",
    "connections.logo": "image", "demo.download": "download", "data.export": "ZIP download",
    "admin.referential_version": "TOML download", "host_oauth.manifest": "JSON (Badge Connect)",
    "host_bc.list_assertions": "JSON API", "host_bc.profile": "JSON API", "host_badgr.collections": "JSON API",
}

DESKTOP = {"width": 1280, "height": 800}


@pytest.fixture
def app_config(app_config, hosts, tmp_path):
    regional_config(app_config, hosts, tmp_path)
    app_config["FETCH_ALLOW"] += "," + hosts[0].authority
    return app_config


@dataclass
class World:
    ana_id: int = 0
    ana_badge: int = 0
    bob_or_missing: int = 0
    badge_token: str = ""
    badge_share: int = 0
    collection_token: str = ""
    withdrawn_token: str = ""
    ana_claim: int = 0
    emails: dict = field(default_factory=dict)


def _import(app, session, user, text: str) -> int:
    from wallet.services import badges as badge_service

    item = badge_service.import_text(session, user, text, app.extensions["wallet_http"])
    assert item.outcome == "imported", item
    return item.badge_id


@pytest.fixture
def world(app, hosts) -> World:
    """Ana (badges, shares, a claim, a counsellor), Bob (empty wallet), Dan (may claim), Claire
    (Ana's counsellor), Zoé (a counsellor nobody chose), an admin; demo partners on."""
    from wallet.db import new_session
    from wallet.models import User
    from wallet.services import demo, sharing
    from wallet.services.claims import submission
    from wallet.services.counselling import consents

    one, _two = hosts
    factory = BadgeFactory(one)
    w = World()
    people = {"ana": "ana@example.org", "bob": "bob@example.org", "dan": "dan@example.org",
              "claire": "claire@example.org", "zoe": "zoe@example.org", "admin": "admin@region.example"}
    roles = {"claire": "counsellor", "zoe": "counsellor", "admin": "admin"}
    ids = {who: seed_learner(app, email=email, name=who.capitalize() + " Martin", role=roles.get(who, "learner"),
                             share=False).user_id for who, email in people.items()}
    w.emails, w.ana_id = people, ids["ana"]
    with app.test_request_context(), new_session(app) as session:
        ana, dan = session.get(User, ids["ana"]), session.get(User, ids["dan"])
        aligned = [_import(app, session, ana, aligned_assertion(one, n, recipient=factory.recipient(people["ana"])))
                   for n in (1, 2)]
        for n in (3, 4):
            _import(app, session, dan, aligned_assertion(one, n, recipient=factory.recipient(people["dan"])))
        w.ana_badge = aligned[0]
        w.bob_or_missing = aligned[-1] + 1000
        share, w.badge_token = sharing.create_share(session, ana, [aligned[0]], label="Pour la boulangerie")
        w.badge_share = share.id
        _c, w.collection_token = sharing.create_share(session, ana, aligned, kind="collection", label="Mon CV")
        evidence, w.withdrawn_token = sharing.create_share(session, ana, [aligned[1]], kind="evidence",
                                                           label="Communiquer — Je pratique")
        sharing.revoke_share(session, ana, evidence.id)
        consents.grant_by_email(session, ana, people["claire"], "prepare", "3")
        claim, _created = submission.submit_claim(session, ana, "communiquer-1", people["ana"],
                                                  app.extensions["wallet_http"])
        w.ana_claim = claim.id
    demo.seed(app)
    return w


@dataclass
class Visit:
    who: str
    path: str
    status: int | None
    violations: list
    outside: list


def seen_by(seen: list[str]):
    def listener(request) -> None:
        seen.append(request.url)

    return listener


def _walk(page, base: str, w: World, who: str, visits: list[Visit]) -> None:
    for entries in PAGES.values():
        for entry_who, template, status in entries:
            if entry_who != who:
                continue
            path = template.format(**w.__dict__)
            seen: list[str] = []
            listener = seen_by(seen)
            page.on("request", listener)
            answer = page.goto(base + path)
            page.wait_for_load_state("load")
            page.remove_listener("request", listener)
            outside = [url for url in seen if not url.startswith((base + "/", "data:"))]
            got = answer.status if answer else None
            violations = axe_check(page)
            visits.append(Visit(who, path, got, violations, outside))
            if got != status:
                visits[-1].violations = [{"id": "status", "impact": "serious", "help": f"{got} instead of {status}",
                                          "helpUrl": "", "nodes": []}] + violations


def _report(visits: list[Visit]) -> str:
    lines = []
    for visit in visits:
        if visit.violations or visit.outside:
            lines.append(f"--- {visit.who} {visit.path} ({visit.status})")
            if visit.outside:
                lines.append("    third-party requests: " + ", ".join(visit.outside))
            if visit.violations:
                lines.append(format_violations(visit.violations))
    return "\n".join(lines)


def _context(new_context, playwright, who: str):
    if who in ("claire", "zoe", "admin"):
        return new_context(viewport=dict(DESKTOP), locale="fr-FR", timezone_id="Europe/Paris")
    return new_context(**small_phone(playwright))


@pytest.mark.parametrize("group", [("anon",), ("ana",), ("bob", "dan"), ("claire", "zoe", "admin")],
                         ids=["visitor", "learner", "empty-wallet-and-claimable", "counsellor-and-staff"])
def test_every_page_is_accessible_and_asks_no_third_party(app, world, live_server, new_context, playwright, group):
    visits: list[Visit] = []
    for who in group:
        page = _context(new_context, playwright, who).new_page()
        if who != "anon":
            log_in(page, live_server, world.emails[who])
        _walk(page, live_server, world, who, visits)
    assert len(visits) >= sum(1 for entries in PAGES.values() for e in entries if e[0] in group)
    report = _report(visits)
    assert not report, "\n" + report


@pytest.mark.parametrize("group", [("anon", "ana", "bob"), ("dan", "claire", "zoe", "admin")],
                         ids=["visitor-and-learners", "claimable-counsellors-and-staff"])
def test_every_page_answers_without_javascript(app, world, live_server, new_context, playwright, group):
    """The same pages with JavaScript off: each answers as expected, shows its title, and asks
    nothing of a third party (axe itself needs JavaScript: it runs in the test above)."""
    problems = []
    for who in group:
        if who in ("claire", "zoe", "admin"):
            context = new_context(viewport=dict(DESKTOP), locale="fr-FR", java_script_enabled=False)
        else:
            context = new_context(**small_phone(playwright, js=False))
        page = context.new_page()
        if who != "anon":
            log_in(page, live_server, world.emails[who])
        for entries in PAGES.values():
            for entry_who, template, status in entries:
                if entry_who != who:
                    continue
                path = template.format(**world.__dict__)
                seen: list[str] = []
                listener = seen_by(seen)
                page.on("request", listener)
                answer = page.goto(live_server + path)
                page.remove_listener("request", listener)
                outside = [url for url in seen if not url.startswith((live_server + "/", "data:"))]
                if answer is None or answer.status != status or outside or page.locator("h1").count() != 1:
                    problems.append(f"{who} {path}: {answer.status if answer else None} (expected {status}), "
                                    f"{page.locator('h1').count()} h1, third-party {outside}")
    assert not problems, "\n".join(problems)


def _post_from_the_page(page, action: str, fields: dict[str, str]) -> None:
    """Submit a form the page does not offer (the app's own CSRF token included unless told)."""
    page.evaluate("""([action, fields]) => {
        const form = document.createElement("form");
        form.method = "post"; form.action = action;
        for (const [name, value] of Object.entries(fields)) {
            const input = document.createElement("input");
            input.type = "hidden"; input.name = name; input.value = value;
            form.appendChild(input);
        }
        document.body.appendChild(form);
        setTimeout(() => form.submit(), 0);  // after evaluate() has returned
    }""", [action, fields])


def test_error_pages_are_accessible(app, world, live_server, new_context, playwright):
    from wallet.db import new_session
    from wallet.models import Consent

    with new_session(app) as session:  # Claire may now only look: preparing a claim is refused (403)
        for consent in session.query(Consent).all():
            consent.scope = "view"
        session.commit()
    page = new_context(viewport=dict(DESKTOP), locale="fr-FR", timezone_id="Europe/Paris").new_page()
    log_in(page, live_server, world.emails["claire"])
    page.goto(f"{live_server}/conseiller/apprenants/{world.ana_id}")
    token = page.locator("input[name=csrf_token]").first.input_value()
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        _post_from_the_page(page, f"/conseiller/apprenants/{world.ana_id}/preparer",
                            {"csrf_token": token, "badge": "communiquer-1"})
    assert answer.value.status == 403
    page.wait_for_load_state("load")
    assert page.locator("h1").inner_text() == "Accès refusé"
    problems = axe_check(page, in_place=True)
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        _post_from_the_page(page, "/accompagnement/autoriser", {"csrf_token": "périmé"})
    assert answer.value.status == 400
    page.wait_for_load_state("load")
    assert page.locator("h1").inner_text() == "Formulaire expiré"
    problems += axe_check(page, in_place=True)
    assert not problems, format_violations(problems)


def test_every_page_is_listed(app):
    routes = {rule.endpoint for rule in app.url_map.iter_rules() if "GET" in rule.methods}
    listed = set(PAGES) | set(NOT_PAGES)
    assert routes - listed == set(), "GET routes neither checked nor explained"
    assert listed - routes == set(), "listed endpoints that no longer exist"
    assert set(PAGES).isdisjoint(NOT_PAGES)
    assert {who for entries in PAGES.values() for who, _p, _s in entries} == {
        "anon", "ana", "bob", "dan", "claire", "zoe", "admin"}

