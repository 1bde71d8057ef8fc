"""Open Badges 3.0 verification: structure, Data Integrity and VC-JWT proofs, key provenance
(PROTOCOLS.md §4 and its Decisions). Status lists are in ob3_status.py.

A proof is checked as an `Attempt` (its own checks and outcome) because a credential may carry
two proofs (a DI proof inside a VC-JWT) and one valid proof is enough.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .model import Check, Level
from .nodes import same_url
from .parse import OB3_CONTEXT_RE, OB3_TYPES, VC1_CONTEXT, VC2_CONTEXT, as_list, id_of, parse_time, types_of
from .session import (
    ACCEPT_DID,
    ACCEPT_JWKS,
    INVALID,
    UNVERIFIABLE,
    Session,
    Unavailable,
    failure,
)

OK = "ok"


@dataclass
class Attempt:
    outcome: str                     # ok | invalid | unverifiable
    checks: list[Check] = field(default_factory=list)

    @classmethod
    def failed(cls, exc: Unavailable, *before: Check) -> Attempt:
        return cls(exc.category, [*before, exc.check])


def subject_of(credential: dict) -> dict:
    subject = credential.get("credentialSubject")
    subject = subject[0] if isinstance(subject, list) and subject else subject
    return subject if isinstance(subject, dict) else {}


def structure_problem(credential: dict) -> dict | None:
    """The first structural problem of an OpenBadgeCredential (params of a `structure` check)."""
    contexts = as_list(credential.get("@context"))
    if not contexts or contexts[0] not in (VC2_CONTEXT, VC1_CONTEXT):
        return {"reason": "context_order", "field": "@context[0]"}
    if not any(isinstance(c, str) and OB3_CONTEXT_RE.match(c) for c in contexts):
        return {"reason": "missing", "field": "@context (Open Badges 3.0)"}
    kinds = types_of(credential)
    if "VerifiableCredential" not in kinds or not kinds & OB3_TYPES:
        return {"reason": "wrong_type", "field": "type", "expected": "OpenBadgeCredential"}
    v1 = contexts[0] == VC1_CONTEXT
    required = ["id", "issuer", "issuanceDate" if v1 else "validFrom", "credentialSubject"]
    if v1:
        required.append("name")
    for name in required:
        if credential.get(name) in (None, "", [], {}):
            return {"reason": "missing", "field": name}
    if not isinstance(id_of(credential.get("issuer")), str):
        return {"reason": "missing", "field": "issuer.id"}
    for name in ("validFrom", "validUntil", "issuanceDate", "expirationDate"):
        if name in credential and parse_time(credential[name]) is None:
            return {"reason": "bad_date", "field": name}
    subject = subject_of(credential)
    if not isinstance(subject.get("id"), str) and not as_list(subject.get("identifier")):
        return {"reason": "missing", "field": "credentialSubject.id | credentialSubject.identifier"}
    achievement = subject.get("achievement")
    if not isinstance(achievement, dict):
        return {"reason": "missing", "field": "credentialSubject.achievement"}
    if "Achievement" not in types_of(achievement):
        return {"reason": "wrong_type", "field": "credentialSubject.achievement.type", "expected": "Achievement"}
    for name in ("id", "name", "description", "criteria"):
        if achievement.get(name) in (None, "", [], {}):
            return {"reason": "missing", "field": f"credentialSubject.achievement.{name}"}
    return None


def check_jwt_contexts(session: Session, credential: dict) -> None:
    """A VC-JWT is not canonicalized: a context outside the store is a warning, its terms ignored."""
    store = session.store
    if store is None:
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
                elif isinstance(value, str) and value not in seen:
                    seen.add(value)
                    if not store.has(value):
                        session.warn("context", reason="unknown", url=value)
            for key, value in node.items():
                if key != "@context":
                    walk(value, level + 1)
        elif isinstance(node, list):
            for item in node:
                walk(item, level + 1)

    walk(credential, 0)


# --- key resolution --------------------------------------------------------------------------

def _did_document(session: Session, did: str, depth: int) -> dict:
    from .keys import UnusableKey, did_key_document, did_web_url

    bare = did.split("#", 1)[0]
    try:
        if bare.startswith("did:key:"):
            return did_key_document(bare)
        if bare.startswith("did:web:"):
            document = session.get_json(did_web_url(bare), ACCEPT_DID, depth)
            if document.get("id") != bare:
                # A DID document says who it is by its id: the one at did:web's URL must be that DID.
                raise failure("authority", INVALID, reason="mismatch", field="did", url=did_web_url(bare),
                              id=id_of(document))
            return document
    except UnusableKey as exc:
        raise failure("proof", INVALID, reason="bad_key", key=did, detail=str(exc)) from None
    raise failure("proof", UNVERIFIABLE, reason="unsupported_did", key=did)


def _https_method(session: Session, vm_id: str, depth: int, expected: str | None) -> dict:
    """A verification method named by an https URL, taken from a document fetched from that URL
    (without its fragment) which declares that URL as its id (Decision "Authority").

    A method that claims the `expected` controller (the issuer) from a document other than the
    controller's own counts only when the controller's document lists it too: otherwise anyone
    could publish a key "controlled by" any issuer (SECURITY.md T60).
    """
    from .keys import find_verification_method
    from .nodes import authoritative, plain

    document = authoritative(session, vm_id.split("#", 1)[0], depth, field="verificationMethod",
                             reader=plain)
    method = document if document.get("id") == vm_id else find_verification_method(document, vm_id)
    if method is None:
        raise failure("key_owner", INVALID, reason="method_not_found", key=vm_id)
    controller = method.get("controller") or method.get("owner")
    if expected and same_url(controller, expected) and not same_url(controller, document.get("id")):
        owner_doc = authoritative(session, controller, depth, field="controller", reader=plain)
        if find_verification_method(owner_doc, vm_id) is None:
            raise failure("key_owner", INVALID, reason="controller_unconfirmed", key=vm_id,
                          controller=controller)
    return method


def resolve_method(session: Session, vm_id: str, depth: int,
                   expected: str | None = None) -> tuple[Any, str | None]:
    """(public key, controller) of a verification method: did:key, did:web or an https document.
    `expected`: the controller the caller requires (the issuer id), confirmed when it is claimed."""
    from .keys import UnusableKey, find_verification_method, is_assertion_method, key_and_controller

    if not isinstance(vm_id, str) or not vm_id:
        raise failure("proof", INVALID, reason="no_key")
    if vm_id.startswith("did:"):
        document = _did_document(session, vm_id, depth)
        method = find_verification_method(document, vm_id)
        if method is None or ("#" in vm_id and not is_assertion_method(document, vm_id)):
            raise failure("key_owner", INVALID, reason="not_assertion_method", key=vm_id)
    elif vm_id.startswith(("https://", "http://")):
        method = _https_method(session, vm_id, depth, expected)
    else:
        raise failure("proof", INVALID, reason="no_key", key=vm_id)
    try:
        key, controller = key_and_controller(method)
    except UnusableKey as exc:
        raise failure("proof", INVALID, reason="bad_key", key=vm_id, detail=str(exc)) from None
    if controller is None and vm_id.startswith("did:"):
        controller = vm_id.split("#", 1)[0]
    return key, controller


# --- Data Integrity ----------------------------------------------------------------------------

def has_proof(credential: dict) -> bool:
    return bool(as_list(credential.get("proof")))


def check_data_integrity(session: Session, credential: dict, issuer_id: str, depth: int) -> Attempt:
    from .jsonld import ContextNotInStore, JsonLdFailure
    from .proofs import select_di_proof, verify_data_integrity

    proof = select_di_proof(credential)
    if proof is None:
        kinds = sorted({str(p.get("cryptosuite") or p.get("type")) for p in as_list(credential.get("proof"))
                        if isinstance(p, dict)})
        return Attempt(UNVERIFIABLE, [Check("proof", False, Level.ERROR,
                                            {"reason": "unsupported", "suites": kinds})])
    suite = str(proof.get("cryptosuite") or proof.get("type"))
    vm_id = proof.get("verificationMethod")
    vm_id = id_of(vm_id) if isinstance(vm_id, (str, dict)) else None
    try:
        key, controller = resolve_method(session, vm_id or "", depth, expected=issuer_id)
    except Unavailable as exc:
        return Attempt.failed(exc)
    store = session.store
    if store is None:
        return Attempt(UNVERIFIABLE, [Check("context", False, Level.ERROR, {"reason": "no_store"})])
    try:
        good = verify_data_integrity(credential, proof, key, store)
    except ContextNotInStore as exc:
        return Attempt(UNVERIFIABLE, [Check("context", False, Level.ERROR,
                                            {"reason": "missing_for_proof", "url": exc.url})])
    except JsonLdFailure as exc:
        return Attempt(INVALID, [Check("proof", False, Level.ERROR,
                                       {"reason": "jsonld", "detail": str(getattr(exc, "reason", exc))})])
    if not good:
        return Attempt(INVALID, [Check("proof", False, Level.ERROR,
                                       {"reason": "bad_signature", "format": suite})])
    checks = [Check("proof", True, Level.INFO, {"format": suite, "key": vm_id})]
    if controller != issuer_id and not same_url(controller, issuer_id):
        checks.append(Check("key_owner", False, Level.ERROR, {"reason": "controller_mismatch",
                                                              "key": vm_id, "controller": controller,
                                                              "issuer": issuer_id}))
        return Attempt(INVALID, checks)
    checks.append(Check("key_owner", True, Level.INFO, {"key": vm_id, "issuer": issuer_id}))
    return Attempt(OK, checks)


# --- VC-JWT ----------------------------------------------------------------------------------

def _same_key(a: dict, b: dict) -> bool:
    from .keys import UnusableKey, jwk_from_public_key, public_key_from_jwk

    try:
        return jwk_from_public_key(public_key_from_jwk(a)) == jwk_from_public_key(public_key_from_jwk(b))
    except UnusableKey:
        return False


def _published_jwk(session: Session, header: dict, issuer_id: str, depth: int) -> dict:
    """The issuer's own copy of the key named by `kid`/`jwk` (Decision: keys need provenance)."""
    from urllib.parse import urlsplit

    from .ob2 import authority

    scheme = urlsplit(issuer_id).scheme
    jwks_url = f"{scheme}://{authority(issuer_id)}/.well-known/jwks.json"
    try:
        jwks = session.get_json(jwks_url, ACCEPT_JWKS, depth)
    except Unavailable as exc:
        if exc.category == INVALID:  # 4xx or not a JSON key set: the issuer publishes no such key
            raise failure("key_owner", INVALID, reason="not_published", jwks=jwks_url) from None
        raise
    kid, given = header.get("kid"), header.get("jwk")
    published = [k for k in as_list(jwks.get("keys")) if isinstance(k, dict)]
    found = None
    if isinstance(kid, str):
        fragment = kid.rsplit("#", 1)[-1]
        found = next((k for k in published if k.get("kid") in (kid, fragment)), None)
        if found is None and kid.startswith(("https://", "http://")) and not isinstance(given, dict):
            try:  # the key document, only to compare its key material with the published set
                given = session.get_json(kid, "application/jwk+json, application/json", depth)
            except Unavailable as exc:
                if exc.category != INVALID:
                    raise
                given = None
    if found is None and isinstance(given, dict):
        found = next((k for k in published if _same_key(k, given)), None)
    if found is None:
        raise failure("key_owner", INVALID, reason="not_published", jwks=jwks_url)
    if "iss" in found and found["iss"] != issuer_id:
        raise failure("key_owner", INVALID, reason="iss_mismatch", jwks=jwks_url, issuer=issuer_id)
    if isinstance(given, dict) and not _same_key(found, given):
        raise failure("key_owner", INVALID, reason="not_published", jwks=jwks_url)
    return found


