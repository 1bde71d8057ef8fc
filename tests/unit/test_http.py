"""SafeHttp, the only outbound HTTP client (DESIGN.md §4, SECURITY.md T12–T21).

Real servers on 127.0.0.1 (tests/fakes/server.py for well-behaved ones, tests/fakes/raw_servers.py
for hostile ones). Host names other than localhost go through an injected resolver; the conftest
guard refuses every other DNS lookup and every connection outside loopback.
"""

from __future__ import annotations

import _socket
import datetime
import gzip
import ipaddress
import socket
import ssl
import threading
import tracemalloc
import zlib

import pytest
from werkzeug.wrappers import Response as WerkzeugResponse

from tests.fakes.raw_servers import (
    RawServer,
    endless,
    fixed,
    gzip_bomb,
    gzip_bomb_bytes,
    slow_body,
    slow_headers,
)
from tests.fakes.server import FakeServer
from wallet.http import Response, SafeHttp, address_allowed, parse_allow
from wallet.openbadges.errors import FetchError
from wallet.openbadges.fetching import Fetched

LD = "application/ld+json"


# --- helpers --------------------------------------------------------------------------------


def client(*servers, **kwargs) -> SafeHttp:
    """A SafeHttp that may reach exactly these servers over http."""
    return SafeHttp(allow=[s.authority for s in servers], **kwargs)


def reason(call) -> str:
    with pytest.raises(FetchError) as info:
        call()
    return info.value.reason


class FakeResolver:
    """getaddrinfo stand-in: answers from a table, one answer list per call (the last repeats)."""

    def __init__(self, table: dict[str, list[str] | list[list[str]]]) -> None:
        self.table = table
        self.calls: list[str] = []

    def __call__(self, host, port, *args, **kwargs):
        self.calls.append(host)
        answers = self.table[host]
        if answers and isinstance(answers[0], list):
            answers = answers[min(len(self.calls), len(answers)) - 1]
        result = []
        for address in answers:
            if ipaddress.ip_address(address).version == 4:
                result.append((socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port)))
            else:
                result.append((socket.AF_INET6, socket.SOCK_STREAM, 6, "", (address, port, 0, 0)))
        return result


@pytest.fixture
def connects(monkeypatch):
    """Every address a socket tries to connect to (on top of the conftest guard)."""
    seen: list[tuple] = []
    guarded = socket.socket.connect

    def spy(self, address):
        seen.append(address[:2] if isinstance(address, tuple) else address)
        return guarded(self, address)

    monkeypatch.setattr(socket.socket, "connect", spy)
    return seen


class QuickServer(FakeServer):
    """FakeServer whose shutdown does not wait for serve_forever's default 0.5 s poll."""

    def __post_init__(self) -> None:
        super().__post_init__()
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.01},
                                        daemon=True)


@pytest.fixture
def fake_server():
    with QuickServer() as server:
        yield server


@pytest.fixture
def other_server():
    with QuickServer() as server:
        yield server


# --- the happy path over allowlisted loopback -------------------------------------------------


def test_allowlisted_http_loopback_fetch_follows_redirect_and_reports_final_url(fake_server):
    fake_server.json("/assertion", {"id": "x"})
    fake_server.redirect("/old", "/assertion")

    fetched = client(fake_server).fetch(fake_server.url("/old"), LD)

    assert isinstance(fetched, Fetched)
    assert fetched.status == 200
    assert fetched.media_type == LD
    assert fetched.body == b'{"id": "x"}'
    assert fetched.url == fake_server.url("/assertion")
    assert fake_server.hits["/old"] == 1 and fake_server.hits["/assertion"] == 1


def test_fetch_returns_any_http_status(fake_server):
    fake_server.route("/gone", status=410, body="gone")
    fetched = client(fake_server).fetch(fake_server.url("/gone"), LD)
    assert (fetched.status, fetched.body) == (410, b"gone")


