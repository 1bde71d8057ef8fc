"""A site with data in every corner, and a walk over every page a person can open in it.

Used by the tests that read every rendered page (tests/web/test_every_page.py: dates, numbers,
words, placeholders) and by the browser test that lays every page out on a 360 px phone
(tests/browser/test_every_page_phone.py: no word cut inside).

    site = fill(app, outbox, hosts)           # demo partners, a learner with badges, claims, shares,
                                              # a counsellor with two learners, an admin with figures
    for page in walk(app, site): ...          # Page(role, path, status, html), every GET route

The walk goes over `app.url_map`, so a route added later is walked without editing this file:
each argument is filled from what the role owns (its badges, claims, shares, learners…), and the
responses kept are the HTML ones (pages), error pages included.
"""

from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from tests.conftest import csrf_from
from tests.fakes.badges import BadgeFactory
from tests.web.accounts_helpers import login, post_form
from tests.web.test_counselling import connect, person, user_id

DEMO_EMAIL, DEMO_PASSWORD = "demo@exemple.fr", "essai du portefeuille 2026"
COUNSELLOR = ("accompagnement@france-travail.example", "Mme Dominique Durand-Lefèvre")
SECOND_LEARNER = ("marie-christine@example.org", "Marie-Christine Dupont-Laurentin")
ADMIN = ("equipe@region.example", "Équipe régionale")
LEVEL = "http://127.0.0.1:5000/referentials/normandie/competences/{skill}/niveau-{level}"
# Dates the pages must write in words: the first of a month ("1er janvier 2027"), a winter time
# (UTC+1 in Paris) and a summer time (UTC+2), late in the evening so that the Paris date differs
# from the UTC date.
SKILL_NAMES = {"communiquer": "Communiquer", "organiser": "Organiser", "s-adapter": "S'adapter",
               "s-integrer": "S'intégrer"}
NEW_YEAR = datetime(2027, 1, 1, 8, 0, tzinfo=UTC)
SUMMER_EVENING = datetime(2026, 6, 30, 22, 45, tzinfo=UTC)


@dataclass
class Site:
    clients: dict            # role → a logged-in test client ("anonymous" has none)
    ids: dict                # role → {url argument → [values]}
    tokens: list[str]        # public share tokens
    nameless_badge_id: int = 0
    extra: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Page:
    role: str
    path: str
    status: int
    html: str


def partner_badge(server, number: int, name: str, *, skill: str = "communiquer", level: int = 1,
                  recipient: dict | None = None, **kwargs) -> str:
    """An OB 2.0 hosted assertion served by `server` (a partner of the test referential)."""
    factory = BadgeFactory(server, now=datetime.now(UTC))
    issuer = factory.ob2_issuer(name="Centre de formation professionnelle de la Manche")
    alignment = [{"targetName": SKILL_NAMES[skill], "targetUrl": LEVEL.format(skill=skill, level=level)}]
    badge = factory.ob2_badgeclass(issuer["id"], path=f"/badges/{number}", name=name, alignment=alignment)
    path = f"/assertions/{number}"
    assertion = factory.ob2_assertion(server.url(path), badge["id"], {"type": "HostedBadge"},
                                      recipient=recipient or factory.recipient(DEMO_EMAIL), **kwargs)
    server.json(path, assertion)
    return json.dumps(assertion)


def _upload_files(client, files: list[tuple[str, bytes]]) -> None:
    token = csrf_from(client.get("/badges/importer").text)
    r = client.post("/badges/importer", data={"csrf_token": token,
                                              "files": [(io.BytesIO(d), n) for n, d in files]},
                    content_type="multipart/form-data")
    assert r.status_code == 200, r.status_code


def _paste(client, text: str) -> None:
    r = post_form(client, "/badges/importer", text=text)
    assert r.status_code == 200, r.status_code


