"""Unbaking large SVG documents: the early stop after the badge element (baking_svg docstring).

Every document here is over FAST_PATH_MIN_BYTES, so the decision points run; each test checks
that a later badge element (however it is bound) is still seen, and the documented trade-offs.
"""

from __future__ import annotations

import random

import defusedxml.ElementTree as SafeET
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wallet.openbadges.baking import Baked, unbake, unbake_details
from wallet.openbadges.baking_svg import FAST_PATH_MIN_BYTES
from wallet.openbadges.errors import BadgeInputError

SVG_NS = "http://www.w3.org/2000/svg"
OB2_NS = "http://openbadges.org"
OB3_NS = "https://purl.imsglobal.org/ob/v3p0"
URL = "https://issuer.example/assertions/1"
URL2 = "https://issuer.example/assertions/2"
JSON = '{"id": "https://issuer.example/assertions/1", "name": "Été <&>"}'
JWS = "eyJhbGciOiJSUzI1NiJ9.eyJ2YyI6e319.c2lnbmF0dXJl"
BADGE = f'<openbadges:assertion verify="{URL}"><![CDATA[{JSON}]]></openbadges:assertion>'


def rects(count: int, seed: int = 7) -> str:
    rng = random.Random(seed)
    return "\n".join(f'<rect x="{rng.randrange(1000)}" y="{rng.randrange(1000)}" width="{rng.randrange(1, 99)}" '
                     f'height="9" fill="#{rng.randrange(1 << 24):06x}"/>' for _ in range(count))


def big_svg(*parts: str, ns: str = f'xmlns:openbadges="{OB2_NS}"', head: str = "",
            encoding: str = "utf-8") -> bytes:
    """`parts` joined inside an <svg> root; `head` goes before the root (prolog)."""
    text = f'{head}<svg xmlns="{SVG_NS}" {ns} width="100" height="100">' + "\n".join(parts) + "</svg>\n"
    data = text.encode(encoding)
    assert len(data) > FAST_PATH_MIN_BYTES
    return data


def code_of(data: bytes) -> str:
    with pytest.raises(BadgeInputError) as caught:
        unbake_details(data)
    return caught.value.code


# --- the common case, and the trade-off ---------------------------------------------------------

def test_badge_first_in_a_big_document():
    assert unbake_details(big_svg(BADGE, rects(10_000))) == Baked("svg", "openbadges", JSON, URL)


def test_self_closing_badge_first_in_a_big_document():
    document = big_svg(f'<openbadges:assertion verify="{URL}"/>', rects(10_000))
    assert unbake_details(document) == Baked("svg", "openbadges", URL, URL)


def test_no_badge_in_a_big_document_is_none():
    assert unbake(big_svg(rects(10_000), ns="")) is None
    # The conventional prefix declared on the root but never used: still nothing.
    assert unbake(big_svg(rects(10_000))) is None


def test_malformed_after_the_badge_is_accepted_in_a_big_document():
    # Documented trade-off: the part after the decision point is searched, not parsed.
    broken = rects(5_000) + "<g><rect/></h>" + rects(5_000, seed=8)
    assert unbake(big_svg(BADGE, broken)) == JSON
    assert unbake(big_svg(broken, ns="")) is None


def test_malformed_small_document_is_still_corrupt():
    small = (f'<svg xmlns="{SVG_NS}" xmlns:openbadges="{OB2_NS}">{BADGE}<g></h></svg>').encode()
    assert len(small) < FAST_PATH_MIN_BYTES
    assert code_of(small) == "corrupt_image"


