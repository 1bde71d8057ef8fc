"""The builtin Region issuer's public documents (`/issuers/…`): routes added to the `public`
blueprint (verifiers fetch them with no account)."""

from __future__ import annotations

from .public import bp  # noqa: F401
