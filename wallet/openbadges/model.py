"""Domain data of the Open Badges core: the normalized Credential, the Checks, the Verdict.

Everything here is immutable and plain (str / None / tuples), so a Verdict can be stored as JSON
and re-rendered later in the reader's language (`Verdict.to_dict(lang)`, `Verdict.from_dict`).

Check ids form a small fixed vocabulary (DESIGN.md §4). `params["reason"]`, when present, names
the precise outcome; the message catalog (messages.py) has a sentence for every id + reason.

| id            | what it says                                                                    |
|---------------|---------------------------------------------------------------------------------|
| input         | what was read: format (png, svg, json, jws, url), Open Badges version           |
| structure     | required fields and shapes of the assertion / badge class / issuer / credential |
| context       | JSON-LD contexts: unknown extension context (warning), context missing for a proof |
| fetch         | a linked document could not be fetched or was refused (url, status, reason)      |
| hosted_id     | the hosted assertion's declared id matches the URL it was fetched from          |
| authority     | a linked or embedded node (badge class, issuer, key, list) declares the id it was |
|               | fetched from (PROTOCOLS.md Decisions, "Authority"): refetch, mismatch           |
| hosted_origin | the assertion id is inside the issuer's verification policy (startsWith, origins)|
| proof         | the signature / Data Integrity proof / VC-JWT is valid                          |
| key_owner     | the signing key belongs to (is published by / controlled by) the issuer         |
| revocation    | revocation / suspension status (hosted 410, revoked flag, lists, bitstrings)    |
| dates         | issuedOn / validFrom / expires / validUntil against the time of checking        |
| recipient     | whether the badge names one of the given identities (never changes the status)  |
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from enum import Enum
from typing import Any

CHECK_IDS = (
    "input", "structure", "context", "fetch", "hosted_id", "authority", "hosted_origin", "proof",
    "key_owner", "revocation", "dates", "recipient",
)


class Level(str, Enum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


class Status(str, Enum):
    VALID = "valid"
    INVALID = "invalid"
    UNVERIFIABLE = "unverifiable"
    REVOKED = "revoked"
    SUSPENDED = "suspended"
    EXPIRED = "expired"
    NOT_YET_VALID = "not_yet_valid"


@dataclass(frozen=True, slots=True)
class Check:
    id: str
    ok: bool
    level: Level = Level.INFO
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def reason(self) -> str | None:
        value = self.params.get("reason")
        return value if isinstance(value, str) else None

    def to_dict(self, lang: str = "fr") -> dict[str, Any]:
        from .messages import render

        return {"id": self.id, "ok": self.ok, "level": self.level.value, "params": dict(self.params),
                "message": render(self, lang)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Check:
        return cls(str(d["id"]), bool(d["ok"]), Level(d.get("level", "info")), dict(d.get("params") or {}))


@dataclass(frozen=True, slots=True)
class Alignment:
    name: str | None
    url: str | None
    framework: str | None = None
    code: str | None = None


@dataclass(frozen=True, slots=True)
class Evidence:
    id: str | None = None
    name: str | None = None
    narrative: str | None = None
    description: str | None = None


@dataclass(frozen=True, slots=True)
class Identity:
    """One recipient identity the badge names (OB2 `recipient`, OB3 `identifier[]` or subject id)."""

    type: str                 # "email", "url", "telephone", "id", ... (OB3 emailAddress → "email")
    identity: str             # plaintext or "<alg>$<hex>"
    hashed: bool = False
    salt: str | None = None


@dataclass(frozen=True, slots=True)
class Credential:
    """One badge, whatever its version, normalized for display and decisions.

    `original` is the payload text exactly as given or baked (JSON, JWS or URL);
    `source_format` is how it came: png, svg, json, jws or url. Dates are ISO-8601 strings (UTC,
    `Z`). Nothing here is trusted HTML.
    """

    version: str | None = None            # 0.5 | 1.0 | 1.1 | 2.0 | 3.0
    proof: str = "none"                   # hosted | signed | eddsa-rdfc-2022 | vc-jwt | none
    id: str | None = None                 # assertion / credential id
    badge_id: str | None = None           # BadgeClass / Achievement id
    name: str | None = None
    description: str | None = None
    image: str | None = None              # URL or data URI
    criteria_url: str | None = None
    criteria_narrative: str | None = None
    tags: tuple[str, ...] = ()
    alignments: tuple[Alignment, ...] = ()
    issuer_id: str | None = None
    issuer_name: str | None = None
    issuer_url: str | None = None
    issued_on: str | None = None
    expires: str | None = None
    identities: tuple[Identity, ...] = ()
    subject_id: str | None = None         # OB3 credentialSubject.id
    evidence: tuple[Evidence, ...] = ()
    endorsements: tuple[Any, ...] = ()    # kept raw (embedded objects or JWS strings)
    narrative: str | None = None
    original: str = ""
    source_format: str = ""

    def with_source(self, original: str, source_format: str) -> Credential:
        return replace(self, original=original, source_format=source_format)


def isoformat(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True, slots=True)
class Verdict:
    status: Status
    credential: Credential
    checks: tuple[Check, ...]
    checked_at: str
    recipient_type: str | None = None
    recipient_hashed: bool | None = None
    recipient_matched: bool | None = None
    matched_identity: str | None = None   # never serialized (privacy); for the app
    issued_on: str | None = None          # only from authenticated data
    expires: str | None = None

    @property
    def valid(self) -> bool:
        return self.status is Status.VALID

    @property
    def version(self) -> str | None:
        return self.credential.version

    @property
    def proof(self) -> str:
        return self.credential.proof

    def check(self, check_id: str) -> Check | None:
        """The first failing check with this id, else the first one."""
        found = [c for c in self.checks if c.id == check_id]
        return next((c for c in found if not c.ok), found[0] if found else None)

    def to_dict(self, lang: str = "fr") -> dict[str, Any]:
        c = self.credential
        return {
            "status": self.status.value,
            "valid": self.valid,
            "version": c.version,
            "proof": c.proof,
            "id": c.id,
            "badge": {
                "id": c.badge_id, "name": c.name, "description": c.description, "image": c.image,
                "criteria": {"url": c.criteria_url, "narrative": c.criteria_narrative},
                "tags": list(c.tags),
                "alignments": [{"name": a.name, "url": a.url, "framework": a.framework, "code": a.code}
                               for a in c.alignments],
            },
            "issuer": {"id": c.issuer_id, "name": c.issuer_name, "url": c.issuer_url},
            "issued_on": self.issued_on,
            "expires": self.expires,
            "recipient": {"type": self.recipient_type, "hashed": self.recipient_hashed,
                          "matched": self.recipient_matched},
            "checks": [check.to_dict(lang) for check in self.checks],
            "checked_at": self.checked_at,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Verdict:
        """Rebuild a Verdict from `to_dict` output (messages are re-rendered; `original` is lost)."""
        badge = d.get("badge") or {}
        criteria = badge.get("criteria") or {}
        issuer = d.get("issuer") or {}
        recipient = d.get("recipient") or {}
        credential = Credential(
            version=d.get("version"), proof=d.get("proof") or "none", id=d.get("id"),
            badge_id=badge.get("id"), name=badge.get("name"), description=badge.get("description"),
            image=badge.get("image"), criteria_url=criteria.get("url"),
            criteria_narrative=criteria.get("narrative"), tags=tuple(badge.get("tags") or ()),
            alignments=tuple(Alignment(a.get("name"), a.get("url"), a.get("framework"), a.get("code"))
                             for a in badge.get("alignments") or ()),
            issuer_id=issuer.get("id"), issuer_name=issuer.get("name"), issuer_url=issuer.get("url"),
            issued_on=d.get("issued_on"), expires=d.get("expires"),
        )
        return cls(
            status=Status(d["status"]), credential=credential,
            checks=tuple(Check.from_dict(c) for c in d.get("checks") or ()),
            checked_at=d.get("checked_at") or "", recipient_type=recipient.get("type"),
            recipient_hashed=recipient.get("hashed"), recipient_matched=recipient.get("matched"),
            issued_on=d.get("issued_on"), expires=d.get("expires"),
        )