@pytest.mark.parametrize("with_badge", [True, False])
def test_truncated_big_document_is_corrupt(with_badge):
    document = big_svg(BADGE if with_badge else "", rects(10_000))
    for cut in (len(document) // 2, len(document) - 3, len(document) - 8):
        assert code_of(document[:cut]) == "corrupt_image"


def test_trailing_comment_after_the_root_is_fine():
    document = big_svg(BADGE, rects(10_000)) + b"<!-- http://openbadges.org -->\n"
    assert unbake(document) == JSON


# --- a second badge element far down ------------------------------------------------------------

def test_second_badge_after_10000_elements_is_ambiguous():
    later = f'<g><openbadges:assertion verify="{URL2}"/></g>'
    assert code_of(big_svg(BADGE, rects(10_000), later)) == "ambiguous_badge"


def test_second_badge_with_its_own_prefix_is_ambiguous():
    later = f'<x:assertion xmlns:x="{OB2_NS}" verify="{URL2}"/>'
    assert code_of(big_svg(BADGE, rects(10_000), later)) == "ambiguous_badge"


def test_second_badge_bound_by_a_late_default_namespace_is_ambiguous():
    later = f'<g><assertion xmlns="{OB2_NS}" verify="{URL2}"/></g>'
    assert code_of(big_svg(BADGE, rects(10_000), later)) == "ambiguous_badge"


def test_badge_bound_by_a_late_default_namespace_is_found():
    later = f'<assertion xmlns="{OB2_NS}" verify="{URL2}"/>'
    assert unbake(big_svg(rects(10_000), later, ns="")) == URL2


def test_default_namespace_in_scope_at_the_decision_point():
    # The first badge uses the default namespace of its parent <g>; another one follows in it.
    inner = (f'<g xmlns="{OB2_NS}"><assertion verify="{URL}"/>' + rects(10_000).replace("<rect", "<r")
             + f'<assertion verify="{URL2}"/></g>')
    assert code_of(big_svg(inner, ns="")) == "ambiguous_badge"


def test_namespace_spelled_with_character_references_is_seen():
    uri = OB2_NS.replace(":", "&#58;").replace("o", "&#x6f;")
    later = f'<x:assertion xmlns:x="{uri}" verify="{URL2}"/>'
    assert code_of(big_svg(BADGE, rects(10_000), later)) == "ambiguous_badge"
    assert unbake(big_svg(rects(10_000), later, ns="")) == URL2


def test_a_late_ob3_credential_wins_over_a_first_ob2_assertion():
    later = f'<c:credential xmlns:c="{OB3_NS}" verify="{JWS}"/>'
    assert unbake_details(big_svg(BADGE, rects(10_000), later)) == Baked("svg", "openbadgecredential", JWS, JWS)


def test_prefix_shadowed_at_the_decision_point_is_still_searched():
    # `a` is bound to OB 3.0 on the root, rebound inside <g> where the first badge ends; after
    # </g> `a:credential` is a badge again.
    first = f'<g xmlns:a="urn:other"><c:credential xmlns:c="{OB3_NS}" verify="{JWS}"/></g>'
    later = f'<a:credential verify="{JWS}"/>'
    document = big_svg(first, rects(10_000), later, ns=f'xmlns:a="{OB3_NS}"')
    assert code_of(document) == "ambiguous_badge"


def test_rebound_prefix_later_is_not_a_badge():
    later = f'<g xmlns:openbadges="urn:other"><openbadges:assertion verify="{URL2}"/></g>'
    assert unbake(big_svg(BADGE, rects(10_000), later)) == JSON


def test_unbound_conventional_prefix_later_is_corrupt():
    later = f'<openbadges:assertion verify="{URL2}"/>'
    assert code_of(big_svg(rects(10_000), later, ns="")) == "corrupt_image"


# --- the namespace URI elsewhere ------------------------------------------------------------------

@pytest.mark.parametrize("noise", [
    f"<!-- {OB2_NS} <openbadges:assertion verify='{URL2}'/> {OB3_NS} -->",
    f"<text><![CDATA[{OB2_NS} <openbadges:assertion>]]></text>",
    f'<desc xmlns:dc="http://purl.org/dc/elements/1.1/">{OB2_NS}</desc>',
])
def test_namespace_uri_only_in_a_comment_or_text_gives_the_right_answer(noise):
    assert unbake(big_svg(BADGE, rects(5_000), noise, rects(5_000, seed=9))) == JSON
    assert unbake(big_svg(rects(5_000), noise, rects(5_000, seed=9), ns="")) is None


# --- where the badge is ---------------------------------------------------------------------------

def test_badge_not_first_child():
    nested = f'<g id="meta"><g>{BADGE}</g></g>'
    assert unbake(big_svg(rects(5_000), nested, rects(5_000, seed=9))) == JSON


def test_badge_last_in_a_big_document():
    assert unbake(big_svg(rects(10_000), BADGE)) == JSON


def test_nested_badges_of_two_kinds_are_both_seen():
    outer = (f'<openbadges:assertion verify="{URL}"><c:credential xmlns:c="{OB3_NS}" verify="{JWS}"/>'
             "</openbadges:assertion>")
    assert unbake(big_svg(outer, rects(10_000))) == JWS


# --- encodings and safety -------------------------------------------------------------------------

def test_utf16_big_document_is_parsed_to_the_end():
    later = f'<openbadges:assertion verify="{URL2}"/>'
    document = big_svg(BADGE, rects(10_000), later, head='<?xml version="1.0" encoding="UTF-16"?>',
                       encoding="utf-16")
    assert code_of(document) == "ambiguous_badge"


def test_latin1_prefix_is_searched_in_the_document_encoding():
    ns = f'xmlns:é="{OB2_NS}"'
    head = '<?xml version="1.0" encoding="ISO-8859-1"?>\n'
    first = f'<é:assertion verify="{URL}"/>'
    assert unbake(big_svg(first, rects(10_000), ns=ns, head=head, encoding="latin-1")) == URL
    document = big_svg(first, rects(10_000), f'<é:assertion verify="{URL2}"/>', ns=ns, head=head,
                       encoding="latin-1")
    assert code_of(document) == "ambiguous_badge"


def test_utf8_bom_big_document():
    assert unbake(b"\xef\xbb\xbf" + big_svg(BADGE, rects(10_000))) == JSON


@pytest.mark.parametrize("head", [
    '<!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd">]>',
    '<!DOCTYPE svg [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>',
    "<!DOCTYPE svg>",
])
def test_unsafe_prolog_of_a_big_document_is_refused(head):
    assert code_of(big_svg(BADGE, rects(10_000), head=head)) == "unsafe_svg"


def test_entity_reference_after_the_badge_is_never_expanded():
    # No DTD is allowed, so `&x;` can only be an undefined entity: a small document is corrupt;
    # after the decision point of a large one it is not parsed at all (documented trade-off).
    small = f'<svg xmlns="{SVG_NS}" xmlns:openbadges="{OB2_NS}">{BADGE}<text>&x;</text></svg>'.encode()
    assert code_of(small) == "corrupt_image"
    assert unbake(big_svg(BADGE, rects(10_000), "<text>&x;</text>")) == JSON


# --- differential property: the early stop never changes the answer on well-formed documents ------

PADDING = rects(2_000, seed=3)


def badge_fragment(kind: str, binding: str, content: str, n: int) -> str:
    ns, local = (OB2_NS, "assertion") if kind == "ob2" else (OB3_NS, "credential")
    attrs = f' verify="https://issuer.example/{n}"' if content in ("verify", "both") else ""
    body = f"<![CDATA[{{\"n\": {n}}}]]>" if content in ("text", "both") else ""
    if binding == "root":
        name, decl = f"openbadges:{local}", ""
    elif binding == "own":
        name, decl = f"b{n}:{local}", f' xmlns:b{n}="{ns}"'
    elif binding == "default":
        name, decl = local, f' xmlns="{ns}"'
    else:  # a character reference in the declaration
        name, decl = f"r{n}:{local}", f' xmlns:r{n}="{ns.replace("/", "&#47;")}"'
    return f"<{name}{decl}{attrs}>{body}</{name}>"


FRAGMENT = st.one_of(
    st.builds(badge_fragment, st.sampled_from(["ob2", "ob3"]), st.sampled_from(["root", "own", "default", "ref"]),
              st.sampled_from(["verify", "text", "both", "empty"]), st.integers(0, 99)),
    st.sampled_from([f"<!-- {OB2_NS} {OB3_NS} <openbadges:assertion/> -->",
                     '<g xmlns:openbadges="urn:other"><openbadges:assertion/></g>',
                     f'<g xmlns:q="{OB3_NS}"><rect/></g>',
                     f"<text>{OB2_NS}</text>", "<g><rect/></g>"]),
)


def oracle(document: bytes) -> str:
    """What unbake must answer, from a full ElementTree parse (payload text or error code)."""
    root = SafeET.fromstring(document)
    found: dict[str, list] = {"openbadgecredential": [], "openbadges": []}
    for element in root.iter():
        if element.tag in (f"{{{OB2_NS}}}assertion", f"{{{OB3_NS}}}credential"):
            found["openbadges" if element.tag.startswith(f"{{{OB2_NS}}}") else "openbadgecredential"].append(element)
    if any(len(elements) > 1 for elements in found.values()):
        return "ambiguous_badge"
    elements = found["openbadgecredential"] or found["openbadges"]
    if not elements:
        return "none"
    text, verify = elements[0].text or "", elements[0].get("verify")
    return text if text.strip() else verify if verify and verify.strip() else "empty_badge"


def answer(document: bytes) -> str:
    """What unbake answers, in the oracle's terms: the payload text, "none", or the error code."""
    try:
        baked = unbake_details(document)
    except BadgeInputError as error:
        return error.code
    return baked.payload if baked else "none"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(FRAGMENT, max_size=4), st.lists(FRAGMENT, max_size=3), st.sampled_from([OB2_NS, OB3_NS, "urn:x"]))
def test_early_stop_agrees_with_a_full_parse(before, after, root_binding):
    # Well-formed documents only (the `openbadges` prefix is always bound on the root).
    document = big_svg(*before, PADDING, *after, ns=f'xmlns:openbadges="{root_binding}"')
    assert answer(document) == oracle(document)
