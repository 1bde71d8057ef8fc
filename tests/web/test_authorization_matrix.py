"""Authorization matrix over EVERY route of the app (SECURITY.md T45, T46): walk `app.url_map` and
request each route as learner A, as a counsellor without consent, and as a counsellor whose consent
was withdrawn, with learner B's object ids. Expected: 404 (or 403 out of scope) for B's objects,
404 for admin routes below the admin role, 404 for counsellor routes for learners and learner
routes for counsellors — and never a leak: no response carries B's name, address or badge names,
and B's rows are unchanged afterwards. Routes added later are covered without editing this file.
"""

from __future__ import annotations

import hashlib
import re
import secrets

import pytest
from sqlalchemy import select
from werkzeug.routing import IntegerConverter

from tests.conftest import csrf_from
from tests.fakes.badges import BadgeFactory
from tests.web.accounts_helpers import post_form
from tests.web.test_badges import upload
from tests.web.test_counselling import connect, person, user_id
from tests.web.test_regional import aligned_assertion, regional_config
from wallet.app.security import is_public_endpoint

B_EMAIL, B_NAME = "bob.secret@example.org", "Bob Secretname"
A_EMAIL, A_NAME = "ana@example.org", "Ana Martin"
B_MARKERS = (B_NAME, B_EMAIL, "Communication 7", "Communication 8", "Partage de Bob")
A_MARKERS = (A_NAME, A_EMAIL)
# Integer arguments that name shared objects (partner platforms, status lists, public share
# positions), not a person's: requested too, but only checked for leaks.
SHARED_ARGS = {"backpack_id", "number", "n", "version_id"}
OWNER_COLUMNS = ("owner_id", "user_id", "learner_id", "subject_id")
FORM = {"badge": "communiquer-1", "reason": "x", "role": "admin", "scope": "prepare", "months": "6",
        "recipient": B_EMAIL, "label": "x", "user_id": "1"}


@pytest.fixture
def app_config(app_config, hosts, tmp_path):
    # CLAIM_FIRST_ATTEMPT="worker": no delivery, so the claim stays B's pending claim.
    return regional_config(app_config, hosts, tmp_path, CLAIM_FIRST_ATTEMPT="worker", RATELIMIT_ENABLED=True)


@pytest.fixture
def unlimited(app):
    """Thousands of requests: limits are tested elsewhere. The limiter object outlives the app."""
    from wallet.app.extensions import limiter

    limiter.enabled = False
    yield
    limiter.enabled = True


def _tables():
    from wallet.db import Base

    return [t for t in Base.metadata.sorted_tables if "id" in t.c and t.name not in ("audit_events", "badge_events")]


def _ids_of(app, uid: int) -> set[int]:
    """Every id of every row that belongs to this user (and the user's own id)."""
    from wallet.db import new_session

    ids = {uid}
    with new_session(app) as session:
        for table in _tables():
            for column in OWNER_COLUMNS:
                if column in table.c:
                    ids.update(session.scalars(select(table.c.id).where(table.c[column] == uid)))
    return ids


def _fingerprint(app, uid: int) -> list:
    """Every row about this user, every column (audit events included)."""
    from wallet.db import Base, new_session

    found = []
    with new_session(app) as session:
        for table in Base.metadata.sorted_tables:
            conditions = [table.c[c] == uid for c in OWNER_COLUMNS if c in table.c]
            if table.name == "users":
                conditions.append(table.c.id == uid)
            for condition in conditions:
                found.extend((table.name, repr(tuple(row))) for row in session.execute(select(table).where(condition)))
    return sorted(found)


def _path(rule, value: int) -> str:
    path = rule.rule
    for arg in rule.arguments:
        converter = rule._converters[arg]
        if isinstance(converter, IntegerConverter):
            replacement = str(value)
        elif converter.__class__.__name__ == "AnyConverter":
            replacement = min(converter.items)
        else:
            replacement = "x"
        path = re.sub(r"<(?:[^:<>]+:)?" + arg + r"(?:\([^)]*\))?>", replacement, path)
    return path


def _int_args(rule) -> list[str]:
    return [a for a in rule.arguments if isinstance(rule._converters[a], IntegerConverter)]