def fill(app, outbox, hosts) -> Site:
    """Every kind of object a page can show, for a learner, a counsellor and an admin."""
    from wallet.db import new_session
    from wallet.models import (
        Badge,
        Claim,
        ClaimDraft,
        Connection,
        HostAccess,
        HostPush,
        Invitation,
        PartnerBackpack,
        Share,
        User,
    )
    from wallet.partners.host import app_passwords
    from wallet.services import public_shares as shared
    from wallet.services import sharing
    from wallet.services.admin import invitations

    one, two = hosts
    result = app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code == 0, result.output

    # The learner: the demo learner, with every demo badge, and badges from the test partners.
    learner = app.test_client()
    assert login(learner, email=DEMO_EMAIL, password=DEMO_PASSWORD).status_code == 302
    files = []
    for partner, slug in (("demo-association-insertion", "atelier-cv"),
                          ("demo-centre-formation", "accueil-client"),
                          ("demo-atelier-bocage", "transmission-consignes"),
                          ("demo-association-insertion", "prise-de-parole"),
                          ("demo-centre-formation", "travail-en-equipe"),
                          ("demo-atelier-bocage", "polyvalence")):
        r = learner.get(f"/demo/badges/{partner}/{slug}.png")
        assert r.status_code == 200, (partner, slug)
        files.append((f"{slug}.png", r.data))
    _upload_files(learner, files)
    past = datetime.now(UTC) - timedelta(days=3)
    _paste(learner, partner_badge(one, 1, "", skill="s-integrer"))  # a badge with no name
    _paste(learner, partner_badge(one, 2, "Accompagnement personnalisé vers l'emploi", skill="organiser",
                                  issued_on=NEW_YEAR - timedelta(days=400), expires=NEW_YEAR))
    _paste(learner, partner_badge(two, 3, "Sécurité sur les chantiers", skill="s-adapter",
                                  issued_on=past - timedelta(days=200), expires=past))
    _paste(learner, partner_badge(two, 4, "Gestion des conflits", skill="s-adapter",
                                  recipient=BadgeFactory.recipient("quelqu-un@ailleurs.example")))
    learner_id = user_id(app, DEMO_EMAIL)

    # A claim the Region issued (builtin issuer, approval auto, first attempt inline).
    r = post_form(learner, "/demandes/nouvelle/communiquer-1", recipient=DEMO_EMAIL)
    assert r.status_code == 303, r.status_code

    # A counsellor with two learners; a prepared claim waiting for the demo learner.
    counsellor = person(app, outbox, *COUNSELLOR, role="counsellor")
    connect(learner, counsellor, scope="prepare")
    second = person(app, outbox, *SECOND_LEARNER)
    connect(second, counsellor, scope="view")
    assert counsellor.get(f"/conseiller/apprenants/{learner_id}").status_code == 200

    admin = person(app, outbox, *ADMIN, role="admin")
    tokens = []
    with app.app_context(), new_session(app) as session:  # share links are encrypted with the app's keys
        user = session.get(User, learner_id)
        badges = session.scalars(select(Badge).where(Badge.owner_id == learner_id).order_by(Badge.id)).all()
        nameless = next(b for b in badges if not b.name)
        matched = [b.id for b in badges if b.matched]
        # A collection, a single badge, a revoked share, and one seen by employers.
        _share, token = sharing.create_share(session, user, [nameless.id, *matched[:3]], kind="collection",
                                             label="Candidature au poste d'agent d'accueil polyvalent",
                                             expires_in=timedelta(days=30))
        tokens.append(token)
        single, token = sharing.create_share(session, user, [matched[0]], expires_in=timedelta(days=90))
        tokens.append(token)
        shared.record_view(session, single, count=3)
        revoked, _token = sharing.create_share(session, user, [matched[1]])
        sharing.revoke_share(session, user, revoked.id)
        # The learner's app password for a Moodle, and what it pushed in.
        created = app_passwords.create(session, user, "Moodle du centre de formation", datetime.now(UTC))
        session.add(HostPush(user_id=learner_id, access_id=created.access.id, mode="badgr_v2",
                             partner="Moodle du centre de formation", source_host="moodle.example",
                             outcome="imported", badge_id=matched[0], created_at=SUMMER_EVENING))
        session.add(HostPush(user_id=learner_id, access_id=created.access.id, mode="badgr_v2",
                             partner="Moodle du centre de formation", source_host="moodle.example",
                             outcome="refused", code="invalid", created_at=datetime.now(UTC)))
        # A partner platform the Region registered, and the learner's connection to it.
        backpack = PartnerBackpack(name="Plateforme régionale de badges", base_url="https://badges.partenaire.example",
                                   protocol="ob30", api_base="https://badges.partenaire.example/api",
                                   authorization_url="https://badges.partenaire.example/authorize",
                                   token_url="https://badges.partenaire.example/token",
                                   registration_url="https://badges.partenaire.example/register",
                                   client_id="wallet", client_secret_enc="x", created_at=SUMMER_EVENING,
                                   tos_url="https://badges.partenaire.example/cgu",
                                   privacy_url="https://badges.partenaire.example/confidentialite")
        session.add(backpack)
        session.flush()
        session.add(Connection(user_id=learner_id, backpack_id=backpack.id, access_token_enc="x",
                               last_sync_at=SUMMER_EVENING, next_sync_at=NEW_YEAR))
        session.commit()
        backpack_id = backpack.id
        share_ids = list(session.scalars(select(Share.id).where(Share.owner_id == learner_id)))
        badge_ids = [b.id for b in badges]
        nameless_id = nameless.id
        claim_ids = list(session.scalars(select(Claim.id).where(Claim.user_id == learner_id)))
        admin_user = session.scalar(select(User).where(User.display_name == ADMIN[1]))
        with app.test_request_context():
            invitations.create_invitation(session, admin_user, "nouvelle.personne@france-travail.example",
                                          role="counsellor")
        assert session.scalar(select(Invitation.id)) is not None
        assert session.scalar(select(HostAccess.id)) is not None

    # The counsellor prepares a claim for another badge the learner can ask for, when there is one.
    page = counsellor.get(f"/conseiller/apprenants/{learner_id}").text
    prepare = re.search(r'name="badge" value="([\w-]+)"', page)
    if prepare:
        r = post_form(counsellor, f"/conseiller/apprenants/{learner_id}",
                      f"/conseiller/apprenants/{learner_id}/preparer", badge=prepare.group(1))
        assert r.status_code == 303, r.status_code
    with new_session(app) as session:
        drafts = session.scalars(select(ClaimDraft.id)).all()

    second_id = user_id(app, SECOND_LEARNER[0])
    keys = ["communiquer-1", "communiquer-2", "organiser-1", "general"]
    return Site(
        clients={"learner": learner, "counsellor": counsellor, "admin": admin,
                 "second": second, "anonymous": app.test_client()},
        ids={
            "learner": {"badge_id": badge_ids, "claim_id": claim_ids, "share_id": share_ids,
                        "backpack_id": [backpack_id], "key": keys, "draft_id": drafts},
            "counsellor": {"learner_id": [learner_id, second_id]},
            "admin": {"key": keys},
            "anonymous": {"share_token": tokens, "n": [1, 2, 3, 4], "key": keys},
        },
        tokens=tokens,
        nameless_badge_id=nameless_id,
        extra={"learner_id": learner_id, "backpack_id": backpack_id},
    )


