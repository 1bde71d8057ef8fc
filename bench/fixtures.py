"""Bench fixtures, generated at bench time: images, keys, badges, credentials.

Everything here is written independently of the code under measurement (our own PNG chunk writer,
our own eddsa-rdfc-2022 signer on pyld), so a bug in `wallet.openbadges` cannot make its own
fixtures easier. Random data comes from a seeded generator, so every run measures the same bytes.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import random
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
WORK = REPO_ROOT / "bench" / ".work"

OB2_CONTEXT = "https://w3id.org/openbadges/v2"
VC2_CONTEXT = "https://www.w3.org/ns/credentials/v2"
OB3_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
RECIPIENT = "ana@example.org"
SALT = "bench-salt"


# --- context store ---------------------------------------------------------------------------

def context_store_dir() -> Path:
    """The context store (DESIGN.md §5): WALLET_CONTEXTS_DIR, else ../shared/jsonld-contexts."""
    env = os.environ.get("WALLET_CONTEXTS_DIR")
    candidates = [Path(env)] if env else []
    candidates += [REPO_ROOT / "instance" / "contexts", REPO_ROOT.parent / "shared" / "jsonld-contexts"]
    for place in candidates:
        if (place / "MANIFEST.tsv").is_file():
            return place
    raise SystemExit("bench: no JSON-LD context store found in: " + ", ".join(map(str, candidates)))


def context_files() -> dict[str, Path]:
    store = context_store_dir()
    rows = (store / "MANIFEST.tsv").read_text(encoding="utf-8").splitlines()
    header = rows[0].split("\t")
    url_i, file_i = header.index("url"), header.index("file")
    result = {}
    for row in rows[1:]:
        cells = row.split("\t")
        if len(cells) > file_i:
            result[cells[url_i]] = store / cells[file_i]
    return result


# --- PNG -------------------------------------------------------------------------------------

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def itxt(keyword: str, text: str) -> bytes:
    """An uncompressed iTXt chunk, exactly as openbadges-bakery writes it."""
    return png_chunk(b"iTXt", keyword.encode("latin-1") + b"\x00\x00\x00\x00\x00" + text.encode("utf-8"))


def insert_chunk(png: bytes, chunk: bytes, where: str) -> bytes:
    """Insert `chunk` right after IHDR (bakery's placement) or right before IEND (`where="end"`)."""
    assert png.startswith(PNG_SIGNATURE)
    if where == "end":
        iend = png.rindex(b"IEND") - 4
        return png[:iend] + chunk + png[iend:]
    ihdr_len = struct.unpack(">I", png[8:12])[0]
    cut = 8 + 12 + ihdr_len
    return png[:cut] + chunk + png[cut:]


def noise_png(size_bytes: int, rng: random.Random) -> bytes:
    """A random-noise RGB PNG of about `size_bytes` (noise does not compress)."""
    from PIL import Image

    side = int((size_bytes / 3) ** 0.5)
    image = Image.frombytes("RGB", (side, side), rng.randbytes(side * side * 3))
    out = io.BytesIO()
    image.save(out, format="PNG", compress_level=1)
    return out.getvalue()


def tiny_png(rng: random.Random, side: int = 8) -> bytes:
    from PIL import Image

    image = Image.frombytes("RGB", (side, side), rng.randbytes(side * side * 3))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


# --- SVG -------------------------------------------------------------------------------------

def svg_with_badge(payload_json: str, verify_url: str | None, rects: int, rng: random.Random,
                   badge_last: bool = False) -> bytes:
    """An OB 2.0 baked SVG: the assertion element first (as the spec and the bakery place it),
    followed by `rects` random rectangles; with `badge_last`, the element after them instead (the
    worst case for an unbaker that reads the document in order)."""
    attr = f' verify="{verify_url}"' if verify_url else ""
    element = f"<openbadges:assertion{attr}><![CDATA[{payload_json}]]></openbadges:assertion>"
    parts = [
        ('<?xml version="1.0" encoding="UTF-8"?>\n'
         '<svg xmlns="http://www.w3.org/2000/svg" xmlns:openbadges="http://openbadges.org" '
         'width="1000" height="1000" viewBox="0 0 1000 1000">'),
    ]
    if not badge_last:
        parts.append(element)
    for _ in range(rects):
        parts.append(
            f'<rect x="{rng.randrange(1000)}" y="{rng.randrange(1000)}" width="{rng.randrange(1, 99)}" '
            f'height="{rng.randrange(1, 99)}" rx="2" fill="#{rng.randrange(1 << 24):06x}" opacity="0.5"/>'
        )
    if badge_last:
        parts.append(element)
    parts.append("</svg>\n")
    return "\n".join(parts).encode("utf-8")


# --- OB 2.0 hosted badge -----------------------------------------------------------------------

def identity_hash(email: str, salt: str) -> str:
    return "sha256$" + hashlib.sha256((email + salt).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class HostedOB2:
    assertion_url: str
    assertion: dict
    documents: dict[str, tuple[bytes, str]]   # path -> (body, content type)


def hosted_ob2(origin: str, prefix: str, image_png: bytes) -> HostedOB2:
    """An OB 2.0 hosted assertion, its BadgeClass, Issuer and image, under `origin + prefix`."""
    assertion_url = f"{origin}{prefix}/assertion"
    badge_url = f"{origin}{prefix}/badgeclass"
    issuer_url = f"{origin}{prefix}/issuer"
    image_url = f"{origin}{prefix}/badge.png"
    assertion = {
        "@context": OB2_CONTEXT,
        "type": "Assertion",
        "id": assertion_url,
        "recipient": {"type": "email", "hashed": True, "salt": SALT,
                      "identity": identity_hash(RECIPIENT, SALT)},
        "badge": badge_url,
        "issuedOn": "2025-01-15T10:00:00+00:00",
        "verification": {"type": "hosted"},
    }
    badgeclass = {
        "@context": OB2_CONTEXT,
        "type": "BadgeClass",
        "id": badge_url,
        "name": "Travail en équipe",
        "description": "Sait collaborer au sein d'un groupe.",
        "image": image_url,
        "criteria": {"narrative": "Nommé par ses pairs."},
        "issuer": issuer_url,
    }
    issuer = {
        "@context": OB2_CONTEXT,
        "type": "Issuer",
        "id": issuer_url,
        "name": "Organisme de formation (bench)",
        "url": origin,
        "email": "contact@example.org",
    }
    ld = "application/ld+json"
    documents = {
        f"{prefix}/assertion": (json.dumps(assertion).encode(), ld),
        f"{prefix}/badgeclass": (json.dumps(badgeclass).encode(), ld),
        f"{prefix}/issuer": (json.dumps(issuer).encode(), ld),
        f"{prefix}/badge.png": (image_png, "image/png"),
    }
    return HostedOB2(assertion_url, assertion, documents)


# --- OB 3.0 eddsa-rdfc-2022 with did:key ---------------------------------------------------------

_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def b58encode(data: bytes) -> str:
    number = int.from_bytes(data, "big")
    out = ""
    while number:
        number, rest = divmod(number, 58)
        out = _B58[rest] + out
    return "1" * (len(data) - len(data.lstrip(b"\x00"))) + out


def _loader():
    files = context_files()
    cache: dict[str, dict] = {}

    def load(url: str, options: dict | None = None) -> dict:
        if url not in files:
            raise ValueError(f"bench: context not in the store: {url}")
        if url not in cache:
            cache[url] = json.loads(files[url].read_text(encoding="utf-8"))
        return {"contextUrl": None, "documentUrl": url, "document": cache[url]}

    return load


def canonize(document: dict, loader) -> str:
    from pyld import jsonld

    return jsonld.normalize(document, {"algorithm": "URDNA2015", "format": "application/n-quads",
                                       "documentLoader": loader, "safe": True})


def sign_eddsa_rdfc_2022(credential: dict, private_key, verification_method: str, created: str) -> dict:
    """Data Integrity eddsa-rdfc-2022 (VC-DI-EdDSA §3.3): sign(sha256(proof) ‖ sha256(document))."""
    loader = _loader()
    proof = {"type": "DataIntegrityProof", "cryptosuite": "eddsa-rdfc-2022", "created": created,
             "verificationMethod": verification_method, "proofPurpose": "assertionMethod"}
    proof_config = {"@context": credential["@context"], **proof}
    data = (hashlib.sha256(canonize(proof_config, loader).encode()).digest()
            + hashlib.sha256(canonize(credential, loader).encode()).digest())
    proof["proofValue"] = "z" + b58encode(private_key.sign(data))
    return {**credential, "proof": proof}


def did_key(public_key) -> str:
    from cryptography.hazmat.primitives import serialization

    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return "did:key:z" + b58encode(b"\xed\x01" + raw)


def ob3_did_key_credential(rng: random.Random) -> dict:
    from cryptography.hazmat.primitives.asymmetric import ed25519

    key = ed25519.Ed25519PrivateKey.from_private_bytes(rng.randbytes(32))
    did = did_key(key.public_key())
    credential = {
        "@context": [VC2_CONTEXT, OB3_CONTEXT],
        "id": f"urn:uuid:{rng.randbytes(16).hex()}",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": {"id": did, "type": ["Profile"], "name": "Organisme de formation (bench)"},
        "validFrom": "2025-01-15T10:00:00Z",
        "name": "Travail en équipe",
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "identifier": [{"type": "IdentityObject", "identityType": "emailAddress", "hashed": True,
                            "identityHash": identity_hash(RECIPIENT, SALT), "salt": SALT}],
            "achievement": {
                "id": "https://example.org/achievements/teamwork",
                "type": ["Achievement"],
                "name": "Travail en équipe",
                "description": "Sait collaborer au sein d'un groupe.",
                "criteria": {"narrative": "Nommé par ses pairs."},
            },
        },
    }
    vm = did + "#" + did.removeprefix("did:key:")
    return sign_eddsa_rdfc_2022(credential, key, vm, "2025-01-15T10:00:00Z")


# --- everything, on disk ------------------------------------------------------------------------

@dataclass(frozen=True)
class Files:
    big_png: Path           # ≈5 MB noise PNG, badge iTXt right before IEND
    big_svg: Path           # ≈5 MB SVG, 60 000 rects, assertion element first
    big_svg_last: Path      # the same rects, assertion element after them (last child of the root)
    small_png: Path         # ≈1 KB PNG badge
    small_svg: Path         # ≈1 KB SVG badge
    ob3_png: Path           # small PNG baked with an OB 3.0 did:key eddsa-rdfc-2022 credential
    ob3_credential: str     # the same credential, JSON text


def small_assertion_json(origin: str = "https://issuer.example.org") -> str:
    return json.dumps({
        "@context": OB2_CONTEXT, "type": "Assertion", "id": f"{origin}/assertions/1",
        "recipient": {"type": "email", "hashed": True, "salt": SALT,
                      "identity": identity_hash(RECIPIENT, SALT)},
        "badge": f"{origin}/badges/1", "issuedOn": "2025-01-15T10:00:00+00:00",
        "verification": {"type": "hosted"},
    }, separators=(",", ":"))


def build_files() -> Files:
    WORK.mkdir(parents=True, exist_ok=True)
    rng = random.Random(20250115)
    payload = small_assertion_json()
    verify_url = json.loads(payload)["id"]

    big_png = WORK / "big-5mb-tail-badge.png"
    big_png.write_bytes(insert_chunk(noise_png(5_000_000, rng), itxt("openbadges", payload), "end"))
    big_svg = WORK / "big-5mb.svg"
    big_svg.write_bytes(svg_with_badge(payload, verify_url, 60_000, rng))
    big_svg_last = WORK / "big-5mb-badge-last.svg"
    big_svg_last.write_bytes(svg_with_badge(payload, verify_url, 60_000, random.Random(20250116), badge_last=True))
    small_png = WORK / "small-1kb.png"
    small_png.write_bytes(insert_chunk(tiny_png(rng, 12), itxt("openbadges", payload), "ihdr"))
    small_svg = WORK / "small-1kb.svg"
    small_svg.write_bytes(svg_with_badge(payload, verify_url, 2, rng))

    credential = ob3_did_key_credential(rng)
    credential_json = json.dumps(credential, ensure_ascii=False)
    ob3_png = WORK / "ob3-didkey.png"
    ob3_png.write_bytes(insert_chunk(tiny_png(rng, 16), itxt("openbadgecredential", credential_json), "ihdr"))
    return Files(big_png, big_svg, big_svg_last, small_png, small_svg, ob3_png, credential_json)

