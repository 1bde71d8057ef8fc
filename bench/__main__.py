"""`make bench`: `.venv/bin/python -m bench [--quick] [--only ID,...] [--list] [--strict]` (repo root).

Sets up the reference tools in bench/.venv-ref on first use (see bench/refenv.py), generates the
fixtures in bench/.work/, starts a loopback server, runs every registered case (bench/registry.py)
and prints one table. Exit code 0, or with --strict 1 when a target was missed or could not be met.
"""

from __future__ import annotations

import argparse
import importlib
import os
import platform
import sys
import time
import traceback

from .context import OursMissing, open_bench
from .refenv import ensure_reference_env
from .registry import CASE_MODULES, CASES, Cell, Row
from .table import render


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _load_cases() -> None:
    for module in CASE_MODULES:
        importlib.import_module(module)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions (a smoke run)")
    parser.add_argument("--only", default="", help="comma-separated case ids (see --list)")
    parser.add_argument("--list", action="store_true", help="list the case ids and exit")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args(argv)

    _load_cases()
    if args.list:
        for case in CASES:
            print(f"{case.id:28} {case.title}")
        return 0
    wanted = {item.strip() for item in args.only.split(",") if item.strip()}
    unknown = wanted - {case.id for case in CASES}
    if unknown:
        parser.error(f"unknown case(s): {', '.join(sorted(unknown))} (see --list)")
    selected = [case for case in CASES if not wanted or case.id in wanted]

    ensure_reference_env(_log)
    load_before = os.getloadavg()[0]
    bench = open_bench(args.quick)
    rows: list[Row] = []
    started = time.perf_counter()
    try:
        for case in selected:
            _log(f"bench: {case.id} …")
            try:
                rows.extend(case.fn(bench))
            except OursMissing as exc:
                rows.append(Row(case.title, Cell.missing_ours(str(exc)), Cell.none(), "—"))
            except Exception as exc:  # noqa: BLE001 - one broken case must not hide the others
                _log(traceback.format_exc())
                rows.append(Row(case.title, Cell.failed(f"{type(exc).__name__}: {exc}"),
                                Cell.failed("case aborted"), "—"))
    finally:
        bench.close()

    mode = "quick" if args.quick else "full"
    cores = os.cpu_count() or 1
    print(f"Open Badges wallet — make bench ({mode}; Python {platform.python_version()}, "
          f"{platform.machine()}, {cores} cores, load {load_before:.2f} → {os.getloadavg()[0]:.2f}; "
          f"{len(selected)} case(s) in {time.perf_counter() - started:.0f} s)")
    if load_before > cores / 2:
        print("warning: the machine was busy before the run (1-minute load above half the cores): "
              "timings and ratios are noisy; run again on a quiet machine")
    print("reference: openbadges-bakery 2.0.0 (unbake), badgecheck 1.2.0 (verify) in bench/.venv-ref; "
          "ratio = reference ÷ ours (higher is better for ours)")
    print()
    print(render(rows))
    missed = [row for row in rows if row.verdict is not True and row.target != "—"]
    return 1 if args.strict and missed else 0


if __name__ == "__main__":
    sys.exit(main())
