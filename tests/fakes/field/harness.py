"""How the field tests bring one badge in, three ways, through each surface of the product.

    case = FieldCase("moodle-valid", url=…, text=…, png=…, status="valid", issuer_id=…, name=…)
    import_through_web(client, case, "baked")     # the import page, as a learner's browser posts it
    cli_verdict(case, "url", tmp_path)            # `wallet verify SOURCE --json` (exit code, JSON)
    library_verdict(case, "paste", fetch)         # wallet.openbadges.verify()
    assert_verifies(case, "baked", tmp_path, fetch)   # both give the case's verdict

A case holds what the system handed the learner (its hosted URL, the JSON they would paste, the
baked file they would download) and the verdict each must get.
"""

from __future__ import annotations

import contextlib
import io
import json
from dataclasses import dataclass
from html import unescape
from pathlib import Path

from tests.conftest import csrf_from

HOWS = ("url", "baked", "paste")
LEARNER = "ana@example.org"


@dataclass(frozen=True)
class FieldCase:
    label: str
    status: str                   # the verdict status every way in must give
    name: str                     # the badge name shown
    issuer_id: str                # the authoritative issuer id ("" when none can be established)
    url: str | None = None
    text: str | None = None       # the JSON (or JWS) a learner would paste
    png: bytes | None = None      # the baked file a learner would upload
    issuer_by_url: bool = True    # False: a bare URL cannot establish the issuer (e.g. a 410)

    def expected_issuer(self, how: str) -> str:
        return self.issuer_id if (how != "url" or self.issuer_by_url) else ""

    def expected_name(self, how: str) -> str:
        return self.name if (how != "url" or self.issuer_by_url) else ""

    def source(self, how: str) -> str | bytes:
        value = {"url": self.url, "paste": self.text, "baked": self.png}[how]
        assert value is not None, f"{self.label}: no {how} form"
        return value


def import_through_web(client, case: FieldCase, how: str):
    """Post the import form the way a browser does (CSRF token read from the page)."""
    page = client.get("/badges/importer")
    data: dict = {"csrf_token": csrf_from(page.text)}
    if how == "url":
        data["url"] = case.url
    elif how == "paste":
        data["text"] = case.text
    else:
        data["files"] = [(io.BytesIO(case.png), f"{case.label}.png")]
    return client.post("/badges/importer", data=data, content_type="multipart/form-data")


def stored_badges(app) -> list:
    from sqlalchemy import select

    from wallet.db import new_session
    from wallet.models import Badge

    with new_session(app) as session:
        return list(session.scalars(select(Badge).order_by(Badge.id)))


def assert_imported(client, app, case: FieldCase, how: str) -> None:
    """Import through the web, then check the result line, the stored badge and its page."""
    from wallet.views.status import status_label

    response = import_through_web(client, case, how)
    assert response.status_code == 200, response.text[:500]
    text = unescape(response.text)
    if case.status == "revoked" and not case.expected_name(how):
        # A bare URL answering 410 holds no badge to keep (T63): nothing is stored and the
        # result line says the issuer withdrew it.
        assert "L'émetteur a retiré ce badge" in text, text[:2000]
        assert stored_badges(app) == []
        return
    assert "Non importé" not in text, text[:2000]
    assert status_label(case.status)[0] in text
    [badge] = stored_badges(app)
    assert (badge.status, badge.issuer_id, badge.name) == (case.status, case.expected_issuer(how),
                                                           case.expected_name(how))
    detail = unescape(client.get(f"/badges/{badge.id}").text)
    if case.expected_name(how):
        assert case.name in detail
    if case.status == "valid":
        assert "inconnu" not in detail


def cli_verdict(case: FieldCase, how: str, tmp_path: Path) -> tuple[int, dict]:
    """`wallet verify SOURCE --json --recipient ana@example.org`: (exit code, the JSON printed).

    WALLET_FETCH_ALLOW must name the fake's authority (set by the test with monkeypatch)."""
    from wallet.cli import main

    source = case.source(how)
    if how != "url":
        path = tmp_path / (f"{case.label}.png" if how == "baked" else f"{case.label}.json")
        path.write_bytes(source if isinstance(source, bytes) else source.encode())
        source = str(path)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["verify", str(source), "--json", "--recipient", LEARNER])
    return code, json.loads(out.getvalue())


def library_verdict(case: FieldCase, how: str, fetch) -> dict:
    from wallet.openbadges import verify

    return verify(case.source(how), fetch=fetch, recipients=(LEARNER,)).to_dict("fr")


def assert_verdict(data: dict, case: FieldCase, how: str) -> None:
    assert data["status"] == case.status, [c for c in data["checks"] if not c["ok"]]
    assert (data["issuer"]["id"] or "") == case.expected_issuer(how)
    assert (data["badge"]["name"] or "") == case.expected_name(how)


def assert_verifies(case: FieldCase, how: str, tmp_path: Path, fetch) -> None:
    """`wallet verify` (exit code 0 for a valid badge only, 1 otherwise) and the library both give
    the case's verdict. WALLET_FETCH_ALLOW must name the fake's authority, as for cli_verdict."""
    code, data = cli_verdict(case, how, tmp_path)
    assert code == (0 if case.status == "valid" else 1)
    assert_verdict(data, case, how)
    assert_verdict(library_verdict(case, how, fetch), case, how)
