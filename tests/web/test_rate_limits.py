"""Rate limits, on the in-process store (`memory://`) and on a real Redis (`redis://`, what
production uses with several gunicorn processes: README, WALLET_RATELIMIT_STORAGE_URI).

The last test runs the app in two separate processes: with Redis the limit holds across them,
with `memory://` each process counts alone (why production needs Redis).
"""

from __future__ import annotations

import http.cookiejar
import os
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from html import unescape
from pathlib import Path

import pytest

from tests.conftest import csrf_from
from tests.web.accounts_helpers import PASSWORD, login, logout, register, registered_user

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(params=["memory", "redis"])
def storage_uri(request):
    return "memory://" if request.param == "memory" else request.getfixturevalue("redis_url")


@pytest.fixture
def app_config(app_config, storage_uri):
    app_config["RATELIMIT_STORAGE_URI"] = storage_uri
    return app_config


def _at(client, ip: str):
    client.environ_base["REMOTE_ADDR"] = ip
    return client


def test_login_limit_per_account_and_address_with_retry_after(app, client, outbox, storage_uri):
    registered_user(client, outbox)
    logout(client)
    codes = [login(client, password=f"wrong password {i}").status_code for i in range(6)]
    assert codes == [400] * 4 + [429] * 2  # the successful login of registered_user() counted too
    r = login(client, password="wrong password again")
    assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0
    assert "Trop de tentatives" in unescape(r.text)
    # The owner elsewhere has a budget of their own.
    assert login(_at(app.test_client(), "198.51.100.20")).status_code == 302
    if storage_uri.startswith("redis://"):
        from redis import Redis

        assert Redis.from_url(storage_uri).keys("LIMITS*")  # the counts really live in Redis


def test_login_limit_per_client_address(app, client, storage_uri):
    codes = [login(client, email=f"person{i}@example.org", password="wrong guess here").status_code
             for i in range(11)]
    assert codes == [400] * 10 + [429]


def test_registration_limit_per_client_address(app, client, storage_uri):
    codes = [register(client, email=f"person{i}@example.org").status_code for i in range(6)]
    assert codes == [302] * 5 + [429]
    assert register(_at(client, "198.51.100.21"), email="other@example.org").status_code == 302


# --- across processes -----------------------------------------------------------------------------

SERVE = """
from werkzeug.serving import make_server
from wallet import create_app
server = make_server("127.0.0.1", 0, create_app(), threaded=True)
print(server.server_port, flush=True)
server.serve_forever()
"""


@pytest.fixture
def two_processes(app, tmp_path, storage_uri):
    """The same app (database, secrets, limiter storage) served by two separate processes."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WALLET_")}
    env.update(WALLET_DATABASE_URL=app.config["DATABASE_URL"], WALLET_SECRET_KEY=app.config["SECRET_KEY"],
               WALLET_TOKEN_KEYS=app.config["TOKEN_KEYS"], WALLET_RATELIMIT_STORAGE_URI=storage_uri,
               WALLET_MAIL_BACKEND="memory", WALLET_INSTANCE_PATH=str(tmp_path / "instance"),
               PYTHONPATH=str(ROOT))
    processes = [subprocess.Popen([sys.executable, "-c", SERVE], env=env, cwd=ROOT, stdout=subprocess.PIPE,
                                  stderr=subprocess.DEVNULL, text=True) for _ in range(2)]
    try:
        yield [f"http://127.0.0.1:{int(p.stdout.readline())}" for p in processes]
    finally:
        for process in processes:
            process.terminate()
            process.wait(10)
            process.stdout.close()


def _attempt(opener, base: str, address: str, password: str) -> int:
    page = opener.open(base + "/connexion", timeout=10).read().decode()
    data = urllib.parse.urlencode({"csrf_token": csrf_from(page), "email": address, "password": password})
    try:
        with opener.open(base + "/connexion", data=data.encode(), timeout=10) as answer:
            return answer.status
    except urllib.error.HTTPError as err:
        err.close()
        return err.code


def test_the_login_limit_holds_across_processes_only_with_redis(two_processes, storage_uri):
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    codes = [_attempt(opener, two_processes[i % 2], "ana@example.org", f"{PASSWORD} {i}") for i in range(6)]
    if storage_uri.startswith("redis://"):
        assert codes == [400] * 5 + [429]
    else:
        assert codes == [400] * 6  # each process counted three: memory:// is for one process only
