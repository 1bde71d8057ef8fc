"""The JSON-LD context store (DESIGN.md §5) and a fail-closed document loader for pyld.

CONTRACT:
- `class ContextNotInStore(Exception)`: `.url`.
- `class NoContextStore(Exception)`: no store found; `.places` lists every directory looked in.
- `class JsonLdFailure(Exception)`: any other JSON-LD processing failure in `canonize` (malformed
  JSON-LD, or — in safe mode — a property that no context defines and that expansion would drop);
  `.reason`.
- `class ContextStore`: `ContextStore.from_dir(path)` reads MANIFEST.tsv (url, file, sha256, ...),
  checks every file's sha256 lazily on first use (mismatch → that URL is treated as absent and
  `store.problems` records it: {url: reason}), also accepts ALIASES.tsv (alias_url → file) when
  present. `store.has(url) -> bool`, `store.check_all() -> dict` (checks every file now),
  `store.document(url) -> dict` (parsed, cached; returns a private copy; raises
  ContextNotInStore), `store.urls() -> tuple[str, ...]`, `store.loader` → a pyld documentLoader(url, options) that serves only the store and raises a pyld JsonLdError
  (wrapping ContextNotInStore) for anything else. No network.
- `default_store() -> ContextStore`: WALLET_CONTEXTS_DIR (when set it is the only place looked in),
  else `instance/contexts/` (cwd, then repo root), else `../shared/jsonld-contexts` relative to the
  repository root; none → raises `NoContextStore` naming every place looked in. Cached per directory.
- `canonize(doc: dict, store: ContextStore, *, safe: bool = True) -> str`: URDNA2015 N-Quads via
  pyld with the store's loader. Raises ContextNotInStore for an unknown context, JsonLdFailure for
  anything else. Resolved and processed contexts are cached per store (not in pyld's global cache,
  so that one store can never serve another store's contexts).
- Sync helpers (pure; the Flask command fetches through SafeHttp):
  `plan_sync(listing_tsv: str) -> list[tuple[url, file, sha256]]` (validates the listing text,
  e.g. the packaged `contexts.tsv`, see `packaged_listing()`), `verify_download(body, sha256) -> bool`,
  `manifest_tsv(entries) -> str` (the MANIFEST.tsv text for a synced store).
"""

from __future__ import annotations

import copy
import csv
import functools
import hashlib
import hmac
import io
import json
import os
import re
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from cachetools import LRUCache

from .pyld_import import pyld as _pyld

MANIFEST = "MANIFEST.tsv"
ALIASES = "ALIASES.tsv"
# Resolved contexts kept per store: every store URL plus the inline (e.g. type-scoped) contexts.
_RESOLVED_CACHE_SIZE = 1000

_FILE_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._-]*$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


class ContextNotInStore(Exception):
    """A JSON-LD context URL that the store does not serve (unknown, or its file failed its check)."""

    def __init__(self, url: str) -> None:
        self.url = url
        super().__init__(f"context not in store: {url}")


class NoContextStore(Exception):
    """No context store directory was found."""

    def __init__(self, places: Iterable[Path]) -> None:
        self.places = tuple(str(p) for p in places)
        listed = ", ".join(self.places)
        super().__init__(
            "Aucun magasin de contextes JSON-LD (MANIFEST.tsv) trouvé ; lancez `wallet contexts sync` "
            f"ou définissez WALLET_CONTEXTS_DIR. / No JSON-LD context store (MANIFEST.tsv) found; "
            f"run `wallet contexts sync` or set WALLET_CONTEXTS_DIR. Looked in: {listed}"
        )