# --- the walk ---------------------------------------------------------------------------------

# Routes whose answer is never a page for a person (files, machine documents, OAuth endpoints) or
# whose GET has an effect the walk must not trigger (a partner's callback).
NOT_PAGES = {"static", "connections.callback", "host_oauth.manifest", "host_consent.authorize"}
# Pages every visitor can reach whatever the walk finds (error pages, expired links).
ERROR_PATHS = ("/cette-page-n-existe-pas", "/confirmer/lien-perime", "/reinitialiser/lien-perime",
               "/invitation/lien-perime", "/connexion/debloquer/lien-perime", "/p/lien-inconnu")


def _fill_args(rule, ids: dict) -> list[str]:
    """Every path for this rule with arguments taken from `ids` (the cartesian product is small:
    the rules have one or two arguments)."""
    from itertools import product

    choices = []
    for arg in sorted(rule.arguments):
        converter = rule._converters[arg]
        if converter.__class__.__name__ == "AnyConverter":
            values = sorted(converter.items)
        elif arg == "token" and rule.rule.startswith("/p/"):
            values = ids.get("share_token", [])
        elif arg in ids and arg != "token":
            values = ids[arg]
        else:
            return []
        choices.append([(arg, str(v)) for v in values])
    paths = []
    for combo in product(*choices):
        paths.append(rule.build(dict(combo), append_unknown=False)[1])
    return paths


def _is_html(response) -> bool:
    return response.mimetype == "text/html"


def walk(app, site: Site, roles=("anonymous", "learner", "counsellor", "admin")) -> list[Page]:
    """Every HTML page of every GET route, as each role sees it (status 200), and the error pages."""
    pages: list[Page] = []
    for role in roles:
        client = site.clients[role]
        ids = site.ids.get(role, {})
        seen = set()
        for rule in app.url_map.iter_rules():
            if "GET" not in rule.methods or rule.endpoint in NOT_PAGES:
                continue
            for path in (_fill_args(rule, ids) if rule.arguments else [rule.rule]):
                if path in seen:
                    continue
                seen.add(path)
                response = client.get(path)
                if response.status_code == 200 and _is_html(response):
                    pages.append(Page(role, path, 200, response.get_data(as_text=True)))
        for path in ERROR_PATHS:
            response = client.get(path)
            if _is_html(response):
                pages.append(Page(role, path, response.status_code, response.get_data(as_text=True)))
    return pages
