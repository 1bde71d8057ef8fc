"""Badge generators for tests: OB 2.0 hosted/signed, OB 3.0 Data Integrity / VC-JWT, issuer
profiles, keys, revocation and status lists — served from a real loopback FakeServer.

    factory = BadgeFactory(server)                  # keys are made at test time (cached per process)
    hosted = factory.ob2_hosted()                   # → Hosted(url, assertion, badge, issuer)
    verdict = verify(hosted.url, fetch=factory.fetch, now=factory.now)

Every document is served at the server's origin, so the issuer's default allowedOrigins (the
authority of its id) holds. Change what a route answers with `server.json(...)`/`server.route(...)`.
"""

from __future__ import annotations

import functools
import struct
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from tests.fakes.server import FakeServer
from wallet.openbadges.errors import FetchError
from wallet.openbadges.fetching import Fetched

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared"
CONTEXTS_DIR = SHARED / "jsonld-contexts"
TEST_VECTORS = SHARED / "test-vectors"

OB2 = "https://w3id.org/openbadges/v2"
VC2 = "https://www.w3.org/ns/credentials/v2"
VC1 = "https://www.w3.org/2018/credentials/v1"
OB3 = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
RECIPIENT = "ana@example.org"


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


# --- keys (made once per test process: RSA generation is slow) --------------------------------

@functools.cache
def rsa_key(name: str = "default") -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@functools.cache
def ec_key(name: str = "default") -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


@functools.cache
def ed_key(name: str = "default") -> ed25519.Ed25519PrivateKey:
    return ed25519.Ed25519PrivateKey.generate()


def public_pem(key: Any) -> str:
    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo).decode()


@functools.lru_cache(maxsize=1)
def store():
    from wallet.openbadges.jsonld import ContextStore

    return ContextStore.from_dir(CONTEXTS_DIR)


# --- images -------------------------------------------------------------------------------------

def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def plain_png() -> bytes:
    """A valid 1×1 PNG without any badge."""
    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00\xff\x00\x00")
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")


def plain_svg() -> bytes:
    return b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>'


# --- fetchers -----------------------------------------------------------------------------------

def loopback_fetch(allow: list[str]):
    """A tiny test-only fetcher over urllib (loopback authorities in `allow` only)."""
    import urllib.error
    import urllib.request
    from urllib.parse import urlsplit

    def fetch(url: str, accept: str) -> Fetched:
        if urlsplit(url).scheme not in ("http", "https") or urlsplit(url).netloc not in allow:
            raise FetchError(url, "blocked")
        request = urllib.request.Request(url, headers={"Accept": accept})
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                return Fetched(response.geturl(), response.status,
                               response.headers.get("Content-Type", ""), response.read(1 << 21))
        except urllib.error.HTTPError as exc:
            return Fetched(url, exc.code, exc.headers.get("Content-Type", ""), exc.read(1 << 21))
        except (urllib.error.URLError, OSError) as exc:
            raise FetchError(url, "network") from exc

    return fetch


def fetcher_for(*servers: FakeServer):
    """SafeHttp(allow=[authorities]).fetch when wallet.http imports, else the loopback fetcher."""
    allow = [s.authority for s in servers]
    try:
        from wallet.http import SafeHttp
    except ImportError:  # early work, before wallet.http existed
        return loopback_fetch(allow)
    return SafeHttp(allow=allow).fetch


def replay_fetch(answers: dict[str, Fetched | int]):
    """A recorded-replay fetcher: url → Fetched (or an HTTP status); anything else is a FetchError."""
    def fetch(url: str, accept: str) -> Fetched:
        answer = answers.get(url)
        if answer is None:
            raise FetchError(url, "network")
        if isinstance(answer, int):
            return Fetched(url, answer, "text/plain", b"")
        return answer

    return fetch


# --- results ------------------------------------------------------------------------------------

@dataclass
class Hosted:
    url: str
    assertion: dict
    badge: dict
    issuer: dict


@dataclass
class Signed:
    token: str
    assertion: dict
    issuer: dict


