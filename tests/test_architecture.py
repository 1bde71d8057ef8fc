"""The layering rules of DESIGN.md §2, checked by reading every module under wallet/ with `ast`.

1. The pure cores (wallet/openbadges, wallet/eligibility) import no web framework, database,
   HTTP client or app module.
2. Network clients (requests, urllib.request, http.client, httpx, urllib3, pyld's document
   loaders, authlib's *_client integrations) appear only in wallet/http/ (SafeHttp).
3. Views never commit (no `.commit(` under wallet/views/).
4. Nothing is built at import time: no module-level engine, Flask app, SafeHttp or HTTP session.
5. No import circle among wallet modules (lazy imports count too).
6. Views import no model, no SQLAlchemy and no database module: they call a service function, and
   take the request's language, user and session from wallet/views/helpers.py (annotations under
   `if TYPE_CHECKING:` aside). No function-local import in a view hides a dependency.

Every import counts, wherever it stands (a lazy import inside a function too); relative imports
are resolved, and `importlib.import_module("x")` / `__import__("x")` with a literal name count.
Each checker is also run on small synthetic sources below, so that a rule that cannot fail would
show.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
WALLET = ROOT / "wallet"

PURE_PACKAGES = ("wallet.openbadges", "wallet.eligibility")
FORBIDDEN_IN_PURE = (
    "flask", "flask_login", "flask_wtf", "flask_babel", "flask_limiter", "sqlalchemy", "alembic",
    "requests", "urllib3", "httpx", "urllib.request", "http.client", "authlib",
    "wallet.db", "wallet.models", "wallet.http", "wallet.app", "wallet.services",
    "wallet.views",
)
HTTP_MODULE = "wallet.http"
NETWORK_MODULES = ("requests", "urllib.request", "http.client", "httpx", "urllib3", "pyld.documentloader")
# pyld's default loaders reached through `jsonld.<name>`; they fetch with requests/aiohttp.
NETWORK_ATTRIBUTES = ("requests_document_loader", "aiohttp_document_loader")
VIEWS_PACKAGE = "wallet.views"
# Calls that build an app, engine, HTTP client or global loader: never at import time.
IMPORT_TIME_BUILDERS = (
    "create_engine", "create_async_engine", "Flask", "SafeHttp", "requests.Session", "httpx.Client",
    "urllib3.PoolManager", "set_document_loader",
)


@dataclass(frozen=True)
class Violation:
    path: str
    line: int
    what: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.what}"


# --- reading modules ----------------------------------------------------------------------------


def module_name(path: Path, root: Path = ROOT) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def wallet_modules() -> list[tuple[Path, str]]:
    found = sorted(WALLET.rglob("*.py"))
    assert found, f"no Python module under {WALLET}"
    return [(p, module_name(p)) for p in found]


def _dotted(node: ast.AST) -> str | None:
    """`a.b.c` for a Name/Attribute chain, else None."""
    names = []
    while isinstance(node, ast.Attribute):
        names.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        names.append(node.id)
        return ".".join(reversed(names))
    return None


def _resolve_relative(module: str, is_package: bool, level: int, target: str | None) -> str:
    parts = module.split(".")
    keep = len(parts) - (level - 1 if is_package else level)
    if keep < 1:
        raise ValueError(f"relative import beyond the top package in {module}")
    base = parts[:keep]
    return ".".join(base + ([target] if target else []))


def imports_of(source: str, module: str, is_package: bool = False) -> list[tuple[int, str]]:
    """(line, imported module) for every import in the source, relative ones resolved.

    `from a import b` yields both `a` and `a.b` (b may be a submodule)."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = (
                _resolve_relative(module, is_package, node.level, node.module)
                if node.level
                else node.module or ""
            )
            found.append((node.lineno, base))
            found += [(node.lineno, f"{base}.{alias.name}") for alias in node.names if alias.name != "*"]
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            name = _dotted(node.func)
            if name in ("importlib.import_module", "import_module", "__import__") and isinstance(
                node.args[0].value, str
            ):
                found.append((node.lineno, node.args[0].value))
    return found


