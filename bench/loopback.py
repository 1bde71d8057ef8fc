"""The bench's loopback HTTP server (tests.fakes.server.FakeServer) in a process of its own.

Why a separate process: our side is measured inside the harness process, the reference inside its
worker process. A server thread in the harness would share our GIL and slow OUR requests only
(≈1.4 ms per hosted verify here), so the server lives in its own process and is driven over a pipe.

    python -m bench.loopback          (the app's venv, from the repo root)
stdin: one JSON command per line; stdout: one JSON answer per line.
    {"op": "route", "path": P, "body": BASE64, "content_type": T}
    {"op": "count"}                   -> {"count": total requests so far}
    {"op": "paths", "since": N}       -> {"paths": [paths of requests N, N+1, …]}
    {"op": "moodle", "awards": N, "email": E}
                                      -> {"urls": […], "texts": […]}: a Moodle 4.5 site
                                         (tests/fakes/field/moodle.py) awards one badge N times
    {"op": "quit"}
"""

from __future__ import annotations

import base64
import json
import logging
import sys
from pathlib import Path

from .pipe import JsonPipe

REPO_ROOT = Path(__file__).resolve().parents[1]


class RemoteServer(JsonPipe):
    """The harness side: FakeServer-like addressing, routes and request log, across the pipe."""

    def __init__(self) -> None:
        super().__init__([sys.executable, "-m", "bench.loopback"], cwd=REPO_ROOT)
        hello = self._read()
        self.origin: str = hello["origin"]
        self.authority: str = hello["authority"]

    def _read(self) -> dict:
        answer = self._receive()
        if answer is None:
            raise RuntimeError("bench loopback server died")
        return answer

    def _call(self, **command) -> dict:
        self._send(command)
        return self._read()

    def url(self, path: str = "/") -> str:
        return self.origin + path

    def route(self, path: str, body: bytes, content_type: str = "text/plain") -> None:
        self._call(op="route", path=path, body=base64.b64encode(body).decode(), content_type=content_type)

    def count(self) -> int:
        return self._call(op="count")["count"]

    def paths_since(self, index: int) -> list[str]:
        return self._call(op="paths", since=index)["paths"]

    def moodle(self, awards: int, email: str) -> dict:
        """A Moodle site on the server awarding one badge `awards` times: {"urls", "texts"}."""
        return self._call(op="moodle", awards=awards, email=email)

    stop = JsonPipe.close


def _serve() -> None:
    from tests.fakes.server import FakeServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)   # no access log
    server = FakeServer().start()
    out = sys.stdout
    out.write(json.dumps({"origin": server.origin, "authority": server.authority}) + "\n")
    out.flush()
    for line in sys.stdin:
        command = json.loads(line)
        op = command["op"]
        if op == "route":
            server.route(command["path"], base64.b64decode(command["body"]),
                         content_type=command["content_type"])
            answer: dict = {"ok": True}
        elif op == "count":
            answer = {"count": len(server.requests)}
        elif op == "paths":
            answer = {"paths": [seen.path for seen in server.requests[command["since"]:]]}
        elif op == "moodle":
            answer = _moodle(server, command["awards"], command["email"])
        elif op == "quit":
            out.write('{"ok": true}\n')
            out.flush()
            break
        else:
            answer = {"error": f"unknown op {op!r}"}
        out.write(json.dumps(answer) + "\n")
        out.flush()
    server.stop()


def _moodle(server, awards: int, email: str) -> dict:
    from tests.fakes.field.moodle import MoodleSite

    site = MoodleSite(server)
    badge = site.create_badge("Communiquer à l'oral")
    issued = [site.award(badge, email) for _ in range(awards)]
    return {"urls": [i.assertion_url for i in issued], "texts": [i.text for i in issued]}


if __name__ == "__main__":
    _serve()
