"""The worker's shared HTTP cache and per-host pacing (wallet/http/cache.py), against real loopback
servers that count what crosses the wire. Time is a fake clock: freshness and pacing are checked
without sleeping."""

from __future__ import annotations

import json

import pytest
from werkzeug.wrappers import Response as WerkzeugResponse

from tests.fakes.server import FakeServer
from wallet.http import SafeHttp
from wallet.http.cache import HostPacer, HttpCache, freshness_lifetime, is_shared_document
from wallet.openbadges.errors import FetchError

LD = "application/ld+json"
OB2 = "https://w3id.org/openbadges/v2"


class Clock:
    """A fake monotonic clock whose sleep advances it (and records how long was slept)."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(round(seconds, 6))
        self.now += seconds


@pytest.fixture
def clock():
    return Clock()


def cache_for(*servers: FakeServer, clock: Clock, **kwargs) -> HttpCache:
    http = SafeHttp(allow=[s.authority for s in servers])
    kwargs.setdefault("min_ttl", 0)
    return HttpCache(http, clock=clock, sleep=clock.sleep, **kwargs)


def doc(kind: str, server: FakeServer, path: str, **extra) -> bytes:
    return json.dumps({"@context": OB2, "type": kind, "id": server.url(path), **extra}).encode()


def conditional(server: FakeServer, path: str, body: bytes, etag: str = '"v1"',
                last_modified: str | None = None, headers: dict[str, str] | None = None) -> None:
    """A route that answers 304 to a matching If-None-Match / If-Modified-Since, else 200."""

    def answer(request):
        base = {"ETag": etag, **(headers or {})}
        if last_modified:
            base["Last-Modified"] = last_modified
        if request.headers.get("If-None-Match") == etag or (
                last_modified and request.headers.get("If-Modified-Since") == last_modified):
            return WerkzeugResponse(b"", status=304, headers=base)
        return WerkzeugResponse(body, status=200, content_type=LD, headers=base)

    server.handler(path, answer)


def fetched_three_times(server: FakeServer, clock: Clock, kind: str, path: str,
                        headers: dict[str, str] | None = None) -> HttpCache:
    """A cache with the minimum TTL of an hour that fetched `path` three times, a `kind` document
    served with an ETag (and `headers`)."""
    conditional(server, path, doc(kind, server, path), headers=headers)
    cache = cache_for(server, clock=clock, min_ttl=3600)
    for _ in range(3):
        cache.fetch(server.url(path), LD)
    return cache


# --- validators -----------------------------------------------------------------------------------

def test_a_304_to_a_conditional_request_serves_the_stored_body(fake_server, clock):
    body = doc("Assertion", fake_server, "/a/1")
    conditional(fake_server, "/a/1", body)
    cache = cache_for(fake_server, clock=clock)
    first = cache.fetch(fake_server.url("/a/1"), LD)
    second = cache.fetch(fake_server.url("/a/1"), LD)
    assert first.body == second.body == body and second.status == 200
    assert fake_server.hits["/a/1"] == 2
    assert "If-None-Match" not in fake_server.requests[0].headers
    assert fake_server.requests[1].headers["If-None-Match"] == '"v1"'
    assert cache.stats["revalidated"] == 1


def test_last_modified_is_sent_back_as_if_modified_since(fake_server, clock):
    stamp = "Tue, 01 Dec 2026 10:00:00 GMT"
    body = doc("Assertion", fake_server, "/a/1")
    conditional(fake_server, "/a/1", body, etag="", last_modified=stamp)
    cache = cache_for(fake_server, clock=clock)
    cache.fetch(fake_server.url("/a/1"), LD)
    assert cache.fetch(fake_server.url("/a/1"), LD).body == body
    assert fake_server.requests[1].headers["If-Modified-Since"] == stamp
    assert cache.stats["revalidated"] == 1


def test_a_changed_document_replaces_the_stored_one(fake_server, clock):
    conditional(fake_server, "/a/1", doc("Assertion", fake_server, "/a/1", v=1))
    cache = cache_for(fake_server, clock=clock)
    cache.fetch(fake_server.url("/a/1"), LD)
    conditional(fake_server, "/a/1", doc("Assertion", fake_server, "/a/1", v=2), etag='"v2"')
    assert json.loads(cache.fetch(fake_server.url("/a/1"), LD).body)["v"] == 2
    assert json.loads(cache.fetch(fake_server.url("/a/1"), LD).body)["v"] == 2
    assert fake_server.requests[2].headers["If-None-Match"] == '"v2"'


def test_a_revoked_assertion_is_seen_at_once(fake_server, clock):
    conditional(fake_server, "/a/1", doc("Assertion", fake_server, "/a/1"))
    cache = cache_for(fake_server, clock=clock, min_ttl=3600)
    cache.fetch(fake_server.url("/a/1"), LD)
    fake_server.route("/a/1", b"", status=410)
    assert cache.fetch(fake_server.url("/a/1"), LD).status == 410
    assert cache.fetch(fake_server.url("/a/1"), LD).status == 410  # the stored copy is gone
    assert fake_server.hits["/a/1"] == 3


# --- Cache-Control --------------------------------------------------------------------------------

def test_max_age_is_honoured_then_revalidated(fake_server, clock):
    conditional(fake_server, "/a/1", doc("Assertion", fake_server, "/a/1"), headers={"Cache-Control": "max-age=60"})
    cache = cache_for(fake_server, clock=clock)
    cache.fetch(fake_server.url("/a/1"), LD)
    clock.now += 59
    cache.fetch(fake_server.url("/a/1"), LD)
    assert fake_server.hits["/a/1"] == 1
    clock.now += 2
    cache.fetch(fake_server.url("/a/1"), LD)
    assert fake_server.hits["/a/1"] == 2
    assert fake_server.requests[1].headers["If-None-Match"] == '"v1"'
    clock.now += 59  # the 304 renewed the freshness
    cache.fetch(fake_server.url("/a/1"), LD)
    assert fake_server.hits["/a/1"] == 2


@pytest.mark.parametrize("directive", ["no-store", "private", "max-age=600, no-store"])
def test_no_store_and_private_answers_are_never_stored(fake_server, clock, directive):
    cache = fetched_three_times(fake_server, clock, "Issuer", "/issuer", {"Cache-Control": directive})
    assert fake_server.hits["/issuer"] == 3
    assert not any("If-None-Match" in seen.headers for seen in fake_server.requests)
    assert len(cache) == 0


def test_a_no_store_answer_drops_what_was_stored(fake_server, clock):
    conditional(fake_server, "/a/1", doc("Assertion", fake_server, "/a/1"))
    cache = cache_for(fake_server, clock=clock)
    cache.fetch(fake_server.url("/a/1"), LD)
    assert len(cache) == 1
    fake_server.json("/a/1", json.loads(doc("Assertion", fake_server, "/a/1")), headers={"Cache-Control": "no-store"})
    cache.fetch(fake_server.url("/a/1"), LD)
    assert len(cache) == 0


def test_age_and_expires(clock):
    assert freshness_lifetime({"Cache-Control": "max-age=100", "Age": "30"}) == 70
    assert freshness_lifetime({"Cache-Control": "s-maxage=5, max-age=100"}) == 5
    assert freshness_lifetime({"Cache-Control": "max-age=oops"}) == 0
    assert freshness_lifetime({"Date": "Tue, 01 Dec 2026 10:00:00 GMT",
                               "Expires": "Tue, 01 Dec 2026 10:10:00 GMT"}) == 600
    assert freshness_lifetime({"Expires": "0"}) == 0
    assert freshness_lifetime({}) == 0


# --- documents shared by every badge of an issuer -------------------------------------------------

def test_the_minimum_ttl_keeps_issuer_and_badge_class_documents(fake_server, clock):
    for kind, path in (("Issuer", "/issuer"), ("BadgeClass", "/badges/1"), ("CryptographicKey", "/keys/1")):
        fake_server.route(path, doc(kind, fake_server, path), content_type=LD)  # no cache headers at all
    cache = cache_for(fake_server, clock=clock, min_ttl=3600)
    for _ in range(3):
        for path in ("/issuer", "/badges/1", "/keys/1"):
            cache.fetch(fake_server.url(path), LD)
    assert [fake_server.hits[p] for p in ("/issuer", "/badges/1", "/keys/1")] == [1, 1, 1]
    clock.now += 3601
    cache.fetch(fake_server.url("/issuer"), LD)
    assert fake_server.hits["/issuer"] == 2


@pytest.mark.parametrize("kind", ["Assertion", "RevocationList", ["VerifiableCredential", "BitstringStatusListCredential"]])
def test_the_minimum_ttl_never_applies_to_assertions_or_revocation_lists(fake_server, clock, kind):
    fetched_three_times(fake_server, clock, kind, "/doc")
    assert fake_server.hits["/doc"] == 3  # revalidated every time


@pytest.mark.parametrize("directive", ["no-cache", "max-age=0, must-revalidate"])
def test_the_minimum_ttl_yields_to_no_cache_and_must_revalidate(fake_server, clock, directive):
    cache = fetched_three_times(fake_server, clock, "Issuer", "/issuer", {"Cache-Control": directive})
    assert fake_server.hits["/issuer"] == 3
    assert cache.stats["revalidated"] == 2


def test_what_counts_as_a_shared_document():
    assert is_shared_document(b'{"type": "Profile", "id": "https://i.example/p"}')
    assert is_shared_document(b'{"type": ["Achievement"], "id": "urn:uuid:1"}')
    assert is_shared_document(b'{"type": "https://w3id.org/openbadges#BadgeClass"}')
    assert is_shared_document(b'{"keys": [{"kty": "OKP"}]}')
    assert is_shared_document(b'{"id": "did:web:i.example", "verificationMethod": []}')
    assert not is_shared_document(b'{"type": ["VerifiableCredential", "OpenBadgeCredential"]}')
    assert not is_shared_document(b'{"type": ["Profile", "VerifiableCredential"]}')
    assert not is_shared_document(b'{"type": "Assertion"}')
    assert not is_shared_document(b'[1, 2]')
    assert not is_shared_document(b'<html>')


# --- bounded --------------------------------------------------------------------------------------

def test_the_cache_is_bounded_in_bytes_least_recently_used_first_out(fake_server, clock):
    for n in range(5):
        fake_server.route(f"/badges/{n}", doc("BadgeClass", fake_server, f"/badges/{n}", pad="x" * 1000),
                          content_type=LD)
    cache = cache_for(fake_server, clock=clock, min_ttl=3600, max_bytes=5000)  # room for three
    for n in range(5):
        cache.fetch(fake_server.url(f"/badges/{n}"), LD)
        assert cache.size <= 5000
    assert len(cache) == 3
    cache.fetch(fake_server.url("/badges/4"), LD)  # kept
    cache.fetch(fake_server.url("/badges/0"), LD)  # evicted first: fetched again
    assert fake_server.hits["/badges/4"] == 1 and fake_server.hits["/badges/0"] == 2


def test_an_answer_larger_than_the_cache_is_not_stored(fake_server, clock):
    fake_server.route("/big", doc("BadgeClass", fake_server, "/big", pad="x" * 5000), content_type=LD)
    cache = cache_for(fake_server, clock=clock, min_ttl=3600, max_bytes=4000)
    assert cache.fetch(fake_server.url("/big"), LD).status == 200
    cache.fetch(fake_server.url("/big"), LD)
    assert fake_server.hits["/big"] == 2 and len(cache) == 0


# --- behind SafeHttp ------------------------------------------------------------------------------

def test_every_request_goes_through_safehttp(fake_server, clock):
    with FakeServer() as other:  # not allowlisted
        other.route("/secret", doc("Issuer", other, "/secret"), content_type=LD)
        fake_server.redirect("/moved", other.url("/secret"))
        cache = cache_for(fake_server, clock=clock, min_ttl=3600)
        with pytest.raises(FetchError) as blocked:
            cache.fetch(fake_server.url("/moved"), LD)
        assert blocked.value.reason in ("blocked", "scheme")
        with pytest.raises(FetchError):
            cache.fetch("http://10.0.0.1/issuer", LD)
        assert other.hits["/secret"] == 0


def test_urls_under_the_base_url_are_answered_in_process(clock):
    from wallet.http import Response

    seen = []

    def local(method, url, headers, body):
        seen.append(url)
        return Response(url, 200, {"Content-Type": LD}, b'{"type": "Issuer"}')

    http = SafeHttp(local_prefix="https://wallet.example", local_handler=local)
    cache = HttpCache(http, clock=clock, sleep=clock.sleep, min_ttl=3600, min_interval=10)
    cache.fetch("https://wallet.example/issuers/region", LD)
    cache.fetch("https://wallet.example/issuers/region", LD)
    assert len(seen) == 2 and clock.slept == [] and len(cache) == 0


# --- politeness -----------------------------------------------------------------------------------

def test_requests_to_one_host_are_spaced(hosts, clock):
    one, two = hosts
    for server in hosts:
        server.route("/a", doc("Assertion", server, "/a"), content_type=LD)
    cache = cache_for(one, two, clock=clock, min_interval=0.5)
    cache.fetch(one.url("/a"), LD)
    cache.fetch(two.url("/a"), LD)   # another host: no wait
    cache.fetch(one.url("/a"), LD)   # the same host at once: waits its turn
    assert clock.slept == [0.5]
    clock.now += 2
    cache.fetch(one.url("/a"), LD)   # long after: no wait
    assert clock.slept == [0.5]


def test_pacer_books_turns_in_order(clock):
    pacer = HostPacer(0.25, clock, lambda seconds: None)  # callers that do not advance the clock
    waits = [pacer.wait("https://partner.example/a") for _ in range(4)]
    assert waits == [0, 0.25, 0.5, 0.75]
    assert pacer.wait("https://other.example/a") == 0
