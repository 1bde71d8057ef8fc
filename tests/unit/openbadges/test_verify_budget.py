"""Fetch budget: ≤ 10 fetches per verification, each URL once, depth ≤ 3; exceeding → unverifiable."""

from __future__ import annotations

import json

import pytest

from tests.fakes.badges import NOW, BadgeFactory
from wallet.openbadges import Fetched, FetchError, MemoFetcher, verify
from wallet.openbadges.session import MAX_FETCHES, Session


def counting(answer=None):
    calls = []

    def fetch(url, accept):
        calls.append(url)
        if answer is None:
            raise FetchError(url, "network")
        return answer(url)

    return fetch, calls


def test_each_url_is_fetched_once_even_when_it_fails():
    fetch, calls = counting()
    session = Session(fetch, NOW)
    for _ in range(3):
        with pytest.raises(FetchError):
            session.get("https://a.example/x#frag", "application/json", 0)
    assert calls == ["https://a.example/x"]


def test_budget_is_ten_fetches():
    fetch, calls = counting(lambda url: Fetched(url, 200, "application/json", b"{}"))
    session = Session(fetch, NOW)
    for i in range(MAX_FETCHES):
        session.get(f"https://a.example/{i}", "application/json", 1)
    with pytest.raises(FetchError) as raised:
        session.get("https://a.example/one-more", "application/json", 1)
    assert raised.value.reason == "budget" and len(calls) == MAX_FETCHES


def test_depth_is_limited():
    fetch, calls = counting(lambda url: Fetched(url, 200, "application/json", b"{}"))
    with pytest.raises(FetchError) as raised:
        Session(fetch, NOW).get("https://a.example/deep", "application/json", 4)
    assert raised.value.reason == "depth" and calls == []


def test_budget_exhaustion_makes_the_badge_unverifiable(fake_server):
    """A key list of many URLs cannot make the verifier fetch more than ten documents."""
    factory = BadgeFactory(fake_server)
    signed = factory.ob2_signed(creator=False)
    keys = [factory.url(f"/keys/k{i}") for i in range(20)]
    factory.ob2_issuer(publicKey=keys, revocationList=factory.url("/revocations"))
    for i in range(20):
        fake_server.route(f"/keys/k{i}", status=503)
    verdict = verify(signed.token, fetch=factory.fetch, now=NOW)
    assert verdict.status.value == "unverifiable"
    assert sum(fake_server.hits.values()) <= MAX_FETCHES


def test_memo_fetcher_caches_successes_for_a_batch(fake_server):
    factory = BadgeFactory(fake_server)
    hosted = factory.ob2_hosted()
    memo = MemoFetcher(factory.fetch)
    for _ in range(3):
        assert verify(hosted.url, fetch=memo, now=NOW).status.value == "valid"
    assert fake_server.hits["/assertions/1"] == 1 and fake_server.hits["/issuer"] == 1


def test_memo_fetcher_does_not_cache_failures():
    fetch, calls = counting()
    memo = MemoFetcher(fetch)
    for _ in range(2):
        with pytest.raises(FetchError):
            memo("https://a.example/x", "application/json")
    assert len(calls) == 2


def test_embedded_issuer_is_fetched_once_from_its_own_id(fake_server):
    """Decision "Authority": an embedded node with an http(s) id is only a hint."""
    factory = BadgeFactory(fake_server)
    hosted = factory.ob2_hosted()
    issuer = dict(hosted.issuer)
    fake_server.json("/badges/1", dict(hosted.badge, issuer=issuer))
    verdict = verify(json.dumps(hosted.assertion), fetch=factory.fetch, now=NOW)
    assert verdict.status.value == "valid" and fake_server.hits["/issuer"] == 1


def test_embedded_issuer_without_an_http_id_needs_no_fetch(fake_server):
    factory = BadgeFactory(fake_server)
    hosted = factory.ob2_hosted()
    issuer = dict(hosted.issuer, id="urn:uuid:0b9e4c1a-5d6f-4a7b-8c9d-0e1f2a3b4c5d")
    fake_server.json("/badges/1", dict(hosted.badge, issuer=issuer))
    verdict = verify(hosted.url, fetch=factory.fetch, now=NOW)
    # Part of an authentic badge class, but with no web identity: said, never a partner's.
    assert fake_server.hits["/issuer"] == 0 and verdict.credential.issuer_id == issuer["id"]
    assert [c.params["reason"] for c in verdict.checks if c.id == "hosted_origin"] == ["issuer_not_http"]
