"""What every case gets: repetitions, fixtures, the loopback server, the reference worker, our API."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from . import fixtures
from .loopback import RemoteServer
from .reference import RefWorker

REPO_ROOT = fixtures.REPO_ROOT
APP_PYTHON = Path(sys.executable)


class OursMissing(Exception):
    """Our side is not importable (yet): the cell says "n/a (not implemented)"."""


@dataclass
class Bench:
    quick: bool
    files: fixtures.Files
    server: RemoteServer             # tests.fakes.server.FakeServer, in its own process
    context_url: str                 # the OB v2 context, served on loopback for badgecheck
    cache: dict[str, Any] = field(default_factory=dict)   # fixtures shared between cases
    _closers: list = field(default_factory=list)

    def reps(self, full: int, quick: int) -> int:
        return quick if self.quick else full

    @cached_property
    def ref(self) -> RefWorker:
        worker = RefWorker(self.context_url)
        self._closers.append(worker.close)
        return worker

    def close(self) -> None:
        for close in reversed(self._closers):
            close()

    # our side --------------------------------------------------------------------------------
    @staticmethod
    def ours(module: str, name: str) -> Any:
        """`from module import name`, or OursMissing when it is not there yet."""
        try:
            imported = __import__(module, fromlist=[name])
            return getattr(imported, name)
        except (ImportError, AttributeError, NotImplementedError) as exc:
            raise OursMissing(f"{module}.{name}: {type(exc).__name__}: {exc}") from None

    @staticmethod
    def probe(*args: str, timeout: float = 600) -> dict:
        """Run `python -m bench.probe ARGS` in a fresh app-venv process (see probe.py)."""
        done = subprocess.run([str(APP_PYTHON), "-m", "bench.probe", *args], cwd=REPO_ROOT,
                              capture_output=True, text=True, timeout=timeout, check=False)
        lines = done.stdout.strip().splitlines()
        answer = json.loads(lines[-1]) if lines else {}
        if "missing" in answer:
            raise OursMissing(answer["missing"])
        if done.returncode != 0:
            raise RuntimeError(f"probe {args[0]} failed: {done.stderr.strip()[-500:]}")
        return answer

    # the loopback server ------------------------------------------------------------------------
    def serve(self, documents: dict[str, tuple[bytes, str]]) -> None:
        for path, (body, content_type) in documents.items():
            self.server.route(path, body, content_type=content_type)


def open_bench(quick: bool) -> Bench:
    files = fixtures.build_files()
    server = RemoteServer()
    context_path = "/contexts/openbadges-v2"
    server.route(context_path, fixtures.context_files()[fixtures.OB2_CONTEXT].read_bytes(),
                 content_type="application/ld+json")
    bench = Bench(quick, files, server, server.url(context_path))
    bench._closers.append(server.stop)
    return bench


def app_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(extra)
    return env