def _jwt_key(session: Session, header: dict, issuer_id: str, depth: int) -> tuple[Any, str]:
    from .keys import UnusableKey, find_verification_method, key_and_controller, public_key_from_jwk

    kid, given = header.get("kid"), header.get("jwk")
    if isinstance(kid, str) and kid.startswith("did:"):
        key, controller = resolve_method(session, kid, depth)
        if controller != issuer_id:
            raise failure("key_owner", INVALID, reason="controller_mismatch", key=kid,
                          controller=controller, issuer=issuer_id)
        return key, kid
    if issuer_id.startswith("did:"):
        # A `jwk` header counts only when the issuer's DID document lists that key.
        document = _did_document(session, issuer_id, depth)
        for method in as_list(document.get("verificationMethod")):
            if isinstance(method, dict) and isinstance(given, dict) and \
                    _same_key(method.get("publicKeyJwk") or {}, given):
                found = find_verification_method(document, method.get("id", ""))
                key, _ = key_and_controller(found or method)
                return key, str(method.get("id"))
        raise failure("key_owner", INVALID, reason="not_published", issuer=issuer_id)
    if not issuer_id.startswith(("https://", "http://")):
        raise failure("key_owner", INVALID, reason="not_published", issuer=issuer_id)
    jwk = _published_jwk(session, header, issuer_id, depth)
    try:
        return public_key_from_jwk(jwk), str(kid or jwk.get("kid") or "jwk")
    except UnusableKey as exc:
        raise failure("proof", INVALID, reason="bad_key", detail=str(exc)) from None


