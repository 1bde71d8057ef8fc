"""Find the line of a document path (`badges[3].rule.skill`) in TOML source text.

`tomllib` gives no positions, so this is a pragmatic scanner: it resolves every table header
(`[a.b]`, `[[a]]`, counting array-of-tables occurrences per parent) to a document path, takes the
deepest header that is a prefix of the wanted path, then looks for the next key (`key =`,
`key.sub =`) among the lines of that table, then for the key after it a little further down (inline
tables, multi-line arrays). It never fails: the worst answer is the header's line, or line 1.
"""

from __future__ import annotations

import re

_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\[\]]+?)\s*\]\]?\s*(#.*)?$")
_SEGMENT = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def split_path(path: str) -> list[str | int]:
    """`badges[3].rule.skill` → ["badges", 3, "rule", "skill"]."""
    parts: list[str | int] = []
    for name, index in _SEGMENT.findall(path):
        parts.append(int(index) if index else name.strip())
    return parts


def _key_names(dotted: str) -> list[str]:
    return [part.strip().strip('"').strip("'") for part in dotted.split(".")]


def _headers(lines: list[str]) -> list[tuple[int, list[str | int]]]:
    """(0-based line index, resolved document path) of every table header."""
    found: list[tuple[int, list[str | int]]] = []
    counters: dict[tuple, int] = {}
    last_index: dict[tuple, int] = {}
    for number, line in enumerate(lines):
        match = _HEADER.match(line)
        if not match:
            continue
        is_array = match.group(1) == "[["
        names = _key_names(match.group(2))
        resolved: list[str | int] = []
        for position, name in enumerate(names):
            resolved.append(name)
            key = tuple(resolved)
            if position == len(names) - 1 and is_array:
                counters[key] = counters.get(key, -1) + 1
                last_index[key] = counters[key]
                resolved.append(counters[key])
            elif key in last_index:
                resolved.append(last_index[key])
        found.append((number, resolved))
    return found


def _find_key(lines: list[str], start: int, end: int, name: str) -> int | None:
    pattern = re.compile(r"(^|[{,\s])" + re.escape(name) + r"\s*[.=]")
    for number in range(start, end):
        text = lines[number].split("#", 1)[0] if '"' not in lines[number] else lines[number]
        if pattern.search(text):
            return number
    return None


def line_of(source: str, path: str) -> int:
    """The 1-based line where `path` is written in `source` (best effort; 1 when unknown)."""
    lines = source.splitlines()
    wanted = split_path(path)
    headers = _headers(lines)
    best_line, best_len = -1, 0
    section_end = len(lines)
    for position, (number, resolved) in enumerate(headers):
        if len(resolved) > best_len and wanted[: len(resolved)] == resolved:
            best_line, best_len = number, len(resolved)
            section_end = headers[position + 1][0] if position + 1 < len(headers) else len(lines)
    if best_line < 0:
        section_start = 0
        section_end = headers[0][0] if headers else len(lines)
    else:
        section_start = best_line + 1
    answer = best_line
    search_from = section_start
    for part in wanted[best_len:]:
        if isinstance(part, int):
            # A multi-line array written one element per line: step down to the element.
            if answer >= 0 and lines[answer].split("#", 1)[0].rstrip().endswith("["):
                candidate = answer + 1 + part
                if candidate < section_end and not lines[candidate].strip().startswith("]"):
                    answer = search_from = candidate
            continue
        # Inside a one-line inline table, the next key can only be on that same line.
        line = lines[answer] if answer >= 0 else ""
        inline = answer >= search_from and "{" in line and line.count("{") == line.count("}")
        found = _find_key(lines, search_from, search_from + 1 if inline else section_end, part)
        if found is None:
            break
        answer = search_from = found
    return answer + 1 if answer >= 0 else 1
