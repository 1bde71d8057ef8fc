"""Runs the REFERENCE tools (openbadges-bakery 2.0.0, badgecheck 1.2.0) for `make bench`.

This script runs under `bench/.venv-ref/bin/python` only; it imports nothing from the app, and from
the `bench` folder only `procmem.py` (stdlib only), as a top-level module: a script's folder is on
its path. The rest is the stdlib and the reference libraries.

Modes:
  refworker.py serve [--map URL=TARGET]...      long-lived worker: one JSON command per stdin line,
                                                one JSON answer per stdout line (warm measurements)
  refworker.py verify FILE|URL [--map URL=TARGET]...   one verification, then exit (cold process)
  refworker.py mem-unbake FILE                  peak RSS growth of one bakery `unbake` (fresh process)

Contexts: badgecheck hard-codes the OB v2 context URL (`openbadges.verifier.openbadges_context.
OPENBADGES_CONTEXT_V2_URI` = https://w3id.org/openbadges/v2) and re-fetches it through `requests`
(a fresh requests-cache memory session per `verify`) every time. The bench machine has no internet,
so `--map https://w3id.org/openbadges/v2=http://127.0.0.1:PORT/…` patches `requests.Session.request`
IN THIS PROCESS ONLY to send requests for that URL to a loopback server that serves the context
file from the context store. badgecheck still sees (and caches under) the canonical URL; it pays
for a real HTTP round trip on loopback, as it would pay for one (slower) on the internet.

Worker commands:
  {"op": "load", "key": K, "path": P}       keep a file's bytes in memory under K
  {"op": "unbake", "key": K}                time bakery.unbake(BytesIO(bytes))
  {"op": "verify", "input": URL}            time openbadges.verify(URL)
  {"op": "verify", "key": K}                time openbadges.verify(BytesIO(bytes)) (baked image)
  {"op": "rss"}                             current RSS in bytes
  {"op": "quit"}
Every answer carries "ok"; timed answers carry "seconds" (time.perf_counter around the call only).
"""

from __future__ import annotations

import io
import json
import os
import sys
import time

import procmem


def _apply_url_map(pairs: list[str]) -> None:
    if not pairs:
        return
    mapping = dict(pair.split("=", 1) for pair in pairs)
    import requests

    original = requests.Session.request

    def request(self, method, url, *args, **kwargs):
        target = mapping.get(str(url).split("#", 1)[0])
        return original(self, method, target or url, *args, **kwargs)

    requests.Session.request = request


def _summary(report: dict) -> dict:
    rep = report.get("report", {})
    messages = [m.get("result", "") for m in rep.get("messages", []) if m.get("messageLevel") == "ERROR"]
    return {"valid": bool(rep.get("valid")), "errors": rep.get("errorCount"), "messages": messages[:3]}


def _serve(out) -> None:
    from openbadges import verify
    from openbadges_bakery import unbake

    files: dict[str, bytes] = {}
    for line in sys.stdin:
        if not line.strip():
            continue
        command = json.loads(line)
        op = command.get("op")
        try:
            if op == "load":
                with open(command["path"], "rb") as handle:
                    files[command["key"]] = handle.read()
                answer = {"ok": True, "size": len(files[command["key"]])}
            elif op == "unbake":
                data = files[command["key"]]
                start = time.perf_counter()
                result = unbake(io.BytesIO(data))
                seconds = time.perf_counter() - start
                answer = {"ok": True, "seconds": seconds, "found": result is not None,
                          "length": len(result) if result else 0}
            elif op == "verify":
                source = io.BytesIO(files[command["key"]]) if "key" in command else command["input"]
                start = time.perf_counter()
                report = verify(source)
                seconds = time.perf_counter() - start
                answer = {"ok": True, "seconds": seconds, **_summary(report)}
            elif op == "rss":
                answer = {"ok": True, "rss": procmem.rss()}
            elif op == "quit":
                out.write(json.dumps({"ok": True}) + "\n")
                out.flush()
                return
            else:
                answer = {"ok": False, "error": f"unknown op {op!r}"}
        except Exception as exc:  # noqa: BLE001 - report it and keep serving
            answer = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
        out.write(json.dumps(answer) + "\n")
        out.flush()


def _verify_once(source: str, out) -> int:
    from openbadges import verify

    if os.path.exists(source):
        with open(source, "rb") as handle:
            report = verify(io.BytesIO(handle.read()))
    else:
        report = verify(source)
    summary = _summary(report)
    out.write(json.dumps(summary) + "\n")
    out.flush()
    return 0 if summary["valid"] else 1


def _mem_unbake(path: str, out) -> int:
    from openbadges_bakery import unbake

    with open(path, "rb") as handle:
        data = handle.read()
    before = procmem.rss()
    exact = procmem.reset_peak()
    start = time.perf_counter()
    result = unbake(io.BytesIO(data))
    seconds = time.perf_counter() - start
    # Without clear_refs the high-water mark may predate the unbake ("exact": false).
    peak = procmem.peak()
    out.write(json.dumps({"growth": max(0, peak - before), "exact": exact, "seconds": seconds,
                          "found": result is not None}) + "\n")
    out.flush()
    return 0


def main(argv: list[str]) -> int:
    # The protocol owns the real stdout; anything the libraries print goes to stderr.
    out = os.fdopen(os.dup(1), "w")
    sys.stdout = sys.stderr
    mode, rest = argv[0], argv[1:]
    maps = [rest[i + 1] for i, arg in enumerate(rest) if arg == "--map"]
    positional = [arg for i, arg in enumerate(rest) if arg != "--map" and (i == 0 or rest[i - 1] != "--map")]
    _apply_url_map(maps)
    if mode == "serve":
        _serve(out)
        return 0
    if mode == "verify":
        return _verify_once(positional[0], out)
    if mode == "mem-unbake":
        return _mem_unbake(positional[0], out)
    raise SystemExit(f"unknown mode {mode!r}")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
