"""A child process driven over its standard streams: one JSON command per stdin line, one JSON answer
per stdout line (the loopback server, bench/loopback.py; the reference worker, bench/refworker.py)."""

from __future__ import annotations

import json
import subprocess
from typing import Any


def stop_process(proc: subprocess.Popen, *, terminate: bool = True, timeout: float = 10) -> None:
    """End a child process: SIGTERM (unless it was asked to quit already), wait `timeout` seconds,
    then kill it."""
    if terminate:
        proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


class JsonPipe:
    def __init__(self, command: list[str], **popen: Any) -> None:
        self._proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                      bufsize=1, **popen)

    def _send(self, command: dict) -> None:
        assert self._proc.stdin
        self._proc.stdin.write(json.dumps(command) + "\n")
        self._proc.stdin.flush()

    def _receive(self) -> dict | None:
        """The next answer, or None when the process has gone."""
        assert self._proc.stdout
        line = self._proc.stdout.readline()
        return json.loads(line) if line else None

    def close(self) -> None:
        """Ask the process to quit and wait for it (10 s at most, then kill it)."""
        if self._proc.poll() is not None:
            return
        try:
            self._send({"op": "quit"})
            self._receive()
        except (OSError, ValueError):
            pass
        stop_process(self._proc, terminate=False)
