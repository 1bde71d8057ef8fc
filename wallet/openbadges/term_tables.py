"""The JSON-LD contexts of the store as flat term tables, for `terms.read` (method "aliases").

`tables_for(store)` gives, per context store (cached): `target`, the OB v2 context as compaction
target (IRI → canonical term, each term's coercion, the prefixes), and `source(url)`, the term
definitions a context URL brings. A context with features the tables do not model raises
`ComplexContext`: the reader then compacts with pyld.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

OB2_URL = "https://w3id.org/openbadges/v2"
KEYWORD_TERMS = {"@id": "id", "@type": "type"}
# Context features the alias table models; any other key of a term definition or context sends the
# document to pyld.
FLAT_DEFINITION_KEYS = frozenset({"@id", "@type"})
# Where the OB v2 context gives one IRI two names, the OB 2.0 specification's name wins.
SPEC_NAMES = {"hosted": "HostedBadge", "signed": "SignedBadge", "verify": "verification"}


class ComplexContext(Exception):
    """A context the alias table does not model exactly (the caller uses pyld instead)."""


@dataclass(frozen=True, slots=True)
class Term:
    iri: str
    type: str | None               # "@id", an absolute datatype IRI, or None


@dataclass
class Target:
    """The OB v2 context as compaction target: IRI → canonical term, and each term's coercion."""

    terms: dict[str, Term]
    by_iri: dict[str, list[str]]
    prefixes: list[tuple[str, str]]  # (prefix IRI, prefix term), longest IRI first

    def key_for(self, iri: str, value: Any) -> str:
        """The canonical key for a property IRI, given its (already compacted) value."""
        names = self.by_iri.get(iri)
        if names:
            if len(names) == 1:
                return names[0]
            return choose(self, names, value)
        return self.compact_iri(iri)

    def type_name(self, iri: str) -> str:
        names = self.by_iri.get(iri)
        if names:
            preferred = [n for n in names if n not in SPEC_NAMES]
            return (preferred or names)[0]
        return self.compact_iri(iri)

    def expand(self, name: str) -> str:
        """A compact IRI (`obi:badge`) or absolute IRI of the target's vocabulary, expanded."""
        prefix, sep, suffix = name.partition(":")
        if sep and not suffix.startswith("//"):
            for base, term in self.prefixes:
                if term == prefix:
                    return base + suffix
        return name

    def compact_iri(self, iri: str) -> str:
        for base, prefix in self.prefixes:
            if iri.startswith(base) and len(iri) > len(base):
                return f"{prefix}:{iri[len(base):]}"
        return iri


def choose(target: Target, names: list[str], value: Any) -> str:
    """Two terms for one IRI (OB v2: `revoked` boolean / `revokedAssertions`, `verification` / its
    alias `verify`): the term whose coercion fits the value, then the specification's name."""
    def fits(name: str) -> bool:
        coercion = target.terms[name].type
        items = value if isinstance(value, list) else [value]
        if coercion == "http://www.w3.org/2001/XMLSchema#boolean":
            return all(isinstance(v, bool) for v in items)
        if coercion is None:
            return not all(isinstance(v, bool) for v in items)
        return True

    fitting = [n for n in names if fits(n)] or names
    preferred = [n for n in fitting if n not in SPEC_NAMES]
    return min(preferred or fitting, key=lambda n: (len(n), n))


# --- contexts as flat term tables --------------------------------------------------------------

class Tables:
    """Per store: the target and the source term tables of context URLs (cached)."""

    def __init__(self, store: Any) -> None:
        self.store = store
        self.lock = threading.Lock()
        self.url_terms: dict[str, dict[str, Any] | None] = {}
        self.active: dict[tuple, Any] = {}  # terms._Active per context chain
        self.target = self._build_target()

    def _flat(self, url: str, seen: frozenset[str] = frozenset()) -> dict[str, Any]:
        """The term definitions a context URL brings (its imports first). Raises ComplexContext."""
        if url in self.url_terms:
            cached = self.url_terms[url]
            if cached is None:
                raise ComplexContext(url)
            return cached
        if url in seen:
            raise ComplexContext(url)
        try:
            value = self.store.document(url).get("@context")
            terms: dict[str, Any] = {}
            for item in value if isinstance(value, list) else [value]:
                if isinstance(item, str):
                    terms.update(self._flat(item, seen | {url}))
                elif isinstance(item, dict):
                    terms.update(_flat_definitions(item))
                else:
                    raise ComplexContext(url)
        except ComplexContext:
            self.url_terms[url] = None
            raise
        self.url_terms[url] = terms
        return terms

    def _build_target(self) -> Target:
        raw = self._flat(OB2_URL)
        terms = {name: Term(*_expand_definition(raw, name)) for name in raw}
        by_iri: dict[str, list[str]] = {}
        prefixes = []
        for name, term in terms.items():
            by_iri.setdefault(term.iri, []).append(name)
            if isinstance(raw[name], str) and raw[name].endswith(("#", "/")) and ":" not in name:
                prefixes.append((term.iri, name))
        prefixes.sort(key=lambda p: -len(p[0]))
        return Target(terms, by_iri, prefixes)


def _flat_definitions(context: dict) -> dict[str, Any]:
    for key, definition in context.items():
        if key.startswith("@"):
            raise ComplexContext(key)
        if isinstance(definition, dict) and not set(definition) <= FLAT_DEFINITION_KEYS:
            raise ComplexContext(key)
        if not isinstance(definition, (str, dict)):
            raise ComplexContext(key)
    return dict(context)


def expand_iri(terms: dict[str, Any], value: str, seen: frozenset[str] = frozenset()) -> str | None:
    """A term, compact IRI or absolute IRI → absolute IRI (None: undefined, the key is dropped)."""
    if value in KEYWORD_TERMS:
        return value
    if value in terms and value not in seen:
        definition = terms[value]
        target = definition.get("@id") if isinstance(definition, dict) else definition
        if not isinstance(target, str):
            return None
        if target in KEYWORD_TERMS:
            return target
        return expand_iri(terms, target, seen | {value})
    prefix, sep, suffix = value.partition(":")
    if sep and not suffix.startswith("//") and prefix in terms and prefix not in seen:
        base = expand_iri(terms, prefix, seen)
        return base + suffix if base else None
    if sep:  # an absolute IRI (a scheme), kept as is
        return value
    return None


def _expand_definition(terms: dict[str, Any], name: str) -> tuple[str, str | None]:
    definition = terms[name]
    iri = expand_iri(terms, name) or name
    coercion = definition.get("@type") if isinstance(definition, dict) else None
    if isinstance(coercion, str) and coercion != "@id":
        coercion = expand_iri(terms, coercion) or coercion
    return iri, coercion


_TABLES: dict[int, Tables] = {}
_TABLES_LOCK = threading.Lock()


def tables_for(store: Any) -> Tables:
    key = id(store)
    with _TABLES_LOCK:
        tables = _TABLES.get(key)
        if tables is None or tables.store is not store:
            tables = _TABLES[key] = Tables(store)
        return tables
