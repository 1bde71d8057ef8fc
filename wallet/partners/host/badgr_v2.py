"""The Badgr v2 backpack API that Moodle 4.x speaks in its "Open Badges v2.0" mode (PROTOCOLS.md §9.2).

Shapes as badgr-server answers them (apps/entity/serializers.py `BaseSerializerV2.response_envelope`,
apps/entity/views.py `exception_handler`, apps/backpack/serializers_v2.py `BackpackImportSerializerV2`):
`{"status": {"success", "description"}, "result": [...]}`, errors adding `validationErrors` /
`fieldErrors`, `result` ALWAYS a list — Moodle's backpack_api_mapping::request() unwraps `result`,
`count()`s it and takes `[0]`, which fails on anything but an array. What Moodle reads of an imported
assertion (badges/classes/external/assertion_exporter.php `map_external_data`): `entityType`,
`entityId` (cleaned as a URL, stored as the assertion's id on the backpack) and `issuedOn`.
"""

from __future__ import annotations

import json
from typing import Any

from ...models import Badge
from .common import json_object

MAX_BODY = 256 * 1024
DUPLICATE = "DUPLICATE_BADGE"


def envelope(result: list[dict[str, Any]], *, success: bool = True, description: str = "ok",
             validation_errors: list | None = None, field_errors: dict | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"status": {"success": success, "description": description}, "result": list(result)}
    if validation_errors is not None:
        body["validationErrors"] = validation_errors
    if field_errors is not None:
        body["fieldErrors"] = field_errors
    return body


def failure(description: str, *, name: str | None = None, detail: str | None = None) -> dict[str, Any]:
    """A refusal as badgr-server words it: success false, an empty result, the reason named."""
    errors = [{"name": name, "description": detail or description}] if name else [detail or description]
    return envelope([], success=False, description=description, validation_errors=errors, field_errors={})


def import_payload(body: bytes) -> tuple[str | None, str | None]:
    """(what to import, None) or (None, error code) from a `POST /v2/backpack/import` body.

    Badgr accepts exactly one of `url`, `assertion` (OB 2.0 JSON) or `image`; Moodle sends `url`.
    """
    doc, problem = json_object(body, MAX_BODY)
    if doc is None:
        return None, problem
    given = [key for key in ("url", "assertion", "image") if doc.get(key)]
    if len(given) != 1:
        return None, "one_of"
    if given[0] == "image":
        return None, "image_unsupported"
    if given[0] == "url":
        url = doc["url"]
        if not isinstance(url, str) or not url.startswith(("https://", "http://")) or len(url) > 2048:
            return None, "bad_url"
        return url.strip(), None
    if not isinstance(doc["assertion"], dict):
        return None, "not_json"
    return json.dumps(doc["assertion"]), None


def _iso(moment) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment is not None else None


def assertion_entity(badge: Badge) -> dict[str, Any]:
    """A stored badge as a Badgr v2 BackpackAssertion (the fields Moodle and Badgr clients read)."""
    return {
        "entityType": "Assertion",
        "entityId": badge.credential_id or "",
        "openBadgeId": badge.credential_id or "",
        "badgeclass": badge.badge_class_id,
        "badgeclassOpenBadgeId": badge.badge_class_id,
        "issuer": badge.issuer_id,
        "issuerOpenBadgeId": badge.issuer_id,
        "issuedOn": _iso(badge.issued_on),
        "expires": _iso(badge.expires),
        "revoked": badge.status in ("revoked", "suspended"),
        "acceptance": "Accepted" if badge.matched else "Unaccepted",
        "pending": not badge.matched,
    }
