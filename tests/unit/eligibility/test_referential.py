"""Loading and validating the referential data file: every problem names its path and line."""

from __future__ import annotations

import pytest

from wallet.eligibility import (
    CompositeRule,
    CountRule,
    ReferentialError,
    check_referential,
    default_referential_path,
    evaluate,
    load_referential,
)
from wallet.eligibility.lines import line_of, split_path

from .helpers import BASE, NOW, badge_table, by_key, verdict

PACKAGED = default_referential_path()
SOURCE = PACKAGED.read_text(encoding="utf-8")


def changed(old: str, new: str, count: int = 1) -> str:
    assert SOURCE.count(old) >= count, old
    return SOURCE.replace(old, new, count)


def line_containing(text: str, fragment: str, occurrence: int = 1) -> int:
    seen = 0
    for number, line in enumerate(text.splitlines(), 1):
        if fragment in line:
            seen += 1
            if seen == occurrence:
                return number
    raise AssertionError(fragment)


def problems_of(text: str) -> list[tuple[str, str, int | None]]:
    return [(p.path, p.code, p.line) for p in check_referential(text, base_url=BASE)]


# --- the packaged file -----------------------------------------------------------------------------

def test_packaged_normandie_passes_check():
    assert check_referential(PACKAGED) == []


def test_packaged_normandie_content():
    ref = load_referential(PACKAGED, base_url="https://wallet.example/")
    assert ref.issuer.ids == ("https://wallet.example/issuers/region",)
    assert [s.key for s in ref.skills] == ["organiser", "s-adapter", "communiquer", "s-integrer"]
    assert [(level.level, level.name.fr) for level in ref.levels] == [(1, "Je pratique"), (2, "Je maîtrise")]
    assert len(ref.badges) == 9
    com1 = ref.badge("communiquer-1")
    assert com1.id == "https://wallet.example/issuers/region/badges/communiquer-1"
    assert ref.badge(com1.id) is com1
    assert "interagir avec les autres" in com1.description.fr and com1.description.en
    assert "transmettre une information pertinente" in ref.badge("communiquer-2").description.fr
    assert com1.rule == CountRule("communiquer", 1, 2, 1)
    assert ref.badge("organiser-2").rule == CountRule("organiser", 2, 4, 2)
    assert ref.badge("general").rule == CompositeRule(
        "n_of", ("organiser-2", "s-adapter-2", "communiquer-2", "s-integrer-2"), 3)
    assert all(b.editable and b.name.fr and b.name.en and b.criteria.en for b in ref.badges)
    assert all(p.demo and all(i.startswith("https://wallet.example/demo/partners/") for i in p.issuer_ids)
               for p in ref.partners)
    assert len(ref.partners) == 3


def test_load_accepts_text_and_substitutes_the_base_url():
    ref = load_referential(SOURCE, base_url="http://127.0.0.1:5000")
    assert ref.issuer.ids == ("http://127.0.0.1:5000/issuers/region",)
    assert ref.partner_for_issuer("http://127.0.0.1:5000/demo/partners/atelier-bocage").key == "demo-atelier-bocage"
    assert ref.partner_for_issuer("[Démo] Entreprise d'accueil Atelier du Bocage") is None


# --- refusals, each with its path and line ------------------------------------------------------------

def test_unknown_skill_in_a_rule_names_path_and_line():
    text = changed('rule = { type = "count", skill = "communiquer", min_level = 1',
                   'rule = { type = "count", skill = "communication", min_level = 1')
    line = line_containing(text, 'skill = "communication"')
    assert problems_of(text) == [("badges[4].rule.skill", "unknown_skill", line)]
    with pytest.raises(ReferentialError) as caught:
        load_referential(text, base_url=BASE)
    problem = caught.value.problems[0]
    assert problem.format("normandie.toml") == (
        f"normandie.toml:{line}: badges[4].rule.skill: compétence inconnue « communication » / "
        'unknown skill "communication"')
    assert "badges[4].rule.skill" in str(caught.value)


def test_cycle_among_composites_is_refused():
    text = changed('"s-integrer-2"] }', '"s-integrer-2", "general"] }')
    problems = check_referential(text, base_url=BASE)
    assert [(p.path, p.code) for p in problems] == [("badges[8].rule.of", "cycle")]
    assert problems[0].line == line_containing(text, '"general"] }')
    assert "general → general" in problems[0].message("fr")


def test_longer_cycle_is_refused_once():
    text = (SOURCE + badge_table("loop-a", 'type = "all_of", of = ["loop-b"]')
            + badge_table("loop-b", 'type = "all_of", of = ["loop-a"]'))
    problems = check_referential(text, base_url=BASE)
    assert [(p.path, p.code) for p in problems] == [("badges[9].rule.of", "cycle")]
    assert problems[0].line == line_containing(text, 'of = ["loop-b"]')


