"""Unbaking large SVG documents whose badge element is anywhere, even last: the jump (svg_jump.py).

At the root decision point a bytes search finds the only badge element; the safe parser then reads
the prolog, the root start tag and that element alone. Each test checks an answer against what a
full parse says, or that the search declines (None) and the whole document is parsed instead.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.unit.openbadges.test_baking_svg_large import (
    BADGE,
    JSON,
    JWS,
    OB2_NS,
    OB3_NS,
    SVG_NS,
    URL,
    URL2,
    answer,
    big_svg,
    code_of,
    oracle,
    rects,
)
from wallet.openbadges.baking import Baked, unbake, unbake_details
from wallet.openbadges.baking_svg import _JUMP_BADGES
from wallet.openbadges.svg_jump import NO_BADGE, Jump, plan_jump

ROOT_NS = {"": SVG_NS, "openbadges": OB2_NS}


def plan(document: bytes, root_ns: dict[str, str] = ROOT_NS):
    """plan_jump over the root's content of a big_svg document."""
    start = document.index(b">", document.index(b"<svg")) + 1
    end = document.rindex(b"</svg>")
    return plan_jump(document, start, end, root_ns, "utf-8", _JUMP_BADGES)


# --- the worst case of the bench: the badge after every other element -------------------------------

def test_badge_last_after_10000_elements_is_found_by_the_jump():
    document = big_svg(rects(10_000), BADGE)
    assert plan(document) == Jump(document.index(b"<openbadges:assertion"), "openbadges")
    assert unbake_details(document) == Baked("svg", "openbadges", JSON, URL)


def test_the_part_before_the_badge_is_searched_not_parsed():
    # Documented trade-off, as after the early stop: a malformed part of a large document that the
    # jump skips is not reported (a small document with the same part is corrupt).
    broken = rects(5_000) + "<g><rect/></h>" + rects(5_000, seed=8)
    assert unbake(big_svg(broken, BADGE)) == JSON
    small = f'<svg xmlns="{SVG_NS}" xmlns:openbadges="{OB2_NS}"><g></h>{BADGE}</svg>'.encode()
    assert code_of(small) == "corrupt_image"


@pytest.mark.parametrize("prefix", ["ob", "b", "openbadges2", "x-y.z"])
def test_another_prefix_bound_on_the_root(prefix):
    badge = BADGE.replace("openbadges:", f"{prefix}:")
    document = big_svg(rects(10_000), badge, ns=f'xmlns:{prefix}="{OB2_NS}"')
    assert plan(document, {"": SVG_NS, prefix: OB2_NS}) == Jump(document.index(f"<{prefix}:".encode()),
                                                                 "openbadges")
    assert unbake(document) == JSON


def test_ob3_credential_last_with_its_own_root_prefix():
    document = big_svg(rects(10_000), f'<c:credential verify="{JWS}"/>', ns=f'xmlns:c="{OB3_NS}"')
    assert unbake_details(document) == Baked("svg", "openbadgecredential", JWS, JWS)


def test_prefixed_verify_attribute_of_the_last_badge():
    badge = f'<openbadges:assertion openbadges:verify="{URL2}"></openbadges:assertion>'
    assert unbake(big_svg(rects(10_000), badge)) == URL2


# --- what looks like the element but is not ----------------------------------------------------------

@pytest.mark.parametrize("decoy", [
    f"<!-- {BADGE} -->",
    f"<!-- <openbadges:assertion verify='{URL2}'/> ?> <![CDATA[ -->",
    f"<text><![CDATA[<openbadges:assertion verify='{URL2}'/> <!-- ]]></text>",
    f"<?meta <openbadges:assertion verify='{URL2}'/> ?>",
    "<text>Bravo ! Et ensuite ? <tspan>!?</tspan></text>",
])
def test_element_text_in_a_comment_cdata_or_pi_is_not_the_element(decoy):
    before = big_svg(rects(5_000), decoy, rects(5_000, seed=9), BADGE)
    assert isinstance(plan(before), Jump)
    assert unbake(before) == JSON == oracle(before)
    alone = big_svg(rects(5_000), decoy, rects(5_000, seed=9))
    assert plan(alone) == NO_BADGE
    assert unbake(alone) is None


def test_the_badge_text_itself_may_hold_markup_in_cdata():
    payload = '{"name": "<openbadges:assertion/> <!-- ?> xmlns"}'
    badge = f"<openbadges:assertion><![CDATA[{payload}]]></openbadges:assertion>"
    document = big_svg(rects(10_000), badge)
    assert isinstance(plan(document), Jump)
    assert unbake(document) == payload


def test_other_elements_of_the_badge_namespace_are_not_badges():
    document = big_svg(rects(10_000), f'<openbadges:assertionx verify="{URL2}"/><openbadges:meta/>')
    assert plan(document) == NO_BADGE
    assert unbake(document) is None


# --- when the search declines, the whole document is parsed -------------------------------------

def test_a_namespace_declaration_inside_the_root_makes_it_parse_everything():
    later = f'<g xmlns:openbadges="urn:other"><openbadges:assertion verify="{URL2}"/></g>'
    document = big_svg(rects(10_000), later, BADGE)
    assert plan(document) is None
    assert unbake(document) == JSON


