"""Typed reading of the parsed referential document: values come out typed, problems are recorded
with their path in the document (`badges[3].rule.skill`) instead of being raised."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from .model import Text
from .problems import Problem

_KEY = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_DID = re.compile(r"^did:[a-z0-9]+:[A-Za-z0-9._:%\-/]+$")
_URN = re.compile(r"^urn:[A-Za-z0-9][A-Za-z0-9-]{0,31}:\S+$")


def is_url(value: str) -> bool:
    """An absolute http(s) URL with a host."""
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc) and " " not in value


def is_issuer_id(value: str) -> bool:
    """An issuer id the allow-list accepts: an http(s) URL or a DID."""
    return is_url(value) or bool(_DID.match(value))


class Reader:
    """Reads typed values out of the parsed document, recording problems instead of raising."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def add(self, path: str, code: str, **params: Any) -> None:
        self.problems.append(Problem(path, code, params))

    def table(self, parent: dict, key: str, path: str, allowed: set[str] | None,
              required: bool = True) -> dict:
        value = parent.get(key)
        if value is None:
            if required:
                self.add(path, "required")
            return {}
        if not isinstance(value, dict):
            self.add(path, "type", expected="table")
            return {}
        if allowed is not None:
            self.keys(value, path, allowed)
        return value

    def keys(self, value: dict, path: str, allowed: set[str]) -> None:
        for key in value:
            if key not in allowed:
                self.add(f"{path}.{key}" if path else key, "unknown_key", key=key)

    def tables(self, parent: dict, key: str, path: str, required: bool = True) -> list[tuple[str, dict]]:
        value = parent.get(key)
        if value is None:
            if required:
                self.add(path, "required")
            return []
        if not isinstance(value, list):
            self.add(path, "type", expected="list")
            return []
        if required and not value:
            self.add(path, "empty")
        items = []
        for index, item in enumerate(value):
            if isinstance(item, dict):
                items.append((f"{path}[{index}]", item))
            else:
                self.add(f"{path}[{index}]", "type", expected="table")
        return items

    def string(self, parent: dict, key: str, path: str, required: bool = True) -> str | None:
        value = parent.get(key)
        if value is None:
            if required:
                self.add(f"{path}.{key}", "required")
            return None
        if not isinstance(value, str):
            self.add(f"{path}.{key}", "type", expected="string")
            return None
        if not value.strip():
            self.add(f"{path}.{key}", "empty")
            return None
        return value.strip()

    def key(self, parent: dict, path: str) -> str | None:
        value = self.string(parent, "key", path)
        if value is not None and not _KEY.match(value):
            self.add(f"{path}.key", "bad_key", value=value)
        return value

    def url(self, parent: dict, key: str, path: str, required: bool = True) -> str | None:
        value = self.string(parent, key, path, required)
        if value is not None and not is_url(value):
            self.add(f"{path}.{key}", "not_url", value=value)
        return value

    def integer(self, parent: dict, key: str, path: str, default: int | None = None) -> int | None:
        value = parent.get(key, default)
        if value is None:
            self.add(f"{path}.{key}", "required")
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            self.add(f"{path}.{key}", "type", expected="integer")
            return None
        if value <= 0:
            self.add(f"{path}.{key}", "not_positive", value=value)
            return None
        return value

    def boolean(self, parent: dict, key: str, path: str) -> bool:
        value = parent.get(key, False)
        if not isinstance(value, bool):
            self.add(f"{path}.{key}", "type", expected="boolean")
            return False
        return value

    def strings(self, parent: dict, key: str, path: str, required: bool = True) -> list[tuple[str, str]]:
        value = parent.get(key)
        if value is None:
            if required:
                self.add(f"{path}.{key}", "required")
            return []
        if not isinstance(value, list):
            self.add(f"{path}.{key}", "type", expected="list")
            return []
        if required and not value:
            self.add(f"{path}.{key}", "empty")
        found = []
        for index, item in enumerate(value):
            if isinstance(item, str) and item.strip():
                found.append((f"{path}.{key}[{index}]", item.strip()))
            else:
                self.add(f"{path}.{key}[{index}]", "type", expected="string")
        return found

    def text(self, parent: dict, key: str, path: str, required: bool = True) -> Text:
        value = parent.get(key)
        where = f"{path}.{key}"
        if value is None:
            if required:
                self.add(where, "required")
            return Text("")
        if not isinstance(value, dict):
            self.add(where, "type", expected="text")
            return Text("")
        self.keys(value, where, {"fr", "en"})
        texts = {}
        for lang in ("fr", "en"):
            item = value.get(lang)
            if not isinstance(item, str) or not item.strip():
                self.add(f"{where}.{lang}", "missing_lang", lang=lang)
                texts[lang] = ""
            else:
                texts[lang] = item.strip()
        return Text(texts["fr"], texts["en"])

    def unique(self, seen: dict[str, str], value: str | None, path: str) -> None:
        if value is None:
            return
        if value in seen:
            self.add(path, "duplicate", value=value, other=seen[value])
        else:
            seen[value] = path