@dataclass
class Ob3:
    credential: dict          # signed (DI) or the credential inside the JWT
    issuer_id: str
    text: str = ""            # what a file would hold: JSON text or the compact JWS
    extra: dict = field(default_factory=dict)


# --- the factory --------------------------------------------------------------------------------

class BadgeFactory:
    def __init__(self, server: FakeServer, now: datetime = NOW) -> None:
        self.server = server
        self.now = now
        self.fetch = fetcher_for(server)
        self.store = store()

    def url(self, path: str) -> str:
        return self.server.url(path)

    # --- recipients
    @staticmethod
    def recipient(email: str = RECIPIENT, hashed: bool = True, salt: str | None = "s4lt") -> dict:
        from wallet.openbadges.identity import hash_identity

        if not hashed:
            return {"type": "email", "hashed": False, "identity": email}
        out = {"type": "email", "hashed": True, "identity": hash_identity(email, salt)}
        if salt is not None:
            out["salt"] = salt
        return out

    # --- OB 2.0
    def ob2_issuer(self, path: str = "/issuer", **extra: Any) -> dict:
        issuer = {"@context": OB2, "type": "Issuer", "id": self.url(path), "name": "Organisme Formation",
                  "url": self.url("/"), "email": "contact@example.org", **extra}
        self.server.json(path, issuer)
        return issuer

    def ob2_badgeclass(self, issuer_id: str, path: str = "/badges/1", **extra: Any) -> dict:
        badge = {"@context": OB2, "type": "BadgeClass", "id": self.url(path), "name": "Premiers secours",
                 "description": "Gestes de premiers secours", "image": self.url("/badges/1/image.png"),
                 "criteria": {"narrative": "Réussir la formation"}, "issuer": issuer_id,
                 "tags": ["secourisme"],
                 "alignment": [{"targetName": "Compétence A", "targetUrl": "https://ref.example/a",
                                "targetFramework": "Région", "targetCode": "A1"}], **extra}
        self.server.json(path, badge)
        return badge

    def ob2_assertion(self, assertion_id: str, badge_id: str, verification: dict, *,
                      issued_on: datetime | None = None, expires: datetime | None = None,
                      recipient: dict | None = None, **extra: Any) -> dict:
        assertion = {"@context": OB2, "type": "Assertion", "id": assertion_id,
                     "recipient": recipient or self.recipient(), "badge": badge_id,
                     "verification": verification,
                     "issuedOn": iso(issued_on or self.now - timedelta(days=30)), **extra}
        if expires is not None:
            assertion["expires"] = iso(expires)
        return assertion

    def ob2_hosted(self, path: str = "/assertions/1", *, issuer_extra: dict | None = None,
                   badge_extra: dict | None = None, **kwargs: Any) -> Hosted:
        issuer = self.ob2_issuer(**(issuer_extra or {}))
        badge = self.ob2_badgeclass(issuer["id"], **(badge_extra or {}))
        assertion = self.ob2_assertion(self.url(path), badge["id"], {"type": "HostedBadge"}, **kwargs)
        self.server.json(path, assertion)
        return Hosted(self.url(path), assertion, badge, issuer)

    def ob2_signed(self, *, key: rsa.RSAPrivateKey | None = None, creator: bool = True,
                   listed: bool = True, owner: str | None = None, revoked: tuple = (),
                   revocation_list: bool = True, **kwargs: Any) -> Signed:
        from wallet.openbadges.proofs import sign_jws

        key = key or rsa_key()
        issuer_id = self.url("/issuer")
        key_id = self.url("/keys/1")
        extra: dict[str, Any] = {"publicKey": [key_id] if listed else [self.url("/keys/other")]}
        if revocation_list:
            extra["revocationList"] = self.url("/revocations")
        issuer = self.ob2_issuer(**extra)
        self.server.json("/keys/1", {"@context": OB2, "type": "CryptographicKey", "id": key_id,
                                     "owner": owner or issuer_id, "publicKeyPem": public_pem(key)})
        badge = self.ob2_badgeclass(issuer_id)
        verification = {"type": "SignedBadge"}
        if creator:
            verification["creator"] = key_id
        assertion = self.ob2_assertion("urn:uuid:2f6c2c0c-1f7a-4b8e-9a52-0d8a3f0e6b11", badge["id"],
                                       verification, **kwargs)
        if revocation_list:
            self.server.json("/revocations", {"@context": OB2, "type": "RevocationList",
                                              "id": self.url("/revocations"), "issuer": issuer_id,
                                              "revokedAssertions": list(revoked)})
        return Signed(sign_jws(assertion, key, "RS256"), assertion, issuer)

    # --- OB 3.0
    def achievement_credential(self, issuer: Any, *, vcdm: str = "2.0", email: str = RECIPIENT,
                               hashed: bool = True, salt: str | None = "s4lt",
                               valid_from: datetime | None = None, valid_until: datetime | None = None,
                               status: dict | None = None, subject_id: str | None = None,
                               **extra: Any) -> dict:
        from wallet.openbadges.identity import hash_identity

        start = valid_from or self.now - timedelta(days=10)
        identifier = {"type": "IdentityObject", "identityType": "emailAddress", "hashed": hashed,
                      "identityHash": hash_identity(email, salt) if hashed else email}
        if hashed and salt is not None:
            identifier["salt"] = salt
        subject: dict[str, Any] = {"type": ["AchievementSubject"], "identifier": [identifier],
                                   "achievement": {
                                       "id": self.url("/achievements/1"), "type": ["Achievement"],
                                       "name": "Travail en équipe", "description": "Savoir coopérer",
                                       "criteria": {"narrative": "Évaluation par les pairs"},
                                       "tag": ["coopération"],
                                       "image": {"id": self.url("/achievements/1/image.png"), "type": "Image"}}}
        if subject_id:
            subject["id"] = subject_id
        credential: dict[str, Any] = {
            "@context": [VC2 if vcdm == "2.0" else VC1, OB3],
            "id": "urn:uuid:5b4a2c1e-8e0b-4d1c-9f2a-7c6d5e4f3a21",
            "type": ["VerifiableCredential", "OpenBadgeCredential"],
            "issuer": issuer, "name": "Travail en équipe", "credentialSubject": subject, **extra}
        if vcdm == "2.0":
            credential["validFrom"] = iso(start)
            if valid_until:
                credential["validUntil"] = iso(valid_until)
        else:
            credential["issuanceDate"] = iso(start)
            if valid_until:
                credential["expirationDate"] = iso(valid_until)
        if status:
            credential["credentialStatus"] = status
        return credential

    def did_key_issuer(self, key: ed25519.Ed25519PrivateKey | None = None) -> tuple[str, str]:
        from wallet.openbadges.keys import did_key_from_ed25519

        did = did_key_from_ed25519((key or ed_key()).public_key())
        return did, did + "#" + did[len("did:key:"):]

    def https_profile_issuer(self, key: ed25519.Ed25519PrivateKey | None = None,
                             path: str = "/issuers/1", controller: str | None = None) -> tuple[str, str]:
        """An https issuer Profile that lists a Multikey (its controller is the issuer)."""
        from wallet.openbadges.keys import multikey_from_ed25519

        issuer_id = self.url(path)
        vm = issuer_id + "#key-1"
        self.server.json(path, {
            "@context": [VC2, OB3, "https://w3id.org/security/multikey/v1"],
            "id": issuer_id, "type": ["Profile"], "name": "Organisme Trois",
            "verificationMethod": [{"id": vm, "type": "Multikey", "controller": controller or issuer_id,
                                    "publicKeyMultibase": multikey_from_ed25519((key or ed_key()).public_key())}],
            "assertionMethod": [vm]})
        return issuer_id, vm

    def sign_di(self, credential: dict, key: ed25519.Ed25519PrivateKey, vm: str) -> dict:
        from wallet.openbadges.proofs import sign_data_integrity

        return sign_data_integrity(credential, key, vm, iso(self.now - timedelta(days=10)), self.store)

    def ob3_di(self, *, issuer_kind: str = "did:key", vcdm: str = "2.0",
               key: ed25519.Ed25519PrivateKey | None = None, **kwargs: Any) -> Ob3:
        import json

        key = key or ed_key()
        if issuer_kind == "did:key":
            issuer_id, vm = self.did_key_issuer(key)
        else:
            issuer_id, vm = self.https_profile_issuer(key)
        issuer = {"id": issuer_id, "type": ["Profile"], "name": "Organisme Trois", "url": self.url("/")}
        signed = self.sign_di(self.achievement_credential(issuer, vcdm=vcdm, **kwargs), key, vm)
        return Ob3(signed, issuer_id, json.dumps(signed, ensure_ascii=False))

    def jwks(self, *jwks: dict) -> None:
        self.server.json("/.well-known/jwks.json", {"keys": list(jwks)}, content_type="application/jwk-set+json")

    def ob3_jwt(self, *, alg: str = "RS256", vcdm: str = "2.0", header: str = "kid",
                publish: bool = True, jwk_extra: dict | None = None, claims_extra: dict | None = None,
                **kwargs: Any) -> Ob3:
        from wallet.openbadges.keys import jwk_from_public_key
        from wallet.openbadges.proofs import sign_jws

        key = rsa_key() if alg == "RS256" else ec_key() if alg == "ES256" else ed_key()
        issuer_id = self.url("/issuers/1")
        jwk = {**jwk_from_public_key(key.public_key()), "kid": "key-1"}
        if publish:
            self.jwks({**jwk, **(jwk_extra or {})})
        issuer = {"id": issuer_id, "type": ["Profile"], "name": "Organisme JWT", "url": self.url("/")}
        credential = self.achievement_credential(issuer, vcdm=vcdm, subject_id="did:example:ana", **kwargs)
        start = credential.get("validFrom", credential.get("issuanceDate"))
        claims: dict[str, Any] = {"iss": issuer_id, "jti": credential["id"], "sub": "did:example:ana",
                                  "nbf": int(datetime.fromisoformat(start).timestamp())}
        until = credential.get("validUntil", credential.get("expirationDate"))
        if until:
            claims["exp"] = int(datetime.fromisoformat(until).timestamp())
        payload = {**credential, **claims} if vcdm == "2.0" else {"vc": credential, **claims}
        payload.update(claims_extra or {})
        if header == "kid":
            token = sign_jws(payload, key, alg, kid=issuer_id + "#key-1")
        else:
            token = sign_jws(payload, key, alg, jwk=jwk_from_public_key(key.public_key()))
        return Ob3(credential, issuer_id, token, {"key": key, "jwk": jwk})

    # --- status lists
    def onedtech_list(self, revoked: list[str], key_name: str = "revokedCredentials",
                      path: str = "/status/1edtech") -> dict:
        self.server.json(path, {"id": self.url(path), key_name: [
            {"id": cid, "revoked": True, "revocationReason": "Erreur d'attribution"} for cid in revoked]},
            content_type="application/json")
        return {"id": self.url(path), "type": "1EdTechRevocationList"}

    def bitstring_list(self, bits: set[int], purpose: str = "revocation", index: int = 42,
                       path: str = "/status/bits", key: ed25519.Ed25519PrivateKey | None = None,
                       valid_until: datetime | None = None, tamper: bool = False) -> dict:

        from wallet.openbadges.status import encode_bitstring

        key = key or ed_key()
        issuer_id, vm = self.did_key_issuer(key)
        status_list = {"@context": [VC2], "id": self.url(path),
                       "type": ["VerifiableCredential", "BitstringStatusListCredential"],
                       "issuer": issuer_id, "validFrom": iso(self.now - timedelta(days=1)),
                       "credentialSubject": {"id": self.url(path) + "#list", "type": "BitstringStatusList",
                                             "statusPurpose": purpose, "encodedList": encode_bitstring(bits)}}
        if valid_until:
            status_list["validUntil"] = iso(valid_until)
        signed = self.sign_di(status_list, key, vm)
        if tamper:
            signed["credentialSubject"]["encodedList"] = encode_bitstring(set())
        self.server.json(path, signed, content_type="application/vc+ld+json")
        return {"id": self.url(path) + f"#{index}", "type": "BitstringStatusListEntry",
                "statusPurpose": purpose, "statusListIndex": str(index),
                "statusListCredential": self.url(path)}
