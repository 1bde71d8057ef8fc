"""The app as the load bench serves it with gunicorn: `gunicorn bench.region.served:app`.

Two things differ from `wsgi:app`, both bench-only:
- ProxyFix trusts one X-Forwarded-For hop, as production does behind its reverse proxy: every
  simulated person sends its own client address (TEST-NET documentation addresses, a header
  only; all traffic is on 127.0.0.1), so the per-address rate limits count per person, in Redis.
- Every SQL statement is timed: each response says `X-Bench-DB: <ms>;<statements>`, and each
  worker writes the time per statement (with the parameters of its slowest run, for EXPLAIN) to
  `$REGION_STATS_DIR/queries-<pid>.json`.
"""

from __future__ import annotations

import atexit
import json
import os
import threading
import time
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import Engine
from werkzeug.middleware.proxy_fix import ProxyFix

from wallet import create_app

_local = threading.local()
_stats: dict[str, list] = {}
_lock = threading.Lock()
STATS_DIR = Path(os.environ.get("REGION_STATS_DIR", "/tmp"))
_last_dump = [time.monotonic()]


@event.listens_for(Engine, "before_cursor_execute")
def _before(conn, cursor, statement, parameters, context, executemany):
    conn.info.setdefault("bench_started", []).append(time.perf_counter())


@event.listens_for(Engine, "after_cursor_execute")
def _after(conn, cursor, statement, parameters, context, executemany):
    elapsed = time.perf_counter() - conn.info["bench_started"].pop()
    if getattr(_local, "active", False):
        _local.db += elapsed
        _local.count += 1
    with _lock:
        entry = _stats.get(statement)
        if entry is None:
            entry = _stats[statement] = [0, 0.0, 0.0, None]
        entry[0] += 1
        entry[1] += elapsed
        if elapsed > entry[2]:
            entry[2] = elapsed
            entry[3] = _jsonable(parameters)


def _jsonable(parameters):
    try:
        json.dumps(parameters, default=str)
        return json.loads(json.dumps(parameters, default=str))
    except (TypeError, ValueError):
        return None


def dump() -> None:
    with _lock:
        data = {sql: {"calls": n, "total_s": total, "max_s": worst, "params": params}
                for sql, (n, total, worst, params) in _stats.items()}
    STATS_DIR.mkdir(parents=True, exist_ok=True)
    target = STATS_DIR / f"queries-{os.getpid()}.json"
    target.with_suffix(".tmp").write_text(json.dumps(data))
    target.with_suffix(".tmp").replace(target)


atexit.register(dump)

flask_app = create_app()


class Timed:
    def __init__(self, wsgi):
        self.wsgi = wsgi

    def __call__(self, environ, start_response):
        _local.active, _local.db, _local.count = True, 0.0, 0

        def start(status, headers, exc_info=None):
            headers.append(("X-Bench-DB", f"{_local.db * 1000:.2f};{_local.count}"))
            return start_response(status, headers, exc_info)

        try:
            # The body is rendered before start_response (Flask), so the header holds the request's total.
            return self.wsgi(environ, start)
        finally:
            _local.active = False
            if time.monotonic() - _last_dump[0] > 5:
                _last_dump[0] = time.monotonic()
                dump()


app = Timed(ProxyFix(flask_app.wsgi_app, x_for=1))
flask_app.wsgi_app = app
app = flask_app
