"""Verdict dicts (DESIGN.md §4) built by hand, and the packaged referential, for the engine tests."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import Any

from wallet.eligibility import default_referential_path, load_referential

BASE = "https://wallet.example"
NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
FRAMEWORK = f"{BASE}/referentials/normandie/competences"

# Demo partners of the packaged referential (organisation key → an issuer id).
CENTRE = f"{BASE}/demo/partners/centre-formation"
ASSO = f"{BASE}/demo/partners/association-insertion"
ASSO_V3 = f"{BASE}/demo/partners/association-insertion/v3"
ATELIER = f"{BASE}/demo/partners/atelier-bocage"
STRANGER = "https://stranger.example/issuer"
REGION = f"{BASE}/issuers/region"

_ids = itertools.count(1)


def referential(**kwargs: Any):
    return load_referential(default_referential_path(), base_url=BASE, **kwargs)


def target(skill: str, level: int) -> str:
    return f"{FRAMEWORK}/{skill}/niveau-{level}"


def verdict(*, skill: str | None = "communiquer", level: int = 1, issuer: str = CENTRE,
            badge_id: str | None = None, status: str = "valid", matched: bool | None = True,
            expires: str | None = None, cid: str | None = None, alignments: list | None = None,
            tags: list | None = None) -> dict:
    """A Verdict dict for a partner badge aligned (by targetUrl) to `skill` at `level`."""
    number = next(_ids)
    if alignments is None:
        alignments = ([{"name": skill, "url": target(skill, level), "framework": None, "code": None}]
                      if skill else [])
    return {
        "status": status, "valid": status == "valid", "version": "2.0", "proof": "hosted",
        "id": cid or f"urn:uuid:00000000-0000-0000-0000-{number:012d}",
        "badge": {"id": badge_id or f"{issuer}/badges/{number}", "name": f"Badge {number}",
                  "description": "", "image": "", "criteria": {"url": None, "narrative": None},
                  "tags": tags or [], "alignments": alignments},
        "issuer": {"id": issuer, "name": "Organisme", "url": None},
        "issued_on": "2026-01-01T00:00:00Z", "expires": expires,
        "recipient": {"type": "email", "hashed": True, "matched": matched},
        "checks": [], "checked_at": "2026-10-01T00:00:00Z",
    }


def regional(key: str, **kwargs: Any) -> dict:
    """A Verdict dict for a regional badge issued by the Region."""
    return verdict(skill=None, issuer=REGION, badge_id=f"{REGION}/badges/{key}", **kwargs)


def by_key(results) -> dict:
    return {r.key: r for r in results}


def badge_table(key: str, rule: str, name: str = "", name_en: str = "") -> str:
    """A `[[badges]]` table of a test referential: the regional badge `key` under `rule` (the body
    of an inline TOML table, e.g. 'type = "all_of", of = ["x"]'); its names default to the key."""
    return f'''
[[badges]]
key = "{key}"
id = "{{base_url}}/issuers/region/badges/{key}"
name = {{ fr = "{name or key}", en = "{name_en or name or key}" }}
description = {{ fr = "d", en = "d" }}
criteria = {{ fr = "c", en = "c" }}
rule = {{ {rule} }}
'''
