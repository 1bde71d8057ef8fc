"""The builtin Region issuer's documents, built as plain dicts (pure: no Flask, no database).

Every URL hangs off the wallet's BASE_URL:

    <BASE_URL>/issuers/region                      the issuer Profile (lists the Multikey keys)
    <BASE_URL>/issuers/region#key-1                a verification method (controller = the issuer)
    <BASE_URL>/issuers/region/status/1             the BitstringStatusListCredential (revocation)
    <BASE_URL>/issuers/region/badges/<key>         an Achievement (the referential's regional badge)
    <BASE_URL>/issuers/region/badges/<key>/image   its image

Credentials are OB 3.0 OpenBadgeCredentials (VCDM 2.0) with an eddsa-rdfc-2022 Data Integrity
proof (PROTOCOLS.md §4.1, §4.2) and a BitstringStatusListEntry (§4.4).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ...openbadges.identity import hash_identity
from ...openbadges.proofs import sign_data_integrity
from ...openbadges.status import encode_bitstring
from ..model import ClaimRequest

VC2 = "https://www.w3.org/ns/credentials/v2"
OB3 = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
MULTIKEY = "https://w3id.org/security/multikey/v1"
ISSUER_PATH = "/issuers/region"
STATUS_LIST_NUMBER = 1
STATUS_LIST_SIZE = 131072  # bits: the W3C minimum (16 KiB), for herd privacy


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def issuer_id(base_url: str) -> str:
    return base_url.rstrip("/") + ISSUER_PATH


def verification_method(base_url: str, key_id: str) -> str:
    return f"{issuer_id(base_url)}#{key_id}"


def status_list_url(base_url: str) -> str:
    return f"{issuer_id(base_url)}/status/{STATUS_LIST_NUMBER}"


def badge_url(base_url: str, key: str) -> str:
    return f"{issuer_id(base_url)}/badges/{key}"


def image_url(base_url: str, key: str) -> str:
    return badge_url(base_url, key) + "/image"


def issuer_profile(base_url: str, public_keys: list[tuple[str, str]], name: str,
                   url: str | None = None) -> dict[str, Any]:
    """The Profile document; `public_keys` = [(key id, publicKeyMultibase)], all published so that
    credentials signed before a key rotation stay verifiable."""
    me = issuer_id(base_url)
    methods = [{"id": verification_method(base_url, key_id), "type": "Multikey", "controller": me,
                "publicKeyMultibase": multibase} for key_id, multibase in public_keys]
    profile: dict[str, Any] = {"@context": [VC2, OB3, MULTIKEY], "id": me, "type": ["Profile"], "name": name}
    if url:
        profile["url"] = url
    profile["verificationMethod"] = methods
    profile["assertionMethod"] = [m["id"] for m in methods]
    return profile


def profile_reference(base_url: str, name: str, url: str | None = None) -> dict[str, Any]:
    """The issuer as embedded in a credential."""
    ref: dict[str, Any] = {"id": issuer_id(base_url), "type": ["Profile"], "name": name}
    if url:
        ref["url"] = url
    return ref


def achievement(base_url: str, *, achievement_id: str, key: str, name: str, description: str,
                criteria: str, has_image: bool) -> dict[str, Any]:
    """The regional badge as an OB 3.0 Achievement (embedded in credentials, and served alone)."""
    doc: dict[str, Any] = {"id": achievement_id, "type": ["Achievement"], "achievementType": "Badge",
                           "name": name, "description": description, "criteria": {"narrative": criteria},
                           "creator": {"id": issuer_id(base_url), "type": ["Profile"]},
                           "inLanguage": "fr"}
    if has_image:
        doc["image"] = {"id": image_url(base_url, key), "type": "Image", "caption": name}
    return doc


def achievement_document(base_url: str, **fields: Any) -> dict[str, Any]:
    return {"@context": [VC2, OB3], **achievement(base_url, **fields)}


def status_entry(base_url: str, index: int) -> dict[str, Any]:
    url = status_list_url(base_url)
    return {"id": f"{url}#{index}", "type": "BitstringStatusListEntry", "statusPurpose": "revocation",
            "statusListIndex": str(index), "statusListCredential": url}


def _evidence(request: ClaimRequest) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    if request.narrative.strip():
        items.append({"type": ["Evidence"], "name": "Éligibilité", "narrative": request.narrative.strip()})
    for evidence in request.evidence:
        item: dict[str, Any] = {"id": evidence.url, "type": ["Evidence"]}
        if evidence.name:
            item["name"] = evidence.name
        if evidence.narrative:
            item["narrative"] = evidence.narrative
        items.append(item)
    return items


def credential(base_url: str, request: ClaimRequest, *, credential_id: str, status_index: int,
               issuer: dict[str, Any], now: datetime, salt: str) -> dict[str, Any]:
    """The unsigned OpenBadgeCredential for a claim. The recipient is the hashed confirmed email."""
    email = request.recipient_email.strip().lower()
    identifier = {"type": "IdentityObject", "identityType": "emailAddress", "hashed": True,
                  "identityHash": hash_identity(email, salt), "salt": salt}
    subject = {"type": ["AchievementSubject"], "identifier": [identifier],
               "achievement": achievement(base_url, achievement_id=request.regional_badge_id,
                                          key=request.regional_badge_key, name=request.name,
                                          description=request.description, criteria=request.criteria,
                                          has_image=bool(request.image_path))}
    doc: dict[str, Any] = {
        "@context": [VC2, OB3],
        "id": credential_id,
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": issuer,
        "validFrom": iso(now),
        "awardedDate": iso(now),
        "name": request.name,
        "description": request.description,
        "credentialSubject": subject,
        "credentialStatus": status_entry(base_url, status_index),
    }
    evidence = _evidence(request)
    if evidence:
        doc["evidence"] = evidence
    return doc


def status_list_credential(base_url: str, revoked: set[int], now: datetime) -> dict[str, Any]:
    """The unsigned BitstringStatusListCredential with the revoked indices set."""
    url = status_list_url(base_url)
    return {"@context": [VC2], "id": url, "type": ["VerifiableCredential", "BitstringStatusListCredential"],
            "issuer": issuer_id(base_url), "validFrom": iso(now),
            "credentialSubject": {"id": f"{url}#list", "type": "BitstringStatusList",
                                  "statusPurpose": "revocation",
                                  "encodedList": encode_bitstring(revoked, STATUS_LIST_SIZE)}}


def sign(document: dict[str, Any], private_key: Any, base_url: str, key_id: str, now: datetime,
         store: Any) -> dict[str, Any]:
    return sign_data_integrity(document, private_key, verification_method(base_url, key_id), iso(now), store)
