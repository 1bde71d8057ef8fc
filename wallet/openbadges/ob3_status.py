"""Open Badges 3.0 status and dates: 1EdTechRevocationList, BitstringStatusListEntry (the status
list credential is itself verified: proof and validity window), validFrom / validUntil.

Called only for authentic credentials (DESIGN.md §4: status never comes from unauthenticated data).
A status that cannot be established is `unknown_status` → `unverifiable` after dates.
"""

from __future__ import annotations

from typing import Any

from .errors import BadgeInputError
from .parse import JWS_RE, as_list, id_of, parse_time, types_of
from .session import (
    ACCEPT_STATUS_LIST,
    ACCEPT_VC,
    INVALID,
    LEEWAY_SECONDS,
    UNKNOWN_STATUS,
    Session,
    Unavailable,
    failure,
)

LIST_TYPES = {"BitstringStatusListCredential", "StatusList2021Credential"}
ENTRY_TYPES = {"BitstringStatusListEntry", "StatusList2021Entry"}


def _at_its_id(doc: dict, final_url: str, url: str) -> None:
    """A status list counts only as fetched from its own id (Decision "Authority")."""
    from .nodes import same_url

    declared = id_of(doc)
    if declared is not None and not same_url(declared, final_url):
        raise failure("revocation", UNKNOWN_STATUS, reason="list_not_at_its_id", list=url, id=declared)


def _unknown(exc: Unavailable) -> Unavailable:
    """Any failure around a status list means only that the status is unknown."""
    return Unavailable(UNKNOWN_STATUS, exc.check)


def check_status(session: Session, credential: dict, depth: int = 1) -> None:
    entries = [e for e in as_list(credential.get("credentialStatus")) if isinstance(e, dict)]
    if not entries:
        session.ok("revocation", reason="no_status")
        return
    for entry in entries:
        kinds = types_of(entry)
        try:
            if "1EdTechRevocationList" in kinds:
                _check_onedtech(session, credential, entry, depth)
            elif kinds & ENTRY_TYPES:
                _check_bitstring(session, entry, depth)
            else:
                raise failure("revocation", UNKNOWN_STATUS, reason="unsupported", type=sorted(kinds))
        except Unavailable as exc:
            session.record(UNKNOWN_STATUS, exc.check)


def _check_onedtech(session: Session, credential: dict, entry: dict, depth: int) -> None:
    from .status import onedtech_revoked

    url = id_of(entry)
    if not url:
        raise failure("revocation", UNKNOWN_STATUS, reason="no_list")
    fetched = session.get_ok(url, ACCEPT_STATUS_LIST, depth, client_error=UNKNOWN_STATUS,
                             server_error=UNKNOWN_STATUS)
    doc = session.get_json(url, ACCEPT_STATUS_LIST, depth, client_error=UNKNOWN_STATUS,
                           server_error=UNKNOWN_STATUS)
    _at_its_id(doc, fetched.url, url)
    found = onedtech_revoked(doc, id_of(credential) or "")
    if found:
        session.revoke("revoked", list=url, revocationReason=found.get("revocationReason"))
    else:
        session.ok("revocation", reason="not_listed", list=url)


def _check_bitstring(session: Session, entry: dict, depth: int) -> None:
    from .status import StatusListError, bitstring_bit

    url = entry.get("statusListCredential")
    purpose = str(entry.get("statusPurpose") or "revocation")
    try:
        index = int(str(entry.get("statusListIndex")))
    except ValueError:
        raise failure("revocation", UNKNOWN_STATUS, reason="bad_entry", field="statusListIndex") from None
    if not isinstance(url, str):
        raise failure("revocation", UNKNOWN_STATUS, reason="bad_entry", field="statusListCredential")
    status_list = verified_status_list(session, url, depth)
    subject = status_list.get("credentialSubject")
    subject = subject if isinstance(subject, dict) else {}
    list_purposes = {str(p) for p in as_list(subject.get("statusPurpose"))}
    if list_purposes and purpose not in list_purposes:
        raise failure("revocation", UNKNOWN_STATUS, reason="purpose_mismatch", list=url, purpose=purpose)
    try:
        flagged = bitstring_bit(subject.get("encodedList"), index)
    except StatusListError as exc:
        raise failure("revocation", UNKNOWN_STATUS, reason="bad_list", list=url, detail=str(exc)) from None
    if flagged and purpose in ("revocation", "suspension"):
        session.revoke("revoked" if purpose == "revocation" else "suspended", list=url, index=index)
    else:
        session.ok("revocation", reason="not_listed", list=url, purpose=purpose)


def verified_status_list(session: Session, url: str, depth: int) -> dict:
    """The status list credential at `url`, after checking its proof and validity window."""
    from .jsonutil import loads_strict
    from .ob3 import OK, check_proofs_detached

    fetched = session.get_ok(url, ACCEPT_VC, depth, client_error=UNKNOWN_STATUS, server_error=UNKNOWN_STATUS)
    jwt = None
    try:
        body = fetched.body.decode("utf-8").strip()
        if JWS_RE.match(body):
            from .proofs import decode_jws

            header, claims = decode_jws(body)
            doc = claims.get("vc") if isinstance(claims.get("vc"), dict) else claims
            jwt = (body, header, claims)
        else:
            doc = loads_strict(body)
    except (UnicodeDecodeError, BadgeInputError):
        raise failure("revocation", UNKNOWN_STATUS, reason="bad_list", list=url) from None
    if not isinstance(doc, dict) or not types_of(doc) & LIST_TYPES:
        raise failure("revocation", UNKNOWN_STATUS, reason="bad_list", list=url)
    _at_its_id(doc, fetched.url, url)
    outcome, checks = check_proofs_detached(session, doc, jwt, depth + 1)
    if outcome != OK:
        bad = next((c for c in checks if not c.ok), None)
        raise failure("revocation", UNKNOWN_STATUS, reason="list_not_authentic", list=url,
                      detail=bad.params.get("reason") if bad else None)
    now = session.now.timestamp()
    start = parse_time(doc.get("validFrom", doc.get("issuanceDate")))
    end = parse_time(doc.get("validUntil", doc.get("expirationDate")))
    if (start and start.timestamp() > now + LEEWAY_SECONDS) or (end and end.timestamp() < now):
        raise failure("revocation", UNKNOWN_STATUS, reason="list_out_of_date", list=url)
    return doc


def check_dates(session: Session, credential: dict) -> None:
    """validFrom/validUntil (VCDM 2.0) or issuanceDate/expirationDate (VCDM 1.1)."""
    raw_from = credential.get("validFrom", credential.get("issuanceDate"))
    raw_until = credential.get("validUntil", credential.get("expirationDate"))
    start, end = parse_time(raw_from), parse_time(raw_until)
    now = session.now
    params: dict[str, Any] = {"valid_from": raw_from if isinstance(raw_from, str) else None,
                              "valid_until": raw_until if isinstance(raw_until, str) else None}
    if start and end and end < start:
        session.fail("dates", INVALID, reason="expires_before_issued", **params)
    elif end and end < now:
        session.expired = True
        session.note("dates", reason="expired", expires=params["valid_until"])
    elif start and start.timestamp() > now.timestamp() + LEEWAY_SECONDS:
        session.not_yet_valid = True
        session.note("dates", reason="not_yet_valid", valid_from=params["valid_from"])
    else:
        session.ok("dates", **params)
