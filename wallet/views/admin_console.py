"""Region staff console (routes added to the `admin` blueprint): users and roles, invitations,
partner issuers and catalogue, referential changes, issuer status, figures."""

from __future__ import annotations

from .admin import bp  # noqa: F401
