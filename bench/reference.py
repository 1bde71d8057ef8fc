"""The app-side handle on the reference tools: a long-lived worker and one-shot processes.

All of them run `bench/refworker.py` under `bench/.venv-ref/bin/python`; nothing of the reference
tools is ever imported into this (the app's) interpreter.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Self

from .pipe import JsonPipe
from .refenv import ref_python

WORKER = Path(__file__).resolve().parent / "refworker.py"
OB2_CONTEXT = "https://w3id.org/openbadges/v2"


class ReferenceError(RuntimeError):
    pass


def map_args(context_url: str | None) -> list[str]:
    """`--map` arguments sending badgecheck's OB v2 context fetches to the loopback server."""
    return ["--map", f"{OB2_CONTEXT}={context_url}"] if context_url else []


class RefWorker(JsonPipe):
    """A warm reference process answering JSON commands (see refworker.py)."""

    def __init__(self, context_url: str | None = None) -> None:
        super().__init__([str(ref_python()), str(WORKER), "serve", *map_args(context_url)],
                         stderr=subprocess.DEVNULL)

    def call(self, **command) -> dict:
        self._send(command)
        answer = self._receive()
        if answer is None:
            raise ReferenceError(f"reference worker died during {command.get('op')}")
        if not answer.get("ok"):
            raise ReferenceError(answer.get("error", "reference worker error"))
        return answer

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def run_once(mode: str, argument: str, context_url: str | None = None,
             timeout: float = 120) -> tuple[int, dict]:
    """Run refworker.py in a fresh process; returns (exit code, its JSON answer)."""
    done = subprocess.run([str(ref_python()), str(WORKER), mode, argument, *map_args(context_url)],
                          capture_output=True, text=True, timeout=timeout, check=False)
    try:
        answer = json.loads(done.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        raise ReferenceError(f"reference {mode} failed: {done.stderr.strip()[-500:]}") from None
    return done.returncode, answer


def cold_command(argument: str, context_url: str | None = None) -> list[str]:
    return [str(ref_python()), str(WORKER), "verify", argument, *map_args(context_url)]
