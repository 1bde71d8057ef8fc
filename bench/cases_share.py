"""Bench cases of the issue "Share with employers", section Performance.

The public badge page `/p/<token>` under gunicorn on loopback, 16 connections, next to the same
server's trivial `/healthz` in the same run (alternated: healthz, page, healthz, page; medians).

- data: seeded with the app's own services (register → confirm → import an OB 3.0 credential →
  create_share) into a temporary SQLite database, in a separate process
  (`python -m bench.cases_share seed DIR`), so the harness holds no app state;
- server: gunicorn (the app's venv), gthread workers, WALLET_DATABASE_URL/WALLET_INSTANCE_PATH set;
- load: `wrk` (installed with apt-get when missing and running as root), else a small Python load
  generator with 16 keep-alive connections (threads), reported as such.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from .context import APP_PYTHON, REPO_ROOT, Bench
from .pipe import stop_process
from .registry import Cell, Row, below, case

CONNECTIONS = 16
WORKERS = 2
THREADS = 4


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(workdir: Path, port: int) -> dict[str, str]:
    env = dict(os.environ)
    env.update({
        "WALLET_DATABASE_URL": f"sqlite:///{workdir / 'wallet.db'}",
        "WALLET_INSTANCE_PATH": str(workdir / "instance"),
        "WALLET_SECRET_KEY": "bench-secret-" + "x" * 40,
        "WALLET_BASE_URL": f"http://127.0.0.1:{port}",
        "WALLET_MAIL_BACKEND": "memory",
        "WALLET_RATELIMIT_STORAGE_URI": "memory://",
    })
    return env


def _ensure_wrk() -> str | None:
    found = shutil.which("wrk")
    if found:
        return found
    if hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("apt-get"):
        for command in (["apt-get", "install", "-y", "-q", "wrk"], ["apt-get", "update", "-q"],
                        ["apt-get", "install", "-y", "-q", "wrk"]):
            subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False,
                           env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"}, timeout=600)
            if shutil.which("wrk"):
                return shutil.which("wrk")
    return None


_UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0}


def _wrk(wrk: str, url: str, seconds: int) -> tuple[float, float, str]:
    out = subprocess.run([wrk, "-t2", f"-c{CONNECTIONS}", f"-d{seconds}s", "--latency", url],
                         capture_output=True, text=True, check=True, timeout=seconds + 60).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    value, unit = re.search(r"99%\s+([\d.]+)(us|ms|s)", out).groups()
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        raise RuntimeError(f"{url}: {errors.group(1)} non-2xx answers")
    return rps, float(value) * _UNITS[unit], "wrk"


def _python_load(url: str, seconds: int) -> tuple[float, float, str]:
    """16 keep-alive connections from threads; latencies of every request."""
    import http.client
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    latencies: list[float] = []
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds
    failures: list[str] = []

    def worker() -> None:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        mine: list[float] = []
        while time.perf_counter() < deadline:
            start = time.perf_counter()
            try:
                conn.request("GET", parts.path)
                response = conn.getresponse()
                response.read()
                if response.status != 200:
                    failures.append(str(response.status))
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
                continue
            mine.append(time.perf_counter() - start)
        with lock:
            latencies.extend(mine)

    started = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(CONNECTIONS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    if failures:
        raise RuntimeError(f"{url}: {len(failures)} non-200 answers")
    latencies.sort()
    return len(latencies) / elapsed, latencies[int(len(latencies) * 0.99) - 1], "python load generator"


def _wait_ready(url: str, proc: subprocess.Popen, timeout: float = 30) -> None:
    import urllib.request

    end = time.time() + timeout
    while time.time() < end:
        if proc.poll() is not None:
            raise RuntimeError("gunicorn exited: " + (proc.stderr.read() if proc.stderr else ""))
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("gunicorn did not answer")


@case("share-public-page", "public badge page /p/<token> under gunicorn + wrk, next to /healthz")
def share_public_page(bench: Bench):
    seconds = bench.reps(8, 3)
    workdir = Path(tempfile.mkdtemp(prefix="wallet-bench-share-"))
    proc = None
    try:
        port = _free_port()
        env = _env(workdir, port)
        seeded = subprocess.run([str(APP_PYTHON), "-m", "bench.cases_share", "seed"], check=False, cwd=REPO_ROOT, env=env,
                                capture_output=True, text=True, timeout=300)
        if seeded.returncode != 0:
            raise RuntimeError("seeding failed: " + seeded.stderr[-500:])
        token = json.loads(seeded.stdout.strip().splitlines()[-1])["token"]
        gunicorn = str(Path(APP_PYTHON).parent / "gunicorn")
        proc = subprocess.Popen([gunicorn, "-w", str(WORKERS), "-k", "gthread", "--threads", str(THREADS),
                                 "-b", f"127.0.0.1:{port}", "--log-level", "warning", "wsgi:app"],
                                cwd=REPO_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                text=True)
        base = f"http://127.0.0.1:{port}"
        page_url, health_url = f"{base}/p/{token}", f"{base}/healthz"
        _wait_ready(health_url, proc)
        _wait_ready(page_url, proc)
        wrk = _ensure_wrk()

        def load(url: str) -> tuple[float, float, str]:
            return _wrk(wrk, url, seconds) if wrk else _python_load(url, seconds)

        load(page_url)  # warm-up (templates, catalogs, connections)
        load(health_url)
        health, page = [], []
        for _ in range(2):
            health.append(load(health_url))
            page.append(load(page_url))
        tool = page[0][2]
        import urllib.request

        with urllib.request.urlopen(page_url, timeout=10) as answer:
            size = len(answer.read())
    except Exception as exc:  # noqa: BLE001 - reported in the table
        why = f"{type(exc).__name__}: {exc}"
        yield Row("public share page, 16 connections — req/s", Cell.failed(why), Cell.none(), "≥ ½ of /healthz")
        return
    finally:
        if proc is not None:
            stop_process(proc)
        shutil.rmtree(workdir, ignore_errors=True)

    page_rps = statistics.median(r for r, _p, _t in page)
    health_rps = statistics.median(r for r, _p, _t in health)
    page_p99 = statistics.median(p for _r, p, _t in page)
    health_p99 = statistics.median(p for _r, p, _t in health)
    notes = ((f"load: {tool}, {CONNECTIONS} connections, {seconds} s per run, medians of 2 alternated runs; "
             f"gunicorn {WORKERS} gthread workers × {THREADS} threads; page HTML {size} bytes"),)
    yield Row("public share page, 16 conn — req/s (ref: /healthz)", Cell(round(page_rps), "req/s"),
              Cell(round(health_rps), "req/s"), "≥ ½ of /healthz",
              lambda ours, ref: ours.value >= ref.value / 2 if ours.ok and ref.ok else None, notes)
    yield Row("public share page, 16 conn — p99 (ref: /healthz)", Cell.seconds(page_p99),
              Cell.seconds(health_p99), "< 50 ms", below(0.050))


# --- seeding (a separate process: `python -m bench.cases_share seed`, env from _env) ---------------

def _seed() -> None:
    import random

    from bench import fixtures
    from wallet import create_app
    from wallet.db import Base, engine, new_session
    from wallet.mail import outbox
    from wallet.models import User
    from wallet.services import accounts, sharing
    from wallet.services import badges as badge_service

    app = create_app()
    with app.app_context():
        Base.metadata.create_all(engine())
        with app.test_request_context(), new_session(app) as session:
            registered = accounts.register(session, "Ana Martin", fixtures.RECIPIENT, "un cheval bleu mange des pommes")
            link = re.search(r"https?://\S+", outbox(app)[-1].body).group(0)
            token = link.rstrip("/").rsplit("/", 1)[1]
            accounts.confirm_email(session, token)
            user = session.get(User, registered.user_id)
            credential = fixtures.ob3_did_key_credential(random.Random(7))
            item = badge_service.import_text(session, user, json.dumps(credential), app.extensions["wallet_http"])
            if item.outcome != "imported":
                raise SystemExit(f"import failed: {item}")
            _share, share_token = sharing.create_share(session, user, [item.badge_id])
    print(json.dumps({"token": share_token}))


if __name__ == "__main__":
    if sys.argv[1:] == ["seed"]:
        _seed()