def test_a_badge_with_its_own_prefix_declaration_last():
    later = f'<x:assertion xmlns:x="{OB2_NS}" verify="{URL2}"/>'
    document = big_svg(rects(10_000), later, ns="")
    assert plan(document, {"": SVG_NS}) is None
    assert unbake(document) == URL2


def test_two_badges_far_apart_are_ambiguous():
    document = big_svg(BADGE, rects(10_000), f'<openbadges:assertion verify="{URL2}"/>')
    assert plan(document) is None
    assert code_of(document) == "ambiguous_badge"


def test_two_kinds_far_apart_ob3_wins():
    later = f'<c:credential verify="{JWS}"/>'
    document = big_svg(BADGE, rects(10_000), later, ns=f'xmlns:openbadges="{OB2_NS}" xmlns:c="{OB3_NS}"')
    assert unbake(document) == JWS


def test_unbound_conventional_prefix_last_is_corrupt():
    document = big_svg(rects(10_000), f'<openbadges:assertion verify="{URL2}"/>', ns="")
    assert plan(document, {"": SVG_NS}) is None
    assert code_of(document) == "corrupt_image"


@pytest.mark.parametrize("inside", ["<!-- never closed", "<![CDATA[ never closed", "<? never closed",
                                    "<!DOCTYPE svg>", '<!ENTITY x "y">'])
def test_unclosed_sections_or_declarations_inside_the_root_are_parsed_and_refused(inside):
    # (a badge without CDATA: its "]]>" would close the section)
    document = big_svg(rects(5_000), inside, rects(5_000, seed=9), f'<openbadges:assertion verify="{URL}"/>')
    assert plan(document) is None
    assert code_of(document) in ("corrupt_image", "unsafe_svg")


def test_an_entity_in_the_badge_element_is_refused_like_in_a_full_parse():
    badge = f"<openbadges:assertion>&x;{JSON}</openbadges:assertion>"
    document = big_svg(rects(10_000), badge)
    assert isinstance(plan(document), Jump)
    assert code_of(document) == "corrupt_image"


def test_an_unclosed_badge_element_is_corrupt():
    document = big_svg(rects(10_000), "<openbadges:assertion><![CDATA[{}]]>")
    assert code_of(document) == "corrupt_image"


def test_too_many_stray_question_marks_give_up_the_search():
    noisy = "\n".join(f'<a href="https://example.org/p?i={n}"/>' for n in range(12_000))
    document = big_svg(noisy, BADGE)
    assert plan(document) is None
    assert unbake(document) == JSON


@pytest.mark.parametrize("head", [
    '<!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd">]>',
    '<!DOCTYPE svg [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>',
    "<!DOCTYPE svg>",
])
def test_a_dtd_is_refused_before_any_jump(head):
    assert code_of(big_svg(rects(10_000), BADGE, head=head)) == "unsafe_svg"


def test_latin1_document_with_the_badge_last():
    head = '<?xml version="1.0" encoding="ISO-8859-1"?>\n'
    badge = f'<é:assertion verify="{URL}"><![CDATA[Été]]></é:assertion>'
    document = big_svg("<text>déjà</text>", rects(10_000), badge, ns=f'xmlns:é="{OB2_NS}"', head=head,
                       encoding="latin-1")
    assert unbake(document) == "Été"


# --- differential property: the jump never changes the answer on well-formed documents ----------

PADDING = rects(2_000, seed=5)
PREFIXES = ["openbadges", "ob", "b2", "cr"]


def root_bound_badge(prefix: str, local: str, content: str, n: int) -> str:
    attrs = f' verify="https://issuer.example/{n}"' if content in ("verify", "both") else ""
    body = (f'<![CDATA[{{"n": {n}, "x": "<{prefix}:{local}/> ]]]]><![CDATA[>"}}]]>'
            if content in ("text", "both") else "")
    return f"<{prefix}:{local}{attrs}>{body}</{prefix}:{local}>"


NOISE = st.sampled_from([
    f"<!-- <openbadges:assertion verify='{URL2}'/> {OB2_NS} -->",
    "<!-- <ob:credential/> <![CDATA[ ?> -->",
    "<text><![CDATA[<b2:assertion/> <!-- xmlns ]]></text>",
    "<?pi <cr:credential/> ?>",
    "<text>Bravo ! Et alors ?</text>",
    '<a href="https://example.org/?q=1&amp;r=!"/>',
    "<g><rect/><g><rect/></g></g>",
])
FRAGMENT = st.one_of(
    st.builds(root_bound_badge, st.sampled_from(PREFIXES), st.sampled_from(["assertion", "credential", "other"]),
              st.sampled_from(["verify", "text", "both", "empty"]), st.integers(0, 99)),
    NOISE,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(NOISE, max_size=3), st.lists(FRAGMENT, max_size=4),
       st.fixed_dictionaries({p: st.sampled_from([OB2_NS, OB3_NS, "urn:x"]) for p in PREFIXES}),
       st.booleans())
def test_the_jump_agrees_with_a_full_parse(before, after, bindings, nest_last):
    # Well-formed documents only: every prefix used is bound on the root; the badge (if any) lies
    # after the padding, possibly nested in a <g>.
    tail = "".join(after)
    if nest_last:
        tail = f"<g><g>{tail}</g></g>"
    ns = " ".join(f'xmlns:{prefix}="{uri}"' for prefix, uri in bindings.items())
    document = big_svg(*before, PADDING, tail, ns=ns)
    assert answer(document) == oracle(document)
