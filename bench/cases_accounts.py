"""Bench cases of the hardening issue (SECURITY.md T62): does a request tell whether an address
has an account by the time it takes?

The app is served by werkzeug on loopback (a thread of this process), mail goes to a real SMTP
relay on loopback that answers 50 ms late (tests/fakes/smtp.py), as a relay across a network
would: the mail is sent after the response (wallet/mail.py), so the relay's delay must not show.
Known and new addresses alternate call by call; the row reports the ratio of their medians.
"""

from __future__ import annotations

import logging
import os
import statistics
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

from .registry import Cell, Row, case

PASSWORD = "une phrase de passe assez longue"
KNOWN = "known@example.org"


def _within(low: float, high: float):
    def judge(ours: Cell, ref: Cell) -> bool | None:
        return low <= ours.value <= high if ours.ok else None

    return judge


def _post(base: str, path: str, **form: str) -> float:
    data = urllib.parse.urlencode(form).encode()
    start = time.perf_counter()
    with urllib.request.urlopen(urllib.request.Request(base + path, data=data), timeout=30) as answer:
        answer.read()
    return time.perf_counter() - start


@case("accounts-timing", "registration and reset: known vs new address, SMTP relay 50 ms away (T62)")
def accounts_timing(bench) -> list[Row]:
    from tests.browser.helpers import serve
    from tests.fakes.smtp import FakeSmtp
    from wallet import create_app
    from wallet.db import Base, engine

    runs = bench.reps(30, 5)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no access log in the table's output
    with tempfile.TemporaryDirectory(prefix="wallet-bench-accounts-") as tmp, FakeSmtp(greeting_delay=0.05) as smtp:
        folder = Path(tmp)
        os.environ["WALLET_INSTANCE_PATH"] = str(folder / "instance")
        app = create_app({
            "SECRET_KEY": "bench-" + "x" * 40, "DATABASE_URL": f"sqlite:///{folder / 'w.db'}",
            "MAIL_BACKEND": "smtp", "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": smtp.port, "MAIL_USE_TLS": False,
            "RATELIMIT_ENABLED": False, "WTF_CSRF_ENABLED": False})
        with app.app_context():
            Base.metadata.create_all(engine())
        with serve(app) as base:
            def register(address: str) -> float:
                return _post(base, "/inscription", display_name="Bench", email=address, password=PASSWORD,
                             password_confirm=PASSWORD)

            def reset(address: str) -> float:
                return _post(base, "/mot-de-passe-oublie", email=address)

            register(KNOWN)
            counter = iter(range(10**6))
            registered: list[str] = []  # the new addresses of the registration rounds
            rows = []
            for label, call in (("registration", register), ("password reset", reset)):
                known, new = [], []
                for i in range(runs + 2):  # two warm-up rounds; the order flips every round
                    fresh = f"new{next(counter)}@example.org"
                    if call is register:
                        registered.append(fresh)
                        pair = [(known, KNOWN), (new, fresh)]
                    else:  # a different known address each time: resets are capped per address
                        pair = [(known, registered.pop()), (new, fresh)]
                    for values, address in (pair if i % 2 else pair[::-1]):
                        seconds = call(address)
                        if i >= 2:
                            values.append(seconds)
                k, n = statistics.median(known), statistics.median(new)
                rows += [
                    Row(f"{label}: known address", Cell.seconds(k, f"n={runs}"), Cell.none(), "printed"),
                    Row(f"{label}: new address", Cell.seconds(n, f"n={runs}"), Cell.none(), "printed"),
                    Row(f"  {label}: known/new, ratio of medians", Cell(round(k / n, 2), "count"), Cell.none(),
                        "0.5–2", judge=_within(0.5, 2.0)),
                ]
        # Let the after-response senders finish before the relay and the database go away.
        deadline = time.monotonic() + 10
        while len(smtp.messages) < 3 * (runs + 2) + 1 and time.monotonic() < deadline:
            time.sleep(0.05)
    return rows
