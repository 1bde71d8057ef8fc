"""Mail goes through the outbox and is sent after the response (SECURITY.md T62).

The real path: a werkzeug server on loopback, SMTP to a fake relay that holds its greeting, so
the test sees the HTTP answer arrive while the mail is still waiting, then the mail arrive.
"""

from __future__ import annotations

import email
import email.policy
import http.cookiejar
import threading
import urllib.parse
import urllib.request
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.browser.helpers import serve
from tests.conftest import csrf_from
from tests.fakes.smtp import FakeSmtp
from tests.web.accounts_helpers import PASSWORD
from wallet import mail
from wallet.models import OutgoingMail, utcnow


@pytest.fixture
def smtp():
    with FakeSmtp() as server:
        yield server


@pytest.fixture
def app_config(app_config, smtp):
    app_config.update(MAIL_SEND_INLINE=False, MAIL_BACKEND="smtp", MAIL_SERVER="127.0.0.1",
                      MAIL_PORT=smtp.port, MAIL_USE_TLS=False)
    return app_config


def _pending(app) -> int:
    from wallet.db import new_session

    with new_session(app) as session:
        return session.scalar(select(func.count()).select_from(OutgoingMail))


def _post_form(opener, base: str, page: str, **data) -> int:
    html = opener.open(base + page, timeout=5).read().decode()
    data["csrf_token"] = csrf_from(html)
    with opener.open(base + page, data=urllib.parse.urlencode(data).encode(), timeout=5) as answer:
        return answer.status


@pytest.mark.parametrize("known", [False, True], ids=["new address", "known address"])
def test_registration_answers_before_the_mail_is_sent_and_the_mail_follows(app, smtp, known):
    with serve(app) as base:
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        form = {"display_name": "Ana Martin", "email": "ana@example.org", "password": PASSWORD,
                "password_confirm": PASSWORD}
        if known:
            assert _post_form(opener, base, "/inscription", **form) == 200
            assert smtp.received.wait(5)
            _wait_until_deleted(app)
            smtp.received.clear()
        smtp.gate.clear()  # the relay now holds every new session before its greeting
        # The answer comes while the relay holds the mail (urllib would time out otherwise).
        assert _post_form(opener, base, "/inscription", **form) == 200
        assert not smtp.received.is_set() and _pending(app) == 1
        smtp.gate.set()
        assert smtp.received.wait(5)
    recipients, text = smtp.messages[-1]
    assert recipients == ["ana@example.org"]
    message = email.message_from_string(text, policy=email.policy.default)
    if known:
        assert "existe déjà" in message["Subject"]
    else:
        assert "/confirmer/" in message.get_content()
    _wait_until_deleted(app)


def _wait_until_deleted(app) -> None:
    # The sender deletes the row right after the relay's 250; wait for its thread, not a clock.
    for thread in [t for t in threading.enumerate() if t.name == "wallet-mail"]:
        thread.join(5)
    assert _pending(app) == 0


def _queue(app, to="ana@example.org", body="Ouvrez https://wallet.test/confirmer/abc123secret") -> None:
    from wallet.db import new_session

    with app.app_context(), new_session(app) as session:
        mail.queue(session, to, "Sujet", body)
        session.commit()


def test_mail_the_relay_refused_is_retried_by_the_worker(app, smtp):
    from wallet.services import jobs

    app.config["MAIL_PORT"] = _closed_port()
    _queue(app)
    assert mail.deliver_pending(app) == 0  # connection refused: kept, retried later
    assert _pending(app) == 1
    assert mail.deliver_pending(app) == 0  # not due yet
    app.config["MAIL_PORT"] = smtp.port
    report = jobs.run_due(app, now=utcnow() + timedelta(minutes=3))
    assert report.mails == 1 and "1 mail(s) sent" in report.summary()
    assert smtp.messages[-1][0] == ["ana@example.org"] and _pending(app) == 0


def test_a_mail_that_keeps_failing_is_given_up(app):
    app.config["MAIL_PORT"] = _closed_port()
    _queue(app)
    now = utcnow()
    for _attempt in range(mail.MAX_ATTEMPTS):
        assert mail.deliver_pending(app, now=now) == 0
        now += timedelta(days=1)
    assert _pending(app) == 0


def test_the_stored_mail_is_encrypted(app):
    from wallet.db import new_session

    _queue(app)
    with new_session(app) as session:
        row = session.scalars(select(OutgoingMail)).one()
    assert "abc123secret" not in row.content and "Sujet" not in row.content


def test_two_senders_never_send_the_same_mail_twice(app, smtp):
    for n in range(5):
        _queue(app, to=f"person{n}@example.org")
    senders = [threading.Thread(target=mail.deliver_pending, args=(app,)) for _ in range(3)]
    for sender in senders:
        sender.start()
    for sender in senders:
        sender.join(10)
    assert sorted(to for (to,), _text in smtp.messages) == [f"person{n}@example.org" for n in range(5)]


def test_the_console_backend_prints_the_link(app, capsys):
    app.config["MAIL_BACKEND"] = "console"
    _queue(app)
    assert mail.deliver_pending(app) == 1
    assert "https://wallet.test/confirmer/abc123secret" in capsys.readouterr().out


def test_inline_sending_is_refused_in_production():
    from wallet.app.settings import ConfigError, load_config

    with pytest.raises(ConfigError, match="MAIL_SEND_INLINE"):
        load_config("/nonexistent", environ={}, test_config={
            "ENV": "production", "SECRET_KEY": "s" * 40, "TOKEN_KEYS": "k", "MAIL_SEND_INLINE": True})


def _closed_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
