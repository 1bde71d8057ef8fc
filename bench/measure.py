"""Timing helpers: alternate ours and the reference call by call, take medians."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def alternate(runs: int, ours: Callable[[], float] | None, reference: Callable[[], float] | None,
              warmup: int = 1) -> tuple[list[float], list[float]]:
    """Call ours, then the reference, `runs` times (after `warmup` uncounted rounds).

    Each callable returns the seconds it measured (so a reference call can report the time taken
    inside its own process, without the pipe's round trip). The order flips every round so that
    neither side always runs right after the other's garbage.
    """
    mine: list[float] = []
    theirs: list[float] = []
    for i in range(warmup + runs):
        pair = [("ours", ours), ("reference", reference)]
        if i % 2:
            pair.reverse()
        for name, fn in pair:
            if fn is None:
                continue
            seconds = fn()
            if i >= warmup:
                (mine if name == "ours" else theirs).append(seconds)
    return mine, theirs


def median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def fmt_seconds(value: float) -> str:
    if value < 1e-3:
        return f"{value * 1e6:.1f} µs"
    if value < 1:
        return f"{value * 1e3:.2f} ms"
    return f"{value:.2f} s"
