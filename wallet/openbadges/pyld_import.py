"""pyld's `jsonld` module, imported on first use and without what the wallet never uses.

`pyld()` is called by jsonld.py (canonicalization of OB 3.0 Data Integrity proofs) and terms.py
(compaction of an OB 2.0 document whose context the alias table does not model).
"""

from __future__ import annotations

import importlib
import sys
import threading
from typing import Any

# What importing pyld costs without any use to the wallet: `requests` (else `aiohttp`), imported by
# pyld.jsonld only to build a default document loader that would fetch contexts over the network
# (every call here passes the store's loader instead); and pyld's package __init__, which only
# re-exports names, among them its document loader classes (asyncio, urllib.request).
_PYLD_UNWANTED = ("requests", "aiohttp", "pyld.documentloader.aiohttp")
_pyld_lock = threading.Lock()
_pyld_module: Any = None


def pyld():
    """pyld's `jsonld` module, imported on first use: only a canonicalization (OB 3.0 Data Integrity)
    or a compaction (an OB 2.0 context the alias table does not model) needs it.

    Imported as is, pyld costs ~85 ms of a cold start, two thirds of it `requests`. Here, while
    pyld.jsonld is imported, `requests`, `aiohttp` and pyld's aiohttp loader are unimportable (a None
    entry in sys.modules, the documented way to make `import` raise ImportError; modules already
    imported are left alone and the entries are removed right after), so pyld takes its own
    fallback: the dummy loader, which refuses every URL — pyld's default loader can never reach the
    network. The `pyld` package itself is made without running its __init__ (`_bare_package`).
    """
    global _pyld_module
    with _pyld_lock:
        if _pyld_module is None:
            _pyld_module = sys.modules.get("pyld.jsonld") or _import_pyld_jsonld()
        return _pyld_module


def _import_pyld_jsonld() -> Any:
    blocked = [name for name in _PYLD_UNWANTED if name not in sys.modules]
    for name in blocked:
        sys.modules[name] = None  # type: ignore[assignment]
    try:
        if "pyld" not in sys.modules:
            _bare_package("pyld")
        return importlib.import_module("pyld.jsonld")
    finally:
        for name in blocked:
            if name in sys.modules and sys.modules[name] is None:
                del sys.modules[name]


def _bare_package(name: str) -> None:
    """Put package `name` in sys.modules without running its __init__.py; its submodules import as
    usual. The first other name asked of it (`pyld.ContextResolver`, say) runs the __init__ then
    (a PEP 562 module __getattr__), so the package behaves as if imported normally."""
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None:
        raise ImportError(f"no package {name}")
    package = importlib.util.module_from_spec(spec)

    def complete(attribute: str) -> Any:
        # The import system asks for submodules (`from pyld import iri_resolver`) and dunders
        # first: answering "absent" lets it import the submodule itself.
        if attribute.startswith("__") or importlib.util.find_spec(f"{name}.{attribute}") is not None:
            raise AttributeError(attribute)
        del package.__getattr__
        spec.loader.exec_module(package)
        return getattr(package, attribute)

    package.__getattr__ = complete  # type: ignore[attr-defined]
    sys.modules[name] = package
