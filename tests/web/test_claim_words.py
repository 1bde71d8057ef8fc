"""A claim's states say one thing each, the same everywhere: the learner's list, the claim's history,
the message after asking, the admin figures. A claim issued at once is never announced as "sent"."""

from __future__ import annotations

import re
from html import unescape as html_unescape

import pytest

from tests.conftest import plain
from tests.web.accounts_helpers import post_form, registered_user
from tests.web.test_badges import upload
from tests.web.test_regional import aligned_assertion, regional_config


def unescape(page: str) -> str:
    """The page as text to compare with, French no-break spaces as plain ones."""
    return plain(html_unescape(page))


@pytest.fixture
def app_config(app_config, hosts, tmp_path):
    return regional_config(app_config, hosts, tmp_path)


def _eligible(client, outbox, hosts):
    one, _two = hosts
    registered_user(client, outbox)
    for number in (1, 2):
        upload(client, text=aligned_assertion(one, number))


def _notice(page: str) -> str:
    [notice] = re.findall(r'<p class="notice notice-success" role="status">(.*?)</p>', page)
    return notice


def _history(page: str) -> list[str]:
    return re.findall(r"<li>[^<]* — ([^<]*)</li>", page[page.index("Historique"):])


def test_every_state_has_its_own_word(app):
    from wallet.models import CLAIM_STATES
    from wallet.views.claims import claim_status

    with app.test_request_context():
        words = [claim_status(state)[0] for state in CLAIM_STATES]
    assert len(set(words)) == len(CLAIM_STATES), words


def test_a_claim_waiting_for_delivery_says_it_is_recorded(app, client, outbox, hosts):
    app.config["CLAIM_FIRST_ATTEMPT"] = "worker"  # the worker will deliver it
    _eligible(client, outbox, hosts)
    r = post_form(client, "/demandes/nouvelle/communiquer-1", recipient="ana@example.org")
    page = unescape(client.get(r.headers["Location"]).text)
    assert _notice(page) == "Votre demande est enregistrée : elle part vers la Région dans quelques instants."
    assert '<span class="chip chip-warn">Enregistrée</span>' in page
    assert _history(page) == ["Enregistrée"]
    from wallet.services.claims.delivery import deliver_due

    deliver_due(app)
    page = unescape(client.get(r.headers["Location"]).text)
    assert _history(page) == ["Enregistrée", "Envoyée à la Région", "Délivrée"]
    assert "Délivrée" in unescape(client.get("/demandes/").text)


def test_a_claim_issued_at_once_says_so_and_never_sent(app, client, outbox, hosts):
    app.config["CLAIM_FIRST_ATTEMPT"] = "inline"
    _eligible(client, outbox, hosts)
    r = post_form(client, "/demandes/nouvelle/communiquer-1", recipient="ana@example.org")
    page = unescape(client.get(r.headers["Location"]).text)
    assert _notice(page) == "C'est fait : la Région vous a délivré ce badge."
    assert '<span class="chip chip-ok">Délivrée</span>' in page


def test_a_flagged_claim_history_says_the_region_handles_it(app, client, outbox, hosts):
    import json

    from sqlalchemy import select

    from wallet.db import new_session
    from wallet.models import Claim

    app.config["CLAIM_FIRST_ATTEMPT"] = "worker"
    _eligible(client, outbox, hosts)
    r = post_form(client, "/demandes/nouvelle/communiquer-1", recipient="ana@example.org")
    with new_session(app) as session:
        claim = session.scalar(select(Claim))
        history = json.loads(claim.history)
        history.append({"at": history[0]["at"], "status": "pending", "note": "needs_staff"})
        claim.history = json.dumps(history)
        session.commit()
    assert _history(unescape(client.get(r.headers["Location"]).text)) == [
        "Enregistrée", "Envoi bloqué : la Région s'en occupe"]


def test_admin_figures_name_each_state_once(app, client, outbox):
    from tests.web.test_counselling import set_role

    registered_user(client, outbox)
    set_role(app, "ana@example.org", "admin")
    page = unescape(client.get("/admin/tableau-de-bord").text)
    table = page[page.index("Demandes, par état"):]
    table = table[:table.index("</table>")]
    labels = re.findall(r'<th scope="row">(.*?)</th>', table)
    assert len(labels) == 7 and len(set(labels)) == 7, labels
    assert "Enregistrée" in labels and "Envoyée à la Région" in labels
