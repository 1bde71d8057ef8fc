"""Shared fixtures. Network is off by default: see the socket guard below."""

from __future__ import annotations

import pytest

from tests.fakes.server import FakeServer


@pytest.fixture
def host():
    """One loopback badge host (a partner's server)."""
    with FakeServer() as server:
        yield server


@pytest.fixture
def factory(host):
    """Badges of every kind served by `host` (tests/fakes/badges.py), dated now."""
    from datetime import UTC, datetime

    from tests.fakes.badges import BadgeFactory

    return BadgeFactory(host, now=datetime.now(UTC))


@pytest.fixture
def hosts():
    """Two loopback badge hosts (two partner organisations in the regional tests)."""
    with FakeServer() as one, FakeServer() as two:
        yield one, two


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


# --- the application ------------------------------------------------------------------------

import os
import re

TEST_PG_URL = os.environ.get("WALLET_TEST_DATABASE_URL")


@pytest.fixture
def app_config(tmp_path):
    """The test configuration; tests may edit it before asking for `app`."""
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key-" + "x" * 32,
        "DATABASE_URL": TEST_PG_URL or f"sqlite:///{tmp_path / 'wallet.db'}",
        "BASE_URL": "http://127.0.0.1:5000",
        "MAIL_BACKEND": "memory",
        # Mail is sent at commit, inside the request, so tests read it right after the response;
        # tests/web/test_mail_outbox.py covers the real after-response path.
        "MAIL_SEND_INLINE": True,
        "RATELIMIT_STORAGE_URI": "memory://",
        "INSTANCE_TMP": str(tmp_path),
    }


@pytest.fixture
def app(app_config, tmp_path, monkeypatch):
    monkeypatch.setenv("WALLET_INSTANCE_PATH", str(tmp_path / "instance"))
    from wallet import create_app
    from wallet.app.extensions import limiter
    from wallet.db import Base, engine

    application = create_app(app_config)
    with application.app_context():
        eng = engine()
        if TEST_PG_URL:
            Base.metadata.drop_all(eng)
        Base.metadata.create_all(eng)
    limiter.reset()
    yield application
    with application.app_context():
        if TEST_PG_URL:
            Base.metadata.drop_all(engine())
        engine().dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def outbox(app):
    from wallet.mail import outbox as _outbox

    return _outbox(app)


def csrf_from(html: str) -> str:
    """The CSRF token of the first form in a page (tests keep CSRF on and read it like a browser)."""
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF token in the page"
    return match.group(1)


def plain(text: str) -> str:
    """`text` with the French no-break spaces (U+00A0, U+202F: « Raison : ») as plain ones, so
    that assertions can be written as one types them: `assert "Raison : x" in plain(page)`."""
    return text.replace("\u00a0", " ").replace("\u202f", " ")


def link_from(mail_body: str) -> str:
    match = re.search(r"https?://\S+", mail_body)
    assert match, "no link in the mail"
    return match.group(0)


def run_at_once(work, count: int) -> None:
    """Call `work` in `count` threads released together (one barrier), and wait for them all: the
    races of the concurrency tests (claims, deliveries, re-verification leases)."""
    import threading

    start = threading.Barrier(count)

    def released():
        start.wait()
        work()

    threads = [threading.Thread(target=released) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def user_by_address(app, address: str):
    """The User holding the (normalised) email `address`, or None; read in a session of its own."""
    from sqlalchemy import select

    from wallet.db import new_session
    from wallet.models import Email, User

    session = new_session(app)
    try:
        return session.scalar(select(User).join(Email).where(Email.normalized == address))
    finally:
        session.close()


# --- PostgreSQL-marked tests (added with .ci/run and scripts/pg_cluster.sh) ---------------------


@pytest.fixture(autouse=True)
def _postgres_tests_need_postgresql(request):
    """A test marked `postgres` fails (never skips) without WALLET_TEST_DATABASE_URL."""
    if request.node.get_closest_marker("postgres") and not TEST_PG_URL:
        pytest.fail(
            "this test needs PostgreSQL: export WALLET_TEST_DATABASE_URL "
            "(`scripts/pg_cluster.sh start` prints one; .ci/run does it all)"
        )


# --- a real Redis for the rate limits across processes ------------------------------------------


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory):
    """Debian's redis-server on a free port (tests/fakes/redis_server.py). Without the binary the
    Redis variants are skipped with the reason — unless WALLET_REQUIRE_REDIS is set (.ci/run sets
    it), where a missing redis-server fails the run."""
    from tests.fakes.redis_server import REQUIRE_ENV, RedisServer, available

    if not available():
        message = "redis-server is not installed (apt-get install redis-server; `make test` does it as root)"
        if os.environ.get(REQUIRE_ENV):
            pytest.fail(f"{message}, and {REQUIRE_ENV} is set")
        pytest.skip(message)
    with RedisServer(tmp_path_factory.mktemp("redis")) as server:
        yield server


@pytest.fixture
def redis_url(redis_server):
    """The URL of an empty Redis database."""
    client = redis_server.client()
    client.flushall()
    client.close()
    return redis_server.url