def test_fetch_sends_accept_and_user_agent_and_host(fake_server):
    fake_server.json("/a", {})
    client(fake_server).fetch(fake_server.url("/a"), LD)
    seen = fake_server.requests[0]
    assert seen.headers["Accept"] == LD
    assert seen.headers["User-Agent"].startswith("wallet/")
    assert seen.headers["Host"] == fake_server.authority


def test_response_headers_are_case_insensitive_and_json_is_strict(fake_server):
    fake_server.route("/j", body='{"a": 1}', content_type="application/json", headers={"X-Thing": "1"})
    fake_server.route("/nan", body='{"a": NaN}', content_type="application/json")
    fake_server.route("/dup", body='{"a": 1, "a": 2}', content_type="application/json")
    http = client(fake_server)

    response = http.request("GET", fake_server.url("/j"))
    assert response.headers["x-thing"] == response.headers["X-THING"] == "1"
    assert response.json() == {"a": 1}
    for path in ("/nan", "/dup"):
        with pytest.raises(ValueError):
            http.request("GET", fake_server.url(path)).json()


def test_post_json_and_form_and_303_turns_into_get(fake_server):
    def echo(request):
        return WerkzeugResponse(request.get_data(), content_type=request.content_type or "text/plain")

    fake_server.handler("/echo", echo)
    fake_server.redirect("/created", "/echo", status=303)
    http = client(fake_server)

    assert http.request("POST", fake_server.url("/echo"), json={"a": "é"}).json() == {"a": "é"}
    form = http.request("POST", fake_server.url("/echo"), data={"grant_type": "code", "x": "a b"})
    assert form.body == b"grant_type=code&x=a+b"
    assert fake_server.requests[-1].headers["Content-Type"] == "application/x-www-form-urlencoded"

    http.request("POST", fake_server.url("/created"), json={"a": 1})
    assert [r.method for r in fake_server.requests[-2:]] == ["POST", "GET"]
    assert fake_server.requests[-1].body == b""


def test_gzip_and_deflate_bodies_are_decoded(fake_server):
    text = b'{"hello": "world"}' * 50
    fake_server.route("/gz", body=gzip.compress(text), content_type="application/json",
                      headers={"Content-Encoding": "gzip"})
    fake_server.route("/zz", body=zlib.compress(text), content_type="application/json",
                      headers={"Content-Encoding": "deflate"})
    raw = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    fake_server.route("/raw", body=raw.compress(text) + raw.flush(), content_type="application/json",
                      headers={"Content-Encoding": "deflate"})
    http = client(fake_server)
    for path in ("/gz", "/zz", "/raw"):
        assert http.fetch(fake_server.url(path), "application/json").body == text
    assert fake_server.requests[0].headers["Accept-Encoding"] == "gzip, deflate"


# --- SSRF: allowlist, redirects -------------------------------------------------------------


def test_loopback_not_allowlisted_is_refused_before_connect(fake_server, connects):
    fake_server.json("/a", {})
    http = SafeHttp()
    assert reason(lambda: http.fetch(fake_server.url("/a"), LD)) == "scheme"
    assert reason(lambda: http.fetch(f"https://127.0.0.1:{fake_server.port}/a", LD)) == "blocked"
    assert reason(lambda: http.fetch("https://127.0.0.1/a", LD)) == "blocked"
    assert reason(lambda: http.fetch("https://[::1]/a", LD)) == "blocked"
    assert fake_server.hits["/a"] == 0
    assert connects == []


def test_redirect_to_another_loopback_port_is_blocked(fake_server, other_server):
    other_server.route("/secret", body="secret")
    fake_server.redirect("/go", other_server.url("/secret"))
    fake_server.redirect("/go-tls", f"https://127.0.0.1:{other_server.port}/secret")
    http = client(fake_server)

    assert reason(lambda: http.fetch(fake_server.url("/go"), LD)) == "scheme"
    assert reason(lambda: http.fetch(fake_server.url("/go-tls"), LD)) == "blocked"
    assert other_server.hits["/secret"] == 0


