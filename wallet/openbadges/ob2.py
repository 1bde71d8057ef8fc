"""Open Badges 0.5 – 2.0 verification: hosted assertions and signed (JWS) badges (PROTOCOLS.md §2).

Each function records its checks on the Session and returns the normalized Credential. Every
document is read through its JSON-LD context (terms.py) and every node that names itself by an
http(s) id is taken only from that id (nodes.py, PROTOCOLS.md Decisions "Authority"): the
BadgeClass at depth 1, the issuer Profile at depth 2, the issuer's verification policy, keys and
revocation list at depth 3. The issuer a Credential names is therefore always the one fetched from
its own id, and only when the badge is proven to be that issuer's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from .model import Check, Credential, Level
from .nodes import authoritative, read_ob2, same_url
from .parse import (
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
from .session import INVALID, LEEWAY_SECONDS, UNKNOWN_STATUS, Session, Unavailable, failure

_REQUIRED = {
    "Assertion": ("id", "type", "recipient", "badge", "verification", "issuedOn"),
    "BadgeClass": ("id", "type", "name", "description", "image", "criteria", "issuer"),
    "Profile": ("id", "type", "name", "url", "email"),
}
# What older versions did not require: OB 0.5 badge classes are embedded without an id and its
# `issued_on` is optional; OB 0.5/1.0 issuers often lack an email.
_OPTIONAL = {
    "0.5": {("BadgeClass", "id"), ("Profile", "email"), ("Assertion", "issuedOn")},
    "1.0": {("BadgeClass", "id"), ("Profile", "email")},
    "1.1": {("BadgeClass", "id"), ("Profile", "email")},
}
_KINDS = {"Assertion": {"Assertion"}, "BadgeClass": {"BadgeClass"}, "Profile": {"Issuer", "Profile"}}
_FIELDS = {"BadgeClass": "badge", "Profile": "issuer"}


def authority(url: str) -> str:
    """The RFC 3986 authority (host[:port], lower-cased, without userinfo) of a URL."""
    netloc = urlsplit(url).netloc
    return netloc.rsplit("@", 1)[-1].lower()


def _has_type(node: dict, kind: str) -> bool:
    return any(t.split(":")[-1] in _KINDS[kind] for t in types_of(node))


def require(node: Any, kind: str, version: str = "2.0", where: str | None = None) -> None:
    """Raise Unavailable(invalid) naming the first missing required field of an OB 2.0 node."""
    label = where or kind
    optional = _OPTIONAL.get(version, set())
    if not isinstance(node, dict):
        raise failure("structure", INVALID, reason="missing", field=label)
    if not _has_type(node, kind):
        raise failure("structure", INVALID, reason="wrong_type", field=f"{label}.type",
                      expected=kind, id=id_of(node))
    for name in _REQUIRED[kind]:
        value = node.get(name)
        if value in (None, "", [], {}) and (kind, name) not in optional:
            raise failure("structure", INVALID, reason="missing", field=f"{label}.{name}", id=id_of(node))
    if kind == "Assertion":
        recipient = node.get("recipient")
        if not isinstance(recipient, dict):
            raise failure("structure", INVALID, reason="wrong_type", field="Assertion.recipient",
                          expected="IdentityObject")
        if not isinstance(recipient.get("identity"), str):
            raise failure("structure", INVALID, reason="missing", field="Assertion.recipient.identity")
        if version == "2.0" and "hashed" not in recipient:
            raise failure("structure", INVALID, reason="missing", field="Assertion.recipient.hashed")
        if ("issuedOn" in node or ("Assertion", "issuedOn") not in optional) \
                and parse_time(node.get("issuedOn")) is None:
            raise failure("structure", INVALID, reason="bad_date", field="Assertion.issuedOn")
        if "expires" in node and parse_time(node.get("expires")) is None:
            raise failure("structure", INVALID, reason="bad_date", field="Assertion.expires")


def _upgrade(doc: dict, kind: str) -> dict:
    if kind == "BadgeClass":
        return upgrade_badgeclass(doc, id_of(doc))
    return upgrade_issuer(doc, id_of(doc))


def resolve(session: Session, node: Any, depth: int, kind: str, version: str) -> dict:
    """The authoritative BadgeClass / Profile a reference names, upgraded and checked."""
    if version == "0.5":
        # OB 0.5 embeds both, without ids (the issuer's "id" is its origin): they are part of the
        # assertion, which was fetched from its own URL; the origin check ties them to it.
        doc = _upgrade(node, kind) if isinstance(node, dict) else node
    else:
        doc = _upgrade(authoritative(session, node, depth, field=_FIELDS[kind]), kind)
    require(doc, kind, version)
    return doc


def origin_problem(session: Session, assertion_id: str, issuer: dict, depth: int) -> Check | None:
    """The failing `hosted_origin` check, or None when the assertion is in the issuer's hosted
    verification policy (validator-core `hosted_id_in_verification_scope`)."""
    issuer_id = id_of(issuer) or ""
    policy = issuer.get("verification")
    if isinstance(policy, str) or (isinstance(policy, dict) and is_http_url(id_of(policy))):
        policy = authoritative(session, policy, depth, field="issuer.verification")
    policy = policy if isinstance(policy, dict) else {}
    if not is_http_url(issuer_id):
        # Nothing ties the badge to an issuer with a web identity: it can never count as a
        # partner's (eligibility keys on issuer ids), so this is said, not failed.
        return Check("hosted_origin", False, Level.WARNING, {"reason": "issuer_not_http", "issuer": issuer_id})
    starts = [s for s in as_list(policy.get("startsWith")) if isinstance(s, str)]
    if starts and not any(assertion_id.startswith(s) for s in starts):
        return Check("hosted_origin", False, Level.ERROR,
                     {"reason": "starts_with", "id": assertion_id, "allowed": starts})
    origins = [o.lower() for o in as_list(policy.get("allowedOrigins")) if isinstance(o, str)]
    origins = origins or [authority(issuer_id)]
    origin = authority(assertion_id)
    if origin not in origins:
        return Check("hosted_origin", False, Level.ERROR, {"reason": "origin", "origin": origin, "allowed": origins})
    return None


def check_origin(session: Session, assertion_id: str, issuer: dict, depth: int) -> None:
    problem = origin_problem(session, assertion_id, issuer, depth)
    if problem is None:
        session.ok("hosted_origin", origin=authority(assertion_id))
    elif problem.level is Level.WARNING:
        session.add(problem)
    else:
        session.record(INVALID, problem)


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


def read_assertion(session: Session, doc: dict, url: str | None = None) -> tuple[dict, str]:
    """(the assertion in OB 2.0 shape and canonical terms, its version)."""
    version = detect_version(doc) or "2.0"
    if version in ("1.1", "2.0"):
        doc = read_ob2(session, doc)
    return upgrade_assertion(doc, version, url), version


def verification_type(assertion: dict) -> str:
    verification = assertion.get("verification")
    vtype = verification.get("type") if isinstance(verification, dict) else verification
    return str(vtype).split(":")[-1]


def require_verified_by(assertion: dict, kind: str, version: str) -> None:
    """Unavailable (`structure`) unless `assertion` is an Assertion verified by `kind`
    ("HostedBadge" or "SignedBadge", also written "hosted" / "signed")."""
    require(assertion, "Assertion", version)
    found = verification_type(assertion)
    if found not in (kind, kind.removesuffix("Badge").lower()):
        raise failure("structure", INVALID, reason="verification_type", expected=kind, found=found)


def hosted_url(doc: dict, verify_url: str | None) -> str | None:
    """Where a submitted assertion (canonical reading) is hosted: the SVG `verify`, `id`,
    `verification.url` (Moodle, OB 1.0 `verify.url`)."""
    if is_http_url(verify_url):
        return verify_url
    if is_http_url(doc.get("id")):
        return doc["id"]
    verification = doc.get("verification")
    if isinstance(verification, dict) and is_http_url(verification.get("url")):
        return verification["url"]
    return None


def revoked(session: Session, url: str, submitted: dict | None, body: dict | None = None, *,
            version: str = "2.0", reason: str | None = None, **params: Any) -> Credential:
    """A hosted assertion its issuer's server calls revoked (410 Gone, or `revoked: true`).

    The stripped answer (`body`) rarely names its badge: the badge the body or the learner's own
    copy (`submitted`, canonical) links to is followed, and the issuer is kept on the verdict only
    when it is authoritative and its hosted verification policy covers `url` — so that eligibility
    says "revoked" rather than "not a partner's". The learner's copy still says whose badge it is
    (recipient); its dates are not reported (never authenticated). Nothing here can fail the
    verdict: the issuer's own server said "revoked".
    """
    session.revoke("revoked", url=url, revocationReason=reason, **params)
    if submitted is None and not (body or {}).get("badge"):
        return Credential(id=url, proof="hosted")  # nothing but "withdrawn" was read
    base = {k: v for k, v in (submitted or {}).items() if k not in ("issuedOn", "expires")}
    base["id"] = url
    hint = (body or {}).get("badge") or base.get("badge")
    badge = issuer = None
    if hint is not None:
        try:
            badge = resolve(session, hint, 1, "BadgeClass", version)
            issuer = resolve(session, badge["issuer"], 2, "Profile", version)
            if origin_problem(session, url, issuer, 3) is not None:
                issuer = None
        except Unavailable:
            badge = badge if isinstance(badge, dict) else (hint if isinstance(hint, dict) else None)
            issuer = None
    return normalize_ob2(base, badge, issuer, version=version)


@dataclass(frozen=True, slots=True)
class Refetch:
    """Decision: a document that declares another id is re-fetched once from that id."""

    url: str


def check_hosted(session: Session, doc: dict, url: str, final_url: str, *, refetched: bool = False,
                 submitted: dict | None = None) -> Credential | Refetch:
    """The hosted assertion `doc` fetched from `url` (final URL after redirects: `final_url`).

    `submitted`: the learner's own copy (canonical), if any — used only for a revoked badge.
    """
    try:
        assertion, version = read_assertion(session, doc, final_url)
    except Unavailable as exc:
        session.record(exc.category, exc.check)
        return Credential(id=url, proof="hosted")
    if assertion.get("revoked") is True:
        reason = assertion.get("revocationReason")
        return revoked(session, url, submitted, assertion, version=version,
                       reason=reason if isinstance(reason, str) else None)
    declared = id_of(assertion)
    if not same_url(declared, final_url):
        if refetched or not is_http_url(declared) or same_url(declared, url):
            session.fail("hosted_id", INVALID, reason="mismatch", url=final_url, id=declared)
            return normalize_ob2(assertion, assertion.get("badge"), None, version=version)
        session.warn("hosted_id", reason="refetch", url=final_url, id=declared)
        return Refetch(declared)
    session.ok("hosted_id", url=final_url)
    badge: Any = assertion.get("badge")
    issuer: Any = None
    try:
        require_verified_by(assertion, "HostedBadge", version)
        badge = resolve(session, assertion["badge"], 1, "BadgeClass", version)
        issuer = resolve(session, badge["issuer"], 2, "Profile", version)
        check_origin(session, declared, issuer, 3)
    except Unavailable as exc:
        session.record(exc.category, exc.check)
    credential = normalize_ob2(assertion, badge, issuer if session.authentic else None,
                               version=version, proof="hosted")
    if session.authentic:
        session.ok("revocation", reason="hosted")
        check_dates(session, assertion.get("issuedOn"), assertion.get("expires"))
    return credential


def check_signed(session: Session, token: str, claims: dict, version: str) -> Credential:
    """An OB 2.0 SignedBadge: RS256 JWS; the key is the issuer's own (fetched from the issuer's
    id, listed in its `publicKey`, owned by it), from `verification.creator` or `publicKey`."""
    from .proofs import verify_jws

    try:
        assertion, version = read_assertion(session, claims)
    except Unavailable as exc:
        session.record(exc.category, exc.check)
        return Credential(version=version, proof="signed")
    badge: Any = assertion.get("badge")
    issuer: Any = None
    try:
        require_verified_by(assertion, "SignedBadge", version)
        verification = assertion.get("verification") if isinstance(assertion.get("verification"), dict) else {}
        badge = resolve(session, assertion["badge"], 1, "BadgeClass", version)
        issuer = resolve(session, badge["issuer"], 2, "Profile", version)
        creator = id_of(verification.get("creator"))
        listed = [k for k in as_list(issuer.get("publicKey")) if isinstance(k, (str, dict))]
        candidates = [creator] if creator else listed
        if not candidates:
            raise failure("key_owner", INVALID, reason="no_key")
        if creator and not any(same_url(creator, id_of(k)) for k in listed):
            raise failure("key_owner", INVALID, reason="not_listed", key=creator, issuer=id_of(issuer))
        key_id, owner = _first_verifying_key(session, token, candidates, verify_jws)
        session.ok("proof", format="signed", alg="RS256", key=key_id)
        if owner is not None and not same_url(owner, id_of(issuer)):
            raise failure("key_owner", INVALID, reason="owner_mismatch", key=key_id, owner=owner,
                          issuer=id_of(issuer))
        session.ok("key_owner", key=key_id, issuer=id_of(issuer))
    except Unavailable as exc:
        session.record(exc.category, exc.check)
    credential = normalize_ob2(assertion, badge, issuer if session.authentic else None,
                               version=version, proof="signed")
    if session.authentic and isinstance(issuer, dict):
        _check_revocation_list(session, issuer, assertion)
        check_dates(session, assertion.get("issuedOn"), assertion.get("expires"))
    return credential


def _first_verifying_key(session: Session, token: str, candidates: list, verify_jws) -> tuple[str | None, str | None]:
    """(key id, owner) of the first candidate key whose signature verifies; each key document is
    taken from its own id."""
    from .keys import UnusableKey, key_and_controller

    unavailable: Unavailable | None = None
    for candidate in candidates:
        try:
            doc = authoritative(session, candidate, 3, field="publicKey")
            key, owner = key_and_controller(doc)
        except Unavailable as exc:
            unavailable = unavailable or exc
            continue
        except UnusableKey as exc:
            unavailable = unavailable or failure("proof", INVALID, reason="bad_key", detail=str(exc))
            continue
        if verify_jws(token, key):
            return id_of(doc) or id_of(candidate), owner
    if unavailable is not None:  # a key could not be had, or was refused: that is the finding
        raise unavailable
    raise failure("proof", INVALID, reason="bad_signature", format="signed")


def _check_revocation_list(session: Session, issuer: dict, assertion: dict) -> None:
    """The issuer's RevocationList, taken from its own id: any failure leaves the status unknown."""
    from .status import revocation_list_entry

    ref = issuer.get("revocationList")
    list_url = id_of(ref)
    if not list_url:
        session.ok("revocation", reason="no_list")
        return
    try:
        doc = authoritative(session, ref, 3, field="revocationList", client_error=UNKNOWN_STATUS,
                            server_error=UNKNOWN_STATUS)
    except Unavailable as exc:
        session.record(UNKNOWN_STATUS, exc.check)
        return
    entry = revocation_list_entry(doc, id_of(assertion) or "", assertion.get("uid"))
    if entry is not None:
        session.revoke("revoked", list=list_url, revocationReason=entry.get("revocationReason"))
    else:
        session.ok("revocation", reason="not_listed", list=list_url)
