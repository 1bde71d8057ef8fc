"""A real Redis (Debian's `redis-server`) on 127.0.0.1, a free port and a temporary directory,
for the rate-limit tests that must hold across processes (WALLET_RATELIMIT_STORAGE_URI=redis://…).

    with RedisServer(tmp_dir) as server:
        server.url            # redis://127.0.0.1:<port>/0
        server.client()       # a redis-py client, for checks

Nothing is persisted (no RDB, no AOF); the process is stopped and the directory left to its owner.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path
from typing import Self

BINARY = "redis-server"
REQUIRE_ENV = "WALLET_REQUIRE_REDIS"  # set by .ci/run: a missing redis-server is then a failure


def available() -> bool:
    return shutil.which(BINARY) is not None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class RedisServer:
    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self.port = _free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._process: subprocess.Popen | None = None

    def __enter__(self) -> Self:
        self.directory.mkdir(parents=True, exist_ok=True)
        self._process = subprocess.Popen(
            [BINARY, "--bind", "127.0.0.1", "--port", str(self.port), "--dir", str(self.directory),
             "--save", "", "--appendonly", "no", "--daemonize", "no", "--protected-mode", "yes",
             "--loglevel", "warning", "--logfile", str(self.directory / "redis.log")],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 15
        while True:  # readiness, not a timed wait: answer to PING or fail with the log
            if self._process.poll() is not None or time.monotonic() > deadline:
                log = (self.directory / "redis.log")
                self.__exit__()
                raise RuntimeError(f"redis-server did not start: {log.read_text() if log.exists() else '?'}")
            try:
                if self.client().ping():
                    return self
            except OSError:
                pass
            except Exception as exc:  # redis.ConnectionError is not an OSError
                if type(exc).__name__ not in ("ConnectionError", "BusyLoadingError", "TimeoutError"):
                    raise
            time.sleep(0.02)

    def client(self):
        import redis

        return redis.Redis.from_url(self.url, socket_timeout=2, socket_connect_timeout=2)

    def __exit__(self, *exc: object) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(10)
            except subprocess.TimeoutExpired:  # pragma: no cover
                self._process.kill()
                self._process.wait(5)
        self._process = None
