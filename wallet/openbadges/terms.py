"""Reading OB 1.1 / 2.0 documents through their JSON-LD context (PROTOCOLS.md Decisions).

A property means what its context says, not what its key spells: Moodle writes
`"verify": {"type": "hosted", "url": …}`, which the OB v2 context defines as `verification` of
type `HostedBadge`. Every check of the core reads the *canonical* form this module produces:

    reading = read(doc, store)        # Reading(doc, warnings, method)
    reading.doc["verification"]["type"] == "HostedBadge"

The canonical form is the document compacted into the OB v2 context (keys are OB 2.0 terms,
`@id`/`@type` become `id`/`type`, single-element arrays are unwrapped, value objects and node
references are simplified where the term's coercion allows), with the context's own aliases
resolved to the names of the OB 2.0 specification (`verify` → `verification`, `hosted` →
`HostedBadge`, `signed` → `SignedBadge`). A key that no context defines is dropped, as JSON-LD
expansion drops it; a key whose IRI has no OB 2.0 term keeps a compact or absolute IRI, so it can
never be mistaken for one (SECURITY.md T23).

Two ways to get there, kept exact against each other by tests (the term tables: term_tables.py):
- `method == "aliases"`: the term tables of the stored contexts, walked in plain Python. Used when
  every context of the document is a known, flat OB context of the store (the OB v1/v2 contexts and
  the OB 2.0 extension contexts) — what real issuers send. Microseconds.
- `method == "pyld"`: JSON-LD compaction with pyld and the store's fail-closed loader, for anything
  else (inline contexts, contexts with features the table does not model). Milliseconds.
A context URL that is not in the store is left out with a warning (DESIGN.md §5: where no
canonicalization is involved, its terms are ignored).

Documents without `@context` (OB 0.5 / 1.0) are returned unchanged: they are read by literal key
and upgraded by `parse.upgrade_assertion`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from .term_tables import (
    OB2_URL,
    SPEC_NAMES,
    ComplexContext,
    Tables,
    Target,
    expand_iri,
    tables_for,
)

_MAX_DEPTH = 32
# What deployed issuers write for a term of the specification, under a key no context defines
# (PROTOCOLS.md §9: Moodle 4.x writes `alignments`). Read as that term when the node lacks it:
# tolerant on what does not prove authenticity, never a second value for a term.
FIELD_SLIPS = {"alignments": "alignment"}
_MAX_ACTIVE = 256


@dataclass(frozen=True, slots=True)
class Reading:
    doc: Any
    warnings: tuple[dict, ...] = ()
    method: str = "none"          # "aliases" | "pyld" | "none" (no @context)


# --- reading -----------------------------------------------------------------------------------

@dataclass
class _Run:
    tables: Tables
    warnings: list[dict] = field(default_factory=list)
    warned: set[str] = field(default_factory=set)

    def context_terms(self, context: Any, parent: _Active | None) -> _Active:
        """The active terms after a `@context` value (known URLs only; others warned)."""
        items = tuple(context) if isinstance(context, list) else (context,)
        if not all(isinstance(i, str) or i is None for i in items):
            raise ComplexContext("inline")
        key = (id(parent), items)
        active = self.tables.active.get(key)
        if active is None:
            terms = dict(parent.terms) if parent is not None else {}
            for item in items:
                if item is None:
                    terms = {}
                elif self.tables.store.has(item):
                    terms.update(self.tables._flat(item))
            if len(self.tables.active) > _MAX_ACTIVE:
                self.tables.active.clear()  # bounded: documents choose their own context lists
            active = self.tables.active[key] = _Active(terms)
        for item in items:
            if isinstance(item, str) and not self.tables.store.has(item):
                self.warn(item)
        return active

    def warn(self, url: str) -> None:
        if url not in self.warned:
            self.warned.add(url)
            self.warnings.append({"reason": "unknown", "url": url})

    def node(self, node: dict, active: _Active | None, depth: int) -> dict:
        if depth > _MAX_DEPTH:
            raise ComplexContext("depth")
        if "@context" in node:
            active = self.context_terms(node["@context"], active)
        if active is None:
            active = _Active({})
        target = self.tables.target
        out: dict[str, Any] = {}
        for key, value in node.items():
            if key == "@context":
                continue
            iri = active.iri(key)
            if iri is None and key in FIELD_SLIPS and FIELD_SLIPS[key] not in node:
                key = FIELD_SLIPS[key]
                iri = active.iri(key)
            if iri is None:
                continue  # undefined: JSON-LD drops it
            if iri == "@id":
                if isinstance(value, str):
                    out["id"] = value
                continue
            if iri == "@type":
                types = [target.type_name(active.iri(t) or t) for t in _items(value) if isinstance(t, str)]
                out["type"] = types[0] if len(types) == 1 else types
                continue
            source_coercion = active.coercion(key)
            compacted = self.value(value, active, depth)
            name = target.key_for(iri, compacted)
            term = target.terms.get(name)
            compacted = _simplify(compacted, term.type if term else None, source_coercion)
            _put(out, name, compacted[0] if isinstance(compacted, list) and len(compacted) == 1 else compacted)
        return out

    def value(self, value: Any, active: _Active, depth: int) -> Any:
        if isinstance(value, list):
            return [self.value(v, active, depth + 1) for v in value]
        if isinstance(value, dict):
            if "@value" in value:
                return dict(value)
            return self.node(value, active, depth + 1)
        return value


class _Active:
    """An active context's terms, with their expansions memoized."""

    __slots__ = ("_coercions", "_iris", "terms")

    def __init__(self, terms: dict[str, Any]) -> None:
        self.terms = terms
        self._iris: dict[str, str | None] = {}
        self._coercions: dict[str, str | None] = {}

    def iri(self, key: str) -> str | None:
        try:
            return self._iris[key]
        except KeyError:
            value = self._iris[key] = expand_iri(self.terms, key)
            return value

    def coercion(self, key: str) -> str | None:
        try:
            return self._coercions[key]
        except KeyError:
            pass
        definition = self.terms.get(key)
        coercion = definition.get("@type") if isinstance(definition, dict) else None
        if isinstance(coercion, str) and coercion != "@id":
            coercion = expand_iri(self.terms, coercion) or coercion
        value = self._coercions[key] = coercion if isinstance(coercion, str) else None
        return value


