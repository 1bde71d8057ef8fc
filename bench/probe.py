"""Fresh-process measurements of OUR side (run with the app's `.venv` python, from the repo root).

    python -m bench.probe mem-unbake FILE         peak RSS growth (and tracemalloc peak) of one unbake
    python -m bench.probe verify-loop FILE N      N warm verifications: per-call times, RSS before/after

Prints one JSON line. When our code is not importable yet: {"missing": "..."} and exit code 3.
"""

from __future__ import annotations

import json
import sys
import time
import tracemalloc

from .procmem import peak, reset_peak, rss

MIB = 1024 * 1024


def mem_unbake(path: str) -> dict:
    from wallet.openbadges import unbake

    with open(path, "rb") as handle:
        data = handle.read()
    before = rss()
    exact = reset_peak()
    start = time.perf_counter()
    result = unbake(data)
    seconds = time.perf_counter() - start
    growth = max(0, peak() - before)
    del result
    tracemalloc.start()
    unbake(data)
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {"growth": growth, "exact": exact, "seconds": seconds, "traced_peak": traced_peak}


def verify_loop(path: str, count: int, warmup: int = 20) -> dict:
    from wallet.openbadges import verify

    with open(path, "rb") as handle:
        data = handle.read()
    for _ in range(warmup):
        verify(data)
    before = rss()
    times = []
    for _ in range(count):
        start = time.perf_counter()
        verify(data)
        times.append(time.perf_counter() - start)
    after = rss()
    final = verify(data).to_dict()["status"]
    return {"times": times, "rss_before": before, "rss_after": after, "status": final}


def main(argv: list[str]) -> int:
    try:
        if argv[0] == "mem-unbake":
            answer = mem_unbake(argv[1])
        elif argv[0] == "verify-loop":
            answer = verify_loop(argv[1], int(argv[2]))
        else:
            raise SystemExit(f"unknown probe {argv[0]!r}")
    except (ImportError, AttributeError, NotImplementedError) as exc:
        print(json.dumps({"missing": f"{type(exc).__name__}: {exc}"}))
        return 3
    print(json.dumps(answer))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
