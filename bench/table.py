"""The benchmark table: case | ours (median) | reference (median) | ratio | target | OK?"""

from __future__ import annotations

from .measure import fmt_seconds
from .registry import Cell, Row

HEADER = ("case", "ours (median)", "reference (median)", "ratio", "target", "OK?")


def fmt_cell(cell: Cell) -> str:
    if not cell.ok:
        return cell.missing or ""
    if cell.unit == "s":
        return fmt_seconds(cell.value)
    if cell.unit == "MiB":
        return f"{cell.value:.1f} MiB"
    if cell.unit == "count":
        return f"{cell.value:g}"
    return f"{cell.value:g} {cell.unit}"


def fmt_ratio(row: Row) -> str:
    if row.ours.unit not in ("s", "MiB") or row.ratio is None:
        return "—"
    ratio = row.ratio
    return f"×{ratio:.0f}" if ratio >= 100 else f"×{ratio:.1f}" if ratio >= 10 else f"×{ratio:.2f}"


def fmt_ok(row: Row) -> str:
    verdict = row.verdict
    return "n/a" if verdict is None else "yes" if verdict else "NO"


def render(rows: list[Row]) -> str:
    lines = [HEADER] + [(row.case, fmt_cell(row.ours), fmt_cell(row.reference), fmt_ratio(row), row.target,
                         fmt_ok(row)) for row in rows]
    widths = [max(len(line[i]) for line in lines) for i in range(len(HEADER))]

    def fmt(line: tuple[str, ...]) -> str:
        return "| " + " | ".join(cell.ljust(widths[i]) for i, cell in enumerate(line)) + " |"

    out = [fmt(lines[0]), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    out += [fmt(line) for line in lines[1:]]
    notes = []
    for row in rows:
        ours, ref = row.ours, row.reference
        details = [f"ours: {ours.detail}" if ours.detail and not ours.ok else "",
                   f"reference: {ref.detail}" if ref.detail and not ref.ok else "",
                   f"ours: {ours.detail}" if ours.ok and ours.detail and ours.unit == "MiB" else ""]
        for text in [d for d in details if d] + list(row.notes):
            notes.append(f"- {row.case.strip()}: {text}")
    if notes:
        out += ["", "Notes:"] + notes
    return "\n".join(out)