def _simplify(value: Any, target_coercion: str | None, source_coercion: str | None) -> Any:
    """Value objects and node references as compaction leaves them under the chosen term."""
    if isinstance(value, list):
        return [_simplify(v, target_coercion, source_coercion) for v in value]
    if isinstance(value, dict) and "@value" in value:
        extra = set(value) - {"@value", "@type"}
        kind = value.get("@type")
        if not extra and (kind is None or kind == target_coercion):
            return value["@value"]
        return value
    if isinstance(value, dict) and set(value) == {"id"} and target_coercion == "@id":
        return value["id"]
    return value


def _put(out: dict, name: str, value: Any) -> None:
    """Two spellings of one property (`badge` and `obi:badge`) would give it two values: such a
    document is refused rather than read one way here and another way elsewhere."""
    from .jsonld import JsonLdFailure

    if name in out:
        raise JsonLdFailure(f"two spellings of {name!r}")
    out[name] = value


def _items(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _read_aliases(doc: dict, store: Any) -> Reading:
    tables = tables_for(store)
    run = _Run(tables)
    with tables.lock:
        out = run.node(doc, None, 0)
    out = {"@context": OB2_URL, **out}
    return Reading(out, tuple(run.warnings), "aliases")


def _read_pyld(doc: dict, store: Any) -> Reading:
    from .jsonld import JsonLdFailure
    from .pyld_import import pyld as _pyld

    warnings: list[dict] = []
    cleaned = _without_unknown_contexts(doc, store, warnings, 0)
    if _has_inline_context(cleaned, 0):
        warnings.append({"reason": "inline_read"})
    else:  # an inline context could define the slip's key: then it means what that context says
        cleaned = _without_slips(cleaned, 0)
    jsonld = _pyld()
    options = {"documentLoader": store.loader, "base": None,
               "contextResolver": jsonld.ContextResolver(store._resolved, store.loader)}
    try:
        with store._lock:
            out = jsonld.compact(cleaned, {"@context": OB2_URL}, options)
    except Exception as exc:  # noqa: BLE001 - pyld raises JsonLdError, and plain errors on odd input
        raise JsonLdFailure(f"JSON-LD compaction failed: {type(exc).__name__}") from None
    out.pop("@context", None)
    return Reading({"@context": OB2_URL, **_spec_names(out, tables_for(store).target)}, tuple(warnings), "pyld")


def _without_unknown_contexts(node: Any, store: Any, warnings: list[dict], depth: int) -> Any:
    if depth > _MAX_DEPTH:
        return node
    if isinstance(node, list):
        return [_without_unknown_contexts(v, store, warnings, depth + 1) for v in node]
    if not isinstance(node, dict):
        return node
    out = {}
    for key, value in node.items():
        if key == "@context":
            kept = []
            for item in _items(value):
                if isinstance(item, str) and not store.has(item):
                    if not any(w["url"] == item for w in warnings):
                        warnings.append({"reason": "unknown", "url": item})
                    continue
                kept.append(item)
            out[key] = kept
        else:
            out[key] = _without_unknown_contexts(value, store, warnings, depth + 1)
    return out


def _without_slips(node: Any, depth: int) -> Any:
    if depth > _MAX_DEPTH:
        return node
    if isinstance(node, list):
        return [_without_slips(v, depth + 1) for v in node]
    if not isinstance(node, dict):
        return node
    return {(FIELD_SLIPS[k] if k in FIELD_SLIPS and FIELD_SLIPS[k] not in node else k): _without_slips(v, depth + 1)
            for k, v in node.items()}


def _has_inline_context(node: Any, depth: int) -> bool:
    if depth > _MAX_DEPTH:
        return False
    if isinstance(node, list):
        return any(_has_inline_context(v, depth + 1) for v in node)
    if not isinstance(node, dict):
        return False
    if any(isinstance(c, dict) for c in _items(node.get("@context"))):
        return True
    return any(_has_inline_context(v, depth + 1) for k, v in node.items() if k != "@context")


def _spec_names(node: Any, target: Target) -> Any:
    """pyld's compaction, read like the alias table reads: the spec's name of two equal terms
    (pyld picks the shortest, `hosted`), and a known property whose value does not fit its term's
    coercion (`"obi:issueDate": "2020-…"`, an untyped literal) still read as that term — what
    proves authenticity never depends on it, and real issuers' slips should not refuse a badge."""
    if isinstance(node, list):
        return [_spec_names(v, target) for v in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        value = _spec_names(value, target)
        if key == "type":
            types = [SPEC_NAMES.get(t, t) if isinstance(t, str) else t for t in _items(value)]
            value = types[0] if len(types) == 1 else types
        elif key not in target.terms:
            iri = target.expand(key)
            if iri in target.by_iri:
                key = target.key_for(iri, value)
        elif key in SPEC_NAMES:
            key = SPEC_NAMES[key]
        _put(out, key, value)
    return out


def read(doc: Any, store: Any, *, method: str | None = None) -> Reading:
    """The canonical reading of an OB 1.1 / 2.0 document (see the module docstring).

    `store` is the context store (None: read literally, with a warning). `method` forces
    "aliases" or "pyld" (tests and benchmarks compare them). Raises `JsonLdFailure` (from
    jsonld.py) when pyld cannot process the document.
    """
    if not isinstance(doc, dict) or "@context" not in doc:
        return Reading(doc, (), "none")
    if store is None:
        return Reading(doc, ({"reason": "no_store"},), "none")
    if method != "pyld":
        try:
            return _read_aliases(doc, store)
        except ComplexContext:
            if method == "aliases":
                raise
    return _read_pyld(doc, store)


def canonical_json(reading: Reading) -> str:
    """A stable text of a reading (tests compare the two methods with it)."""
    return json.dumps(reading.doc, sort_keys=True, ensure_ascii=False)
