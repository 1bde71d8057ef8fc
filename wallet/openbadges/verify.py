"""verify(): from any badge input to one Verdict (DESIGN.md §4 "Library API").

    verdict = verify(source, fetch=None, recipients=(), now=None, contexts=None)

Detection and parsing are in parse.py; OB 0.5–2.0 checks in ob2.py; OB 3.0 proofs in ob3.py and
status/dates in ob3_status.py; the fetch budget and the status decision in session.py.
`BadgeInputError` is the only exception that escapes on bad input; everything that is a badge
gives a Verdict.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from . import ob2, ob3, ob3_status
from .errors import BadgeInputError, FetchError
from .fetching import Fetched, FetchFn, offline_fetch
from .jsonutil import loads_strict
from .model import Check, Credential, Level, Verdict, isoformat
from .parse import (
    JWS_RE,
    Payload,
    classify_text,
    detect,
    detect_version,
    normalize_ob2,
    normalize_ob3,
    parse_time,
    reject_endorsement,
    upgrade_assertion,
)
from .session import ACCEPT_HOSTED, INVALID, UNVERIFIABLE, Session, Unavailable, proves_absence

MAX_IMAGE_HOPS = 1   # a hosted URL answering a baked image that names another URL: followed once


def verify(source: bytes | str, fetch: FetchFn | None = None, recipients: Iterable[str] = (),
           now: datetime | None = None, contexts: Any = None, max_bytes: int | None = None) -> Verdict:
    """Verify a badge (bytes of a PNG/SVG/JSON/JWS file, or a URL / JSON / JWS string).

    `max_bytes` caps the input (the caller's business: a web upload has its own); None means the
    image cap of baking (32 MiB), so that any badge image a tool can bake can be verified.
    """
    payload = detect(source, max_bytes)
    moment = now or datetime.now(UTC)
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    session = Session(fetch or offline_fetch, moment, contexts)
    try:
        credential = _dispatch(session, payload)
    except BadgeInputError:
        raise
    except (KeyError, TypeError, AttributeError, ValueError, RecursionError) as exc:
        # Hostile shapes that slipped past the checks: never a crash, never "valid".
        session.fail("structure", INVALID, reason="malformed", detail=type(exc).__name__)
        credential = Credential()
    if not session.authentic:
        # The issuer a verdict names is always an authoritative one (PROTOCOLS.md Decisions):
        # when authenticity failed, nothing says who issued it.
        credential = replace(credential, issuer_id=None, issuer_name=None, issuer_url=None)
    credential = credential.with_source(payload.text, payload.source_format)
    session.checks.insert(0, Check("input", True, Level.INFO,
                                   {"format": payload.source_format, "version": credential.version}))
    rtype, hashed, matched, identity = _match_recipient(session, credential, tuple(recipients))
    authentic = session.authentic
    return Verdict(
        status=session.status(), credential=credential, checks=tuple(session.checks),
        checked_at=isoformat(moment), recipient_type=rtype, recipient_hashed=hashed,
        recipient_matched=matched, matched_identity=identity,
        issued_on=credential.issued_on if authentic else None,
        expires=credential.expires if authentic else None,
    )


def _dispatch(session: Session, payload: Payload) -> Credential:
    if payload.kind == "url":
        return _from_url(session, payload.text.strip())
    if payload.kind == "jws":
        return _from_jws(session, payload.text.strip())
    doc = loads_strict(payload.text)
    if not isinstance(doc, dict):
        raise BadgeInputError("not_a_badge", "JSON that is not an object")
    return _from_document(session, doc, payload.verify_url)


def _from_document(session: Session, doc: dict, verify_url: str | None = None) -> Credential:
    """A submitted JSON badge: OB 3.0 is verified as is; OB 0.5–2.0 only identifies its URL."""
    version = detect_version(doc)
    if version is None:
        raise BadgeInputError("not_a_badge", "JSON that is not an Open Badge")
    reject_endorsement(doc)
    if version == "3.0":
        return _ob3(session, doc, None)
    try:
        assertion, version = ob2.read_assertion(session, doc)
    except Unavailable as exc:
        session.record(exc.category, exc.check)
        return Credential(version=version)
    url = ob2.hosted_url(assertion, verify_url)
    if ob2.verification_type(assertion) in ("SignedBadge", "signed") and verify_url is None:
        session.fail("structure", INVALID, reason="signed_without_jws")
        return normalize_ob2(assertion, assertion.get("badge"), None, version=version, proof="signed")
    if url is None:
        session.fail("structure", INVALID, reason="no_hosted_url")
        return normalize_ob2(assertion, assertion.get("badge"), None, version=version)
    return _from_url(session, url, submitted=(assertion, version))


def _fallback(submitted: tuple[dict, str] | None, url: str) -> Credential:
    """What to show when the hosted copy cannot be had: the submitted copy, never authenticated,
    so it names no issuer."""
    if submitted is None:
        return Credential(id=url, proof="hosted")
    assertion, version = submitted
    badge = assertion.get("badge") if isinstance(assertion.get("badge"), dict) else None
    return normalize_ob2(assertion, badge or assertion.get("badge"), None, version=version)


def _from_url(session: Session, url: str, submitted: tuple[dict, str] | None = None, *,
              refetched: bool = False, hops: int = 0) -> Credential:
    """A hosted URL: fetched once; 410 → revoked; other 4xx → invalid; network, 408, 429, 5xx →
    unverifiable."""
    try:
        fetched = session.get(url, ACCEPT_HOSTED, 0)
    except FetchError as exc:
        session.fail("fetch", UNVERIFIABLE, url=url, reason=exc.reason)
        return _fallback(submitted, url)
    if fetched.status == 410:
        # Decision: 410 Gone means revoked, whatever body comes with it (Moodle's declares the
        # URL without `&obversion=2`).
        return ob2.revoked(session, url, submitted[0] if submitted else None, http_status=410,
                           version=submitted[1] if submitted else "2.0")
    if not 200 <= fetched.status < 300:
        category = INVALID if proves_absence(fetched.status) else UNVERIFIABLE
        session.fail("fetch", category, url=url, status=fetched.status, reason="http_status")
        return _fallback(submitted, url)
    try:
        inner = _read_answer(fetched)
    except BadgeInputError as exc:
        session.fail("structure", INVALID, url=url, reason="not_a_badge", detail=exc.code)
        return _fallback(submitted, url)
    if inner.kind == "jws":
        try:
            return _from_jws(session, inner.text.strip())
        except BadgeInputError as exc:
            if exc.code == "endorsement":
                raise
            session.fail("structure", INVALID, url=url, reason="not_a_badge", detail=exc.code)
            return _fallback(submitted, url)
    if inner.kind == "url":
        if hops >= MAX_IMAGE_HOPS or inner.text.strip() == url:
            session.fail("structure", INVALID, url=url, reason="not_a_badge", detail="url_loop")
            return _fallback(submitted, url)
        return _from_url(session, inner.text.strip(), submitted, refetched=refetched, hops=hops + 1)
    try:
        doc = loads_strict(inner.text)
    except BadgeInputError as exc:
        session.fail("structure", INVALID, url=url, reason="not_json", detail=exc.code)
        return _fallback(submitted, url)
    if not isinstance(doc, dict):
        session.fail("structure", INVALID, url=url, reason="not_json")
        return _fallback(submitted, url)
    version = detect_version(doc)
    reject_endorsement(doc)
    if version == "3.0":
        return _ob3(session, doc, None)
    if version is None and doc.get("revoked") is not True:
        session.fail("structure", INVALID, url=url, reason="not_an_assertion")
        return _fallback(submitted, url)
    result = ob2.check_hosted(session, doc, url, fetched.url, refetched=refetched,
                              submitted=submitted[0] if submitted else None)
    if isinstance(result, ob2.Refetch):
        return _from_url(session, result.url, submitted, refetched=True, hops=hops)
    return result


def _read_answer(fetched: Fetched) -> Payload:
    """A hosted answer: JSON, a compact JWS, or a baked image (unbaked and detected again)."""
    from .baking import sniff_format

    fmt = sniff_format(fetched.body)
    if fmt in ("png", "svg") or fetched.media_type in ("image/png", "image/svg+xml"):
        return detect(fetched.body)
    try:
        text = fetched.body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise BadgeInputError("not_a_badge", "unreadable answer") from None
    return classify_text(text, "text")


def _peek_claims(token: str) -> dict | None:
    """The payload of a JWS that failed decode_jws, only to say whether it is a badge."""
    from .keys import UnusableKey, b64url_decode

    parts = token.split(".")
    if len(parts) != 3 or len(token) > 64 * 1024:
        return None
    try:
        claims = loads_strict(b64url_decode(parts[1]))
    except (BadgeInputError, UnusableKey):
        return None
    return claims if isinstance(claims, dict) else None


def _from_jws(session: Session, token: str) -> Credential:
    from .proofs import decode_jws

    if not JWS_RE.match(token):
        raise BadgeInputError("bad_jws", "not a compact JWS")
    try:
        header, claims = decode_jws(token)
    except BadgeInputError as exc:
        claims = _peek_claims(token)
        inner = claims.get("vc") if isinstance(claims, dict) and isinstance(claims.get("vc"), dict) else claims
        version = detect_version(inner)
        if version is None:
            raise
        # A badge in a refused JWS (alg none, HS256, crit…): a forgery attempt, not unreadable input.
        session.fail("proof", INVALID, reason="refused_jws", detail=exc.code)
        if version == "3.0":
            return normalize_ob3(inner, proof="vc-jwt")
        return normalize_ob2(upgrade_assertion(inner, version), inner.get("badge"), None,
                             version=version, proof="signed")
    if isinstance(claims.get("vc"), dict):
        reject_endorsement(claims["vc"])
        return _ob3(session, claims["vc"], (token, header, claims))
    reject_endorsement(claims)
    version = detect_version(claims)
    if version == "3.0":
        return _ob3(session, claims, (token, header, claims))
    if version is None:
        raise BadgeInputError("not_a_badge", "the JWS payload is not an Open Badge")
    return ob2.check_signed(session, token, claims, version)


def _ob3(session: Session, credential: dict, jwt: tuple[str, dict, dict] | None) -> Credential:
    problem = ob3.structure_problem(credential)
    if problem is not None:
        session.fail("structure", INVALID, **problem)
        return normalize_ob3(credential, proof="vc-jwt" if jwt else "none")
    if jwt is not None:
        ob3.check_jwt_contexts(session, credential)
    proof = ob3.check_proofs(session, credential, jwt, 1)
    if session.authentic:
        ob3_status.check_status(session, credential, 1)
        ob3_status.check_dates(session, _with_jwt_dates(credential, jwt))
    return normalize_ob3(credential, proof=proof)


def _with_jwt_dates(credential: dict, jwt: tuple[str, dict, dict] | None) -> dict:
    """A VC-JWT's `nbf`/`exp` count as validFrom/validUntil when the credential has none."""
    if jwt is None:
        return credential
    claims, dated = jwt[2], dict(credential)
    for claim, names in (("nbf", ("validFrom", "issuanceDate")), ("exp", ("validUntil", "expirationDate"))):
        moment = parse_time(claims.get(claim)) if isinstance(claims.get(claim), (int, float)) else None
        if moment is not None and not any(n in dated for n in names):
            dated[names[0]] = isoformat(moment)
    return dated


def _match_recipient(session: Session, credential: Credential,
                     recipients: tuple[str, ...]) -> tuple[str | None, bool | None, bool | None, str | None]:
    """(type, hashed, matched, matched identity). Matching never changes the status."""
    from .identity import identity_matches

    first = credential.identities[0] if credential.identities else None
    rtype = first.type if first else ("id" if credential.subject_id else None)
    hashed = first.hashed if first else (False if credential.subject_id else None)
    if not recipients:
        return rtype, hashed, None, None
    found = None
    for ident in credential.identities:
        if ident.type == "email":
            found = identity_matches(ident.identity, ident.hashed, ident.salt, recipients)
            if found:
                rtype, hashed = ident.type, ident.hashed
                break
    subject = credential.subject_id
    if found is None and subject:
        if subject.lower().startswith("mailto:"):
            address = subject[len("mailto:"):].strip().lower()
            found = next((r for r in recipients if r.strip().lower() == address), None)
        else:
            found = next((r for r in recipients if r == subject), None)
    if found:
        session.ok("recipient", type=rtype, hashed=hashed)
    else:
        session.warn("recipient", reason="not_matched", type=rtype, hashed=hashed)
    return rtype, hashed, found is not None, found
