"""Cases measured in a fresh process of their own (bench/cases_host.py, bench/cases_sync.py).

The harness side (`fresh_case`) runs `python -m bench.<module> run COUNT` a few times and reads the
JSON answer each prints on its last line; the measured side (`main`) builds a throwaway wallet
(`throwaway_app`) with one learner (`add_learner`) before it times anything.
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .registry import Cell, Row

REPO_ROOT = Path(__file__).resolve().parents[1]
LEARNER = "ana@example.org"


class RunFailed(RuntimeError):
    """A measured process failed; the message is the end of what it printed."""


def fresh_runs(module: str, count: int, runs: int) -> list[dict]:
    """The answers of `runs` runs of `python -m MODULE run COUNT`, each in a fresh process."""
    answers = []
    for _ in range(runs):
        done = subprocess.run([sys.executable, "-m", module, "run", str(count)], cwd=REPO_ROOT,
                              capture_output=True, text=True, timeout=900, check=False)
        lines = done.stdout.strip().splitlines()
        if done.returncode != 0 or not lines:
            raise RunFailed((done.stderr or done.stdout).strip()[-300:])
        answers.append(json.loads(lines[-1]))
    return answers


def fresh_case(module: str, count: int, label: str):
    """Make `report(answers, runs) -> rows` a case `fn(bench)` that first gathers the answers of
    `bench.reps(3, 1)` fresh runs of MODULE; a failed run gives one failed row, `label`."""
    def wrap(report: Callable[[list[dict], int], Iterable[Row]]) -> Callable[[Any], Iterable[Row]]:
        @functools.wraps(report)
        def measured(bench) -> Iterable[Row]:
            runs = bench.reps(3, 1)
            try:
                answers = fresh_runs(module, count, runs)
            except RunFailed as failed:
                return [Row(label, Cell.failed(str(failed)), Cell.none(), "—")]
            return report(answers, runs)

        return measured

    return wrap


def main(module: str, run: Callable[[int], dict], default_count: int) -> None:
    """The measured process's command line: `run COUNT` prints run(COUNT) as one JSON line."""
    if len(sys.argv) >= 2 and sys.argv[1] == "run":
        sys.path.insert(0, str(REPO_ROOT))
        print(json.dumps(run(int(sys.argv[2]) if len(sys.argv) > 2 else default_count)))
    else:
        print(f"usage: python -m {module} run [COUNT]", file=sys.stderr)
        sys.exit(2)


@contextmanager
def throwaway_app(**config: Any) -> Iterator[Any]:
    """A wallet on SQLite in a temporary folder, its tables created; `config` adds to the bench's."""
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["WALLET_INSTANCE_PATH"] = str(Path(tmp) / "instance")
        from wallet import create_app
        from wallet.db import Base, engine

        app = create_app({"TESTING": True, "SECRET_KEY": "bench-" + "x" * 32, "MAIL_BACKEND": "memory",
                          "DATABASE_URL": f"sqlite:///{Path(tmp) / 'wallet.db'}",
                          "RATELIMIT_STORAGE_URI": "memory://", **config})
        with app.app_context():
            Base.metadata.create_all(engine())
        yield app


def add_learner(session, password_hash: str):
    """Ana, with her verified address LEARNER, committed."""
    from wallet.models import Email, User, utcnow

    user = User(display_name="Ana", password_hash=password_hash)
    user.emails.append(Email(address=LEARNER, normalized=LEARNER, is_primary=True, verified_at=utcnow()))
    session.add(user)
    session.commit()
    return user
