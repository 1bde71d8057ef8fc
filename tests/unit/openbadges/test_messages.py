"""The message catalog: every check id and outcome has a French and an English sentence."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from wallet.openbadges.errors import FetchError
from wallet.openbadges.messages import (
    CATALOG,
    ERRORS,
    GENERIC,
    STATUS_LABELS,
    render,
    render_error,
    render_status,
)
from wallet.openbadges.model import CHECK_IDS, Alignment, Check, Credential, Level, Status, Verdict
from wallet.text.typography import french_spacing

CORE = Path(__file__).resolve().parents[3] / "wallet" / "openbadges"


def emitted_outcomes() -> set[tuple[str, str]]:
    """(check id, reason) pairs the verifier can emit, read from its source."""
    pairs = set()
    patterns = [
        r'(?:failure|fail|warn|ok|note)\(\s*"(\w+)",[^)]*?reason="(\w+)"',
        r'Check\("(\w+)", (?:True|False), Level\.\w+,\s*\{"reason": "(\w+)"',
        r'Check\("(\w+)", (?:True|False), Level\.\w+,\s*\n\s*\{"reason": "(\w+)"',
    ]
    for name in ("ob2.py", "ob3.py", "ob3_status.py", "verify.py", "session.py", "nodes.py"):
        source = (CORE / name).read_text()
        for pattern in patterns:
            pairs |= set(re.findall(pattern, source))
    return pairs


def test_the_scan_finds_the_outcomes():
    found = emitted_outcomes()
    assert ("hosted_origin", "origin") in found and ("context", "missing_for_proof") in found
    assert len(found) > 40


@pytest.mark.parametrize("check_id, reason", sorted(emitted_outcomes()))
def test_every_emitted_outcome_has_its_own_sentence(check_id, reason):
    assert check_id in CHECK_IDS
    assert reason in CATALOG[check_id], f"no message for {check_id}/{reason}"


def test_revocation_kinds_have_sentences():
    assert {"revoked", "suspended"} <= set(CATALOG["revocation"])


@pytest.mark.parametrize("reason", ["network", "timeout", "blocked", "too_large", "scheme", "redirects",
                                    "offline", "budget", "depth", "http_status"])
def test_every_fetch_failure_has_a_sentence(reason):
    assert reason in CATALOG["fetch"]
    assert FetchError("https://x", reason).reason == reason


def test_catalog_is_complete_and_bilingual():
    assert set(CATALOG) == set(CHECK_IDS)
    for check_id, outcomes in CATALOG.items():
        assert "ok" in outcomes, check_id
        for outcome, (fr, en) in outcomes.items():
            assert fr and en and fr != en, (check_id, outcome)
            assert re.findall(r"{(\w+)}", fr) == re.findall(r"{(\w+)}", en), (check_id, outcome)
    for pair in list(ERRORS.values()) + list(STATUS_LABELS.values()):
        assert pair[0] != pair[1]
    assert set(STATUS_LABELS) == {s.value for s in Status}


def test_render_fills_params_in_the_readers_language():
    check = Check("hosted_origin", False, Level.ERROR, {"reason": "origin", "origin": "evil.example:8080",
                                                         "allowed": ["a", "b"]})
    assert "evil.example:8080" in render(check, "fr") and "contrefaçon" in render(check, "fr")
    assert "forged" in render(check, "en")


def test_render_tolerates_missing_params_and_unknown_outcomes():
    assert render(Check("fetch", False, Level.ERROR, {"reason": "network"}), "en").endswith("(?): try again later.")
    assert render(Check("dates", False, Level.ERROR, {"reason": "brand_new"}), "en") == CATALOG["dates"]["fail"][1]
    assert render(Check("other", True), "fr") == french_spacing(GENERIC[0]).format(id="other")
    assert render(Check("other", True), "fr") == "Vérification\u00a0: other."  # French spacing


def test_revocation_reason_is_appended():
    check = Check("revocation", False, Level.ERROR, {"reason": "revoked", "revocationReason": "Erreur"})
    assert render(check, "fr") == "L'émetteur a révoqué ce badge. Motif\u00a0: Erreur."
    assert render(check, "en") == "The issuer has revoked this badge. Reason: Erreur."


def test_errors_and_status_labels():
    assert "clic droit" in render_error("no_badge", "fr")
    assert render_error("something_new", "en") == ERRORS["not_a_badge"][1]
    assert render_status("revoked", "en") == "Badge revoked by the issuer"


def test_verdict_round_trip_rerenders_messages():
    credential = Credential(version="2.0", proof="hosted", id="https://x/a", badge_id="https://x/b", name="N",
                            tags=("t",), alignments=(Alignment("A", "https://r", None, "C"),),
                            issuer_id="https://x/i", issued_on="2024-01-01T00:00:00Z", original="{}")
    verdict = Verdict(Status.EXPIRED, credential,
                      (Check("dates", False, Level.ERROR, {"reason": "expired", "expires": "2025-01-01"}),),
                      "2025-06-01T12:00:00Z", "email", True, False, "ana@example.org",
                      issued_on="2024-01-01T00:00:00Z", expires="2025-01-01T00:00:00Z")
    fr = verdict.to_dict("fr")
    assert fr["valid"] is False and fr["checks"][0]["message"] == "Ce badge a expiré (2025-01-01)."
    assert "ana@example.org" not in str(fr)
    again = Verdict.from_dict(fr)
    en = again.to_dict("en")
    assert en["checks"][0]["message"] == "This badge has expired (2025-01-01)."
    assert {k: v for k, v in en.items() if k != "checks"} == {k: v for k, v in fr.items() if k != "checks"}
    assert list(fr) == ["status", "valid", "version", "proof", "id", "badge", "issuer", "issued_on", "expires",
                        "recipient", "checks", "checked_at"]


def test_input_sentence_names_the_format_for_people():
    png = Check("input", True, Level.INFO, {"format": "png", "version": "2.0"})
    assert render(png, "fr") == "Badge lu (image PNG), version Open Badges 2.0."
    url = Check("input", True, Level.INFO, {"format": "url", "version": None})
    assert render(url, "en") == "Badge read (web address)."
