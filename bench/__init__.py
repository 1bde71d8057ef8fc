"""`make bench`: the benchmark harness (`.venv/bin/python -m bench [--quick]`).

Layout:
  __main__.py     command line; prints the table (case | ours | reference | ratio | target | OK?)
  registry.py     the case registry (`@case`), rows, cells, judges; CASE_MODULES lists case modules
  cases_core.py   the "Open Badges core" cases (unbake PNG/SVG, verify hosted OB 2.0, OB 3.0 DI, cold CLI)
  cases_reverify.py  the worker at region scale: 5 workers on PostgreSQL, shared HTTP caches (issue 17)
  context.py      what a case gets: repetitions, fixtures, the loopback FakeServer, the reference worker
  fixtures.py     images, keys, badges and credentials generated at bench time into bench/.work/
  fresh.py        cases measured in a fresh process (`python -m bench.cases_X run N`), a throwaway app
  measure.py      alternate ours/reference call by call, medians, formatting
  pipe.py         a child process driven by JSON lines (the loopback server, the reference worker)
  probe.py        fresh-process measurements of our side (peak memory, 1 000 verifications)
  procmem.py      RSS and its peak from /proc (stdlib only: refworker.py imports it too)
  refenv.py       creates bench/.venv-ref (Python 3.11) with openbadges-bakery and badgecheck, stamped
  reference.py    the app-side handle on the reference worker and one-shot reference processes
  refworker.py    runs INSIDE bench/.venv-ref: the reference tools, never imported by the app
  requirements-reference.txt   the reference tools' pinned dependencies (with Python 3.11 overrides)

Timings are never asserted in tests (STYLE.md); they live here.
"""
