"""Open Badges 0.5 – 2.0 verification: hosted assertions and signed (JWS) badges (PROTOCOLS.md §2).

Each function records its checks on the Session and returns the normalized Credential. Linked
documents are fetched through the Session's budget: BadgeClass at depth 1, issuer Profile at
depth 2, the issuer's verification policy / keys / revocation list at depth 3.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from .model import Credential
from .parse import (
    OB2_CONTEXTS,
    as_list,
    detect_version,
    id_of,
    is_http_url,
    normalize_ob2,
    parse_time,
    types_of,
    upgrade_assertion,
    upgrade_badgeclass,
    upgrade_issuer,
)
from .session import ACCEPT_JSON, INVALID, LEEWAY_SECONDS, UNKNOWN_STATUS, Session, Unavailable, failure

_REQUIRED = {
    "Assertion": ("id", "type", "recipient", "badge", "verification", "issuedOn"),
    "BadgeClass": ("id", "type", "name", "description", "image", "criteria", "issuer"),
    "Profile": ("id", "type", "name", "url", "email"),
}
# OB 0.5 badge classes are embedded without an id; OB 0.5/1.0 issuers often lack an email.
_LEGACY_OPTIONAL = {("BadgeClass", "id"), ("Profile", "email")}
_KINDS = {"Assertion": {"Assertion"}, "BadgeClass": {"BadgeClass"}, "Profile": {"Issuer", "Profile"}}


def authority(url: str) -> str:
    """The RFC 3986 authority (host[:port], lower-cased, without userinfo) of a URL."""
    netloc = urlsplit(url).netloc
    return netloc.rsplit("@", 1)[-1].lower()


def _has_type(node: dict, kind: str) -> bool:
    return any(t.split(":")[-1] in _KINDS[kind] for t in types_of(node))


def require(node: Any, kind: str, legacy: bool = False, where: str | None = None) -> None:
    """Raise Unavailable(invalid) naming the first missing required field of an OB 2.0 node."""
    label = where or kind
    if not isinstance(node, dict):
        raise failure("structure", INVALID, reason="missing", field=label)
    if not _has_type(node, kind):
        raise failure("structure", INVALID, reason="wrong_type", field=f"{label}.type",
                      expected=kind, id=id_of(node))
    for name in _REQUIRED[kind]:
        value = node.get(name)
        if value in (None, "", [], {}):
            if legacy and (kind, name) in _LEGACY_OPTIONAL:
                continue
            raise failure("structure", INVALID, reason="missing", field=f"{label}.{name}", id=id_of(node))
    if kind == "Assertion":
        recipient = node.get("recipient")
        if not isinstance(recipient, dict) or not isinstance(recipient.get("identity"), str):
            raise failure("structure", INVALID, reason="missing", field="Assertion.recipient.identity")
        if not legacy and "hashed" not in recipient:
            raise failure("structure", INVALID, reason="missing", field="Assertion.recipient.hashed")
        if parse_time(node.get("issuedOn")) is None:
            raise failure("structure", INVALID, reason="bad_date", field="Assertion.issuedOn")
        if "expires" in node and parse_time(node.get("expires")) is None:
            raise failure("structure", INVALID, reason="bad_date", field="Assertion.expires")


def _resolve(session: Session, node: Any, depth: int, kind: str, legacy: bool) -> dict:
    """An embedded node as is, or the document an IRI points to (fetched, legacy-upgraded)."""
    if isinstance(node, str) and is_http_url(node):
        doc = session.get_json(node, ACCEPT_JSON, depth)
        if kind == "BadgeClass":
            doc = upgrade_badgeclass(doc, node)
        elif kind == "Profile":
            doc = upgrade_issuer(doc, node)
        if id_of(doc) is None:
            doc = {**doc, "id": node}
    elif isinstance(node, dict):
        doc = upgrade_badgeclass(node, None) if kind == "BadgeClass" else node
        doc = upgrade_issuer(doc, None) if kind == "Profile" else doc
    else:
        raise failure("structure", INVALID, reason="missing", field=kind)
    require(doc, kind, legacy)
    return doc


def check_contexts(session: Session, *docs: Any, core: tuple[str, ...] = OB2_CONTEXTS) -> None:
    """No canonicalization here: a context outside the store is a warning and its terms are ignored."""
    store = session.store
    if store is None:  # nothing to compare with; OB 2.0 needs no canonicalization anyway
        return
    seen: set[str] = set()

    def walk(node: Any, level: int) -> None:
        if level > 8:
            return
        if isinstance(node, dict):
            for value in as_list(node.get("@context")):
                if isinstance(value, dict):
                    if "inline" not in seen:
                        seen.add("inline")
                        session.warn("context", reason="inline")
                elif isinstance(value, str) and value not in core and value not in seen:
                    seen.add(value)
                    if not store.has(value):
                        session.warn("context", reason="unknown", url=value)
            for key, value in node.items():
                if key != "@context":
                    walk(value, level + 1)
        elif isinstance(node, list):
            for item in node:
                walk(item, level + 1)

    for doc in docs:
        walk(doc, 0)


def check_origin(session: Session, assertion_id: str, issuer: dict, depth: int) -> None:
    """OB 2.0 hosted verification policy (validator-core `hosted_id_in_verification_scope`)."""
    issuer_id = id_of(issuer) or ""
    policy = issuer.get("verification")
    if isinstance(policy, str):
        policy = session.get_json(policy, ACCEPT_JSON, depth)
    policy = policy if isinstance(policy, dict) else {}
    if not is_http_url(issuer_id):
        session.warn("hosted_origin", reason="issuer_not_http", issuer=issuer_id)
        return
    starts = [s for s in as_list(policy.get("startsWith")) if isinstance(s, str)]
    if starts and not any(assertion_id.startswith(s) for s in starts):
        session.fail("hosted_origin", INVALID, reason="starts_with", id=assertion_id, allowed=starts)
        return
    origins = [o.lower() for o in as_list(policy.get("allowedOrigins")) if isinstance(o, str)]
    origins = origins or [authority(issuer_id)]
    origin = authority(assertion_id)
    if origin not in origins:
        session.fail("hosted_origin", INVALID, reason="origin", origin=origin, allowed=origins)
        return
    session.ok("hosted_origin", origin=origin)


def check_dates(session: Session, issued_on: Any, expires: Any) -> None:
    issued, until = parse_time(issued_on), parse_time(expires)
    now = session.now
    if issued is not None and issued.timestamp() > now.timestamp() + LEEWAY_SECONDS:
        session.fail("dates", INVALID, reason="issued_in_future", issued_on=str(issued_on))
    elif until is not None and issued is not None and until < issued:
        session.fail("dates", INVALID, reason="expires_before_issued", expires=str(expires))
    elif until is not None and until < now:
        session.expired = True
        session.note("dates", reason="expired", expires=str(expires))
    else:
        session.ok("dates", issued_on=str(issued_on) if issued_on is not None else None,
                   expires=str(expires) if expires is not None else None)


def hosted_url(doc: dict, verify_url: str | None) -> str | None:
    """Where a submitted OB 0.5–2.0 JSON assertion is hosted: the SVG `verify`, `id`, `verify.url`."""
    if is_http_url(verify_url):
        return verify_url
    if is_http_url(doc.get("id")):
        return doc["id"]
    verify = doc.get("verify")
    if isinstance(verify, dict) and is_http_url(verify.get("url")):
        return verify["url"]
    return None


def _revoked_stub(session: Session, doc: dict, url: str) -> Credential:
    reason = doc.get("revocationReason") if isinstance(doc.get("revocationReason"), str) else None
    session.revoke("revoked", url=url, revocationReason=reason)
    return normalize_ob2(doc, doc.get("badge"), None, version=detect_version(doc) or "2.0")


@dataclass(frozen=True, slots=True)
class Refetch:
    """Decision: a document that declares another id is re-fetched once from that id."""

    url: str


def check_hosted(session: Session, doc: dict, url: str, final_url: str, *,
                 refetched: bool = False) -> Credential | Refetch:
    """The hosted assertion `doc` fetched from `url` (final URL after redirects: `final_url`)."""
    if doc.get("revoked") is True:
        return _revoked_stub(session, doc, url)
    version = detect_version(doc) or "2.0"
    assertion = upgrade_assertion(doc, version, url)
    declared = id_of(assertion)
    if declared not in (url, final_url):
        if refetched or not is_http_url(declared):
            session.fail("hosted_id", INVALID, reason="mismatch", url=url, id=declared)
            return normalize_ob2(assertion, assertion.get("badge"), None, version=version)
        session.warn("hosted_id", reason="refetch", url=url, id=declared)
        return Refetch(declared)
    session.ok("hosted_id", url=url)
    legacy = version != "2.0"
    badge: Any = assertion.get("badge")
    issuer: Any = None
    try:
        require(assertion, "Assertion", legacy)
        verification = assertion.get("verification")
        vtype = verification.get("type") if isinstance(verification, dict) else verification
        if str(vtype).split(":")[-1] not in ("HostedBadge", "hosted"):
            raise failure("structure", INVALID, reason="verification_type", expected="HostedBadge",
                          found=str(vtype))
        badge = _resolve(session, assertion["badge"], 1, "BadgeClass", legacy)
        issuer = _resolve(session, badge["issuer"], 2, "Profile", legacy)
        check_contexts(session, doc, badge, issuer)
        check_origin(session, declared or url, issuer, 3)
    except Unavailable as exc:
        session.record(exc.category, exc.check)
    credential = normalize_ob2(assertion, badge, issuer, version=version, proof="hosted")
    if session.authentic:
        session.ok("revocation", reason="hosted")
        check_dates(session, assertion.get("issuedOn"), assertion.get("expires"))
    return credential


def check_signed(session: Session, token: str, claims: dict, version: str) -> Credential:
    """An OB 2.0 SignedBadge: RS256 JWS, key from `verification.creator` or `issuer.publicKey`."""
    from .proofs import verify_jws

    assertion = upgrade_assertion(claims, version)
    legacy = version != "2.0"
    badge: Any = assertion.get("badge")
    issuer: Any = None
    try:
        require(assertion, "Assertion", legacy)
        verification = assertion.get("verification") if isinstance(assertion.get("verification"), dict) else {}
        if str(verification.get("type")).split(":")[-1] not in ("SignedBadge", "signed"):
            raise failure("structure", INVALID, reason="verification_type", expected="SignedBadge",
                          found=str(verification.get("type")))
        badge = _resolve(session, assertion["badge"], 1, "BadgeClass", legacy)
        issuer = _resolve(session, badge["issuer"], 2, "Profile", legacy)
        check_contexts(session, claims, badge, issuer)
        creator = verification.get("creator")
        listed = [k for k in as_list(issuer.get("publicKey")) if id_of(k)]
        candidates = [creator] if isinstance(creator, str) else listed
        if not candidates:
            raise failure("key_owner", INVALID, reason="no_key")
        verified = _first_verifying_key(session, token, candidates, verify_jws)
        session.ok("proof", format="signed", alg="RS256", key=id_of(verified[0]))
        _check_key_owner(session, verified, creator, listed, issuer)
    except Unavailable as exc:
        session.record(exc.category, exc.check)
    credential = normalize_ob2(assertion, badge, issuer, version=version, proof="signed")
    if session.authentic and isinstance(issuer, dict):
        _check_revocation_list(session, issuer, assertion)
        check_dates(session, assertion.get("issuedOn"), assertion.get("expires"))
    return credential


def _first_verifying_key(session: Session, token: str, candidates: list, verify_jws) -> tuple[Any, str | None]:
    from .keys import UnusableKey, key_and_controller

    unavailable: Unavailable | None = None
    for candidate in candidates:
        try:
            doc = candidate if isinstance(candidate, dict) else session.get_json(str(candidate), ACCEPT_JSON, 3)
            key, owner = key_and_controller(doc)
        except Unavailable as exc:
            unavailable = unavailable or exc
            continue
        except UnusableKey as exc:
            unavailable = unavailable or failure("proof", INVALID, reason="bad_key", detail=str(exc))
            continue
        if verify_jws(token, key):
            return (candidate if isinstance(candidate, str) else doc, owner)
    if unavailable is not None and unavailable.category != INVALID:
        raise unavailable
    raise failure("proof", INVALID, reason="bad_signature", format="signed")


def _check_key_owner(session: Session, verified: tuple[Any, str | None], creator: Any,
                     listed: list, issuer: dict) -> None:
    key_id, owner = id_of(verified[0]), verified[1]
    if isinstance(creator, str) and creator not in {id_of(k) for k in listed}:
        raise failure("key_owner", INVALID, reason="not_listed", key=creator, issuer=id_of(issuer))
    if owner is not None and owner != id_of(issuer):
        raise failure("key_owner", INVALID, reason="owner_mismatch", key=key_id, owner=owner,
                      issuer=id_of(issuer))
    session.ok("key_owner", key=key_id, issuer=id_of(issuer))


def _check_revocation_list(session: Session, issuer: dict, assertion: dict) -> None:
    from .status import revocation_list_entry

    list_url = id_of(issuer.get("revocationList"))
    if not list_url:
        session.ok("revocation", reason="no_list")
        return
    embedded = issuer["revocationList"]
    try:
        if isinstance(embedded, dict) and "revokedAssertions" in embedded:
            doc = embedded
        else:
            doc = session.get_json(list_url, ACCEPT_JSON, 3, client_error=UNKNOWN_STATUS,
                                   server_error=UNKNOWN_STATUS)
    except Unavailable as exc:
        session.record(UNKNOWN_STATUS, exc.check)
        return
    entry = revocation_list_entry(doc, id_of(assertion) or "", assertion.get("uid"))
    if entry is not None:
        session.revoke("revoked", list=list_url, revocationReason=entry.get("revocationReason"))
    else:
        session.ok("revocation", reason="not_listed", list=list_url)