def test_redirect_chain_longer_than_three_hops_is_refused(fake_server):
    for i in range(5):
        fake_server.redirect(f"/r{i}", f"/r{i + 1}")
    fake_server.route("/r5", body="end")
    http = client(fake_server)

    assert reason(lambda: http.fetch(fake_server.url("/r0"), LD)) == "redirects"
    assert fake_server.hits["/r4"] == 0 and fake_server.hits["/r5"] == 0
    # three hops are fine
    assert http.fetch(fake_server.url("/r2"), LD).body == b"end"


@pytest.mark.parametrize("location", [
    "file:///etc/passwd", "gopher://127.0.0.1:6379/_FLUSHALL", "ftp://127.0.0.1/x", "data:,hello",
])
def test_redirect_to_another_scheme_is_refused(fake_server, location):
    fake_server.route("/go", status=302, headers={"Location": location})
    assert reason(lambda: client(fake_server).fetch(fake_server.url("/go"), LD)) == "scheme"


def test_relative_location_is_resolved_against_the_current_url(fake_server):
    fake_server.route("/a/b", status=301, headers={"Location": "../c?x=1"})
    fake_server.route("/c", body="c")
    fetched = client(fake_server).fetch(fake_server.url("/a/b"), LD)
    assert (fetched.body, fetched.url) == (b"c", fake_server.url("/c?x=1"))


def test_allow_redirects_false_returns_the_redirect(fake_server):
    fake_server.redirect("/go", "/next")
    response = client(fake_server).request("GET", fake_server.url("/go"), allow_redirects=False)
    assert response.status == 302
    assert response.headers["Location"] == fake_server.url("/next")
    assert fake_server.hits["/next"] == 0


def test_authorization_is_not_forwarded_to_another_origin(fake_server, other_server):
    other_server.route("/landing", body="ok")
    fake_server.route("/same", body="ok")
    fake_server.redirect("/cross", other_server.url("/landing"))
    fake_server.redirect("/stay", "/same")
    http = client(fake_server, other_server)
    secrets = {"Authorization": "Bearer s3cret", "Cookie": "session=1", "X-Keep": "yes"}

    http.request("GET", fake_server.url("/cross"), headers=secrets)
    landed = other_server.requests[-1].headers
    assert "Authorization" not in landed and "Cookie" not in landed
    assert landed["X-Keep"] == "yes"
    assert fake_server.requests[-1].headers["Authorization"] == "Bearer s3cret"

    http.request("GET", fake_server.url("/stay"), headers=secrets)
    assert fake_server.requests[-1].path == "/same"
    assert fake_server.requests[-1].headers["Authorization"] == "Bearer s3cret"


# --- SSRF: address checks -------------------------------------------------------------------

SPELLINGS = ["2130706433", "0x7f.1", "127.1", "0177.0.0.1", "017700000001", "[::ffff:127.0.0.1]",
             "[::ffff:7f00:1]", "0.0.0.0", "[::]", "[::1]", "localhost", "127.0.0.1"]


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_alternate_loopback_spellings_resolved_by_glibc_are_blocked(spelling, connects):
    # _socket.getaddrinfo is the C resolver itself (glibc), not the conftest guard in front of it.
    http = SafeHttp(resolver=_socket.getaddrinfo)
    assert reason(lambda: http.fetch(f"https://{spelling}/", LD)) == "blocked"
    assert connects == []


@pytest.mark.parametrize("spelling", SPELLINGS[:-1])
def test_alternate_spellings_of_an_allowlisted_server_do_not_reach_it(fake_server, spelling, connects):
    fake_server.route("/", body="hi")
    http = SafeHttp(allow=[fake_server.authority], resolver=_socket.getaddrinfo)
    with pytest.raises(FetchError):
        http.fetch(f"http://{spelling}:{fake_server.port}/", LD)
    assert fake_server.hits["/"] == 0
    assert connects == []


