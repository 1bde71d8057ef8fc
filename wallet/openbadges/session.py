"""One verification run: the budgeted, memoized fetcher and the checks it accumulates.

The status of a badge is decided from a few flags set while checking (see `Session.status`,
DESIGN.md §4 "How status is decided"). Checks are the readable trace of the same decisions.

Fetch budget: at most `MAX_FETCHES` distinct URLs per verification, each fetched once (memoized,
failures included), and no link followed deeper than `MAX_DEPTH` from the input.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .errors import BadgeInputError, FetchError
from .fetching import Fetched
from .model import Check, Level, Status

MAX_FETCHES = 10
MAX_DEPTH = 3
LEEWAY_SECONDS = 60

ACCEPT_HOSTED = "application/ld+json, application/json, image/png, image/svg+xml"
ACCEPT_JSON = "application/ld+json, application/json"
ACCEPT_STATUS_LIST = "application/json"
ACCEPT_JWKS = "application/jwk-set+json, application/json"
ACCEPT_DID = "application/did+ld+json, application/did+json, application/ld+json, application/json"
ACCEPT_VC = "application/vc+ld+json, application/vc+jwt, application/ld+json, application/json, text/plain"

INVALID = "invalid"
UNVERIFIABLE = "unverifiable"
UNKNOWN_STATUS = "unknown_status"


# 408 Request Timeout and 429 Too Many Requests say "not now", not "no such document".
TRANSIENT_CLIENT_ERRORS = frozenset({408, 429})


def proves_absence(http_status: int) -> bool:
    """A 4xx that says the document is not there (invalid), as opposed to a transient refusal
    (408, 429) or a server error, which leave the badge unverifiable."""
    return 400 <= http_status < 500 and http_status not in TRANSIENT_CLIENT_ERRORS


class Unavailable(Exception):
    """A document the check needs could not be had; `category` says what that means."""

    def __init__(self, category: str, check: Check) -> None:
        self.category = category
        self.check = check
        super().__init__(f"{category}: {check.params}")


def failure(check_id: str, category: str, **params: Any) -> Unavailable:
    return Unavailable(category, Check(check_id, False, Level.ERROR, params))


@dataclass
class Session:
    fetcher: Callable[[str, str], Fetched]
    now: datetime
    contexts: Any = None                     # a ContextStore, or None for the default store
    checks: list[Check] = field(default_factory=list)
    invalid: bool = False
    unverifiable: bool = False
    revoked: str | None = None               # "revoked" | "suspended"
    status_unknown: bool = False
    expired: bool = False
    not_yet_valid: bool = False
    fetches: int = 0
    _memo: dict[str, Fetched | FetchError] = field(default_factory=dict)
    _store: Any = None
    _store_error: str | None = None

    # --- checks ---------------------------------------------------------------------------------
    def add(self, check: Check) -> None:
        self.checks.append(check)

    def ok(self, check_id: str, **params: Any) -> None:
        self.add(Check(check_id, True, Level.INFO, params))

    def warn(self, check_id: str, **params: Any) -> None:
        self.add(Check(check_id, False, Level.WARNING, params))

    def warn_once(self, check_id: str, **params: Any) -> None:
        """A warning, unless the same one was already given (e.g. one unknown context, many nodes)."""
        check = Check(check_id, False, Level.WARNING, params)
        if check not in self.checks:
            self.add(check)

    def note(self, check_id: str, **params: Any) -> None:
        """A failing check whose flag the caller sets (expired, not yet valid)."""
        self.add(Check(check_id, False, Level.ERROR, params))

    def fail(self, check_id: str, category: str, **params: Any) -> None:
        self.record(category, Check(check_id, False, Level.ERROR, params))

    def record(self, category: str, check: Check) -> None:
        self.add(check)
        if category == INVALID:
            self.invalid = True
        elif category == UNVERIFIABLE:
            self.unverifiable = True
        elif category == UNKNOWN_STATUS:
            self.status_unknown = True

    def revoke(self, kind: str, **params: Any) -> None:
        self.revoked = kind
        self.add(Check("revocation", False, Level.ERROR, {"reason": kind, **params}))

    @property
    def authentic(self) -> bool:
        return not (self.invalid or self.unverifiable)

    def status(self) -> Status:
        """DESIGN.md §4, in this order."""
        if self.invalid:
            return Status.INVALID
        if self.unverifiable:
            return Status.UNVERIFIABLE
        if self.revoked:
            return Status(self.revoked)
        if self.expired:
            return Status.EXPIRED
        if self.not_yet_valid:
            return Status.NOT_YET_VALID
        if self.status_unknown:
            return Status.UNVERIFIABLE
        return Status.VALID

    # --- fetching -------------------------------------------------------------------------------
    def get(self, url: str, accept: str, depth: int) -> Fetched:
        """Fetch once per URL within the budget; raises FetchError (reason budget/depth too)."""
        key = url.split("#", 1)[0]
        if key in self._memo:
            hit = self._memo[key]
            if isinstance(hit, FetchError):
                raise hit
            return hit
        if depth > MAX_DEPTH:
            raise FetchError(key, "depth")
        if self.fetches >= MAX_FETCHES:
            raise FetchError(key, "budget")
        self.fetches += 1
        try:
            result: Fetched | FetchError = self.fetcher(key, accept)
        except FetchError as exc:
            result = exc
        except (OSError, ValueError) as exc:  # a misbehaving fetcher: treat as a network failure
            result = FetchError(key, "network")
            result.__cause__ = exc
        self._memo[key] = result
        if isinstance(result, FetchError):
            raise result
        return result

    def get_ok(self, url: str, accept: str, depth: int, *, client_error: str = INVALID,
               server_error: str = UNVERIFIABLE) -> Fetched:
        """A 2xx answer, or Unavailable: network/5xx/408/429 → `server_error`, other 4xx →
        `client_error`."""
        try:
            fetched = self.get(url, accept, depth)
        except FetchError as exc:
            raise failure("fetch", server_error, url=url, reason=exc.reason) from None
        if 200 <= fetched.status < 300:
            return fetched
        category = client_error if proves_absence(fetched.status) else server_error
        raise failure("fetch", category, url=url, status=fetched.status, reason="http_status")

    def get_json(self, url: str, accept: str, depth: int, **kwargs: str) -> dict:
        """The JSON object at `url` (see `get_json_at`)."""
        return self.get_json_at(url, accept, depth, **kwargs)[0]

    def get_json_at(self, url: str, accept: str, depth: int, **kwargs: str) -> tuple[dict, str]:
        """(JSON object, final URL) of a 2xx answer; Unavailable as in `get_ok`, or `structure`
        (category `client_error`) when the body is not a JSON object."""
        from .jsonutil import loads_strict

        fetched = self.get_ok(url, accept, depth, **kwargs)
        try:
            doc = loads_strict(fetched.body)
        except BadgeInputError as exc:
            raise failure("structure", kwargs.get("client_error", INVALID), url=url,
                          reason="not_json", detail=exc.code) from None
        if not isinstance(doc, dict):
            raise failure("structure", kwargs.get("client_error", INVALID), url=url, reason="not_json")
        return doc, fetched.url

    # --- contexts -------------------------------------------------------------------------------
    @property
    def store(self) -> Any:
        """The context store, or None when there is none (then `store_error` says why)."""
        if isinstance(self.contexts, (str, os.PathLike)):
            from .jsonld import ContextStore

            self.contexts = ContextStore.from_dir(self.contexts)
        if self.contexts is not None:
            return self.contexts
        if self._store is None and self._store_error is None:
            from .jsonld import NoContextStore, default_store

            try:
                self._store = default_store()
            except NoContextStore as exc:
                self._store_error = str(exc)
        return self._store
