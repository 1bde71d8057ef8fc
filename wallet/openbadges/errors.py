"""Exceptions of the Open Badges core.

`BadgeInputError` is the only exception that `verify`, `unbake` and `bake` let escape on bad input.
Its `code` is a short stable identifier (used by the CLI's `--json` error output and by the
import doctor); its message is English and technical. People read a message from the catalog.
"""

from __future__ import annotations


class BadgeInputError(ValueError):
    """The input is unreadable or is not a badge."""

    def __init__(self, code: str, detail: str = "", **params: object) -> None:
        self.code = code
        self.detail = detail
        self.params = params
        super().__init__(f"{code}: {detail}" if detail else code)


class FetchError(Exception):
    """Nothing could be fetched (network error, timeout, blocked URL, too large, bad scheme)."""

    def __init__(self, url: str, reason: str = "network") -> None:
        self.url = url
        # one of: network, timeout, blocked, too_large, scheme, redirects, offline
        self.reason = reason
        super().__init__(f"{reason}: {url}")