def _requests(app, method: str, ids: set[int], b_id: int):
    """(rule, path, owned) for every route answering `method`: routes without an int argument once
    (with B's id in the query string, a mass-assignment/IDOR probe), the others once per id."""
    for rule in app.url_map.iter_rules():
        if method not in rule.methods or rule.endpoint == "static":
            continue
        int_args = _int_args(rule)
        if not int_args:
            yield rule, _path(rule, 0) + f"?user_id={b_id}&learner_id={b_id}&owner_id={b_id}", False
            continue
        for value in sorted(ids):
            yield rule, _path(rule, value), not (set(int_args) & SHARED_ARGS)


def _body(response) -> str:
    return response.get_data().decode("utf-8", "replace") + " " + response.headers.get("Location", "")


def _assert_no_leak(response, markers, who: str, path: str) -> None:
    body = _body(response)
    for marker in markers:
        assert marker not in body, f"{who} saw {marker!r} at {path} ({response.status_code})"


@pytest.fixture
def world(app, outbox, hosts, unlimited):
    """B with every kind of object (badges, claim, evidence share, share, connection, consent, draft),
    counsellors C (consent from A and B) and D (no consent), then A with its own badges."""
    one, _two = hosts
    b = person(app, outbox, B_EMAIL, B_NAME)
    mine = BadgeFactory(one).recipient(B_EMAIL)
    upload(b, text=aligned_assertion(one, 7, recipient=mine))
    upload(b, text=aligned_assertion(one, 8, recipient=mine))
    c = person(app, outbox, "conseil@example.org", "Mme Durand", role="counsellor")
    d = person(app, outbox, "autre@example.org", "M. Leroy", role="counsellor")
    connect(b, c, scope="prepare")
    b_id = user_id(app, B_EMAIL)
    r = post_form(c, f"/conseiller/apprenants/{b_id}", f"/conseiller/apprenants/{b_id}/preparer",
                  badge="communiquer-1")
    assert r.status_code == 303
    assert post_form(b, "/demandes/nouvelle/communiquer-1", recipient=B_EMAIL).status_code == 303
    from wallet.db import new_session
    from wallet.models import ClaimDraft, Connection, PartnerBackpack, Share

    with new_session(app) as session:
        session.add(Share(owner_id=b_id, token_hash=hashlib.sha256(secrets.token_bytes(16)).hexdigest(),
                          label="Partage de Bob"))
        backpack = PartnerBackpack(name="Sac partenaire", base_url="https://sac.example", protocol="ob30",
                                   api_base="https://sac.example/api", authorization_url="https://sac.example/a",
                                   token_url="https://sac.example/t", registration_url="https://sac.example/r",
                                   client_id="c", client_secret_enc="x")
        session.add(backpack)
        session.flush()
        session.add(Connection(user_id=b_id, backpack_id=backpack.id, access_token_enc="x"))
        session.commit()
        assert session.scalars(select(ClaimDraft)).one().learner_id == b_id
    # A comes last, and A's consent to C gets an id far from B's: B's ids are then unambiguous.
    a = person(app, outbox, A_EMAIL, A_NAME)
    a_id = user_id(app, A_EMAIL)
    with new_session(app) as session:
        from datetime import UTC, datetime, timedelta

        from wallet.models import Consent

        now = datetime.now(UTC)
        session.add(Consent(id=1000, learner_id=a_id, counsellor_id=user_id(app, "conseil@example.org"),
                            scope="view", granted_at=now, expires_at=now + timedelta(days=30)))
        session.commit()
    candidates = _ids_of(app, b_id) - _ids_of(app, a_id)
    return {"a": a, "b": b, "c": c, "d": d, "a_id": a_id, "b_id": b_id, "ids": candidates}


def _walk_get(app, client, who: str, ids: set[int], b_id: int, markers) -> int:
    checked = 0
    for rule, path, owned in _requests(app, "GET", ids, b_id):
        response = client.get(path)
        assert response.status_code < 500, f"{who}: GET {path} → {response.status_code}"
        _assert_no_leak(response, markers, who, path)
        if owned and not is_public_endpoint(rule.endpoint):
            assert response.status_code in (403, 404), f"{who}: GET {path} answered {response.status_code}"
            checked += 1
    return checked


def _walk_post(app, client, who: str, ids: set[int], b_id: int, markers) -> int:
    token = csrf_from(client.get("/compte/").text)
    checked = 0
    for rule, path, owned in _requests(app, "POST", ids, b_id):
        if not owned:
            continue  # POSTs without an object id act on one's own account: not this matrix
        response = client.post(path, data={"csrf_token": token, **FORM})
        assert response.status_code < 500, f"{who}: POST {path} → {response.status_code}"
        _assert_no_leak(response, markers, who, path)
        if not is_public_endpoint(rule.endpoint):
            assert response.status_code in (403, 404), f"{who}: POST {path} answered {response.status_code}"
            checked += 1
    return checked


