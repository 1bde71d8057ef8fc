"""The Open Badges core (PURE: no Flask, no database, no network of its own).

    from wallet.openbadges import verify, unbake, bake, Fetched, FetchError, BadgeInputError
    verdict = verify(source, fetch=fetch, recipients=("ana@example.org",), now=None, contexts=None)
    verdict.to_dict(lang="fr")

See DESIGN.md §4 "Library API".
"""

from __future__ import annotations

from typing import Any

from .errors import BadgeInputError, FetchError
from .fetching import Fetched, MemoFetcher
from .model import Check, Credential, Level, Status, Verdict
from .verify import verify

__all__ = [
    "BadgeInputError",
    "Check",
    "Credential",
    "FetchError",
    "Fetched",
    "Level",
    "MemoFetcher",
    "Status",
    "Verdict",
    "bake",
    "unbake",
    "verify",
]


def __getattr__(name: str) -> Any:
    # Baking is imported on first use (it is cheap, but not needed to verify a JSON badge).
    if name in ("bake", "unbake"):
        from . import baking

        return getattr(baking, name)
    raise AttributeError(name)