def test_duplicate_badge_id_is_refused():
    text = changed('id = "{base_url}/issuers/region/badges/organiser-2"',
                   'id = "{base_url}/issuers/region/badges/organiser-1"')
    line = line_containing(text, 'badges/organiser-1"', 2)
    assert problems_of(text) == [("badges[1].id", "duplicate", line)]


def test_duplicate_badge_key_is_refused():
    text = changed('key = "organiser-2"', 'key = "organiser-1"')
    assert problems_of(text) == [("badges[1].key", "duplicate", line_containing(text, 'key = "organiser-1"', 2)),
                                 # the composite that named "organiser-2" now names an unknown badge
                                 ("badges[8].rule.of[0]", "unknown_badge", line_containing(text, 'type = "n_of"'))]


def test_unknown_badge_in_a_composite_is_refused():
    text = changed('"s-integrer-2"] }', '"s-integrer-3"] }')
    assert problems_of(text) == [("badges[8].rule.of[3]", "unknown_badge", line_containing(text, "s-integrer-3"))]


def test_n_of_larger_than_its_list_is_refused():
    text = changed('type = "n_of", n = 3', 'type = "n_of", n = 5')
    assert problems_of(text) == [("badges[8].rule.n", "n_too_large", line_containing(text, "n = 5"))]


@pytest.mark.parametrize("value", ["0", "-1", "true", '"2"'])
def test_counts_must_be_positive_integers(value):
    text = changed('min_level = 1, badges = 2, partners = 1 }', f'min_level = 1, badges = {value}, partners = 1 }}')
    found = problems_of(text)
    assert [(path, code) for path, code, _ in found] == [
        ("badges[0].rule.badges", "type" if value in ("true", '"2"') else "not_positive")]
    assert found[0][2] == line_containing(text, f"badges = {value}")


def test_partners_cannot_exceed_badges():
    text = changed("badges = 4, partners = 2", "badges = 4, partners = 5")
    assert problems_of(text) == [("badges[1].rule.partners", "partners_gt_badges", line_containing(text, "partners = 5"))]


@pytest.mark.parametrize("issuer_id", ["centre-formation", "ftp://x.example/i", "Centre de formation", "did:"])
def test_partner_issuer_ids_must_be_urls_or_dids(issuer_id):
    text = changed('issuer_ids = ["{base_url}/demo/partners/centre-formation"]', f'issuer_ids = ["{issuer_id}"]')
    line = line_containing(text, f'issuer_ids = ["{issuer_id}"]')
    assert problems_of(text) == [("partners[0].issuer_ids[0]", "not_issuer_id", line)]


def test_a_did_is_a_valid_partner_issuer_id():
    text = changed('issuer_ids = ["{base_url}/demo/partners/centre-formation"]',
                   'issuer_ids = ["did:web:formation.example"]')
    assert problems_of(text) == []


def test_a_partner_issuer_id_listed_twice_is_refused():
    text = changed('issuer_ids = ["{base_url}/demo/partners/atelier-bocage"]',
                   'issuer_ids = ["{base_url}/demo/partners/centre-formation"]')
    found = problems_of(text)
    assert [(path, code) for path, code, _ in found] == [("partners[2].issuer_ids[0]", "duplicate")]


def test_the_region_cannot_be_its_own_partner():
    text = changed('issuer_ids = ["{base_url}/demo/partners/atelier-bocage"]',
                   'issuer_ids = ["{base_url}/issuers/region"]')
    assert [(p, c) for p, c, _ in problems_of(text)] == [("partners[2].issuer_ids[0]", "region_as_partner")]


def test_multi_line_issuer_ids_point_at_the_element():
    text = changed('"{base_url}/demo/partners/association-insertion/v3",', '"not an id",')
    assert problems_of(text) == [("partners[1].issuer_ids[1]", "not_issuer_id", line_containing(text, "not an id"))]


def test_missing_english_name_is_refused():
    text = changed('name = { fr = "Communiquer — Je maîtrise", en = "Communicating — I master" }',
                   'name = { fr = "Communiquer — Je maîtrise" }')
    assert problems_of(text) == [("badges[5].name.en", "missing_lang", line_containing(text, 'fr = "Communiquer — Je maîtrise" }'))]


def test_missing_name_is_refused():
    text = changed('name = { fr = "Organiser", en = "Organising" }\n', "")
    found = problems_of(text)
    assert [(path, code) for path, code, _ in found] == [("skills[0].name", "required")]
    assert found[0][2] == line_containing(text, "[[skills]]")


