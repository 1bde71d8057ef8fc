"""The JSON-LD context store (DESIGN.md §5) and a fail-closed document loader for pyld.

CONTRACT:
- `class ContextNotInStore(Exception)`: `.url`.
- `class ContextStore`: `ContextStore.from_dir(path)` reads MANIFEST.tsv (url, file, sha256, ...),
  checks every file's sha256 lazily on first use (mismatch → that URL is treated as absent and
  `store.problems` records it), also accepts ALIASES.tsv (alias_url → file) when present.
  `store.has(url) -> bool`, `store.document(url) -> dict` (parsed, cached; raises
  ContextNotInStore), `store.loader` → a pyld documentLoader(url, options) that serves only the
  store and raises a pyld JsonLdError (wrapping ContextNotInStore) for anything else. No network.
- `default_store() -> ContextStore`: WALLET_CONTEXTS_DIR, else `instance/contexts/` (cwd and repo
  root), else `../shared/jsonld-contexts` relative to the repository root; none → raises
  `NoContextStore` naming every place looked in. Cached per directory.
- `canonize(doc: dict, store: ContextStore) -> str`: URDNA2015 N-Quads via pyld with the store's
  loader. Raises ContextNotInStore for an unknown context.
"""
