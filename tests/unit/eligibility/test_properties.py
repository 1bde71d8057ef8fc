"""Properties of the engine: monotone in the credentials, independent of their order."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from wallet.eligibility import STATES, evaluate

from .helpers import ASSO, ASSO_V3, ATELIER, CENTRE, NOW, STRANGER, referential, regional, verdict

REF = referential()
RANK = {state: rank for rank, state in enumerate(reversed(STATES))}   # not_started 0 … obtained 3
SKILLS = ["organiser", "s-adapter", "communiquer", "s-integrer"]
PARTNERS = [CENTRE, ASSO, ASSO_V3, ATELIER]
REGIONAL = ["organiser-2", "s-adapter-2", "communiquer-2", "s-integrer-2", "communiquer-1", "general"]

partner_spec = st.fixed_dictionaries({
    "skill": st.sampled_from(SKILLS + [None]),
    "level": st.sampled_from([1, 2]),
    "issuer": st.sampled_from(PARTNERS + [STRANGER]),
    "badge": st.integers(0, 6),                 # a small pool, so that copies happen
    "status": st.sampled_from(["valid", "valid", "valid", "revoked", "expired", "invalid", "unverifiable"]),
    "matched": st.sampled_from([True, True, False, None]),
    "expires": st.sampled_from([None, None, "2026-01-01T00:00:00Z", "2027-01-01T00:00:00Z"]),
})
regional_spec = st.fixed_dictionaries({
    "key": st.sampled_from(REGIONAL),
    "status": st.sampled_from(["valid", "valid", "revoked"]),
    "matched": st.sampled_from([True, True, False]),
})
spec = st.one_of(partner_spec, partner_spec, partner_spec, regional_spec)
qualifying_spec = st.fixed_dictionaries({
    "skill": st.sampled_from(SKILLS), "level": st.sampled_from([1, 2]), "issuer": st.sampled_from(PARTNERS),
    "badge": st.integers(0, 6), "status": st.just("valid"), "matched": st.just(True),
    "expires": st.sampled_from([None, "2027-01-01T00:00:00Z"]),
})
qualifying_regional_spec = st.fixed_dictionaries({
    "key": st.sampled_from(REGIONAL), "status": st.just("valid"), "matched": st.just(True)})


def build(item: dict, number: int) -> dict:
    cid = f"urn:uuid:{number:08d}"
    if "key" in item:
        return regional(item["key"], status=item["status"], matched=item["matched"], cid=cid)
    issuer = item["issuer"]
    return verdict(skill=item["skill"], level=item["level"], issuer=issuer,
                   badge_id=f"{issuer}/badges/{item['badge']}", status=item["status"],
                   matched=item["matched"], expires=item["expires"], cid=cid)


@st.composite
def credentials(draw, min_size: int = 0):
    specs = draw(st.lists(spec, min_size=min_size, max_size=14))
    numbers = draw(st.lists(st.integers(0, 10**6), min_size=len(specs), max_size=len(specs), unique=True))
    return [build(item, number) for item, number in zip(specs, numbers)]


def scores(creds: list[dict]) -> dict[str, tuple[int, int, int]]:
    return {r.key: (RANK[r.state], r.progress.have, r.progress.partners_have)
            for r in evaluate(REF, creds, NOW)}


def not_lower(after: dict, before: dict) -> bool:
    return all(a >= b for key in before for a, b in zip(after[key], before[key]))


@settings(max_examples=150, deadline=None)
@given(credentials(), st.one_of(qualifying_spec, qualifying_regional_spec), st.integers(10**6 + 1, 2 * 10**6))
def test_adding_a_qualifying_badge_never_lowers_progress_or_state(creds, extra, number):
    before = scores(creds)
    after = scores(creds + [build(extra, number)])
    assert not_lower(after, before)


@settings(max_examples=150, deadline=None)
@given(credentials(min_size=1), st.data())
def test_removing_a_badge_never_raises_progress_or_state(creds, data):
    index = data.draw(st.integers(0, len(creds) - 1))
    before = scores(creds)
    after = scores(creds[:index] + creds[index + 1:])
    assert not_lower(before, after)


@settings(max_examples=150, deadline=None)
@given(credentials(), st.randoms(use_true_random=False))
def test_the_result_does_not_depend_on_the_order_of_credentials(creds, rnd):
    shuffled = list(creds)
    rnd.shuffle(shuffled)
    first = [r.to_dict("fr", extended=True) for r in evaluate(REF, creds, NOW)]
    second = [r.to_dict("fr", extended=True) for r in evaluate(REF, shuffled, NOW)]
    assert first == second


@settings(max_examples=100, deadline=None)
@given(credentials())
def test_every_credential_is_counted_or_has_a_reason_for_each_count_rule(creds):
    for result in evaluate(REF, creds, NOW):
        if result.badge.rule.kind != "count":
            continue
        listed = list(result.counted) + [nc.id for nc in result.not_counted]
        assert sorted(listed) == sorted(c["id"] for c in creds)
        assert result.progress.have == len(result.counted)
