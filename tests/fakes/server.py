"""A real HTTP server on 127.0.0.1 for tests: badge hosts, issuers, partner backpacks.

    with FakeServer() as host:
        host.json("/assertion", {...})               # 200 application/ld+json
        host.route("/gone", status=410)
        host.route("/img", body=png, content_type="image/png")
        host.redirect("/old", "/new")
        host.handler("/dyn", lambda request: Response(...))   # any werkzeug Response
        url = host.url("/assertion")
        assert host.hits["/assertion"] == 1

Routes can be changed while the server runs. Every request is counted in `hits` by path and kept
in `requests` (method, path, headers, body) so tests can assert what crossed the wire.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Self

from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response


@dataclass
class Seen:
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes


@dataclass
class FakeServer:
    host: str = "127.0.0.1"
    routes: dict[str, Callable[[Request], Response]] = field(default_factory=dict)
    hits: Counter = field(default_factory=Counter)
    requests: list[Seen] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._server = make_server(self.host, 0, self._app, threaded=True)
        self.port = self._server.server_port
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.01},
                                        daemon=True)

    # lifecycle -------------------------------------------------------------------------------
    def start(self) -> Self:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # addressing ------------------------------------------------------------------------------
    @property
    def origin(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def authority(self) -> str:
        return f"{self.host}:{self.port}"

    def url(self, path: str = "/") -> str:
        return self.origin + path

    # routes ----------------------------------------------------------------------------------
    def handler(self, path: str, fn: Callable[[Request], Response]) -> None:
        self.routes[path] = fn

    def route(self, path: str, body: bytes | str = b"", status: int = 200,
              content_type: str = "text/plain", headers: dict[str, str] | None = None) -> None:
        data = body.encode() if isinstance(body, str) else body

        def fn(request: Request) -> Response:
            return Response(data, status=status, content_type=content_type, headers=headers or {})

        self.routes[path] = fn

    def json(self, path: str, doc: object, status: int = 200,
             content_type: str = "application/ld+json", headers: dict[str, str] | None = None) -> None:
        self.route(path, json.dumps(doc), status=status, content_type=content_type, headers=headers)

    def redirect(self, path: str, location: str, status: int = 302) -> None:
        target = location if "://" in location else self.url(location)
        self.route(path, b"", status=status, headers={"Location": target})

    def remove(self, path: str) -> None:
        self.routes.pop(path, None)

    # wsgi ------------------------------------------------------------------------------------
    def _app(self, environ, start_response):
        request = Request(environ)
        with self._lock:
            self.hits[request.path] += 1
            self.requests.append(Seen(request.method, request.path, request.query_string.decode(),
                                      dict(request.headers), request.get_data()))
        fn = self.routes.get(request.path)
        response = fn(request) if fn else Response("not found", status=404)
        return response(environ, start_response)