DENIED = [
    "100.64.0.1",           # CGNAT (is_private is False on 3.11.7)
    "64:ff9b::a00:1",       # NAT64 → 10.0.0.1
    "64:ff9b:1::1",         # local-use NAT64
    "2002:7f00:1::",        # 6to4 → 127.0.0.1
    "2001:0:4136:e378:8000:63bf:3fff:fdd2",  # Teredo
    "224.0.0.1", "ff02::1",  # multicast
    "192.0.0.8", "192.0.2.1", "198.18.0.1", "198.51.100.7", "203.0.113.9", "192.88.99.1",
    "240.0.0.1", "255.255.255.255", "0.0.0.0", "0.1.2.3",
    "10.0.0.1", "172.16.5.4", "192.168.1.1", "127.0.0.1", "127.255.255.254",
    "169.254.169.254",      # cloud metadata
    "fd00:ec2::254",        # AWS IPv6 metadata
    "fe80::1", "fc00::1", "::1", "::", "::ffff:127.0.0.1", "::ffff:10.0.0.1", "::ffff:169.254.169.254",
    "100::1", "2001:db8::1", "2001:20::1", "5f00::1",
]


@pytest.mark.parametrize("address", DENIED)
def test_denied_addresses_are_blocked_before_connect(address, connects):
    resolver = FakeResolver({"victim.example": [address]})
    http = SafeHttp(resolver=resolver)
    assert not address_allowed(ipaddress.ip_address(address))
    assert reason(lambda: http.fetch("https://victim.example/assertion", LD)) == "blocked"
    assert resolver.calls == ["victim.example"]
    assert connects == []


