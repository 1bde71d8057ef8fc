"""Reading badges: input detection, version detection, legacy upgrade, normalization.

- `detect(source) -> Payload`: what the input is (PROTOCOLS.md §0): a URL, JSON text or a compact
  JWS, and how it came (png, svg, json, jws, url). Baked images are unbaked here.
- `detect_version(doc) -> str | None`: "0.5" | "1.0" | "1.1" | "2.0" | "3.0" (None: not a badge).
- `upgrade_assertion / upgrade_badgeclass / upgrade_issuer`: OB 0.5/1.0/1.1 documents in OB 2.0
  shape, in memory (the original text is kept untouched elsewhere).
- `normalize_ob2(assertion, badge, issuer)` and `normalize_ob3(credential)` → `Credential`.

Raises only `BadgeInputError` (not a badge, unreadable).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from .errors import BadgeInputError
from .model import Alignment, Credential, Evidence, Identity, isoformat

JWS_RE = re.compile(r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+$")
URL_RE = re.compile(r"^https?://\S+$", re.IGNORECASE)

OB2_CONTEXTS = ("https://w3id.org/openbadges/v2", "https://openbadgespec.org/v2/context.json")
OB1_CONTEXTS = ("https://w3id.org/openbadges/v1", "https://openbadgespec.org/v1/context.json")
VC2_CONTEXT = "https://www.w3.org/ns/credentials/v2"
VC1_CONTEXT = "https://www.w3.org/2018/credentials/v1"
OB3_CONTEXT_RE = re.compile(r"^https://purl\.imsglobal\.org/spec/ob/v3p0/(context(-3\.\d+\.\d+)?\.json"
                            r"|context/ob_v3p0\.jsonld)$")
OB3_TYPES = {"OpenBadgeCredential", "AchievementCredential"}
MAX_INPUT_BYTES = 32 * 1024 * 1024  # the default cap: baking's image cap (callers set their own)


@dataclass(frozen=True, slots=True)
class Payload:
    kind: str                 # "url" | "json" | "jws"
    text: str                 # the payload exactly as given or baked
    source_format: str        # "png" | "svg" | "json" | "jws" | "url"
    verify_url: str | None = None   # SVG `verify` attribute next to a CDATA JSON body


# --- small helpers used across the core ------------------------------------------------------

def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def types_of(node: Any) -> set[str]:
    if not isinstance(node, dict):
        return set()
    return {t for t in as_list(node.get("type", node.get("@type"))) if isinstance(t, str)}


def id_of(node: Any) -> str | None:
    """The id of an IRI string or of an embedded node."""
    if isinstance(node, str):
        return node
    if isinstance(node, dict):
        value = node.get("id", node.get("@id"))
        return value if isinstance(value, str) else None
    return None


def text(value: Any) -> str | None:
    """A plain string, or None (language maps and numbers are not trusted for display)."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and isinstance(value.get("@value"), str):
        return value["@value"]
    return None


def is_http_url(value: Any) -> bool:
    return isinstance(value, str) and bool(URL_RE.match(value))


