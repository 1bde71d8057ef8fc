"""The eligibility engine, read as a specification (Verdict dicts built by hand)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from wallet.eligibility import evaluate, load_referential
from wallet.eligibility.referential import default_referential_path

from .helpers import (
    ASSO,
    ASSO_V3,
    ATELIER,
    BASE,
    CENTRE,
    NOW,
    REGION,
    STRANGER,
    badge_table,
    by_key,
    referential,
    regional,
    verdict,
)

REF = referential()


def result(credentials, key="communiquer-1", ref=REF, **kwargs):
    return by_key(evaluate(ref, credentials, NOW, **kwargs))[key]


def reason_of(credential, key="communiquer-1"):
    found = result([credential], key)
    assert credential["id"] not in found.counted
    return {nc.id: nc.reason for nc in found.not_counted}[credential["id"]]


# --- one reason each ----------------------------------------------------------------------------

@pytest.mark.parametrize("changes, reason", [
    ({"status": "invalid"}, "not_valid"),
    ({"status": "unverifiable"}, "not_valid"),
    ({"status": "not_yet_valid"}, "not_valid"),
    ({"status": "something-new"}, "not_valid"),
    ({"expires": "not a date"}, "not_valid"),
    ({"status": "expired"}, "expired"),
    ({"expires": "2026-10-31T23:59:59Z"}, "expired"),
    ({"status": "revoked"}, "revoked"),
    ({"status": "suspended"}, "revoked"),
    ({"issuer": STRANGER}, "not_a_partner"),
    ({"issuer": REGION}, "not_a_partner"),
    ({"skill": "organiser"}, "not_aligned"),
    ({"skill": None}, "not_aligned"),
    ({"matched": False}, "not_matched"),
    ({"matched": None}, "not_matched"),
])
def test_each_reason(changes, reason):
    assert reason_of(verdict(**changes)) == reason


def test_a_qualifying_badge_counts():
    badge = verdict()
    found = result([badge])
    assert found.counted == (badge["id"],) and found.not_counted == ()


def test_an_expiry_still_ahead_counts():
    assert result([verdict(expires="2027-01-01T00:00:00Z")]).counted


def test_expiry_is_judged_at_the_given_now_not_the_clock():
    badge = verdict(expires="2026-12-01T00:00:00Z")
    assert by_key(evaluate(REF, [badge], NOW))["communiquer-1"].counted == (badge["id"],)
    later = by_key(evaluate(REF, [badge], NOW + timedelta(days=60)))["communiquer-1"]
    assert [(nc.id, nc.reason) for nc in later.not_counted] == [(badge["id"], "expired")]


def test_a_partner_is_recognised_by_issuer_id_never_by_name():
    impostor = verdict(issuer="https://evil.example/demo/partners/centre-formation")
    impostor["issuer"]["name"] = "[Démo] Centre de formation Les Tilleuls"
    assert reason_of(impostor) == "not_a_partner"


def test_copies_of_the_same_badge_class_count_once():
    first = verdict(badge_id=f"{CENTRE}/badges/same", cid="urn:uuid:b")
    second = verdict(badge_id=f"{CENTRE}/badges/same", cid="urn:uuid:a")
    third = verdict(badge_id=f"{CENTRE}/badges/same", cid="urn:uuid:c")
    found = result([first, second, third])
    assert found.counted == ("urn:uuid:a",)
    assert {(nc.id, nc.reason) for nc in found.not_counted} == {
        ("urn:uuid:b", "duplicate"), ("urn:uuid:c", "duplicate")}
    assert found.progress.have == 1 and found.state == "in_progress"


# --- precedence when several reasons apply -------------------------------------------------------

@pytest.mark.parametrize("changes, reason", [
    ({"status": "invalid", "issuer": STRANGER, "matched": False}, "not_valid"),
    ({"status": "revoked", "issuer": STRANGER}, "not_a_partner"),
    ({"status": "expired", "issuer": STRANGER, "skill": "organiser"}, "not_a_partner"),
    ({"issuer": STRANGER, "matched": False}, "not_a_partner"),
    ({"status": "expired", "skill": "organiser"}, "not_aligned"),
    ({"skill": "organiser", "matched": False}, "not_aligned"),
    ({"status": "revoked", "matched": False}, "revoked"),
    ({"status": "expired", "matched": False}, "expired"),
])
def test_precedence_of_reasons(changes, reason):
    assert reason_of(verdict(**changes)) == reason


def test_an_unmatched_copy_is_not_matched_rather_than_duplicate():
    counted = verdict(badge_id=f"{CENTRE}/badges/same", cid="urn:uuid:a")
    unmatched = verdict(badge_id=f"{CENTRE}/badges/same", cid="urn:uuid:b", matched=False)
    found = result([counted, unmatched])
    assert [(nc.id, nc.reason) for nc in found.not_counted] == [("urn:uuid:b", "not_matched")]


# --- states -------------------------------------------------------------------------------------

@pytest.mark.parametrize("count, state, have", [
    (0, "not_started", 0), (1, "in_progress", 1), (2, "eligible", 2), (3, "eligible", 3)])
def test_states_of_a_level_one_badge(count, state, have):
    found = result([verdict() for _ in range(count)])
    assert found.state == state
    assert found.progress.to_dict() == {"have": have, "need": 2, "partners_have": min(count, 1),
                                        "partners_need": 1}


def test_a_regional_badge_held_is_obtained_whatever_the_progress():
    held = regional("communiquer-1")
    found = result([held])
    assert found.state == "obtained" and found.progress.have == 0
    assert {nc.id: nc.reason for nc in found.not_counted} == {held["id"]: "not_a_partner"}


@pytest.mark.parametrize("changes", [
    {"matched": False}, {"status": "revoked"}, {"status": "expired"}, {"status": "invalid"},
    {"expires": "2026-01-01T00:00:00Z"}])
def test_a_regional_badge_not_valid_or_not_matched_is_not_held(changes):
    assert result([regional("communiquer-1", **changes)]).state == "not_started"


def test_the_regional_badge_id_from_another_issuer_is_not_held():
    forged = regional("communiquer-1")
    forged["issuer"]["id"] = STRANGER
    assert result([forged]).state == "not_started"


def test_held_regional_given_by_the_caller():
    results = by_key(evaluate(REF, [], NOW, held_regional=[f"{REGION}/badges/organiser-1", "s-adapter-2"]))
    assert results["organiser-1"].state == "obtained"
    assert results["s-adapter-2"].state == "obtained"
    assert results["communiquer-1"].state == "not_started"


# --- levels and partners ---------------------------------------------------------------------------

def test_a_level_two_partner_badge_counts_toward_level_one():
    found = result([verdict(level=2), verdict(level=2)])
    assert found.state == "eligible"


def test_a_level_one_partner_badge_does_not_count_toward_level_two():
    badge = verdict(level=1)
    assert reason_of(badge, "communiquer-2") == "not_aligned"


def test_four_badges_from_one_partner_wait_for_a_second_partner():
    found = result([verdict(level=2, issuer=ATELIER) for _ in range(4)], "communiquer-2")
    assert found.state == "in_progress"
    assert found.progress.to_dict() == {"have": 4, "need": 4, "partners_have": 1, "partners_need": 2}
    assert (found.missing.badges, found.missing.partners) == (1, 1)
    assert found.missing.skill == "communiquer" and found.missing.level == 2


def test_issuer_ids_of_one_organisation_count_as_one_partner():
    badges = [verdict(level=2, issuer=ASSO), verdict(level=2, issuer=ASSO),
              verdict(level=2, issuer=ASSO_V3), verdict(level=2, issuer=ASSO_V3)]
    found = result(badges, "communiquer-2")
    assert found.progress.partners_have == 1 and found.state == "in_progress"
    assert found.counted_partners == ("demo-association-insertion",)


def test_four_badges_from_two_partners_are_eligible():
    badges = [verdict(level=2, issuer=ASSO) for _ in range(3)] + [verdict(level=2, issuer=ATELIER)]
    found = result(badges, "communiquer-2")
    assert found.state == "eligible" and found.missing.badges == 0 and found.missing.partners == 0
    assert found.counted_partners == ("demo-association-insertion", "demo-atelier-bocage")


def test_missing_and_offered_by_for_a_count_rule():
    found = result([verdict()], "communiquer-1")
    assert found.missing.to_dict() == {"badges": 1, "partners": 0, "skill": "communiquer", "level": 1,
                                       "regional": []}
    assert [p.key for p in found.offered_by] == [
        "demo-centre-formation", "demo-association-insertion", "demo-atelier-bocage"]
    level_two = result([], "communiquer-2")
    assert [p.key for p in level_two.offered_by] == ["demo-association-insertion", "demo-atelier-bocage"]
    offered = level_two.to_dict(extended=True)["offered_by"][0]
    assert offered["badges"] == [{"id": f"{ASSO}/badges/prise-de-parole",
                                  "name": "Prise de parole en groupe", "level": 2}]


# --- how a partner badge maps to a skill ------------------------------------------------------------

def test_catalogue_entry_counts_for_the_partner_that_lists_it():
    badge = verdict(skill=None, issuer=ASSO, badge_id=f"{ASSO}/badges/prise-de-parole")
    assert result([badge], "communiquer-2").counted == (badge["id"],)
    assert result([badge], "communiquer-1").counted == (badge["id"],)


def test_catalogue_entry_does_not_count_for_another_partner():
    badge = verdict(skill=None, issuer=ATELIER, badge_id=f"{ASSO}/badges/prise-de-parole")
    assert reason_of(badge, "communiquer-2") == "not_aligned"


@pytest.mark.parametrize("alignment, counts", [
    ({"name": "x", "url": "https://other.example/x", "framework": "NORMANDIE-CT", "code": "NOR-COM-1"}, True),
    ({"name": "x", "url": "https://other.example/x", "framework": "normandie-ct ", "code": "nor-com-1"}, True),
    ({"name": "x", "url": f"{BASE}/referentials/normandie/x", "framework": None, "code": "NOR-COM-1"}, True),
    ({"name": "x", "url": "https://other.example/x", "framework": "Autre", "code": "NOR-COM-1"}, False),
    ({"name": "x", "url": f"{BASE}/referentials/normandie/competences/communiquer/niveau-1/",
      "framework": None, "code": None}, True),
    ({"name": "x", "url": f"{BASE}/referentials/normandie/competences/communiquer", "framework": None,
      "code": None}, False),
])
def test_alignment_by_url_or_by_code_within_the_framework(alignment, counts):
    badge = verdict(alignments=[alignment])
    found = result([badge])
    assert (found.counted == (badge["id"],)) is counts


def test_alignment_by_tag():
    badge = verdict(skill=None, tags=["Normandie-Communiquer-2"])
    assert result([badge], "communiquer-2").counted == (badge["id"],)


def test_a_badge_aligned_to_two_skills_counts_for_both():
    badge = verdict(alignments=[{"name": "a", "url": f"{BASE}/referentials/normandie/competences/organiser/niveau-1"},
                                {"name": "b", "url": f"{BASE}/referentials/normandie/competences/s-adapter/niveau-2"}])
    results = by_key(evaluate(REF, [badge], NOW))
    assert results["organiser-1"].counted == results["s-adapter-1"].counted == (badge["id"],)
    assert results["s-adapter-2"].counted == (badge["id"],)
    assert results["organiser-2"].counted == ()


def test_retroactive_an_old_badge_counts():
    badge = verdict()
    badge["issued_on"] = "2009-01-01T00:00:00Z"
    assert result([badge]).counted == (badge["id"],)


# --- composites -----------------------------------------------------------------------------------

@pytest.mark.parametrize("held, state", [
    ((), "not_started"), (("organiser-2",), "in_progress"), (("organiser-2", "s-adapter-2"), "in_progress"),
    (("organiser-2", "s-adapter-2", "s-integrer-2"), "eligible"),
    (("organiser-2", "s-adapter-2", "s-integrer-2", "communiquer-2"), "eligible"),
    (("organiser-1", "s-adapter-1", "s-integrer-1", "communiquer-1"), "not_started"),
])
def test_general_badge_is_three_of_the_four_master_badges(held, state):
    credentials = [regional(key) for key in held]
    found = result(credentials, "general")
    assert found.state == state
    expected_held = tuple(k for k in ("organiser-2", "s-adapter-2", "communiquer-2", "s-integrer-2") if k in held)
    assert found.held == expected_held
    assert found.progress.to_dict() == {"have": len(expected_held), "need": 3, "partners_have": 0,
                                        "partners_need": 0}
    assert set(found.counted) == {c["id"] for c in credentials if c["badge"]["id"].endswith("-2")}
    assert found.missing.badges == max(0, 3 - len(expected_held))
    assert set(found.missing.regional) == {"organiser-2", "s-adapter-2", "communiquer-2",
                                           "s-integrer-2"} - set(held)


def test_general_badge_held_is_obtained():
    assert result([regional("general")], "general").state == "obtained"


def test_composite_lists_the_region_credentials_it_cannot_count():
    good = regional("organiser-2", cid="urn:uuid:1")
    copy = regional("organiser-2", cid="urn:uuid:2")
    revoked = regional("s-adapter-2", status="revoked", cid="urn:uuid:3")
    unmatched = regional("s-integrer-2", matched=False, cid="urn:uuid:4")
    unrelated = regional("organiser-1", cid="urn:uuid:5")
    partner = verdict(cid="urn:uuid:6")
    found = result([good, copy, revoked, unmatched, unrelated, partner], "general")
    assert found.counted == ("urn:uuid:1",)
    assert {(nc.id, nc.reason) for nc in found.not_counted} == {
        ("urn:uuid:2", "duplicate"), ("urn:uuid:3", "revoked"), ("urn:uuid:4", "not_matched")}


COMPOSITES = """
[referential]
id = "t"
version = "1"
name = { fr = "Test", en = "Test" }
[issuer]
ids = ["{base_url}/issuers/region"]
name = { fr = "Région", en = "Region" }
[[levels]]
level = 1
name = { fr = "Je pratique", en = "I practise" }
[[skills]]
key = "a"
name = { fr = "A", en = "A" }
description = { fr = "A", en = "A" }
""" + "".join(badge_table(key, 'type = "count", skill = "a", min_level = 1, badges = 1') for key in ("x", "y", "z")) \
    + badge_table("all", 'type = "all_of", of = ["x", "y", "z"]', "Tous", "All") \
    + badge_table("any", 'type = "any_of", of = ["{base_url}/issuers/region/badges/x", "all"]', "Un", "Any")


@pytest.mark.parametrize("held, all_state, any_state", [
    ((), "not_started", "not_started"),
    (("y",), "in_progress", "not_started"),
    (("x",), "in_progress", "eligible"),
    (("x", "y", "z"), "eligible", "eligible"),
    (("all",), "obtained", "eligible"),
])
def test_all_of_and_any_of(held, all_state, any_state):
    ref = load_referential(COMPOSITES, base_url=BASE)
    results = by_key(evaluate(ref, [regional(key) for key in held], NOW))
    assert results["all"].state == all_state
    assert results["any"].state == any_state
    assert results["all"].progress.need == 3 and results["any"].progress.need == 1


# --- output -------------------------------------------------------------------------------------

def test_to_dict_has_exactly_the_design_keys():
    badge, stranger = verdict(), verdict(issuer=STRANGER)
    item = result([badge, stranger]).to_dict("fr")
    assert item == {
        "id": f"{REGION}/badges/communiquer-1", "name": "Communiquer — Je pratique",
        "state": "in_progress",
        "progress": {"have": 1, "need": 2, "partners_have": 1, "partners_need": 1},
        "counted": [badge["id"]],
        "not_counted": [{"id": stranger["id"], "reason": "not_a_partner"}],
    }


def test_to_dict_extended_and_in_english():
    item = result([], "general").to_dict("en", extended=True)
    assert item["name"] == "Transversal skills — General badge"
    assert set(item) == {"id", "name", "state", "progress", "counted", "not_counted", "key", "rule",
                         "missing", "held", "counted_partners", "offered_by"}
    assert item["rule"] == "n_of" and item["missing"]["badges"] == 3


def test_one_result_per_regional_badge_in_file_order():
    keys = [r.key for r in evaluate(REF, [], NOW)]
    assert keys == ["organiser-1", "organiser-2", "s-adapter-1", "s-adapter-2", "communiquer-1",
                    "communiquer-2", "s-integrer-1", "s-integrer-2", "general"]


def test_objects_with_to_dict_are_accepted():
    class Stored:
        def __init__(self, data):
            self.data = data

        def to_dict(self, lang="fr"):
            return self.data

    badges = [verdict(), verdict()]
    assert result([Stored(b) for b in badges]).state == "eligible"


def test_naive_now_is_taken_as_utc():
    badge = verdict(expires="2026-11-01T12:30:00Z")
    found = by_key(evaluate(REF, [badge], NOW.replace(tzinfo=None)))["communiquer-1"]
    assert found.counted == (badge["id"],)


def test_the_referential_of_another_base_url_does_not_trust_these_ids():
    other = load_referential(default_referential_path(), base_url="https://elsewhere.example")
    assert reason_of_with(other, verdict()) == "not_a_partner"


def reason_of_with(ref, credential):
    found = by_key(evaluate(ref, [credential], NOW))["communiquer-1"]
    return {nc.id: nc.reason for nc in found.not_counted}[credential["id"]]


def test_without_demo_partners_nothing_from_them_counts():
    ref = referential(include_demo=False)
    assert ref.partners == ()
    assert reason_of_with(ref, verdict()) == "not_a_partner"


def test_the_highest_level_a_badge_attests_is_the_one_that_counts():
    badge = verdict(alignments=[{"name": "2", "url": f"{BASE}/referentials/normandie/competences/communiquer/niveau-2"},
                                {"name": "1", "url": f"{BASE}/referentials/normandie/competences/communiquer/niveau-1"}],
                    tags=["normandie-communiquer-1"])
    assert result([badge], "communiquer-2").counted == (badge["id"],)


def test_verdict_objects_of_the_core_are_accepted():
    from wallet.openbadges import Verdict

    badges = [verdict(), verdict(level=2, issuer=ATELIER)]
    found = result([Verdict.from_dict(b) for b in badges])
    assert found.state == "eligible" and set(found.counted) == {b["id"] for b in badges}


def test_each_referential_is_read_for_itself_when_several_are_evaluated_in_turn():
    """What the rules derive from a referential is kept per referential object: a new referential
    (a Region loading a new version) is never evaluated with the previous one's partners."""
    without_demo = referential(include_demo=False)
    for _ in range(2):
        assert [p.key for p in result([], "communiquer-2").offered_by] == [
            "demo-association-insertion", "demo-atelier-bocage"]
        found = result([verdict(level=2, issuer=ASSO)], "communiquer-2", ref=without_demo)
        assert not any(p.key.startswith("demo-") for p in found.offered_by)
        assert found.not_counted[0].reason == "not_a_partner"