def _numeric(value: Any) -> int | None:
    moment = parse_time(value)
    return int(moment.timestamp()) if moment else None


def claims_mismatch(claims: dict, credential: dict) -> str | None:
    """The first registered JWT claim that contradicts the credential (PROTOCOLS.md §4.3)."""
    issuer_id = id_of(credential.get("issuer"))
    subject_id = subject_of(credential).get("id")
    pairs = (("iss", claims.get("iss"), issuer_id), ("sub", claims.get("sub"), subject_id),
             ("jti", claims.get("jti"), credential.get("id")))
    for name, claim, value in pairs:
        if claim is not None and value is not None and claim != value:
            return name
    dates = (("nbf", credential.get("validFrom", credential.get("issuanceDate"))),
             ("exp", credential.get("validUntil", credential.get("expirationDate"))))
    for name, value in dates:
        claim = claims.get(name)
        if claim is not None and value is not None and (
                not isinstance(claim, (int, float)) or int(claim) != _numeric(value)):
            return name
    return None


def check_vc_jwt(session: Session, token: str, header: dict, claims: dict, credential: dict,
                 depth: int) -> Attempt:
    from .proofs import verify_jws

    issuer_id = id_of(credential.get("issuer")) or ""
    alg = str(header.get("alg"))
    try:
        key, key_id = _jwt_key(session, header, issuer_id, depth)
    except Unavailable as exc:
        return Attempt.failed(exc)
    if not verify_jws(token, key):
        return Attempt(INVALID, [Check("proof", False, Level.ERROR,
                                       {"reason": "bad_signature", "format": "vc-jwt", "alg": alg})])
    mismatch = claims_mismatch(claims, credential)
    if mismatch:
        return Attempt(INVALID, [Check("proof", False, Level.ERROR,
                                       {"reason": "claims_mismatch", "claim": mismatch, "format": "vc-jwt"})])
    return Attempt(OK, [Check("proof", True, Level.INFO, {"format": "vc-jwt", "alg": alg, "key": key_id}),
                        Check("key_owner", True, Level.INFO, {"key": key_id, "issuer": issuer_id})])


