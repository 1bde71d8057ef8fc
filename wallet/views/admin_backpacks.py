"""Region staff: register partner backpacks (routes added to the `admin` blueprint)."""

from __future__ import annotations

from .admin import bp  # noqa: F401
