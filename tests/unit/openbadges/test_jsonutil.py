"""Defensive JSON parsing of untrusted badge data (SECURITY.md T11)."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wallet.openbadges.errors import BadgeInputError
from wallet.openbadges.jsonutil import MAX_JSON_BYTES, loads_stored, loads_strict, loads_unique


def code_of(text, **kwargs) -> str:
    with pytest.raises(BadgeInputError) as caught:
        loads_strict(text, **kwargs)
    return caught.value.code


def test_parses_a_badge_document():
    text = '{"@context": "https://w3id.org/openbadges/v2", "id": "urn:uuid:1", "n": [1, 2.5, null, true], "é": "ü"}'
    assert loads_strict(text) == {"@context": "https://w3id.org/openbadges/v2", "id": "urn:uuid:1",
                                  "n": [1, 2.5, None, True], "é": "ü"}
    assert loads_strict(text.encode("utf-8")) == loads_strict(text)


def test_utf8_bom_is_accepted():
    assert loads_strict(b'\xef\xbb\xbf{"a": 1}') == {"a": 1}
    assert loads_strict('\ufeff[1]') == [1]


@pytest.mark.parametrize("text", ["[" * 100_000, '{"a":' * 50_000, "[" * 100_000 + "]" * 100_000])
def test_very_deep_nesting_is_too_deep_without_recursion_error(text):
    assert code_of(text) == "too_deep"


def test_depth_64_is_accepted_and_65_refused():
    assert loads_strict("[" * 64 + "]" * 64) is not None
    assert code_of("[" * 65 + "]" * 65) == "too_deep"
    mixed = '{"a":' * 40 + "[" * 25 + "]" * 25 + "}" * 40
    assert code_of(mixed) == "too_deep"


def test_brackets_inside_strings_do_not_count():
    text = '["' + "[{" * 1000 + '\\"[[[", "]]]"]'
    assert loads_strict(text) == ["[{" * 1000 + '"[[[', "]]]"]


def test_many_shallow_arrays_are_fine():
    assert loads_strict("[" + ",".join(["[]"] * 5000) + "]") == [[]] * 5000


def test_duplicate_keys_are_refused_even_nested():
    assert code_of('{"id": "a", "id": "b"}') == "duplicate_keys"
    assert code_of('{"a": [{"x": 1, "y": 2, "x": 3}]}') == "duplicate_keys"
    with pytest.raises(BadgeInputError) as caught:
        loads_strict('{"id": "a", "id": "b"}')
    assert caught.value.params == {"key": "id"}


def test_size_is_capped_before_parsing():
    big = '{"pad": "' + "x" * (300 * 1024) + '"}'
    assert code_of(big) == "too_large"
    assert code_of(big.encode()) == "too_large"
    # The cap counts UTF-8 bytes, not characters.
    wide = '"' + "é" * (MAX_JSON_BYTES // 2) + '"'
    assert len(wide) < MAX_JSON_BYTES
    assert code_of(wide) == "too_large"
    assert code_of("[1, 2, 3]", max_bytes=5) == "too_large"
    assert loads_strict("[1, 2, 3]", max_bytes=9) == [1, 2, 3]


@pytest.mark.parametrize("text", ["NaN", "[Infinity]", '{"a": -Infinity}', '{"issuedOn": 1e999999}', "-1e400"])
def test_non_finite_numbers_are_not_json(text):
    assert code_of(text) == "not_json"


def test_integer_too_long_is_not_json():
    assert code_of("1" * 10_000) == "not_json"


@pytest.mark.parametrize("text", ["", "{", "{'a': 1}", '{"a": 1,}', "[1] [2]", "undefined", '"\\x"', '["a\u0001"]'])
def test_invalid_json_is_not_json(text):
    assert code_of(text) == "not_json"


def test_invalid_utf8_is_bad_encoding():
    assert code_of(b'{"a": "\xff"}') == "bad_encoding"


def test_non_text_is_not_json():
    assert code_of(12) == "not_json"


# --- loads_stored: the wallet's own stored JSON, read fast ---------------------------------------

_json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-2**63, 2**63 - 1) | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20)


@given(_json_values, st.booleans())
def test_stored_json_reads_back_as_the_standard_library_reads_it(value, ascii_only):
    text = json.dumps(value, ensure_ascii=ascii_only)
    assert loads_stored(text) == json.loads(text)


def test_an_escaped_lone_surrogate_orjson_refuses_still_reads():
    text = json.dumps({"name": "Badge \ud800"})  # json.dumps escapes it; orjson refuses the escape
    assert loads_stored(text) == {"name": "Badge \ud800"}


@pytest.mark.parametrize("text, message", [('{"a": 1, "b": {"a": 2, "a": 3}}', "duplicate JSON key 'a'"),
                                           ('{"a": NaN}', "NaN is not JSON"), ("[-Infinity]", "-Infinity is not JSON")])
def test_loads_unique_refuses_repeated_keys_and_constants_with_a_value_error(text, message):
    with pytest.raises(ValueError, match=message) as caught:
        loads_unique(text)
    assert not isinstance(caught.value, BadgeInputError)  # its callers map ValueError themselves


def test_loads_unique_parses_the_rest():
    assert loads_unique('{"a": [1, 2.5, null], "b": {"a": true}}') == {"a": [1, 2.5, None], "b": {"a": True}}
