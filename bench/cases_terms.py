"""Reading OB 2.0 through its JSON-LD context: the alias table against pyld's compaction (issue 12
item 2: "measure both, keep the faster that is exact" — exactness is tested in
tests/unit/openbadges/test_terms.py; the verifier uses the alias table when it applies)."""

from __future__ import annotations

from bench.measure import alternate, median, timed
from bench.registry import Cell, Row, case, faster_by


def _moodle_like() -> dict:
    from tests.unit.openbadges.test_terms import MOODLE_LIKE

    return MOODLE_LIKE


@case("read-ob2-terms", "read a Moodle-style OB 2.0 assertion through its context: alias table vs pyld")
def read_terms(bench):
    from wallet.openbadges.jsonld import default_store
    from wallet.openbadges.terms import read

    store = default_store()
    doc = _moodle_like()
    runs = bench.reps(400, 60)
    ours, ref = alternate(runs, lambda: timed(lambda: read(doc, store, method="aliases")),
                          lambda: timed(lambda: read(doc, store, method="pyld")), warmup=3)
    yield Row("read-ob2-terms", Cell.seconds(median(ours), "alias table"),
              Cell.seconds(median(ref), "pyld compaction"), "alias table faster than pyld, same reading",
              faster_by(5.0), notes=("exactness: tests/unit/openbadges/test_terms.py",))
