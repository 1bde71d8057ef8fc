"""A stranger cannot lock a learner out (SECURITY.md T61).

Limits key on (account, client address); the per-account backstop slows guessing down and lets
the owner in: from a browser that already logged in, through an unlock link mailed to them, or
after the (short, growing) wait. Time is injected: `clock` drives login_guard's `utcnow`.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from html import unescape

import pytest

from tests.conftest import link_from
from tests.web.accounts_helpers import BASE, PASSWORD, login, logout, post_form, registered_user
from wallet.services import login_guard

OWNER = "ana@example.org"


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(login_guard, "utcnow", clock)
    return clock


@pytest.fixture
def owner(client, outbox, clock):
    """The owner's own browser: it registered and logged in before (on `clock`), now logged out."""
    registered_user(client, outbox)
    logout(client)
    return client


@pytest.fixture
def attacked(app, clock, owner) -> list[int]:
    """Strangers on six machines then spent their budgets on the owner's address (their codes)."""
    return attack(app, clock, OWNER)


def without_csrf(html: str) -> str:
    return re.sub(r'name="csrf_token" value="[^"]+"', "", html)


def browser(app, ip: str):
    """A new browser (no cookies) at this client address."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = ip
    return client


def attack(app, clock, address: str, machines: int = 6, tries: int = 6) -> list[int]:
    """Wrong passwords for `address` from `machines` other addresses, one second apart."""
    codes = []
    for n in range(machines):
        attacker = browser(app, f"203.0.113.{n + 1}")
        for i in range(tries):
            codes.append(login(attacker, email=address, password=f"guess number {n} {i}").status_code)
            clock.advance(1)
    return codes


def test_strangers_exhausting_their_budgets_do_not_lock_the_owner_out(client, attacked):
    codes = attacked
    assert set(codes) == {400, 429}
    assert codes[:5] == [400] * 5 and codes[5] == 429  # the first machine's own budget is spent
    assert codes.count(400) <= login_guard.FREE_FAILURES + 6  # then the backstop slows them down

    # The owner's own browser, from a new address (a phone on 4G): straight in.
    client.environ_base["REMOTE_ADDR"] = "198.51.100.7"
    r = login(client, password=PASSWORD)
    assert r.status_code == 302 and r.headers["Location"].endswith("/tableau-de-bord")


def test_owner_on_a_new_device_waits_a_little_or_unlocks_by_mail(app, outbox, attacked):
    phone = browser(app, "198.51.100.8")

    slowed = login(phone, password=PASSWORD)
    assert slowed.status_code == 429
    wait = int(slowed.headers["Retry-After"])
    assert 0 < wait <= login_guard.MAX_DELAY.total_seconds()
    page = unescape(slowed.text)
    assert "attendez" in page and "Recevoir un lien de déblocage" in page

    before = len(outbox)
    sent = post_form(phone, "/connexion", "/connexion/deblocage", email=OWNER)
    assert sent.status_code == 200 and "Si un compte existe" in unescape(sent.text)
    assert len(outbox) == before + 1 and outbox[-1].to == OWNER
    path = link_from(outbox[-1].body).replace(BASE, "")
    assert path.startswith("/connexion/debloquer/")
    assert phone.get(path).status_code == 200  # a GET (a mail scanner) changes nothing
    assert post_form(phone, path).status_code == 302
    r = login(phone, password=PASSWORD)
    assert r.status_code == 302 and r.headers["Location"].endswith("/tableau-de-bord")

    # The link works once.
    again = post_form(browser(app, "198.51.100.9"), path)
    assert again.status_code == 400 and "déjà servi" in unescape(again.text)


def test_owner_on_a_new_device_without_the_link_gets_in_once_the_wait_is_over(app, clock, attacked):
    laptop = browser(app, "198.51.100.10")
    slowed = login(laptop, password=PASSWORD)
    assert slowed.status_code == 429
    clock.advance(int(slowed.headers["Retry-After"]))
    assert login(laptop, password=PASSWORD).status_code == 302


def test_a_slowed_attempt_does_not_check_the_password(app, attacked):
    # Even the right password from a stranger's machine is not tried while the account waits.
    intruder = browser(app, "192.0.2.77")
    assert login(intruder, password=PASSWORD).status_code == 429


def test_the_backstop_tells_nothing_about_which_addresses_have_accounts(app, outbox, clock, attacked):
    known = attacked
    unknown = attack(app, clock, "nobody@example.org")
    assert known == unknown
    before = len(outbox)
    asked = [post_form(browser(app, f"192.0.2.{n}"), "/connexion", "/connexion/deblocage", email=address)
             for n, address in ((1, OWNER), (2, "nobody@example.org"))]
    assert asked[0].status_code == asked[1].status_code == 200
    assert without_csrf(asked[0].text) == without_csrf(asked[1].text)
    assert len(outbox) == before + 1  # only the real owner gets a mail


def test_per_ip_limit_still_answers_429_with_retry_after(owner):
    client = owner
    # One machine trying many addresses: the per-address limit (10 a minute) stops it.
    codes = [login(client, email=f"person{i}@example.org", password="wrong guess here").status_code
             for i in range(12)]
    assert codes[:9] == [400] * 9 and codes[9:] == [429] * 3, codes
    r = login(client, email="person99@example.org", password="wrong guess here")
    assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0


def test_unlock_requests_per_address_are_limited(app, outbox, owner):
    before = len(outbox)
    codes = [post_form(browser(app, f"192.0.2.{n}"), "/connexion", "/connexion/deblocage", email=OWNER).status_code
             for n in range(5)]
    assert codes == [200, 200, 200, 429, 429]
    assert len(outbox) == before + 3  # nobody can flood the owner's mailbox


# --- the backstop's arithmetic, at the service level ---------------------------------------------


def test_delays_double_and_stop_at_the_maximum_and_old_failures_are_forgotten(app):
    from wallet.db import new_session

    now = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    with app.test_request_context(), new_session(app) as session:
        for _ in range(login_guard.FREE_FAILURES):
            assert login_guard.login(session, "x@example.org", "wrong", now=now).error == "bad_credentials"
        assert login_guard.seconds_to_wait(session, "x@example.org", now) == 0
        waits = []
        for _ in range(12):
            attempt = login_guard.login(session, "x@example.org", "wrong", now=now)
            assert attempt.error == "bad_credentials"
            waits.append(login_guard.seconds_to_wait(session, "x@example.org", now))
            assert login_guard.login(session, "x@example.org", "wrong", now=now).wait == waits[-1]
            now += timedelta(seconds=waits[-1])
        assert waits == [1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300, 300]
        # Another address is not affected; an hour without failures starts afresh.
        assert login_guard.seconds_to_wait(session, "y@example.org", now) == 0
        now += login_guard.WINDOW + timedelta(seconds=1)
        for _ in range(login_guard.FREE_FAILURES):
            login_guard.login(session, "x@example.org", "wrong", now=now)
        assert login_guard.seconds_to_wait(session, "x@example.org", now) == 0
