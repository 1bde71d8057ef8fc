"""Load and validate a regional referential (TOML data file) into a `Referential`.

    ref = load_referential(path_or_text, base_url="https://wallet.example")   # ReferentialError
    problems = check_referential(path_or_text)                                # [] when fine

`{base_url}` in any string of the file is replaced by `base_url` (without its trailing slash), so
the Region's issuer id follows the install (`<WALLET_BASE_URL>/issuers/region`). Every problem
names the path in the document (`badges[3].rule.skill`) and the line in the file. Refused, among
others: unknown keys, missing names, unknown skills / levels / badges, duplicate keys and ids, a
cycle among composite rules, `n_of` with n > len(of), non-positive counts, partner issuer ids that
are neither an http(s) URL nor a DID.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

from .lines import line_of
from .model import Framework, Issuer, Referential, Text
from .problems import Problem, ReferentialError
from .reader import Reader as _Reader
from .reader import is_issuer_id
from .sections import read_badges, read_levels, read_partners, read_skills, resolve_composites

DEFAULT_BASE_URL = "http://127.0.0.1:5000"
_LINE_IN_ERROR = re.compile(r"line (\d+)")

_TOP_KEYS = {"referential", "issuer", "framework", "levels", "skills", "partners", "badges"}


def default_referential_path() -> Path:
    """The packaged Normandy referential."""
    return Path(__file__).resolve().parent.parent / "referentials" / "normandie.toml"


def _read_source(path_or_text: str | Path) -> tuple[str, str]:
    """(source text, display name). A Path, or a str naming an existing .toml file, is read."""
    if isinstance(path_or_text, Path) or ("\n" not in path_or_text and path_or_text.endswith(".toml")):
        path = Path(path_or_text)
        try:
            return path.read_text(encoding="utf-8"), str(path)
        except (OSError, UnicodeDecodeError) as error:
            raise ReferentialError([Problem("", "unreadable", {"detail": str(error)}, 1)]) from error
    return str(path_or_text), "<text>"


def _substitute(value: Any, base_url: str) -> Any:
    if isinstance(value, str):
        return value.replace("{base_url}", base_url)
    if isinstance(value, list):
        return [_substitute(item, base_url) for item in value]
    if isinstance(value, dict):
        return {key: _substitute(item, base_url) for key, item in value.items()}
    return value


def _build(doc: dict, base_url: str) -> tuple[Referential | None, list[Problem]]:
    r = _Reader()
    doc = _substitute(doc, base_url)
    r.keys(doc, "", _TOP_KEYS)
    head = r.table(doc, "referential", "referential", {"id", "version", "name"})
    issuer = r.table(doc, "issuer", "issuer", {"ids", "name", "url"})
    region_ids = []
    for path, issuer_id in r.strings(issuer, "ids", "issuer") if issuer else []:
        if not is_issuer_id(issuer_id):
            r.add(path, "not_issuer_id", value=issuer_id)
        region_ids.append(issuer_id)
    framework = r.table(doc, "framework", "framework", {"url", "names"}, required=False)
    levels = read_levels(r, doc)
    known_levels = {level.level for level in levels if level.level}
    skills = read_skills(r, doc, known_levels)
    known_skills = {skill.key for skill in skills if skill.key}
    partners = read_partners(r, doc, known_skills, known_levels, set(region_ids))
    badges = resolve_composites(r, read_badges(r, doc, known_skills, known_levels))
    referential = Referential(
        id=r.string(head, "id", "referential") or "" if head else "",
        version=str(head.get("version", "")) if head else "",
        name=r.text(head, "name", "referential") if head else Text(""),
        issuer=Issuer(tuple(region_ids), r.text(issuer, "name", "issuer") if issuer else Text(""),
                      r.url(issuer, "url", "issuer", False) if issuer else None),
        framework=Framework(r.url(framework, "url", "framework", False) if framework else None,
                            tuple(n for _, n in r.strings(framework, "names", "framework", False))
                            if framework else ()),
        levels=levels, skills=skills, partners=partners, badges=badges, base_url=base_url)
    if head and not isinstance(head.get("version"), str):
        r.add("referential.version", "required" if "version" not in head else "type", expected="string")
    return referential, r.problems


def _parse(path_or_text: str | Path, base_url: str) -> tuple[Referential | None, list[Problem], str]:
    source, _ = _read_source(path_or_text)
    try:
        doc = tomllib.loads(source)
    except tomllib.TOMLDecodeError as error:
        found = _LINE_IN_ERROR.search(str(error))
        return None, [Problem("", "syntax", {"detail": str(error)}, int(found.group(1)) if found else 1)], source
    referential, problems = _build(doc, base_url.rstrip("/"))
    located = [Problem(p.path, p.code, p.params, line_of(source, p.path)) for p in problems]
    return referential, located, source


def check_referential(path_or_text: str | Path, base_url: str = DEFAULT_BASE_URL) -> list[Problem]:
    """Every problem in the referential (an empty list when it is fine)."""
    try:
        return _parse(path_or_text, base_url)[1]
    except ReferentialError as error:
        return error.problems


def load_referential(path_or_text: str | Path, base_url: str = DEFAULT_BASE_URL,
                     include_demo: bool = True) -> Referential:
    """The validated referential; raises ReferentialError naming every problem.

    `include_demo=False` drops the partners marked `demo = true` (production installs).
    """
    referential, problems, _ = _parse(path_or_text, base_url)
    if problems or referential is None:
        raise ReferentialError(problems)
    return referential if include_demo else referential.without_demo()
