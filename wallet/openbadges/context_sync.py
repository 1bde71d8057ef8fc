"""`wallet contexts sync` helpers (pure): the packaged listing of context URLs, its validation,
the download check and the MANIFEST.tsv written beside the downloaded contexts."""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
from collections.abc import Iterable
from pathlib import Path

from .jsonld import _FILE_NAME, _SHA256, ALIASES, MANIFEST


def packaged_listing() -> str:
    """The committed list of context URLs and sha256 (wallet/openbadges/contexts.tsv)."""
    return Path(__file__).with_name("contexts.tsv").read_text(encoding="utf-8")


def plan_sync(listing_tsv: str) -> list[tuple[str, str, str]]:
    """Validate a listing (TSV text with columns url, file, sha256) → [(url, file, sha256)].

    Raises ValueError naming the first bad line: only https URLs, plain file names (no directory,
    no leading dot), lowercase hex sha256, no duplicate URL.
    """
    rows = list(csv.DictReader(io.StringIO(listing_tsv), delimiter="\t", quoting=csv.QUOTE_NONE))
    if not rows or not {"url", "file", "sha256"} <= set(rows[0]):
        raise ValueError("listing needs a header row with the columns url, file, sha256")
    plan: list[tuple[str, str, str]] = []
    urls: set[str] = set()
    files: dict[str, str] = {}
    for line, row in enumerate(rows, start=2):
        url, name, sha = (
            (row.get("url") or "").strip(),
            (row.get("file") or "").strip(),
            (row.get("sha256") or "").strip(),
        )
        if not url.startswith("https://") or any(c.isspace() for c in url):
            raise ValueError(f"line {line}: url must be https: {url!r}")
        if not _FILE_NAME.match(name) or name in (MANIFEST, ALIASES):
            raise ValueError(f"line {line}: bad file name {name!r}")
        if not _SHA256.match(sha):
            raise ValueError(f"line {line}: bad sha256 {sha!r}")
        if url in urls:
            raise ValueError(f"line {line}: duplicate url {url}")
        if files.get(name, sha) != sha:
            raise ValueError(f"line {line}: file {name} listed with two sha256 values")
        urls.add(url)
        files[name] = sha
        plan.append((url, name, sha))
    return plan


def verify_download(body: bytes, sha256: str) -> bool:
    """True when the downloaded bytes are exactly the pinned ones."""
    return hmac.compare_digest(hashlib.sha256(body).hexdigest(), sha256.strip().lower())


def manifest_tsv(entries: Iterable[tuple[str, str, str]]) -> str:
    """MANIFEST.tsv text (url, file, sha256) for a store filled by `wallet contexts sync`."""
    lines = ["url\tfile\tsha256"]
    lines += [f"{url}\t{name}\t{sha}" for url, name, sha in entries]
    return "\n".join(lines) + "\n"