@pytest.mark.parametrize("address", ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111", "1.1.1.1"])
def test_public_addresses_are_allowed(address):
    assert address_allowed(ipaddress.ip_address(address))


def test_one_bad_address_among_good_ones_blocks(connects):
    resolver = FakeResolver({"mixed.example": ["93.184.216.34", "10.0.0.1"]})
    assert reason(lambda: SafeHttp(resolver=resolver).fetch("https://mixed.example/", LD)) == "blocked"
    assert connects == []


def test_metadata_like_names_are_blocked(connects):
    resolver = FakeResolver({"metadata.google.internal": ["169.254.169.254"],
                             "localhost.": ["127.0.0.1"]})
    http = SafeHttp(resolver=resolver)
    assert reason(lambda: http.fetch("https://metadata.google.internal/computeMetadata/v1/", LD)) == "blocked"
    assert reason(lambda: http.fetch("https://localhost./", LD)) == "blocked"
    assert connects == []


def test_dns_rebinding_connects_only_to_the_checked_address(connects):
    # First answer public (checked, allowed), any later answer loopback: there must be no later one.
    resolver = FakeResolver({"rebind.example": [["93.184.216.34"], ["127.0.0.1"]]})
    http = SafeHttp(resolver=resolver)
    # The conftest guard refuses the public address, so the fetch fails as "network".
    assert reason(lambda: http.fetch("https://rebind.example/x", LD)) == "network"
    assert resolver.calls == ["rebind.example"]
    assert connects == [("93.184.216.34", 443)]


def test_named_host_is_pinned_with_original_host_header(fake_server, connects):
    name = "api.partner.test"
    fake_server.route("/x", body="ok")
    fake_server.redirect("/r", f"http://{name}:{fake_server.port}/x")
    resolver = FakeResolver({name: ["127.0.0.1"]})
    http = SafeHttp(allow=[f"{name}:{fake_server.port}"], resolver=resolver)

    fetched = http.fetch(f"http://{name}:{fake_server.port}/r", LD)

    assert fetched.body == b"ok"
    assert fake_server.requests[-1].headers["Host"] == f"{name}:{fake_server.port}"
    assert resolver.calls == [name, name]  # once per hop, never twice for one hop
    assert connects == [("127.0.0.1", fake_server.port)] * 2


def test_allowlisted_pair_still_refuses_the_unspecified_address(fake_server, connects):
    resolver = FakeResolver({"wildcard.test": ["0.0.0.0"]})
    http = SafeHttp(allow=[f"wildcard.test:{fake_server.port}"], resolver=resolver)
    assert reason(lambda: http.fetch(f"http://wildcard.test:{fake_server.port}/", LD)) == "blocked"
    assert connects == []


def test_ipv6_loopback_pair_and_idn_host_names(connects):
    with QuickServer(host="::1") as server:
        server.route("/v6", body="six")
        http = SafeHttp(allow=[f"[::1]:{server.port}", f"région.test:{server.port}"],
                        resolver=FakeResolver({"xn--rgion-bsa.test": ["::1"]}))
        assert http.fetch(f"http://[::1]:{server.port}/v6", LD).body == b"six"
        assert server.requests[-1].headers["Host"] == f"[::1]:{server.port}"
        assert http.fetch(f"http://région.test:{server.port}/v6", LD).body == b"six"
        assert server.requests[-1].headers["Host"] == f"xn--rgion-bsa.test:{server.port}"
    assert connects == [("::1", server.port)] * 2


# --- URL syntax and schemes -----------------------------------------------------------------


@pytest.mark.parametrize(("url", "expected"), [
    ("http://example.org/", "scheme"),
    ("file:///etc/passwd", "scheme"),
    ("gopher://example.org/", "scheme"),
    ("ftp://example.org/", "scheme"),
    ("data:text/plain,hi", "scheme"),
    ("javascript:alert(1)", "scheme"),
    ("example.org/x", "scheme"),
    ("https://user:pass@example.org/", "blocked"),
    ("https://user@example.org/", "blocked"),
    ("https://good.example\\@evil.example/", "blocked"),
    ("https://good.example\\evil/", "blocked"),
    ("https://example.org/\n", "blocked"),
    ("https://exa mple.org/", "blocked"),
    ("https://example.org/\x00", "blocked"),
    ("https:///path", "blocked"),
    ("https://example.org:8443/", "blocked"),
    ("https://example.org:22/", "blocked"),
    ("https://example.org:99999/", "blocked"),
    ("https://exa_mple!.org/", "blocked"),
])
def test_bad_urls_are_refused_without_dns(url, expected, connects):
    resolver = FakeResolver({})
    http = SafeHttp(resolver=resolver)
    assert reason(lambda: http.fetch(url, LD)) == expected
    assert reason(lambda: http.check_url(url)) == expected
    assert resolver.calls == [] and connects == []


def test_check_url_vets_without_resolving(connects):
    resolver = FakeResolver({})
    http = SafeHttp(resolver=resolver)
    http.check_url("https://backpack.example.org/.well-known/openid-configuration")
    http.check_url("https://93.184.216.34/")
    for url in ("https://10.0.0.1/", "https://[::1]/", "https://localhost/", "https://x.localhost/"):
        assert reason(lambda url=url: http.check_url(url)) == "blocked"
    assert resolver.calls == [] and connects == []


# --- deadlines and byte caps ----------------------------------------------------------------


def test_slow_body_is_cut_at_the_deadline():
    # 60 bytes at 20 bytes/s would take 3 s; the read timeout never fires, the deadline does.
    with RawServer(slow_body(interval=0.05, size=60)) as server:
        http = client(server, deadline=0.4, read_timeout=1.0)
        assert reason(lambda: http.fetch(server.url("/"), LD)) == "timeout"
        server.wait()
        assert server.broken == 1  # the client hung up while the server was still sending


def test_slow_headers_are_cut_at_the_deadline():
    # Each header byte arrives well within the read timeout: only the deadline can end this.
    with RawServer(slow_headers(interval=0.05, count=60)) as server:
        http = client(server, deadline=0.4, read_timeout=1.0)
        assert reason(lambda: http.fetch(server.url("/"), LD)) == "timeout"
        server.wait()
        assert server.broken == 1  # cut during the head, not after the server finished it


def test_silent_server_hits_the_read_timeout():
    with RawServer(slow_body(interval=30, size=1)) as server:
        http = client(server, read_timeout=0.2, deadline=5)
        assert reason(lambda: http.fetch(server.url("/"), LD)) == "timeout"


def test_endless_body_is_too_large():
    with RawServer(endless()) as server:
        http = client(server)
        assert reason(lambda: http.fetch(server.url("/"), LD)) == "too_large"


def test_declared_length_over_the_cap_is_too_large_and_max_bytes_overrides(fake_server):
    fake_server.route("/img", body=b"x" * 3000, content_type="image/png")
    http = client(fake_server, max_bytes=1000)
    assert reason(lambda: http.fetch(fake_server.url("/img"), "image/png")) == "too_large"
    assert len(http.request("GET", fake_server.url("/img"), max_bytes=4000).body) == 3000


def test_gzip_bomb_is_cut_at_the_cap_with_bounded_memory():
    bomb = gzip_bomb_bytes()  # 10 MB of zeros in ~10 KB
    with RawServer(gzip_bomb(bomb=bomb)) as server:
        http = client(server)
        tracemalloc.start()
        try:
            assert reason(lambda: http.fetch(server.url("/"), LD)) == "too_large"
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert peak < 4 * (1 << 20)  # the cap is 1 MiB; decoding the bomb would take 10 MB


def test_gzip_bomb_on_a_redirect_is_never_decoded():
    bomb = gzip_bomb_bytes()

    def route(conn, head, stopped):
        path = head.split(b" ")[1]
        if path == b"/bomb":
            gzip_bomb(status=302, location="/ok", bomb=bomb)(conn, head, stopped)
        else:
            fixed(body=b"fine")(conn, head, stopped)

    with RawServer(route) as server:
        # A cap smaller than the decoded bomb: decoding the 302 body would raise too_large.
        http = client(server, max_bytes=1000)
        tracemalloc.start()
        try:
            fetched = http.fetch(server.url("/bomb"), LD)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert (fetched.status, fetched.body, fetched.url) == (200, b"fine", server.url("/ok"))
        redirect = http.request("GET", server.url("/bomb"), allow_redirects=False)
        assert (redirect.status, redirect.body) == (302, b"")
    assert peak < 2 * (1 << 20)


# --- configuration and in-process answers ---------------------------------------------------


def test_from_config_parses_fetch_allow():
    http = SafeHttp.from_config({"FETCH_ALLOW": "127.0.0.1:8000, localhost:9000,[::1]:8001",
                                 "CA_BUNDLE": None, "BASE_URL": "http://127.0.0.1:5000"})
    assert http.allow == {("127.0.0.1", 8000), ("localhost", 9000), ("::1", 8001)}
    assert http.local_prefix == "http://127.0.0.1:5000"
    assert http.ca_bundle is None
    assert SafeHttp.from_config({"FETCH_ALLOW": ["127.0.0.1:1", "127.0.0.1:2"]}).allow == {
        ("127.0.0.1", 1), ("127.0.0.1", 2)}
    assert SafeHttp.from_config({"FETCH_ALLOW": ""}).allow == frozenset()
    with pytest.raises(ValueError):
        parse_allow("127.0.0.1")
    with pytest.raises(ValueError):
        parse_allow("127.0.0.1:http")


def test_local_prefix_is_answered_in_process(fake_server, connects):
    fake_server.json("/issuers/1", {"from": "network"})
    seen = []

    def handler(method, url, headers, body):
        seen.append((method, url, headers))
        return Response(url, 200, {"Content-Type": LD}, b'{"from": "in-process"}')

    http = SafeHttp.from_config({"FETCH_ALLOW": fake_server.authority, "BASE_URL": fake_server.origin},
                                local_handler=handler)
    fetched = http.fetch(fake_server.url("/issuers/1"), LD)

    assert fetched.body == b'{"from": "in-process"}' and fetched.media_type == LD
    assert seen[0][:2] == ("GET", fake_server.url("/issuers/1"))
    assert seen[0][2]["Accept"] == LD
    assert fake_server.hits["/issuers/1"] == 0 and connects == []


def test_local_prefix_matches_whole_authority_only():
    def handler(method, url, headers, body):
        raise AssertionError("must not be called")

    http = SafeHttp(local_prefix="http://127.0.0.1:80", local_handler=handler)
    # http://127.0.0.1:80 is a prefix of http://127.0.0.1:8000 as a string, not as an origin.
    assert reason(lambda: http.fetch("http://127.0.0.1:8000/", LD)) == "scheme"
    assert reason(lambda: http.fetch("http://127.0.0.1:80.evil.example/", LD)) == "blocked"


def test_local_prefix_without_handler_never_goes_to_the_network(fake_server):
    fake_server.json("/k", {})
    http = SafeHttp(allow=[fake_server.authority], local_prefix=fake_server.origin)
    assert reason(lambda: http.fetch(fake_server.url("/k"), LD)) == "blocked"
    assert fake_server.hits["/k"] == 0


# --- https with a test CA: pinning keeps SNI and hostname verification ----------------------


def _tls_files(tmp_path, name: str):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "wallet test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False,
                                       key_encipherment=False, data_encipherment=False, key_agreement=False,
                                       key_cert_sign=True, crl_sign=True, encipher_only=False,
                                       decipher_only=False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                           critical=False)
            .sign(ca_key, hashes.SHA256()))
    ca_file, cert_file, key_file = tmp_path / "ca.pem", tmp_path / "cert.pem", tmp_path / "key.pem"
    ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    cert_file.write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return ca_file, cert_file, key_file


