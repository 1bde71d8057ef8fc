"""SafeHttp's IPv6 policy (SECURITY.md T65, T14).

IPv6 is allowed only inside 2000::/3 minus the special ranges, and any IPv4 address embedded in
an IPv6 one (mapped, compatible, translated, NAT64, 6to4, Teredo) is judged by the IPv4 rules.
Every refusal must happen before a socket connects: the `connects` spy records every connect
attempt (the conftest guard behind it refuses anything outside loopback), and the control test
below shows that an allowed address does reach it.
"""

from __future__ import annotations

import ipaddress
import socket

import pytest

from tests.unit import test_http
from tests.unit.test_http import LD, FakeResolver, reason
from wallet.http import SafeHttp, address_allowed, embedded_ipv4

connects = test_http.connects  # the connect spy fixture

REFUSED = [
    "::127.0.0.1", "::7f00:1",          # IPv4-compatible loopback (::/96)
    "::10.0.0.1", "::8.8.8.8",          # IPv4-compatible, private and public: ::/96 is reserved
    "::ffff:0:127.0.0.1", "::ffff:0:7f00:1", "::ffff:0:8.8.8.8",  # IPv4-translated (RFC 2765)
    "64:ff9b::7f00:1", "64:ff9b::808:808",  # NAT64 well-known prefix, private and public
    "2002:a00:1::1", "2002:808:808::1",     # 6to4, private and public
    "2001:0:4136:e378:8000:63bf:80ff:fffe",  # Teredo, client 127.0.0.1
    "3fff::1", "3fff:fff::1",               # documentation (RFC 9637), "global" for Python 3.11.7
    "4000::1", "8000::1", "e000::1", "1000::1",  # outside 2000::/3: reserved
    "2001:2::1", "2001:3::1", "2001:10::1",  # IETF protocol assignments (2001::/23)
    "::ffff:100.64.0.1", "::ffff:192.0.0.8",  # IPv4-mapped: the IPv4 deny list applies
]


@pytest.mark.parametrize("address", REFUSED)
def test_reserved_ipv6_literal_is_refused_before_connecting(address, connects):
    http = SafeHttp(resolver=FakeResolver({}))
    assert not address_allowed(ipaddress.ip_address(address))
    assert reason(lambda: http.fetch(f"https://[{address}]/", LD)) == "blocked"
    assert reason(lambda: http.check_url(f"https://[{address}]/assertion")) == "blocked"
    assert connects == []


@pytest.mark.parametrize("address", REFUSED)
def test_name_resolving_to_a_reserved_ipv6_address_is_refused_before_connecting(
        address, connects, monkeypatch):
    # The default resolver (socket.getaddrinfo at call time), not an injected one.
    asked: list[str] = []

    def getaddrinfo(host, port, *args, **kwargs):
        asked.append(host)
        return [(socket.AF_INET6, socket.SOCK_STREAM, 6, "", (address, port, 0, 0))]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    assert reason(lambda: SafeHttp().fetch("https://issuer.example/badge", LD)) == "blocked"
    assert asked == ["issuer.example"]
    assert connects == []


def test_control_an_allowed_ipv6_address_does_reach_the_socket(connects, monkeypatch):
    # Proves the spy sees real attempts: the fetch gets as far as connect (which the conftest
    # guard then refuses, hence "network").
    monkeypatch.setattr(socket, "getaddrinfo", lambda host, port, *a, **k: [
        (socket.AF_INET6, socket.SOCK_STREAM, 6, "", ("2606:4700:4700::1111", port, 0, 0))])
    assert reason(lambda: SafeHttp().fetch("https://issuer.example/badge", LD)) == "network"
    assert connects == [("2606:4700:4700::1111", 443)]


@pytest.mark.parametrize("address", [
    "2606:4700:4700::1111", "2a00:1450:4007:80f::200e", "2001:4860:4860::8888", "2a01:cb00::1",
    "::ffff:8.8.8.8",  # IPv4-mapped: a dual-stack socket connects to 8.8.8.8 itself
])
def test_global_unicast_addresses_stay_allowed(address):
    assert address_allowed(ipaddress.ip_address(address))


@pytest.mark.parametrize(("address", "embedded"), [
    ("::ffff:127.0.0.1", ["127.0.0.1"]),
    ("::127.0.0.1", ["127.0.0.1"]),
    ("::ffff:0:10.1.2.3", ["10.1.2.3"]),
    ("64:ff9b::a00:1", ["10.0.0.1"]),
    ("2002:7f00:1::", ["127.0.0.1"]),
    ("2001:0:4136:e378:8000:63bf:3fff:fdd2", ["65.54.227.120", "192.0.2.45"]),
    ("2606:4700:4700::1111", []),
])
def test_embedded_ipv4_addresses_are_found(address, embedded):
    found = embedded_ipv4(ipaddress.ip_address(address))
    assert sorted(str(ip) for ip in found) == sorted(embedded)


def test_allowlisted_pair_refuses_an_embedded_unspecified_address(connects):
    http = SafeHttp(allow=["wildcard.test:8080"],
                    resolver=FakeResolver({"wildcard.test": ["::ffff:0:0.0.0.0"]}))
    assert reason(lambda: http.fetch("http://wildcard.test:8080/", LD)) == "blocked"
    assert connects == []