def test_unknown_key_is_refused():
    text = changed("editable = true\nname = { fr = \"Organiser — Je pratique\"",
                   "editabel = true\nname = { fr = \"Organiser — Je pratique\"")
    assert problems_of(text) == [("badges[0].editabel", "unknown_key", line_containing(text, "editabel"))]


def test_unknown_level_and_skill_in_catalogue():
    text = changed('skill = "s-integrer", level = 1, name = "Travail en équipe"',
                   'skill = "cuisine", level = 3, name = "Travail en équipe"')
    line = line_containing(text, '"cuisine"')
    assert sorted(problems_of(text)) == [("partners[0].catalogue[0].level", "unknown_level", line),
                                         ("partners[0].catalogue[0].skill", "unknown_skill", line)]


def test_unknown_rule_type_and_bad_key():
    text = changed('type = "n_of", n = 3', 'type = "some_of", n = 3').replace('key = "general"', 'key = "Général"')
    found = sorted((path, code) for path, code, _ in problems_of(text))
    assert found == [("badges[8].key", "bad_key"), ("badges[8].rule.type", "unknown_rule")]


def test_toml_syntax_error_gives_the_line():
    text = changed('version = "2026.1"', 'version = "2026.1')
    found = check_referential(text)
    assert [(p.code, p.line) for p in found] == [("syntax", line_containing(text, 'version = "2026.1'))]
    with pytest.raises(ReferentialError):
        load_referential(text)


def test_unreadable_file(tmp_path):
    found = check_referential(tmp_path / "missing.toml")
    assert [p.code for p in found] == ["unreadable"]


def test_several_problems_are_all_reported():
    text = changed('skill = "organiser", min_level = 1', 'skill = "x", min_level = 1').replace(
        'type = "n_of", n = 3', 'type = "n_of", n = 9')
    assert [code for _, code, _ in problems_of(text)] == ["unknown_skill", "n_too_large"]


# --- the line finder --------------------------------------------------------------------------------

def test_split_path():
    assert split_path("badges[3].rule.of[2]") == ["badges", 3, "rule", "of", 2]


def test_line_of_sub_tables_and_top_level_keys():
    text = "a = 1\n[x]\nb = 2\n[[items]]\nk = 1\n[[items]]\nk = 2\n[items.rule]\nskill = 'z'\n"
    assert line_of(text, "a") == 1
    assert line_of(text, "x.b") == 3
    assert line_of(text, "items[1].k") == 7
    assert line_of(text, "items[1].rule.skill") == 9
    assert line_of(text, "items[0].nothing") == 4
    assert line_of(text, "") == 1


# --- data, not code ------------------------------------------------------------------------------------

TECHNICAL = """
[[skills]]
key = "soudure"
name = { fr = "Souder", en = "Welding" }
description = { fr = "Réaliser des soudures à l'arc.", en = "Arc welding." }
targets = [{ level = 1, code = "NOR-SOU-1" }]

[[partners]]
key = "lycee-pro"
name = "Lycée professionnel de la Côte"
issuer_ids = ["did:web:lycee.example"]
catalogue = [
  { id = "https://lycee.example/badges/soudure-arc", skill = "soudure", level = 1 },
  { id = "https://lycee.example/badges/soudure-tig", skill = "soudure", level = 1 },
]

[[badges]]
key = "soudure-1"
id = "{base_url}/issuers/region/badges/soudure-1"
skill = "soudure"
level = 1
name = { fr = "Souder — Je pratique", en = "Welding — I practise" }
description = { fr = "Atteste la pratique de la soudure.", en = "Attests welding practice." }
criteria = { fr = "Deux badges de soudure d'un partenaire.", en = "Two welding badges from a partner." }
rule = { type = "count", badges = 2 }
"""


def test_a_new_regional_badge_is_a_change_to_the_data_file_only(tmp_path):
    copy = tmp_path / "normandie-plus.toml"
    copy.write_text(SOURCE + TECHNICAL, encoding="utf-8")
    assert check_referential(copy) == []
    ref = load_referential(copy, base_url=BASE)
    assert ref.badge("soudure-1").rule == CountRule("soudure", 1, 2, 1)   # skill and level from the badge
    credentials = [verdict(skill=None, issuer="did:web:lycee.example", badge_id="https://lycee.example/badges/soudure-arc"),
                   verdict(skill=None, issuer="did:web:lycee.example", badge_id="https://lycee.example/badges/soudure-tig")]
    results = by_key(evaluate(ref, credentials, NOW))
    assert results["soudure-1"].state == "eligible"
    assert results["soudure-1"].to_dict()["name"] == "Souder — Je pratique"
    assert [p.key for p in results["soudure-1"].offered_by] == ["lycee-pro"]
    assert results["communiquer-1"].state == "not_started"