def test_nobody_reaches_learner_bs_objects(app, world):
    ids, b_id = world["ids"], world["b_id"]
    assert ids  # which object kinds they cover: see the next test
    before = _fingerprint(app, b_id)
    # Learner A; counsellor D who has no consent from anyone.
    assert _walk_get(app, world["a"], "learner A", ids, b_id, B_MARKERS) >= 10
    assert _walk_get(app, world["d"], "counsellor D", ids, b_id, B_MARKERS + A_MARKERS) >= 10
    # Counsellor C after B withdraws: C still follows A (legitimately), never B.
    from wallet.db import new_session
    from wallet.models import Consent

    with new_session(app) as session:
        consent_id = session.scalar(select(Consent.id).where(Consent.learner_id == b_id))
    page = world["b"].get("/accompagnement/").text
    assert world["b"].post(f"/accompagnement/{consent_id}/retirer",
                           data={"csrf_token": csrf_from(page)}).status_code == 303
    before = _fingerprint(app, b_id)
    assert _walk_get(app, world["c"], "counsellor C after withdrawal", ids, b_id, B_MARKERS) >= 10
    for who in ("a", "c", "d"):
        assert _walk_post(app, world[who], who, ids, b_id, B_MARKERS) >= 5
    assert _fingerprint(app, b_id) == before, "a request by someone else changed B's data"


def test_the_object_routes_of_the_app_were_in_the_walk(app, world):
    """The walk really requested B's badge, claim, share, connection, consent and draft ids."""
    from wallet.db import new_session
    from wallet.models import Badge, Claim, ClaimDraft, Connection, Consent, Share

    with new_session(app) as session:
        for model, column in ((Badge, Badge.owner_id), (Claim, Claim.user_id), (Share, Share.owner_id),
                              (Connection, Connection.user_id), (Consent, Consent.learner_id),
                              (ClaimDraft, ClaimDraft.learner_id)):
            ids = set(session.scalars(select(model.id).where(column == world["b_id"])))
            assert ids & world["ids"], model.__name__
    a = world["a"]
    for path in ("/badges/{}", "/demandes/{}", "/partages/{}/lien", "/conseiller/apprenants/{}"):
        for value in world["ids"]:
            assert a.get(path.format(value)).status_code == 404


def test_admin_routes_are_404_below_the_admin_role(app, world):
    admin_rules = [r for r in app.url_map.iter_rules() if r.endpoint.startswith("admin.")]
    assert len(admin_rules) >= 5
    for who in ("a", "c", "d"):
        client = world[who]
        token = csrf_from(client.get("/compte/").text)
        for rule in admin_rules:
            path = _path(rule, world["b_id"])
            if "GET" in rule.methods:
                assert client.get(path).status_code == 404, (who, path)
            if "POST" in rule.methods:
                assert client.post(path, data={"csrf_token": token, **FORM}).status_code == 404, (who, path)


def test_counsellor_routes_are_404_for_learners_and_learner_routes_404_for_counsellors(app, world):
    def check(client, prefix: str, who: str):
        token = csrf_from(client.get("/compte/").text)
        rules = [r for r in app.url_map.iter_rules() if r.endpoint.startswith(prefix)]
        assert rules
        for rule in rules:
            path = _path(rule, world["a_id"])
            if "GET" in rule.methods:
                assert client.get(path).status_code == 404, (who, path)
            if "POST" in rule.methods:
                assert client.post(path, data={"csrf_token": token, **FORM}).status_code == 404, (who, path)

    check(world["a"], "counsellor.", "learner A")
    check(world["c"], "consents.", "counsellor C")
    check(world["d"], "consents.", "counsellor D")


def test_a_counsellor_with_view_scope_cannot_prepare(app, world):
    from wallet.db import new_session
    from wallet.models import ClaimDraft

    c, a_id = world["c"], world["a_id"]
    page = c.get(f"/conseiller/apprenants/{a_id}")
    assert page.status_code == 200 and A_NAME in page.text
    r = c.post(f"/conseiller/apprenants/{a_id}/preparer", data={"csrf_token": csrf_from(page.text), **FORM})
    assert r.status_code == 403
    with new_session(app) as session:
        assert session.scalars(select(ClaimDraft).where(ClaimDraft.learner_id == a_id)).all() == []
