"""Where the badge element of a large SVG document is, found by searching bytes, not by parsing.

`baking_svg` uses this to unbake a large document whose badge element is anywhere, even last, at
the cost of one pass of bytes searches in C (`bytes.find`) plus parsing the root start tag and the
badge element alone with the safe parser (see `baking_svg` for the whole rule and its trade-off).

`plan_jump(data, start, end, root_ns, codec)` reads `data[start:end]`, the content of the root
element (`start`: just past the root start tag; `end`: the offset of the root's end tag), knowing
the namespaces the root declares (`root_ns`: prefix → URI, "" for the default namespace) and the
codec of the document's names. It answers NO_BADGE (no badge element can be in there), a `Jump`
(the start tag of the only badge element there), or None (it cannot tell: the caller parses the
document instead). It relies on what XML guarantees in a well-formed document:
1. in element content, `<` only ever starts markup: a start or end tag, a comment `<!--…-->`, a
   CDATA section `<![CDATA[…]]>` or a processing instruction `<?…?>` (never text, never inside an
   attribute value); these three are skipped whole (so the element's own text in a comment, in
   CDATA or in a PI is never taken for it), and anything else that starts with `<!` gives None;
2. a namespace is bound only by an attribute whose name starts with the literal bytes `xmlns`
   (names cannot be escaped): when `xmlns` occurs nowhere outside those sections, every element in
   the content sees exactly the root's bindings; otherwise None;
3. then a badge element's start tag is `<p:assertion` with `p` bound by the root to the OB 2.0
   namespace or `<p:credential` with `p` bound to OB 3.0, followed by white space, `/` or `>`.
   An `<openbadges:` tag while the root leaves `openbadges` unbound (a full parse reports it as
   corrupt), a default namespace bound to a badge namespace, more than one badge element, or more
   than _MAX_STEPS sections or hits to look at: None.
Only ASCII bytes are searched for, so this holds for UTF-8, US-ASCII and ISO-8859-1 documents.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

NO_BADGE = "no_badge"
_MAX_STEPS = 10_000  # sections, stray "!"/"?" bytes and needle hits looked at, in all
_LT = ord("<")
_NAME_END_RE = re.compile(rb"[\s/>]")


@dataclass(frozen=True, slots=True)
class Jump:
    offset: int   # of the "<" of the badge element's start tag
    keyword: str  # the baking keyword of its kind (openbadges | openbadgecredential)


class _Budget:
    def __init__(self) -> None:
        self.left = _MAX_STEPS

    def spend(self) -> bool:
        self.left -= 1
        return self.left >= 0


def plan_jump(data: bytes, start: int, end: int, root_ns: dict[str, str], codec: str,
              badges: dict[str, tuple[str, str]]) -> Jump | str | None:
    """See the module docstring. `badges`: namespace URI → (local name, keyword) of badge elements."""
    if root_ns.get("") in badges:
        return None
    budget = _Budget()
    sections = _sections(data, start, end, budget)
    if sections is None:
        return None
    starts = [section[0] for section in sections]
    stops = [section[1] for section in sections]

    def hits(needle: bytes):
        """Offsets of `needle` outside the sections; None once the budget is spent."""
        found = data.find(needle, start, end)
        while found != -1:
            if not budget.spend():
                yield None
                return
            index = bisect.bisect_right(starts, found) - 1
            if index < 0 or found >= stops[index]:
                yield found
            found = data.find(needle, found + 1, end)

    for hit in hits(b"xmlns"):
        return None  # a hit (or a spent budget): bindings may change inside the content
    needles: list[tuple[bytes, tuple[str, str] | None]] = []
    for prefix, uri in root_ns.items():
        if prefix and uri in badges:
            try:
                needles.append((b"<" + prefix.encode(codec) + b":", badges[uri]))
            except UnicodeEncodeError:
                return None
    if "openbadges" not in root_ns:
        needles.append((b"<openbadges:", None))
    found: list[Jump] = []
    for needle, badge in needles:
        for hit in hits(needle):
            if hit is None or badge is None:
                return None  # budget spent, or an unbound prefix: let the parser say what it is
            name_start = hit + len(needle)
            name_end = _NAME_END_RE.search(data, name_start, end)
            if name_end is None:
                return None
            if data[name_start:name_end.start()] == badge[0].encode("ascii"):
                found.append(Jump(hit, badge[1]))
                if len(found) > 1:
                    return None
    return found[0] if found else NO_BADGE


def _sections(data: bytes, start: int, end: int, budget: _Budget) -> list[tuple[int, int]] | None:
    """(start, stop) of every comment, CDATA section and processing instruction in data[start:end],
    in order; None when `<!` starts anything else, a section is not closed, or the budget is spent.

    `!` and `?` are rare bytes in SVG: single-byte searches (memchr) find each candidate opener."""
    sections: list[tuple[int, int]] = []
    pos = start
    bang = _after_lt(data, b"!", pos, end, budget)
    quest = _after_lt(data, b"?", pos, end, budget)
    while bang != -1 or quest != -1:
        if bang is None or quest is None or not budget.spend():
            return None
        if quest == -1 or (bang != -1 and bang < quest):
            opener = bang - 1
            if data.startswith(b"<!--", opener):
                close, closer = data.find(b"-->", opener + 4, end), 3
            elif data.startswith(b"<![CDATA[", opener):
                close, closer = data.find(b"]]>", opener + 9, end), 3
            else:
                return None  # a DOCTYPE or another declaration inside the root: not well-formed
        else:
            opener = quest - 1
            close, closer = data.find(b"?>", opener + 2, end), 2
        if close == -1:
            return None
        pos = close + closer
        sections.append((opener, pos))
        if bang != -1 and bang < pos:
            bang = _after_lt(data, b"!", pos, end, budget)
        if quest != -1 and quest < pos:
            quest = _after_lt(data, b"?", pos, end, budget)
    return sections


def _after_lt(data: bytes, byte: bytes, pos: int, end: int, budget: _Budget) -> int | None:
    """The offset of the next `byte` right after a `<`, both at or after `pos`; -1 when there is none,
    None when the budget is spent."""
    found = data.find(byte, pos + 1, end)
    while found != -1 and data[found - 1] != _LT:
        if not budget.spend():
            return None
        found = data.find(byte, found + 1, end)
    return found