def parse_time(value: Any) -> datetime | None:
    """An ISO-8601 date-time (a naive one is taken as UTC), a date, or a Unix time (OB 1.0)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        try:
            return datetime.fromtimestamp(value, tz=UTC)
        except (OverflowError, OSError, ValueError):
            return None
    if not isinstance(value, str) or len(value) > 64:
        return None
    raw = value.strip()
    if raw.isdigit():
        return parse_time(int(raw))
    if raw.endswith(("z", "Z")):
        raw = raw[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def iso(value: Any) -> str | None:
    moment = parse_time(value)
    return isoformat(moment) if moment else None


# --- input detection -------------------------------------------------------------------------

def classify_text(value: str, source_format: str, verify_url: str | None = None) -> Payload:
    """Classify a payload (`{` → JSON, JWS regex → JWS, `http(s)://` → URL). `source_format` is
    png/svg for a baked payload, else "text" (the kind then names the format)."""
    stripped = value.strip()
    baked = source_format in ("png", "svg")
    if URL_RE.match(stripped):
        return Payload("url", value, source_format if baked else "url")
    if JWS_RE.match(stripped):
        return Payload("jws", value, source_format if baked else "jws")
    if stripped.startswith("{"):
        return Payload("json", value, source_format if baked else "json", verify_url)
    raise BadgeInputError("not_a_badge", "the payload is neither JSON, a JWS nor a URL")


def _unbake(data: bytes, fmt: str) -> Payload:
    from .baking import unbake_details

    baked = unbake_details(data)
    if baked is None:
        raise BadgeInputError("no_badge", f"the {fmt.upper()} image carries no badge", format=fmt)
    payload = getattr(baked, "payload", None)
    verify_attr = getattr(baked, "verify", None)
    if isinstance(payload, str) and payload.strip():
        return classify_text(payload, fmt, verify_attr if is_http_url(verify_attr) else None)
    raise BadgeInputError("no_badge", "empty badge payload", format=fmt)


def detect(source: bytes | bytearray | str, max_bytes: int | None = None) -> Payload:
    """What the input is. Bytes are a file's content; a str is a URL, JSON text or a compact JWS.

    `max_bytes` (default MAX_INPUT_BYTES) caps the input before anything is parsed.
    """
    cap = MAX_INPUT_BYTES if max_bytes is None else max_bytes
    if isinstance(source, str):
        if len(source) > cap:
            raise BadgeInputError("too_large", "the input is too large", max_bytes=cap)
        return classify_text(source, "text")
    if not isinstance(source, (bytes, bytearray)):
        raise BadgeInputError("not_a_badge", "unsupported input type")
    data = bytes(source)
    if len(data) > cap:
        raise BadgeInputError("too_large", "the input is too large", max_bytes=cap)
    from .baking import sniff_format

    fmt = sniff_format(data)
    if fmt in ("png", "svg"):
        return _unbake(data, fmt)
    if fmt in ("gif", "jpeg", "webp", "pdf"):
        raise BadgeInputError("not_an_image", "not a PNG or SVG image", format=fmt)
    try:
        decoded = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise BadgeInputError("not_a_badge", "unreadable bytes", format=fmt) from None
    return classify_text(decoded, "text")


def detect_version(doc: Any) -> str | None:
    """The Open Badges version of a document (PROTOCOLS.md §0), None when it is not a badge."""
    if not isinstance(doc, dict):
        return None
    context = doc.get("@context")
    contexts = [c for c in as_list(context) if isinstance(c, str)]
    if any(c in (VC1_CONTEXT, VC2_CONTEXT) for c in contexts):
        if types_of(doc) & OB3_TYPES or any(OB3_CONTEXT_RE.match(c) for c in contexts):
            return "3.0"
        return None
    if context is not None:
        first = contexts[0] if contexts else ""
        if "v2" in first or first in OB2_CONTEXTS:
            return "2.0"
        if "v1" in first or first in OB1_CONTEXTS:
            return "1.1"
        return None
    recipient = doc.get("recipient")
    if isinstance(doc.get("verify"), dict) and ("recipient" in doc or "badge" in doc):
        return "1.0"  # OB 1.0 marks itself by its `verify` object; its recipient must be an object
    if isinstance(recipient, str) and isinstance(doc.get("badge"), dict):
        return "0.5"
    if isinstance(recipient, dict) and "badge" in doc:
        return "1.0"
    return None


ENDORSEMENT_TYPES = {"Endorsement", "EndorsementCredential"}


def reject_endorsement(doc: Any) -> None:
    """An OB 2.0 Endorsement or an OB 3.0 EndorsementCredential is a statement about a badge or an
    issuer, not a badge: say so (its own input error code) instead of calling it invalid."""
    if {t.rsplit(":", 1)[-1] for t in types_of(doc)} & ENDORSEMENT_TYPES:
        raise BadgeInputError("endorsement", "an endorsement, not a badge")


# --- legacy upgrade (OB 0.5 / 1.0 / 1.1 → 2.0 shape) -----------------------------------------

_VERIFY_TYPES = {"hosted": "HostedBadge", "signed": "SignedBadge",
                 "HostedBadge": "HostedBadge", "SignedBadge": "SignedBadge"}


def _legacy_issuer(issuer: dict) -> dict:
    origin = issuer.get("origin")
    out = {"type": "Issuer", "id": issuer.get("id") or origin, "name": issuer.get("name"),
           "url": issuer.get("url") or origin, "email": issuer.get("email") or issuer.get("contact")}
    if issuer.get("org"):
        out["description"] = issuer.get("org")
    return {k: v for k, v in out.items() if v is not None}


def upgrade_assertion(doc: dict, version: str, url: str | None = None) -> dict:
    """An OB 2.0-shaped copy of an OB 0.5/1.0/1.1 assertion (`url`: where it was fetched)."""
    if version in ("2.0", "3.0"):
        return doc
    out = dict(doc)
    out["@context"] = OB2_CONTEXTS[0]
    out["type"] = "Assertion"
    # OB 1.x `verify: {type, url}` (read as `verification` when the document has a context).
    verify = next((v for v in (doc.get("verify"), doc.get("verification")) if isinstance(v, dict)), {})
    vtype = _VERIFY_TYPES.get(str(verify.get("type") or "hosted").rsplit(":", 1)[-1], "HostedBadge")
    out["verification"] = {"type": vtype}
    if vtype == "SignedBadge" and is_http_url(verify.get("url")):
        out["verification"]["creator"] = verify["url"]
    out.pop("verify", None)
    if verify.get("url") and vtype == "HostedBadge":
        out["id"] = verify["url"] if not is_http_url(doc.get("id")) else doc["id"]
    if not out.get("id") and url:
        out["id"] = url
    if version == "0.5":
        identity = doc.get("recipient")
        hashed = isinstance(identity, str) and bool(re.match(r"^(sha256|md5|sha1)\$", identity))
        out["recipient"] = {"type": "email", "identity": identity, "hashed": hashed}
        if isinstance(doc.get("salt"), str):
            out["recipient"]["salt"] = doc["salt"]
        out.pop("salt", None)
        if "issued_on" in doc and "issuedOn" not in doc:
            out["issuedOn"] = doc["issued_on"]
        badge = doc.get("badge")
        if isinstance(badge, dict):
            out["badge"] = upgrade_badgeclass(badge, None)
    for key in ("issuedOn", "expires"):
        if key in out and iso(out[key]):
            out[key] = iso(out[key])
    return out


def upgrade_badgeclass(doc: dict, url: str | None) -> dict:
    if detect_version(doc) == "2.0" or types_of(doc) & {"BadgeClass"} and "@context" in doc:
        return doc
    out = dict(doc)
    out["type"] = "BadgeClass"
    if not out.get("id") and url:
        out["id"] = url
    issuer = doc.get("issuer")
    if isinstance(issuer, dict):
        out["issuer"] = upgrade_issuer(issuer, None)
    return out


def upgrade_issuer(doc: dict, url: str | None) -> dict:
    if detect_version(doc) == "2.0" or types_of(doc) & {"Issuer", "Profile"} and "@context" in doc:
        return doc
    out = _legacy_issuer(doc)
    if not out.get("id") and url:
        out["id"] = url
    for key in ("image", "description", "revocationList", "publicKey", "verification"):
        if key in doc:
            out[key] = doc[key]
    return out


# --- normalization ---------------------------------------------------------------------------

def _image(value: Any) -> str | None:
    return id_of(value) if isinstance(value, (str, dict)) else None


def _criteria(value: Any) -> tuple[str | None, str | None]:
    if isinstance(value, str):
        return value, None
    if isinstance(value, dict):
        url = value.get("id") or value.get("url")
        return (url if isinstance(url, str) else None), text(value.get("narrative"))
    return None, None


def _alignments(value: Any) -> tuple[Alignment, ...]:
    out = []
    for item in as_list(value):
        if isinstance(item, dict):
            out.append(Alignment(text(item.get("targetName")), text(item.get("targetUrl")),
                                 text(item.get("targetFramework")), text(item.get("targetCode"))))
    return tuple(out)


def _evidence(value: Any) -> tuple[Evidence, ...]:
    out = []
    for item in as_list(value):
        if isinstance(item, str):
            out.append(Evidence(id=item))
        elif isinstance(item, dict):
            out.append(Evidence(id_of(item), text(item.get("name")), text(item.get("narrative")),
                                text(item.get("description"))))
    return tuple(out)


def _tags(value: Any) -> tuple[str, ...]:
    return tuple(t for t in as_list(value) if isinstance(t, str))


def _issuer_fields(issuer: Any) -> dict[str, str | None]:
    node = issuer if isinstance(issuer, dict) else {}
    return {"issuer_id": id_of(issuer), "issuer_name": text(node.get("name")),
            "issuer_url": text(node.get("url")) if isinstance(node.get("url"), str) else id_of(node.get("url"))}


def normalize_ob2(assertion: dict, badge: Any, issuer: Any, *, version: str = "2.0",
                  proof: str = "hosted") -> Credential:
    """One Credential from an OB 2.0-shaped assertion and its (possibly missing) linked nodes."""
    badge_node = badge if isinstance(badge, dict) else {}
    criteria_url, narrative = _criteria(badge_node.get("criteria"))
    recipient = assertion.get("recipient")
    identities: tuple[Identity, ...] = ()
    if isinstance(recipient, dict) and isinstance(recipient.get("identity"), str):
        identities = (Identity(str(recipient.get("type") or "email"), recipient["identity"],
                               recipient.get("hashed") is True or str(recipient.get("hashed")).lower() == "true",
                               text(recipient.get("salt"))),)
    return Credential(
        version=version, proof=proof, id=id_of(assertion), badge_id=id_of(badge),
        name=text(badge_node.get("name")), description=text(badge_node.get("description")),
        image=_image(badge_node.get("image")) or _image(assertion.get("image")),
        criteria_url=criteria_url, criteria_narrative=narrative,
        tags=_tags(badge_node.get("tags")), alignments=_alignments(badge_node.get("alignment")),
        **_issuer_fields(issuer),
        issued_on=iso(assertion.get("issuedOn")), expires=iso(assertion.get("expires")),
        identities=identities, evidence=_evidence(assertion.get("evidence")),
        endorsements=tuple(as_list(badge_node.get("endorsement")) + as_list(assertion.get("endorsement"))),
        narrative=text(assertion.get("narrative")),
    )


OB3_IDENTITY_TYPES = {"emailAddress": "email"}


def normalize_ob3(credential: dict, proof: str = "none") -> Credential:
    subject = credential.get("credentialSubject")
    subject = subject[0] if isinstance(subject, list) and subject else subject
    subject = subject if isinstance(subject, dict) else {}
    achievement = subject.get("achievement") if isinstance(subject.get("achievement"), dict) else {}
    criteria_url, narrative = _criteria(achievement.get("criteria"))
    identities = []
    for item in as_list(subject.get("identifier")):
        if isinstance(item, dict) and isinstance(item.get("identityHash"), str):
            kind = str(item.get("identityType") or "identifier")
            identities.append(Identity(OB3_IDENTITY_TYPES.get(kind, kind), item["identityHash"],
                                       item.get("hashed") is True, text(item.get("salt"))))
    subject_id = subject.get("id") if isinstance(subject.get("id"), str) else None
    return Credential(
        version="3.0", proof=proof, id=id_of(credential), badge_id=id_of(achievement),
        name=text(achievement.get("name")) or text(credential.get("name")),
        description=text(achievement.get("description")) or text(credential.get("description")),
        image=_image(achievement.get("image")) or _image(credential.get("image")),
        criteria_url=criteria_url, criteria_narrative=narrative,
        tags=_tags(achievement.get("tag")), alignments=_alignments(achievement.get("alignment")),
        **_issuer_fields(credential.get("issuer")),
        issued_on=iso(credential.get("validFrom", credential.get("issuanceDate"))),
        expires=iso(credential.get("validUntil", credential.get("expirationDate"))),
        identities=tuple(identities), subject_id=subject_id,
        evidence=_evidence(credential.get("evidence")),
        endorsements=tuple(as_list(credential.get("endorsement")) + as_list(credential.get("endorsementJwt"))),
        narrative=text(subject.get("narrative")),
    )