class JsonLdFailure(Exception):
    """JSON-LD processing failed for a reason other than a missing context."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


def _read_tsv(path: Path) -> list[dict[str, str]]:
    text = path.read_text(encoding="utf-8")
    return list(csv.DictReader(io.StringIO(text), delimiter="\t", quoting=csv.QUOTE_NONE))


class ContextStore:
    """A directory of JSON-LD context files pinned by sha256 (see the module docstring)."""

    def __init__(self, directory: Path, entries: dict[str, tuple[str, str]]) -> None:
        # entries: url -> (file name, expected sha256)
        self.directory = directory
        self._entries = entries
        self._files: dict[str, dict | None] = {}  # file -> parsed document, None when it failed
        self.problems: dict[str, str] = {}  # url -> why it is absent
        self._file_problems: dict[str, str] = {}
        self._lock = threading.RLock()
        # pyld's shared resolved-context cache, private to this store (see canonize()).
        self._resolved = LRUCache(maxsize=_RESOLVED_CACHE_SIZE)

    @classmethod
    def from_dir(cls, path: str | os.PathLike[str]) -> ContextStore:
        directory = Path(path).resolve()
        manifest = directory / MANIFEST
        if not manifest.is_file():
            raise NoContextStore([directory])
        entries: dict[str, tuple[str, str]] = {}
        problems: dict[str, str] = {}
        for row in _read_tsv(manifest):
            url, name, sha = (
                (row.get("url") or "").strip(),
                (row.get("file") or "").strip(),
                (row.get("sha256") or "").strip().lower(),
            )
            if not url:
                continue
            if not _FILE_NAME.match(name) or not _SHA256.match(sha):
                problems[url] = f"bad manifest row (file {name!r}, sha256 {sha!r})"
                continue
            entries[url] = (name, sha)
        aliases = directory / ALIASES
        if aliases.is_file():
            by_file = {name: sha for name, sha in entries.values()}
            for row in _read_tsv(aliases):
                url, name = (row.get("alias_url") or "").strip(), (row.get("file") or "").strip()
                if not url or url in entries:
                    continue
                if name not in by_file:
                    problems[url] = f"alias to a file not in {MANIFEST}: {name!r}"
                    continue
                entries[url] = (name, by_file[name])
        store = cls(directory, entries)
        store.problems.update(problems)
        return store

    def __repr__(self) -> str:
        return f"ContextStore({str(self.directory)!r}, {len(self._entries)} urls)"

    def urls(self) -> tuple[str, ...]:
        return tuple(self._entries)

    def _parsed(self, url: str) -> dict:
        """The store's own parsed document (shared: never mutate it)."""
        entry = self._entries.get(url)
        if entry is None:
            raise ContextNotInStore(url)
        name, sha = entry
        with self._lock:
            if name not in self._files:
                self._files[name] = self._load_file(name, sha)
            document = self._files[name]
            if document is None:
                self.problems.setdefault(url, self._file_problem(name))
                raise ContextNotInStore(url)
        return document

    def _file_problem(self, name: str) -> str:
        return self._file_problems.get(name, f"{name}: unusable")

    def _load_file(self, name: str, sha: str) -> dict | None:
        try:
            body = (self.directory / name).read_bytes()
        except OSError as exc:
            self._file_problems[name] = f"{name}: unreadable ({exc.strerror or exc})"
            return None
        actual = hashlib.sha256(body).hexdigest()
        if not hmac.compare_digest(actual, sha):
            self._file_problems[name] = f"{name}: sha256 mismatch (expected {sha}, found {actual})"
            return None
        try:
            document = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            self._file_problems[name] = f"{name}: not JSON"
            return None
        if not isinstance(document, dict) or "@context" not in document:
            self._file_problems[name] = f"{name}: not a JSON-LD context document"
            return None
        return document

    def has(self, url: str) -> bool:
        try:
            self._parsed(url)
        except ContextNotInStore:
            return False
        return True

    def check_all(self) -> dict[str, str]:
        """Check every file now (not lazily); returns `problems` ({url: reason}, empty when all is well)."""
        for url in self._entries:
            self.has(url)
        return dict(self.problems)

    def document(self, url: str) -> dict:
        """A private copy of the parsed context document; raises ContextNotInStore."""
        return copy.deepcopy(self._parsed(url))

    def loader(self, url: str, options: dict | None = None) -> dict:
        """pyld documentLoader: serves the store only, never the network."""
        try:
            document = self._parsed(url)
        except ContextNotInStore as exc:
            raise _pyld().JsonLdError(
                f"Context not in the local store: {url}",
                "jsonld.LoadDocumentError",
                {"url": url, "cause": exc},
                code="loading document failed",
            ) from exc
        # The same dict every time, and tag "static" so that pyld keeps the resolved context.
        return {
            "contentType": "application/ld+json",
            "contextUrl": None,
            "documentUrl": url,
            "document": document,
            "tag": "static",
        }