def _tls_server(cert_file, key_file, names):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    context.sni_callback = lambda sock, name, ctx: names.append(name)
    return RawServer(fixed(body=b"secure", headers={"Content-Type": "application/json"}), ssl_context=context)


def test_https_to_localhost_keeps_sni_and_certificate_checks(tmp_path, connects):
    ca_file, cert_file, key_file = _tls_files(tmp_path, "localhost")
    names: list[str] = []
    with _tls_server(cert_file, key_file, names) as server:
        resolver = FakeResolver({"localhost": ["127.0.0.1"]})
        http = SafeHttp(allow=[f"localhost:{server.port}"], ca_bundle=str(ca_file), resolver=resolver)

        fetched = http.fetch(f"https://localhost:{server.port}/doc", "application/json")

        assert (fetched.status, fetched.body) == (200, b"secure")
        assert names == ["localhost"]  # SNI is the host name, though we connected to an IP
        assert b"\r\nHost: localhost:%d\r\n" % server.port in server.heads[0]
        assert connects == [("127.0.0.1", server.port)]

        # Without the test CA the same server is not trusted.
        untrusted = SafeHttp(allow=[f"localhost:{server.port}"], resolver=resolver)
        assert reason(lambda: untrusted.fetch(f"https://localhost:{server.port}/doc", LD)) == "network"
        assert server.hits == 1


def test_https_certificate_for_another_name_is_refused(tmp_path):
    ca_file, cert_file, key_file = _tls_files(tmp_path, "other.example")
    with _tls_server(cert_file, key_file, []) as server:
        resolver = FakeResolver({"localhost": ["127.0.0.1"]})
        http = SafeHttp(allow=[f"localhost:{server.port}"], ca_bundle=str(ca_file), resolver=resolver)
        assert reason(lambda: http.fetch(f"https://localhost:{server.port}/doc", LD)) == "network"
        assert server.hits == 0
