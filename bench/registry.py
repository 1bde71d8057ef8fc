"""The registry of bench cases, and the rows they report.

A case is a function `fn(bench: Bench) -> Iterable[Row]` registered with `@case(...)`. Cases live
in modules listed in `CASE_MODULES` (bench/__main__ imports them in that order); a later issue adds
its own module (e.g. `bench.cases_import` for "import 50 badges", `bench.cases_pages` for the wallet
page render and the public page under gunicorn + wrk, `bench.cases_eligibility`) and appends it here.

Rules for a case:
- measure ours and the reference in the SAME run, alternating them call by call, and report medians
  (`bench.measure.alternate`);
- time with `time.perf_counter` around the measured call only;
- when our side is not importable yet, report `Cell.missing()` ("n/a (not implemented)") — never a
  made-up number.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

CASE_MODULES = ["bench.cases_core", "bench.cases_terms", "bench.cases_field", "bench.cases_wallet", "bench.cases_sync",
                "bench.cases_share", "bench.cases_host", "bench.cases_accounts", "bench.cases_reverify",
                "bench.cases_page_weight"]


@dataclass(frozen=True)
class Cell:
    """One measured value: `value` in `unit` ("s", "MiB", "count"), or a reason it is missing."""

    value: float | None
    unit: str = "s"
    missing: str | None = None
    detail: str = ""

    @classmethod
    def seconds(cls, value: float, detail: str = "") -> Cell:
        return cls(value, "s", None, detail)

    @classmethod
    def mib(cls, value: float, detail: str = "") -> Cell:
        return cls(value, "MiB", None, detail)

    @classmethod
    def none(cls) -> Cell:
        return cls(None, "", "—")

    @classmethod
    def missing_ours(cls, why: str = "") -> Cell:
        return cls(None, "", "n/a (not implemented)", why)

    @classmethod
    def failed(cls, why: str) -> Cell:
        return cls(None, "", "n/a (failed)", why)

    @property
    def ok(self) -> bool:
        return self.value is not None


@dataclass(frozen=True)
class Row:
    case: str
    ours: Cell
    reference: Cell
    target: str
    # judge(ours, reference) -> True/False; None when it cannot be judged (a cell is missing)
    judge: Callable[[Cell, Cell], bool | None] = lambda ours, ref: None
    notes: tuple[str, ...] = ()

    @property
    def ratio(self) -> float | None:
        if self.ours.ok and self.reference.ok and self.ours.value:
            return self.reference.value / self.ours.value
        return None

    @property
    def verdict(self) -> bool | None:
        if not self.ours.ok:
            return None
        return self.judge(self.ours, self.reference)


@dataclass(frozen=True)
class Case:
    id: str
    title: str
    fn: Callable[..., Iterable[Row]]
    tags: tuple[str, ...] = field(default_factory=tuple)


CASES: list[Case] = []


def case(id: str, title: str, tags: tuple[str, ...] = ()):
    def register(fn):
        if any(existing.id == id for existing in CASES):
            raise ValueError(f"bench case {id!r} registered twice")
        CASES.append(Case(id, title, fn, tags))
        return fn

    return register


# Judges ---------------------------------------------------------------------------------------

def faster_by(factor: float) -> Callable[[Cell, Cell], bool | None]:
    def judge(ours: Cell, ref: Cell) -> bool | None:
        if not (ours.ok and ref.ok):
            return None
        return ours.value * factor <= ref.value

    return judge


def at_most(limit: float) -> Callable[[Cell, Cell], bool | None]:
    def judge(ours: Cell, ref: Cell) -> bool | None:
        return ours.value <= limit if ours.ok else None

    return judge


def below(limit: float) -> Callable[[Cell, Cell], bool | None]:
    def judge(ours: Cell, ref: Cell) -> bool | None:
        return ours.value < limit if ours.ok else None

    return judge