def evaluate_proofs(session: Session, credential: dict, jwt: tuple[str, dict, dict] | None,
                    depth: int) -> tuple[str, str, list[Check]]:
    """Verify every proof the credential carries; one valid proof is enough.

    Returns (outcome, proof format, checks) without touching the session's flags.
    """
    issuer_id = id_of(credential.get("issuer")) or ""
    attempts: list[tuple[str, Attempt]] = []
    if jwt is not None:
        attempts.append(("vc-jwt", check_vc_jwt(session, *jwt, credential, depth)))
    if has_proof(credential):
        attempts.append(("eddsa-rdfc-2022", check_data_integrity(session, credential, issuer_id, depth)))
    if not attempts:
        return INVALID, "none", [Check("proof", False, Level.ERROR, {"reason": "missing"})]
    winner = next(((fmt, a) for fmt, a in attempts if a.outcome == OK), None)
    if winner is not None:
        checks = list(winner[1].checks)
        for _, attempt in attempts:
            if attempt is not winner[1]:  # the other proof failed: worth saying, not decisive
                checks += [Check(c.id, False, Level.WARNING, c.params) for c in attempt.checks if not c.ok]
        return OK, winner[0], checks
    outcome = INVALID if any(a.outcome == INVALID for _, a in attempts) else UNVERIFIABLE
    return outcome, attempts[0][0], [c for _, a in attempts for c in a.checks]


def check_proofs_detached(session: Session, credential: dict, jwt: tuple[str, dict, dict] | None,
                          depth: int) -> tuple[str, list[Check]]:
    outcome, _, checks = evaluate_proofs(session, credential, jwt, depth)
    return outcome, checks


def check_proofs(session: Session, credential: dict, jwt: tuple[str, dict, dict] | None,
                 depth: int) -> str:
    """Verify the proofs and record the checks on the session; returns the proof format."""
    outcome, fmt, checks = evaluate_proofs(session, credential, jwt, depth)
    for check in checks:
        session.add(check)
    if outcome == INVALID:
        session.invalid = True
    elif outcome == UNVERIFIABLE:
        session.unverifiable = True
    return fmt
