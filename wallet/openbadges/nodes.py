"""Authority of nodes (PROTOCOLS.md Decisions, "Authority"; SECURITY.md T20, T60).

A node whose `id` is an http(s) URL says who it is only when it was fetched from that URL: the
final URL of the fetch (after redirects) equals the declared id, ignoring a fragment. So:

- a linked node (an IRI) is fetched; a document that declares another id is fetched once more
  from the id it declares, and used only if that copy declares the URL it came from;
- an EMBEDDED node whose id is an http(s) URL is only a hint: it is fetched from its id and the
  fetched copy is the one used;
- an embedded node without an http(s) id (none, `urn:uuid:`) is returned as is: it is trusted
  only as part of a document that is itself authentic (the caller's business);
- a fetch that fails makes the badge `unverifiable` (4xx: `invalid`, by `Session.get_ok`); a copy
  that still declares another id is `invalid`.

Documents are parsed strictly (jsonutil) and, for OB 1.1 / 2.0 nodes, read through their JSON-LD
context (terms.py) before anyone looks at a key.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from .parse import id_of, is_http_url
from .session import ACCEPT_JSON, INVALID, Session, failure

Reader = Callable[[Session, dict], dict]
_DEFAULT_PORTS = {"http": "80", "https": "443"}


def normal_url(url: str) -> str:
    """A URL compared for identity: no fragment, scheme and host lower-cased, no default port."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return url
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    port = parts.port if _safe_port(parts) else None
    netloc = host if port is None or str(port) == _DEFAULT_PORTS.get(parts.scheme.lower()) else f"{host}:{port}"
    return urlunsplit((parts.scheme.lower(), netloc, parts.path or "/", parts.query, ""))


def _safe_port(parts: Any) -> bool:
    try:
        parts.port  # noqa: B018 — raises ValueError on a bad port
    except ValueError:
        return False
    return True


def same_url(a: Any, b: Any) -> bool:
    return isinstance(a, str) and isinstance(b, str) and normal_url(a) == normal_url(b)


def read_ob2(session: Session, doc: dict) -> dict:
    """An OB 1.1 / 2.0 document in its canonical reading; unknown contexts become warnings.
    Raises Unavailable(invalid) when its JSON-LD cannot be read (contradictory definitions)."""
    from .jsonld import JsonLdFailure
    from .terms import read

    try:
        reading = read(doc, session.store)
    except JsonLdFailure as exc:
        raise failure("context", INVALID, reason="unreadable", detail=exc.reason) from None
    for warning in reading.warnings:
        session.warn_once("context", **warning)
    return reading.doc


def plain(session: Session, doc: dict) -> dict:
    """For documents of other vocabularies (DID documents, Multikey, JWKS): read as they are."""
    return doc


def get_document(session: Session, url: str, depth: int, accept: str = ACCEPT_JSON,
                 reader: Reader = read_ob2, **kwargs: str) -> tuple[dict, str]:
    """(document as `reader` reads it, final URL) of one fetch; Unavailable when it fails (see
    Session.get_json_at)."""
    doc, final = session.get_json_at(url, accept, depth, **kwargs)
    return reader(session, doc), final


def authoritative(session: Session, ref: Any, depth: int, *, field: str, accept: str = ACCEPT_JSON,
                  reader: Reader = read_ob2, **kwargs: str) -> dict:
    """The copy of node `ref` (an IRI or an embedded node) that may say who it is.

    Raises Unavailable: `structure` (no node), `fetch` (unreachable, refused), `authority`
    (it declares an id it was not fetched from, twice).
    """
    iri = ref if isinstance(ref, str) else id_of(ref)
    if isinstance(ref, dict) and not is_http_url(iri):
        return reader(session, ref)
    if not is_http_url(iri):
        raise failure("structure", kwargs.get("client_error", INVALID), reason="missing", field=field)
    doc, final = get_document(session, iri, depth, accept, reader, **kwargs)
    declared = id_of(doc)
    if declared is None:
        # A document without an id (OB 1.0 badge classes) is the one at the URL it came from.
        return {**doc, "id": final}
    if same_url(declared, final):
        return doc
    if not is_http_url(declared) or same_url(declared, iri):
        # It declares the URL we asked for, but was served from elsewhere (a redirect to another
        # document), or it declares something that cannot be fetched: nothing says who it is.
        raise failure("authority", INVALID, reason="mismatch", field=field, url=final, id=declared)
    session.warn("authority", reason="refetch", field=field, url=final, id=declared)
    again, final_again = get_document(session, declared, depth, accept, reader, **kwargs)
    if same_url(id_of(again), final_again) and same_url(final_again, declared):
        return again
    raise failure("authority", INVALID, reason="mismatch", field=field, url=final_again, id=id_of(again))
