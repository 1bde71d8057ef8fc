"""An import that could read nothing stores nothing and says why (SECURITY.md T63).

Before: a blocked or unreachable URL left a "Badge sans nom · À vérifier · pas encore à moi" row
and the result line said "délivré à une autre adresse e-mail".
"""

from __future__ import annotations

import socket
from html import unescape

import pytest

from tests.web.accounts_helpers import post_form, registered_user
from tests.web.test_badges import badges_in_db, upload


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


CLOSED = _closed_port()


@pytest.fixture
def app_config(app_config, host):
    # The closed port is allowlisted: the fetch really tries it and finds nobody there.
    app_config["FETCH_ALLOW"] = f"{host.authority},127.0.0.1:{CLOSED}"
    return app_config


@pytest.fixture
def ana(client, outbox):
    registered_user(client, outbox)
    return client


WRONG = ("délivré à une autre adresse", "issued to another email address", "Badge sans nom", "Unnamed badge",
         "Importé", "Imported")

CASES = {
    "blocked": ("https://10.0.0.1/assertions/1",
                {"fr": "Cette adresse est refusée", "en": "This address is refused"}),
    "blocked_ipv6": ("https://[::127.0.0.1]/assertions/1",
                     {"fr": "Cette adresse est refusée", "en": "This address is refused"}),
    "unreachable": (f"http://127.0.0.1:{CLOSED}/assertions/1",
                    {"fr": "Le site de l'émetteur est injoignable", "en": "The issuer's site cannot be reached"}),
}


def _english(client) -> None:
    post_form(client, "/badges/importer", "/langue", locale="en", next="/badges/importer")


@pytest.mark.parametrize("lang", ["fr", "en"])
@pytest.mark.parametrize("case", list(CASES))
def test_an_unfetchable_url_imported_twenty_times_stores_nothing_and_says_why(app, ana, case, lang):
    url, expected = CASES[case]
    if lang == "en":
        _english(ana)
    for _ in range(20):
        page = unescape(upload(ana, url=url).text)
        assert expected[lang] in page
        assert not any(wrong in page for wrong in WRONG), page
    assert badges_in_db(app) == []


@pytest.mark.parametrize(("status", "body", "content_type", "expected"), [
    (404, "not here", "text/plain", "ne trouve pas ce badge (erreur 404)"),
    (503, "down", "text/plain", "est en panne (erreur 503)"),
    (410, "gone", "text/plain", "L'émetteur a retiré ce badge"),
    (200, "<html><body>Bienvenue</body></html>", "text/html", "Ce lien ne mène pas à un badge"),
])
def test_a_url_answering_no_badge_stores_nothing_and_says_why(app, ana, host, status, body, content_type,
                                                             expected):
    host.route("/assertions/x", body=body, status=status, content_type=content_type)
    page = unescape(upload(ana, url=host.url("/assertions/x")).text)
    assert expected in page and "rien n'a été enregistré" in page
    assert not any(wrong in page for wrong in WRONG), page
    assert badges_in_db(app) == []
