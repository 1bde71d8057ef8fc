"""Shared fixtures. Network is off by default: see the socket guard below."""

from __future__ import annotations

import pytest

from tests.fakes.server import FakeServer


@pytest.fixture
def fake_server():
    """A started loopback HTTP server; stopped after the test."""
    with FakeServer() as server:
        yield server


@pytest.fixture(autouse=True)
def _no_outside_network(monkeypatch):
    """Any connection to an address outside 127.0.0.0/8 and ::1 fails loudly.

    Tests talk only to real servers they start on loopback (tests/fakes/). DNS lookups of outside
    names are refused too, so a forgotten real URL cannot slip through.
    """
    import ipaddress
    import socket

    real_connect = socket.socket.connect
    real_getaddrinfo = socket.getaddrinfo

    def _check(host) -> None:
        try:
            ip = ipaddress.ip_address(str(host).split("%", 1)[0])
        except ValueError:
            raise OSError(f"test network guard: refusing to resolve or connect to {host!r}")
        if not ip.is_loopback and not (ip.version == 6 and ip.ipv4_mapped and ip.ipv4_mapped.is_loopback):
            raise OSError(f"test network guard: refusing to connect to {host!r}")

    def guarded_connect(self, address):
        if isinstance(address, tuple):
            _check(address[0])
        return real_connect(self, address)

    def guarded_getaddrinfo(host, *args, **kwargs):
        if host not in (None, "localhost"):
            h = host.decode() if isinstance(host, bytes) else str(host)
            try:
                ipaddress.ip_address(h.split("%", 1)[0])
            except ValueError:
                # Names other than localhost may be resolved only by tests that patch this.
                raise socket.gaierror(socket.EAI_NONAME, f"test network guard: no DNS for {h!r}")
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", guarded_connect)
    monkeypatch.setattr(socket, "getaddrinfo", guarded_getaddrinfo)