def _matches(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def _is_authlib_client(name: str) -> bool:
    parts = name.split(".")
    return parts[:2] == ["authlib", "integrations"] and len(parts) > 2 and parts[2].endswith("_client")


# --- the checkers -------------------------------------------------------------------------------


def check_pure_imports(source: str, module: str, path: str, is_package: bool = False) -> list[Violation]:
    """Rule 1, for a module of a pure core."""
    out, seen = [], set()
    for line, name in imports_of(source, module, is_package):
        hit = next((p for p in FORBIDDEN_IN_PURE if _matches(name, p)), None)
        if hit and (line, hit) not in seen:
            seen.add((line, hit))
            out.append(Violation(path, line, f"the pure core imports {name} ({hit} is forbidden there)"))
    return out


def check_network_imports(source: str, module: str, path: str, is_package: bool = False) -> list[Violation]:
    """Rule 2, for any module outside wallet/http/."""
    out, seen = [], set()
    for line, name in imports_of(source, module, is_package):
        hit = next((p for p in NETWORK_MODULES if _matches(name, p)), None)
        if (hit or _is_authlib_client(name)) and line not in seen:
            seen.add(line)
            out.append(Violation(path, line, f"imports {name}: network clients belong in wallet/http/"))
    for node in ast.walk(ast.parse(source)):
        dotted = _dotted(node) if isinstance(node, ast.Attribute) else None
        if dotted in ("urllib.request", "http.client"):
            out.append(Violation(path, node.lineno, f"uses {dotted}: network clients belong in wallet/http/"))
        elif isinstance(node, ast.Attribute) and node.attr in NETWORK_ATTRIBUTES:
            out.append(Violation(path, node.lineno, f"uses pyld's {node.attr}: fetch through SafeHttp"))
        elif isinstance(node, ast.Name) and node.id in NETWORK_ATTRIBUTES:
            out.append(Violation(path, node.lineno, f"uses pyld's {node.id}: fetch through SafeHttp"))
    return out


def check_no_commit(source: str, path: str) -> list[Violation]:
    """Rule 3, for a view module."""
    return [
        Violation(path, node.lineno, "a view calls .commit(): commit in the service, once per use case")
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "commit"
    ]


def _import_time_nodes(tree: ast.Module):
    """Nodes that run when the module is imported: everything but function bodies, lambdas and
    `if __name__ == "__main__":` blocks (decorators and default values do run)."""
    stack: list[ast.AST] = list(tree.body)
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            stack += node.decorator_list + node.args.defaults + [d for d in node.args.kw_defaults if d]
            continue
        if isinstance(node, ast.Lambda):
            continue
        if (
            isinstance(node, ast.If)
            and isinstance(node.test, ast.Compare)
            and _dotted(node.test.left) == "__name__"
            and any(isinstance(c, ast.Constant) and c.value == "__main__" for c in node.test.comparators)
        ):
            stack += node.orelse
            continue
        yield node
        stack += list(ast.iter_child_nodes(node))


def check_import_time(source: str, path: str) -> list[Violation]:
    """Rule 4: no engine, app, SafeHttp or HTTP session built at import time."""
    out = []
    for node in _import_time_nodes(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        name = _dotted(node.func) or ""
        hit = next((b for b in IMPORT_TIME_BUILDERS if name == b or name.endswith("." + b)), None)
        if hit:
            out.append(Violation(path, node.lineno, f"calls {name}() at import time: build it in create_app"))
    return out


# --- the rules on the real tree -----------------------------------------------------------------


def _report(violations: list[Violation], rule: str) -> str:
    return f"{rule} (DESIGN.md §2):\n  " + "\n  ".join(map(str, violations))


def _rel(path: Path) -> str:
    return str(path.relative_to(ROOT))


def test_the_tree_is_read():
    modules = {m: p for p, m in wallet_modules()}
    assert "wallet" in modules and "wallet.openbadges" in modules, sorted(modules)


def test_pure_cores_import_no_framework_database_or_network():
    violations = []
    for path, module in wallet_modules():
        if any(_matches(module, p) for p in PURE_PACKAGES):
            source = path.read_text(encoding="utf-8")
            violations += check_pure_imports(source, module, _rel(path), path.name == "__init__.py")
    assert not violations, _report(violations, "Rule 1: openbadges/ and eligibility/ are pure")


def test_network_clients_only_in_wallet_http():
    violations = []
    for path, module in wallet_modules():
        if not _matches(module, HTTP_MODULE):
            source = path.read_text(encoding="utf-8")
            violations += check_network_imports(source, module, _rel(path), path.name == "__init__.py")
    assert not violations, _report(violations, "Rule 2: every outbound request goes through SafeHttp")


def test_views_never_commit():
    violations = []
    for path, module in wallet_modules():
        if _matches(module, VIEWS_PACKAGE):
            violations += check_no_commit(path.read_text(encoding="utf-8"), _rel(path))
    assert not violations, _report(violations, "Rule 3: views never commit")


def test_nothing_is_built_at_import_time():
    violations = []
    for path, _module in wallet_modules():
        violations += check_import_time(path.read_text(encoding="utf-8"), _rel(path))
    assert not violations, _report(violations, "Rule 4: no side effects at import time")


# --- the checkers can fail ----------------------------------------------------------------------

M = "wallet.openbadges.verify"


@pytest.mark.parametrize(
    "source, culprit",
    [
        ("import flask", "flask"),
        ("from flask import Flask", "flask"),
        ("import sqlalchemy.orm as orm", "sqlalchemy.orm"),
        ("def f():\n    import requests", "requests"),
        ("from ..db import session", "wallet.db"),
        ("from .. import models", "wallet.models"),
        ("from ..http import SafeHttp", "wallet.http"),
        ("from wallet import http", "wallet.http"),
        ("from urllib import request", "urllib.request"),
        ("import http.client", "http.client"),
        ("from authlib.integrations.flask_client import OAuth", "authlib.integrations.flask_client"),
        ("import importlib\nimportlib.import_module('httpx')", "httpx"),
        ("__import__('flask_login')", "flask_login"),
    ],
)
def test_pure_checker_catches(source, culprit):
    found = check_pure_imports(source, M, "wallet/openbadges/verify.py")
    assert found and culprit in found[0].what
    assert str(found[0]).startswith("wallet/openbadges/verify.py:")


@pytest.mark.parametrize(
    "source",
    [
        "from .model import Credential",
        "from . import jsonutil",
        "from ..eligibility import rules",
        "from urllib.parse import urlsplit",
        "import json, hashlib",
        "from joserfc import jws",
        "from pyld import jsonld",
    ],
)
def test_pure_checker_allows(source):
    assert check_pure_imports(source, M, "x.py") == []


def test_relative_imports_resolve_from_a_package_init():
    assert (3, "wallet.db") in imports_of("\n\nfrom ..db import x", "wallet.openbadges", is_package=True)
    assert (1, "wallet.openbadges.model") in imports_of("from .model import x", "wallet.openbadges", True)
    assert (1, "wallet.db") in imports_of("from .db import x", "wallet.views", False)


@pytest.mark.parametrize(
    "source",
    [
        "import requests",
        "from requests.adapters import HTTPAdapter",
        "import urllib.request",
        "import urllib\nurllib.request.urlopen('x')",
        "from http import client",
        "import httpx",
        "import urllib3",
        "from pyld.documentloader import requests as loader",
        "from pyld import jsonld\njsonld.requests_document_loader()",
        "from authlib.integrations.requests_client import OAuth2Session",
        "from authlib.integrations.httpx_client import AsyncOAuth2Client",
    ],
)
def test_network_checker_catches(source):
    found = check_network_imports(source, "wallet.services.imports", "wallet/services/imports.py")
    assert found, source


@pytest.mark.parametrize(
    "source",
    ["from ..http import SafeHttp", "from urllib.parse import urljoin", "from authlib.jose import JsonWebKey",
     "from authlib.oauth2.rfc7636 import create_s256_code_challenge", "import http"],
)
def test_network_checker_allows(source):
    assert check_network_imports(source, "wallet.services.imports", "x.py") == []


def test_commit_checker():
    assert check_no_commit("def v():\n    db.session.commit()", "wallet/views/x.py")[0].line == 2
    assert check_no_commit("def v():\n    services.claims.submit(session)", "wallet/views/x.py") == []


@pytest.mark.parametrize(
    "source",
    [
        "from flask import Flask\napp = Flask(__name__)",
        "engine = sqlalchemy.create_engine('sqlite://')",
        "import requests\nS = requests.Session()",
        "http = SafeHttp()",
        "if True:\n    e = create_engine('x')",
        "class C:\n    e = create_engine('x')",
        "@register(create_engine('x'))\ndef f(): pass",
        "def f(e=create_engine('x')): pass",
        "jsonld.set_document_loader(loader)",
    ],
)
def test_import_time_checker_catches(source):
    assert check_import_time(source, "wallet/x.py"), source


@pytest.mark.parametrize(
    "source",
    [
        "def create_app():\n    return Flask(__name__)",
        "def f():\n    return create_engine('x')",
        "make = lambda: SafeHttp()",
        "if __name__ == '__main__':\n    Flask(__name__).run()",
        "cli = FlaskGroup(create_app=create_app)",
    ],
)
def test_import_time_checker_allows(source):
    assert check_import_time(source, "wallet/x.py") == []


# --- rule 5: no import circle -------------------------------------------------------------------


def import_graph(modules: dict[str, str], packages: frozenset[str] = frozenset()) -> dict[str, set[str]]:
    """Module → the wallet modules it imports (any import, lazy ones too), given {module: source}.

    An import names the closest module of the tree; importing one's own parent package is not an
    edge (a package's __init__ may re-export its children)."""
    graph: dict[str, set[str]] = {}
    for module, source in modules.items():
        deps = set()
        for _line, name in imports_of(source, module, module in packages):
            while name and name not in modules:
                name = name.rpartition(".")[0]
            if name and name != module and not _matches(module, name):
                deps.add(name)
        graph[module] = deps
    return graph


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in graph:
                    continue
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_no_import_circle():
    sources = {module: path.read_text(encoding="utf-8") for path, module in wallet_modules()}
    packages = frozenset(module for path, module in wallet_modules() if path.name == "__init__.py")
    found = circles(import_graph(sources, packages))
    assert not found, "Rule 5: no import circle (put what both sides need in a third module):\n  " + \
        "\n  ".join(" ↔ ".join(c) for c in found)


def test_circle_checker_catches_and_allows():
    looped = {"wallet.a": "from .b import x", "wallet.b": "def f():\n    from . import c",
              "wallet.c": "from wallet.a import y", "wallet.d": "from .a import z"}
    assert circles(import_graph(looped)) == [["wallet.a", "wallet.b", "wallet.c"]]
    assert circles(import_graph({**looped, "wallet.c": "import json"})) == []
    # a package importing its children and a child importing its package is no circle
    assert circles(import_graph({"wallet.p": "from .q import x", "wallet.p.q": "from . import y"},
                                frozenset({"wallet.p"}))) == []


# --- rule 6: views go through services ----------------------------------------------------------

FORBIDDEN_IN_VIEWS = ("wallet.models", "wallet.db", "sqlalchemy", "wallet.migrations")
# The one view module that hands the request's unit of work to the others (views/helpers.py).
SESSION_HOLDER = "wallet.views.helpers"


def _type_checking_block(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and _dotted(node.test) in ("TYPE_CHECKING", "typing.TYPE_CHECKING")


def check_view_imports(source: str, module: str, path: str, is_package: bool = False) -> list[Violation]:
    """Rule 6, for a view module: no model, database-session or SQLAlchemy import (annotation-only
    imports under `if TYPE_CHECKING:` aside; views/helpers.py alone reaches the request's session),
    and no import inside a function."""
    tree = ast.parse(source)
    skipped = {id(n) for block in ast.walk(tree) if _type_checking_block(block) for n in ast.walk(block)}
    out = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for inner in ast.walk(node):
                if isinstance(inner, (ast.Import, ast.ImportFrom)) and id(inner) not in skipped:
                    out.append(Violation(path, inner.lineno, "an import inside a view function: import at the top"))
        if not isinstance(node, (ast.Import, ast.ImportFrom)) or id(node) in skipped:
            continue
        names = imports_of(ast.unparse(node), module, is_package)
        forbidden = [p for p in FORBIDDEN_IN_VIEWS if not (p == "wallet.db" and module == SESSION_HOLDER)]
        hit = next((n for _l, n in names for p in forbidden if _matches(n, p)), None)
        if hit:
            out.append(Violation(path, node.lineno, f"a view imports {hit}: call a service function"))
    return out


def test_views_import_no_model_no_session_and_no_sqlalchemy():
    violations = []
    for path, module in wallet_modules():
        if _matches(module, VIEWS_PACKAGE):
            source = path.read_text(encoding="utf-8")
            violations += check_view_imports(source, module, _rel(path), path.name == "__init__.py")
    assert not violations, _report(violations, "Rule 6: views go through services")


@pytest.mark.parametrize("source", [
    "from ..models import Badge",
    "from .. import models",
    "from sqlalchemy import select",
    "import sqlalchemy.orm",
    "from ..db import get_session",
    "from .. import db",
    "def view():\n    from ..services import claims",
])
def test_view_checker_catches(source):
    assert check_view_imports(source, "wallet.views.badges", "wallet/views/badges.py"), source


@pytest.mark.parametrize("source", [
    "from ..services import badges",
    "from .helpers import request_lang",
    "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ..models import Badge",
])
def test_view_checker_allows(source):
    assert check_view_imports(source, "wallet.views.badges", "wallet/views/badges.py") == []


def test_only_the_helpers_reach_the_request_session():
    source = "from .. import db"
    assert check_view_imports(source, SESSION_HOLDER, "wallet/views/helpers.py") == []
    assert check_view_imports(source, "wallet.views.shares", "wallet/views/shares.py")