def find_missing_context(exc: BaseException) -> ContextNotInStore | None:
    """The ContextNotInStore buried in a pyld error chain (cause, __cause__, __context__, details)."""
    seen: set[int] = set()
    todo: list[Any] = [exc]
    while todo:
        item = todo.pop()
        if item is None or id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, ContextNotInStore):
            return item
        if isinstance(item, dict):
            todo.extend(v for v in item.values() if isinstance(v, (BaseException, dict)))
            continue
        if isinstance(item, BaseException):
            todo.extend([item.__cause__, item.__context__, getattr(item, "cause", None)])
            details = getattr(item, "details", None)
            if isinstance(details, (dict, BaseException)):
                todo.append(details)
    return None


def _raise_dropped(expanded_property: str | None) -> None:
    raise JsonLdFailure(f"a property is not defined by any context (expands to {expanded_property!r})")


def _ignore_dropped(expanded_property: str | None) -> None:
    return None


def canonize(doc: dict, store: ContextStore, *, safe: bool = True) -> str:
    """URDNA2015 canonical N-Quads of `doc`, with contexts from `store` only.

    `safe` (like jsonld.js's safe mode): a property that no context defines makes this fail
    instead of being silently dropped, so that nothing unsigned can pass as signed.
    """
    if not isinstance(doc, dict):
        raise JsonLdFailure("not a JSON object")
    # pyld's expand() deep-copies the input, so inline contexts cached by reference are never
    # the caller's objects (a test guards this).
    jsonld = _pyld()
    processor = jsonld.JsonLdProcessor(on_property_dropped=_raise_dropped if safe else _ignore_dropped)
    options = {
        "algorithm": "URDNA2015",
        "format": "application/n-quads",
        "documentLoader": store.loader,
        # A resolver per call (its per-operation cache is unbounded), sharing the store's cache.
        "contextResolver": jsonld.ContextResolver(store._resolved, store.loader),
    }
    try:
        # pyld's caches are not thread-safe; canonicalization is CPU-bound, so serializing it
        # per store costs nothing under the GIL.
        with store._lock:
            return processor.normalize(doc, options)
    except JsonLdFailure:
        raise
    except Exception as exc:  # pyld raises JsonLdError, and sometimes plain errors on odd input
        missing = find_missing_context(exc)
        if missing is not None:
            raise ContextNotInStore(missing.url) from None
        dropped = _find(exc, JsonLdFailure)
        if dropped is not None:
            raise JsonLdFailure(dropped.reason) from None
        raise JsonLdFailure(f"JSON-LD processing failed: {_describe(exc)}") from exc


def _find(exc: BaseException, kind: type[BaseException]) -> Any:
    seen: set[int] = set()
    item: BaseException | None = exc
    while item is not None and id(item) not in seen:
        seen.add(id(item))
        if isinstance(item, kind):
            return item
        item = item.__cause__ or item.__context__
    return None


def _describe(exc: BaseException) -> str:
    # The innermost message is the informative one.
    item = exc
    while item.__cause__ is not None:
        item = item.__cause__
    message = item.args[0] if item.args else type(item).__name__
    code = getattr(item, "code", None)
    return f"{message} ({code})" if code else str(message)


# --- where the store is ---------------------------------------------------------------------


def repository_root() -> Path:
    """The checkout's root: the parent of the `wallet` package directory."""
    return Path(__file__).resolve().parents[2]


def store_places(environ: dict[str, str] | None = None, cwd: Path | None = None) -> list[Path]:
    """The directories `default_store` looks in, in order."""
    environ = os.environ if environ is None else environ
    configured = environ.get("WALLET_CONTEXTS_DIR", "").strip()
    if configured:
        return [Path(configured).expanduser()]
    cwd = Path.cwd() if cwd is None else cwd
    root = repository_root()
    places = [
        cwd / "instance" / "contexts",
        root / "instance" / "contexts",
        root.parent / "shared" / "jsonld-contexts",
    ]
    unique: list[Path] = []
    for place in places:
        if place.resolve() not in [p.resolve() for p in unique]:
            unique.append(place)
    return unique


def default_store() -> ContextStore:
    """The store of DESIGN.md §5 (cached per directory); raises NoContextStore."""
    places = store_places()
    for place in places:
        if (place / MANIFEST).is_file():
            return _store_at(str(place.resolve()))
    raise NoContextStore([p.resolve() for p in places])


@functools.lru_cache(maxsize=16)
def _store_at(directory: str) -> ContextStore:
    return ContextStore.from_dir(directory)
