"""The JSON-LD context store, its fail-closed loader, canonicalization and the sync helpers."""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path

import pytest
from pyld import jsonld as pyld_jsonld

from wallet.openbadges import jsonld
from wallet.openbadges.context_sync import manifest_tsv, packaged_listing, plan_sync, verify_download
from wallet.openbadges.jsonld import (
    ContextNotInStore,
    ContextStore,
    JsonLdFailure,
    NoContextStore,
    canonize,
    default_store,
    find_missing_context,
)

SHARED_CONTEXTS = Path(__file__).resolve().parents[3] / ".." / "shared" / "jsonld-contexts"
OB2 = "https://w3id.org/openbadges/v2"
VCDM2 = "https://www.w3.org/ns/credentials/v2"


@pytest.fixture(scope="module")
def store() -> ContextStore:
    return ContextStore.from_dir(SHARED_CONTEXTS)


def _write_store(
    directory: Path,
    files: dict[str, dict],
    sha_override: dict[str, str] | None = None,
    urls: dict[str, str] | None = None,
    aliases: dict[str, str] | None = None,
) -> Path:
    """A store on disk: files {name: document}, urls {url: name}; sha_override {name: sha256}."""
    directory.mkdir(parents=True, exist_ok=True)
    entries = []
    for url, name in (urls or {}).items():
        body = json.dumps(files[name]).encode()
        (directory / name).write_bytes(body)
        sha = (sha_override or {}).get(name, hashlib.sha256(body).hexdigest())
        entries.append((url, name, sha))
    (directory / "MANIFEST.tsv").write_text(manifest_tsv(entries), encoding="utf-8")
    if aliases:
        lines = ["alias_url\tfile\trelation"] + [f"{u}\t{n}\ttest" for u, n in aliases.items()]
        (directory / "ALIASES.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return directory


CTX_A = {"@context": {"name": "http://schema.org/name", "Thing": "http://schema.org/Thing"}}
CTX_B = {"@context": {"title": "http://purl.org/dc/terms/title"}}


# --- the store ------------------------------------------------------------------------------


def test_shared_store_serves_its_manifest_and_aliases(store):
    assert store.has(OB2)
    assert store.has("https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json")
    # ALIASES.tsv: a redirect target serves the same file
    assert store.document("https://purl.imsglobal.org/spec/ob/v2p0/context/context.json") == store.document(
        OB2
    )
    assert "@context" in store.document(VCDM2)
    # files under alternates/ are not part of the store
    assert not store.has("https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.spec-repo.json")
    assert store.check_all() == {}


def test_document_returns_a_private_copy(store):
    store.document(OB2)["@context"] = "spoiled"
    assert store.document(OB2)["@context"] != "spoiled"


def test_unknown_url_is_not_in_the_store(store):
    url = "https://evil.example/context.json"
    assert not store.has(url)
    with pytest.raises(ContextNotInStore) as caught:
        store.document(url)
    assert caught.value.url == url


def test_loader_fails_closed_with_a_pyld_error(store):
    with pytest.raises(pyld_jsonld.JsonLdError) as caught:
        store.loader("http://127.0.0.1:9/ctx", {})
    assert caught.value.code == "loading document failed"
    assert find_missing_context(caught.value).url == "http://127.0.0.1:9/ctx"
    served = store.loader(OB2, {})
    assert served["documentUrl"] == OB2 and served["contextUrl"] is None
    assert served["document"] is store.loader(OB2, {})["document"]  # same object: pyld's cache hits


def test_sha256_mismatch_makes_the_url_absent_and_is_recorded(tmp_path):
    directory = _write_store(
        tmp_path / "ctx",
        {"a.json": CTX_A, "b.json": CTX_B},
        sha_override={"b.json": "0" * 64},
        urls={"https://a.example/ctx": "a.json", "https://b.example/ctx": "b.json"},
        aliases={"https://b-alias.example/ctx": "b.json", "https://a-alias.example/ctx": "a.json"},
    )
    store = ContextStore.from_dir(directory)
    assert set(store.check_all()) == {"https://b.example/ctx", "https://b-alias.example/ctx"}
    assert store.has("https://a.example/ctx")
    assert store.has("https://a-alias.example/ctx")
    assert not store.has("https://b.example/ctx")
    assert not store.has("https://b-alias.example/ctx")
    assert "sha256 mismatch" in store.problems["https://b.example/ctx"]
    assert "https://b-alias.example/ctx" in store.problems
    assert "https://a.example/ctx" not in store.problems
    with pytest.raises(ContextNotInStore):
        canonize({"@context": "https://b.example/ctx", "@id": "urn:x", "title": "t"}, store)


def test_file_changed_on_disk_after_listing_is_refused(tmp_path):
    directory = _write_store(tmp_path / "ctx", {"a.json": CTX_A}, urls={"https://a.example/ctx": "a.json"})
    (directory / "a.json").write_text(json.dumps({"@context": {"name": "http://evil.example/name"}}))
    store = ContextStore.from_dir(directory)
    assert not store.has("https://a.example/ctx")


@pytest.mark.parametrize("body", [b"not json", b"[1, 2]", b'{"no": "context"}', b"\xff\xfe"])
def test_unusable_files_are_absent_and_recorded(tmp_path, body):
    directory = tmp_path / "ctx"
    directory.mkdir()
    (directory / "x.json").write_bytes(body)
    sha = hashlib.sha256(body).hexdigest()
    (directory / "MANIFEST.tsv").write_text(manifest_tsv([("https://x.example/ctx", "x.json", sha)]))
    store = ContextStore.from_dir(directory)
    assert not store.has("https://x.example/ctx")
    assert "https://x.example/ctx" in store.problems


def test_manifest_rows_pointing_outside_the_store_are_refused(tmp_path):
    secret = tmp_path / "secret.json"
    secret.write_text(json.dumps(CTX_A))
    directory = tmp_path / "ctx"
    directory.mkdir()
    sha = hashlib.sha256(secret.read_bytes()).hexdigest()
    (directory / "MANIFEST.tsv").write_text(
        "url\tfile\tsha256\n"
        f"https://x.example/ctx\t../secret.json\t{sha}\n"
        f"https://y.example/ctx\t{secret}\t{sha}\n"
    )
    store = ContextStore.from_dir(directory)
    assert not store.has("https://x.example/ctx") and not store.has("https://y.example/ctx")
    assert set(store.problems) == {"https://x.example/ctx", "https://y.example/ctx"}


def test_a_directory_without_manifest_is_no_store(tmp_path):
    with pytest.raises(NoContextStore) as caught:
        ContextStore.from_dir(tmp_path)
    assert str(tmp_path.resolve()) in str(caught.value)


# --- canonize -------------------------------------------------------------------------------


def test_canonize_unknown_context_raises_context_not_in_store(store):
    url = "https://unknown.example/ctx.jsonld"
    with pytest.raises(ContextNotInStore) as caught:
        canonize({"@context": [VCDM2, url], "id": "urn:x", "type": "VerifiableCredential"}, store)
    assert caught.value.url == url


def test_canonize_loopback_context_is_never_fetched(store, fake_server):
    fake_server.json("/ctx", CTX_A)
    url = fake_server.url("/ctx")
    with pytest.raises(ContextNotInStore):
        canonize({"@context": url, "@id": "urn:x", "name": "n"}, store)
    assert fake_server.hits["/ctx"] == 0


def test_contexts_of_one_store_never_leak_into_another(tmp_path):
    doc = {"@context": "https://a.example/ctx", "@id": "urn:x", "name": "Ana"}
    first = ContextStore.from_dir(
        _write_store(tmp_path / "one", {"a.json": CTX_A}, urls={"https://a.example/ctx": "a.json"})
    )
    assert canonize(doc, first) == '<urn:x> <http://schema.org/name> "Ana" .\n'
    empty = ContextStore.from_dir(_write_store(tmp_path / "two", {}))
    with pytest.raises(ContextNotInStore):
        canonize(doc, empty)


def test_canonize_is_stable_across_calls_and_inputs_are_untouched(store):
    doc = {"@context": [OB2], "type": "Assertion", "id": "urn:uuid:1", "issuedOn": "2024-05-01T10:00:00Z"}
    before = json.dumps(doc)
    first = canonize(doc, store)
    assert "<https://w3id.org/openbadges#Assertion>" in first
    assert canonize(doc, store) == first
    assert json.dumps(doc) == before


def test_a_caller_changing_its_document_later_cannot_poison_the_cache(store):
    inline = {"name": "http://a.example/name"}
    doc = {"@context": inline, "@id": "urn:x", "name": "n"}
    assert "<http://a.example/name>" in canonize(doc, store)
    inline["name"] = "http://b.example/name"
    assert "<http://b.example/name>" in canonize(doc, store)
    fresh = {"@context": {"name": "http://a.example/name"}, "@id": "urn:x", "name": "n"}
    assert "<http://a.example/name>" in canonize(fresh, store)


def test_safe_mode_refuses_terms_no_context_defines(store):
    doc = {
        "@context": ["https://www.w3.org/2018/credentials/v1"],
        "id": "urn:x",
        "type": ["VerifiableCredential"],
        "undefinedTerm": "junk",
    }
    with pytest.raises(JsonLdFailure):
        canonize(doc, store)
    assert "junk" not in canonize(doc, store, safe=False)


@pytest.mark.parametrize(
    "doc",
    [
        {"@context": 5, "name": "x"},
        {"@context": {"@version": 2.0}},
        "not a dict",
        {"@context": {"name": {"@type": 5}}, "name": 1},
        {"@context": {"name": "http://a.example/n"}, "name": {"@value": 1, "@language": 5}},
        {"x": {1, 2}},
    ],
)
def test_malformed_json_ld_is_a_json_ld_failure(store, doc):
    with pytest.raises(JsonLdFailure):
        canonize(doc, store)


# --- where the default store is -------------------------------------------------------------


def test_wallet_contexts_dir_is_respected(tmp_path, monkeypatch):
    directory = _write_store(tmp_path / "mine", {"a.json": CTX_A}, urls={"https://a.example/ctx": "a.json"})
    monkeypatch.setenv("WALLET_CONTEXTS_DIR", str(directory))
    chosen = default_store()
    assert chosen.directory == directory.resolve()
    assert chosen.urls() == ("https://a.example/ctx",)
    assert default_store() is chosen  # cached per directory


def test_wallet_contexts_dir_without_manifest_is_an_error(tmp_path, monkeypatch):
    monkeypatch.setenv("WALLET_CONTEXTS_DIR", str(tmp_path / "missing"))
    with pytest.raises(NoContextStore) as caught:
        default_store()
    assert caught.value.places == (str((tmp_path / "missing").resolve()),)


@pytest.fixture
def working_dir(tmp_path, monkeypatch) -> Path:
    """No WALLET_CONTEXTS_DIR, and `tmp_path` as the working directory."""
    monkeypatch.delenv("WALLET_CONTEXTS_DIR", raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def checkout(working_dir, monkeypatch) -> Path:
    """As `working_dir`, the repository being an empty checkout at `working_dir/checkout`."""
    repo = working_dir / "checkout"
    monkeypatch.setattr(jsonld, "repository_root", lambda: repo)
    return repo


def _store_of_a(directory: Path) -> Path:
    """A store of CTX_A (https://a.example/ctx) in `directory`; `directory` resolved."""
    return _write_store(directory, {"a.json": CTX_A}, urls={"https://a.example/ctx": "a.json"}).resolve()


def test_instance_contexts_in_the_working_directory_comes_first(working_dir):
    expected = _store_of_a(working_dir / "instance" / "contexts")
    assert default_store().directory == expected


def test_shared_store_beside_the_repository_is_the_fallback(tmp_path, checkout):
    expected = _store_of_a(tmp_path / "shared" / "jsonld-contexts")
    assert default_store().directory == expected


def test_no_store_anywhere_names_every_place(tmp_path, checkout):
    with pytest.raises(NoContextStore) as caught:
        default_store()
    message = str(caught.value)
    for place in (
        tmp_path / "instance" / "contexts",
        checkout / "instance" / "contexts",
        tmp_path / "shared" / "jsonld-contexts",
    ):
        assert str(place.resolve()) in message
    assert "WALLET_CONTEXTS_DIR" in message


def test_repository_root_holds_the_wallet_package():
    assert (jsonld.repository_root() / "wallet" / "openbadges" / "jsonld.py").is_file()


# --- sync helpers ---------------------------------------------------------------------------


def test_packaged_listing_matches_the_shared_manifest():
    with open(SHARED_CONTEXTS / "MANIFEST.tsv", encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))
    assert plan_sync(packaged_listing()) == [(r["url"], r["file"], r["sha256"]) for r in rows]


def test_synced_store_serves_verified_downloads(tmp_path):
    body = json.dumps(CTX_A).encode()
    listing = f"url\tfile\tsha256\nhttps://a.example/ctx\ta.json\t{hashlib.sha256(body).hexdigest()}\n"
    plan = plan_sync(listing)
    assert plan == [("https://a.example/ctx", "a.json", hashlib.sha256(body).hexdigest())]
    ((url, name, sha),) = plan
    assert verify_download(body, sha)
    assert not verify_download(body + b" ", sha)
    (tmp_path / name).write_bytes(body)
    (tmp_path / "MANIFEST.tsv").write_text(manifest_tsv(plan))
    assert ContextStore.from_dir(tmp_path).document(url) == CTX_A


GOOD_SHA = "a" * 64


@pytest.mark.parametrize(
    "listing",
    [
        "",
        "url\tfile\n",
        f"url\tfile\tsha256\nhttp://a.example/ctx\ta.json\t{GOOD_SHA}\n",
        f"url\tfile\tsha256\nhttps://a.example/ctx\t../a.json\t{GOOD_SHA}\n",
        f"url\tfile\tsha256\nhttps://a.example/ctx\tsub/a.json\t{GOOD_SHA}\n",
        f"url\tfile\tsha256\nhttps://a.example/ctx\t.hidden\t{GOOD_SHA}\n",
        f"url\tfile\tsha256\nhttps://a.example/ctx\tMANIFEST.tsv\t{GOOD_SHA}\n",
        "url\tfile\tsha256\nhttps://a.example/ctx\ta.json\tnot-a-sha\n",
        f"url\tfile\tsha256\nhttps://a.example/ctx\ta.json\t{GOOD_SHA}\nhttps://a.example/ctx\tb.json\t{GOOD_SHA}\n",
        f"url\tfile\tsha256\nhttps://a.example/ctx\ta.json\t{GOOD_SHA}\nhttps://b.example/ctx\ta.json\t{'b' * 64}\n",
    ],
)
def test_bad_listings_are_refused(listing):
    with pytest.raises(ValueError):
        plan_sync(listing)


def test_importing_the_proof_modules_loads_neither_pyld_nor_requests():
    # pyld imports requests and lxml at import time; it is loaded only when a canonicalization runs.
    import subprocess
    import sys

    code = (
        "import sys, wallet.openbadges.proofs, wallet.openbadges.keys, wallet.openbadges.jsonld; "
        "print(sorted(m for m in ('pyld', 'requests', 'lxml') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[3],
    )
    assert out.stdout.strip() == "[]"


# Run in a fresh process: pyld is imported by the wallet's _pyld(), nothing else imports it first.
FIRST_PYLD_IMPORT = """
import json, sys
from wallet.openbadges.jsonld import canonize, default_store
from wallet.openbadges.pyld_import import pyld as _pyld
jsonld = _pyld()
doc = {"@context": {"name": "https://schema.org/name"}, "@id": "https://a.example/x", "name": "Ana"}
quads = canonize(doc, default_store())
loaded = sorted(m for m in ("requests", "aiohttp", "asyncio", "urllib.request", "lxml.html",
                            "pyld.documentloader.aiohttp") if m in sys.modules)
try:
    jsonld.get_document_loader()("https://www.w3.org/ns/credentials/v2", {})
    default_loader = "fetched"
except jsonld.JsonLdError:
    default_loader = "refused"
import pyld, requests
print(json.dumps({"quads": quads, "loaded": loaded, "default_loader": default_loader,
                  "package": [pyld.ContextResolver.__name__, pyld.jsonld is jsonld],
                  "requests": bool(requests.Session)}))
"""


def test_pyld_is_imported_without_requests_and_its_default_loader_refuses_every_url():
    # Cold start of `wallet verify` (issue 17 item 6): the OB 3.0 path pays for pyld.jsonld and
    # lxml only, not for requests, aiohttp or pyld's document loader classes.
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", FIRST_PYLD_IMPORT], capture_output=True, text=True,
                         check=True, cwd=Path(__file__).resolve().parents[3], timeout=60)
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert report["loaded"] == ["lxml.html"]
    assert report["default_loader"] == "refused"
    # The same canonical form as pyld imported the ordinary way (this test process).
    doc = {"@context": {"name": "https://schema.org/name"}, "@id": "https://a.example/x", "name": "Ana"}
    assert report["quads"] == canonize(doc, ContextStore.from_dir(SHARED_CONTEXTS)) != ""
    # The package behaves as if imported normally, and requests can still be imported afterwards.
    assert report["package"] == ["ContextResolver", True]
    assert report["requests"] is True
