"""The facts stored beside a verdict (`eligibility_facts`) judge exactly as the whole verdict does."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from wallet.eligibility import are_current_facts, eligibility_facts, evaluate

from .helpers import ASSO, ASSO_V3, ATELIER, BASE, CENTRE, NOW, REGION, STRANGER, referential, target, verdict

REF = referential()
SKILLS = ["organiser", "s-adapter", "communiquer", "s-integrer"]
CODES = {"organiser": "NOR-ORG", "s-adapter": "NOR-ADA", "communiquer": "NOR-COM", "s-integrer": "NOR-INT"}
CATALOGUE = [f"{CENTRE}/badges/travail-en-equipe", f"{CENTRE}/badges/planning-chantier",
             f"{ASSO}/badges/prise-de-parole", f"{ATELIER}/badges/immersion", f"{ATELIER}/badges/polyvalence"]
REGIONAL = [f"{REGION}/badges/{key}" for key in ("organiser-2", "communiquer-1", "communiquer-2", "general")]


@st.composite
def alignment(draw) -> dict:
    skill, level = draw(st.sampled_from(SKILLS)), draw(st.sampled_from([1, 2]))
    how = draw(st.sampled_from(["url", "url/", "code", "code+framework", "code+stranger", "other"]))
    found = {"name": draw(st.sampled_from(["x", None])), "url": None, "framework": None, "code": None}
    if how.startswith("url"):
        found["url"] = target(skill, level) + ("/" if how == "url/" else "")
    elif how.startswith("code"):
        found["code"] = draw(st.sampled_from([f"{CODES[skill]}-{level}", f"{CODES[skill]}-{level}".lower()]))
        found["framework"] = {"code": None, "code+framework": "NORMANDIE-CT",
                              "code+stranger": "Autre référentiel"}[how]
        if draw(st.booleans()):
            found["url"] = f"{BASE}/referentials/normandie/x"
    else:
        found["url"] = "https://stranger.example/skill"
    return found


@st.composite
def credential(draw, number: int) -> dict:
    issuer = draw(st.sampled_from([CENTRE, ASSO, ASSO_V3, ATELIER, STRANGER, REGION]))
    badge_id = draw(st.sampled_from(CATALOGUE + REGIONAL + [f"{issuer}/badges/{n}" for n in range(3)] + [None]))
    data = verdict(
        issuer=issuer, badge_id="placeholder", cid=draw(st.sampled_from([f"urn:uuid:{number:08d}", None])),
        status=draw(st.sampled_from(["valid", "valid", "revoked", "suspended", "expired", "invalid"])),
        matched=draw(st.sampled_from([True, True, False, None])),
        expires=draw(st.sampled_from([None, "2026-01-01T00:00:00Z", "2027-01-01T00:00:00Z", "demain"])),
        alignments=draw(st.lists(alignment(), max_size=3)),
        tags=draw(st.lists(st.sampled_from([f"normandie-{s}-{n}" for s in SKILLS for n in (1, 2)]
                                           + [" Normandie-Organiser-2 ", "autre"]), max_size=2)))
    data["badge"]["id"] = badge_id
    return data


@st.composite
def wallets(draw) -> list[dict]:
    size = draw(st.integers(0, 12))
    return [draw(credential(number)) for number in range(size)]


def judged(credentials: list[dict]) -> list[dict]:
    return [result.to_dict("fr") for result in evaluate(REF, credentials, NOW)]


@settings(max_examples=300, deadline=None)
@given(wallets())
def test_the_rules_judge_the_stored_facts_as_they_judge_the_whole_verdicts(creds):
    stored = [json.loads(json.dumps(eligibility_facts(c))) for c in creds]
    assert judged(stored) == judged(creds)


def test_the_facts_are_a_small_part_of_a_verdict_and_carry_their_version():
    full = verdict(skill="organiser", level=2, tags=["normandie-organiser-2"])
    full["checks"] = [{"id": "proof", "ok": True, "level": "info", "params": {"kid": "k" * 40}}] * 6
    facts = eligibility_facts(full)
    assert are_current_facts(facts)
    assert not are_current_facts(full)
    assert not are_current_facts({**facts, "eligibility_facts": 0})
    assert len(json.dumps(facts)) * 2 < len(json.dumps(full))
    assert "checks" not in facts and "name" not in facts["badge"]


def test_the_facts_keep_what_makes_a_badge_count_and_what_stops_it():
    counted = verdict(skill="organiser", level=2, issuer=CENTRE)
    revoked = {**counted, "status": "revoked", "id": "urn:uuid:revoked"}
    results = {r.key: r for r in evaluate(REF, [eligibility_facts(counted), eligibility_facts(revoked)], NOW)}
    assert counted["id"] in results["organiser-1"].counted
    assert ("urn:uuid:revoked", "revoked") in {(nc.id, nc.reason) for nc in results["organiser-1"].not_counted}
