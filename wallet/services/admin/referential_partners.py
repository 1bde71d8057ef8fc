"""Partner issuers and their catalogue, edited from the staff console: each edit rewrites the
`[[partners]]` tables of the referential's TOML text (everything else kept as written) and is
published as a NEW validated referential version."""

from __future__ import annotations

import json
import re
import tomllib
from itertools import pairwise
from typing import Any

from flask import Flask, current_app
from sqlalchemy.orm import Session

from ...eligibility import Problem, ReferentialError, check_referential
from ...models import User
from .. import referentials
from .base import AdminError, audit


def current_text(session: Session, app: Flask | None = None) -> str:
    row = referentials.latest(session)
    session.commit()
    if row is not None:
        return row.content
    return referentials.configured_path(app).read_text(encoding="utf-8")


def check_text(text: str, app: Flask | None = None) -> list[Problem]:
    app = app or current_app
    return check_referential(text, base_url=app.config["BASE_URL"])


def partners_of(text: str) -> list[dict[str, Any]]:
    """The `[[partners]]` tables of a referential text, as written (`{base_url}` not replaced)."""
    data = tomllib.loads(text)
    partners = data.get("partners", [])
    return [dict(p) for p in partners if isinstance(p, dict)]


_HEADER = re.compile(r'^\[(\[)?\s*([A-Za-z0-9_.\-" ]+?)\s*\](\])?\s*(#.*)?$')
_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def _key(name: str) -> str:
    return name if _BARE_KEY.match(name) else json.dumps(name, ensure_ascii=False)


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # a valid TOML basic string
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{_key(k)} = {_value(v)}" for k, v in value.items()) + " }"
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} as TOML")


def render_partners(partners: list[dict[str, Any]]) -> str:
    """`[[partners]]` blocks for these tables (keys in a stable, readable order)."""
    order = ["key", "name", "demo", "issuer_ids", "url", "catalogue"]
    blocks = []
    for partner in partners:
        lines = ["[[partners]]"]
        for name in sorted(partner, key=lambda k: (order.index(k) if k in order else len(order), k)):
            value = partner[name]
            if isinstance(value, list) and (len(value) > 1 or any(isinstance(v, dict) for v in value)):
                lines.append(f"{_key(name)} = [")
                lines.extend(f"  {_value(v)}," for v in value)
                lines.append("]")
            else:
                lines.append(f"{_key(name)} = {_value(value)}")
        blocks.append("\n".join(lines) + "\n")
    return "\n".join(blocks)


def replace_partners(text: str, partners: list[dict[str, Any]]) -> str:
    """`text` with its `[[partners]]` blocks replaced by `partners` (where the first block was;
    at the end when there was none). Comments and everything else are kept as they were."""
    lines = text.splitlines()
    headers = []
    for index, line in enumerate(lines):
        match = _HEADER.match(line)
        if match:
            name = match.group(2).strip()
            headers.append((index, name == "partners" or name.startswith("partners.")))
    headers.append((len(lines), False))
    keep = [True] * len(lines)
    first = None
    for (start, is_partner), (end, next_is_partner) in pairwise(headers):
        if not is_partner:
            continue
        # Comments and blank lines just before the next table belong to it (blank lines between
        # two partner blocks go: the rendered blocks bring their own).
        stop = end
        while stop > start + 1 and (not lines[stop - 1].strip() or lines[stop - 1].lstrip().startswith("#")):
            stop -= 1
        for i in range(start, end):
            if i < stop or (next_is_partner and not lines[i].strip()):
                keep[i] = False
        first = start if first is None else first
    rendered = render_partners(partners).splitlines()
    out: list[str] = []
    for index, line in enumerate(lines):
        if index == first:
            out.extend(rendered)
        if keep[index]:
            out.append(line)
    if first is None:
        out.extend(["", *rendered])
    result = "\n".join(out).rstrip("\n") + "\n"
    if partners_of(result) != partners:  # pragma: no cover - a safety net for odd layouts
        raise AdminError("invalid")
    return result


def _partner(partners: list[dict[str, Any]], key: str) -> dict[str, Any]:
    found = next((p for p in partners if p.get("key") == key), None)
    if found is None:
        raise AdminError("unknown_partner")
    return found


def _level(value: str) -> int | str:
    value = (value or "").strip()
    return int(value) if value.isdigit() else value


def edited_partners(text: str, action: str, form: dict[str, str], base_url: str = "") -> list[dict[str, Any]]:
    """The partner tables after one edit (validation comes after, on the whole text). Existing ids
    match as written or with `{base_url}` replaced."""
    partners = partners_of(text)
    get = {k: (v or "").strip() for k, v in form.items()}.get

    def same(raw: Any, given: str | None) -> bool:
        return isinstance(raw, str) and given is not None and given in (raw, raw.replace("{base_url}", base_url))
    if action == "add_partner":
        if not get("key") or not get("name") or not get("issuer_id"):
            raise AdminError("missing_field")
        partner: dict[str, Any] = {"key": get("key"), "name": get("name"), "issuer_ids": [get("issuer_id")]}
        if get("url"):
            partner["url"] = get("url")
        partners.append(partner)
    elif action == "remove_partner":
        partners.remove(_partner(partners, get("partner") or ""))
    elif action == "add_issuer":
        if not get("issuer_id"):
            raise AdminError("missing_field")
        _partner(partners, get("partner") or "").setdefault("issuer_ids", []).append(get("issuer_id"))
    elif action == "remove_issuer":
        ids = _partner(partners, get("partner") or "").get("issuer_ids", [])
        found = next((raw for raw in ids if same(raw, get("issuer_id"))), None)
        if found is None:
            raise AdminError("unknown_entry")
        ids.remove(found)
    elif action == "add_entry":
        if not get("id") or not get("skill") or not get("level"):
            raise AdminError("missing_field")
        entry: dict[str, Any] = {"id": get("id"), "skill": get("skill"), "level": _level(get("level") or "")}
        if get("name"):
            entry["name"] = get("name")
        _partner(partners, get("partner") or "").setdefault("catalogue", []).append(entry)
    elif action == "remove_entry":
        partner = _partner(partners, get("partner") or "")
        catalogue = partner.get("catalogue", [])
        entry = next((e for e in catalogue if same(e.get("id"), get("id"))), None)
        if entry is None:
            raise AdminError("unknown_entry")
        catalogue.remove(entry)
        if not catalogue:
            partner.pop("catalogue", None)
    else:
        raise AdminError("missing_field")
    return partners


def edit_partners(session: Session, actor: User, action: str, form: dict[str, str],
                  app: Flask | None = None) -> referentials.Loaded:
    """Apply one edit to the partners and publish it as a NEW validated referential version.
    Raises AdminError('invalid') with line-precise problems (and the text) when it does not validate."""
    app = app or current_app
    text = current_text(session, app)
    new_text = replace_partners(text, edited_partners(text, action, form, app.config["BASE_URL"]))
    problems = check_text(new_text, app)
    if problems:
        raise AdminError("invalid", problems, new_text)
    try:
        loaded = referentials.store(session, new_text, "upload", user=actor, app=app)
    except ReferentialError as err:
        raise AdminError("invalid", err.problems, new_text) from None
    if not loaded.changed:
        raise AdminError("unchanged")
    audit(session, actor, "referential.partners_edited", None, action)
    session.commit()
    return loaded
