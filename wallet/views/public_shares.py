"""Public share pages (`/p/<token>`): routes added to the `public` blueprint (no login: employers
open them once, with no account)."""

from __future__ import annotations

from .public import bp  # noqa: F401
