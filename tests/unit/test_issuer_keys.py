"""The builtin issuer's key file: created once in development, reused, never replaced; required
in production, where the app refuses to start without it."""

from __future__ import annotations

import json
import stat

import pytest

from wallet.app.settings import ConfigError
from wallet.keys.issuer_keys import (
    FORMAT,
    IssuerKeyError,
    create_keys,
    key_file_path,
    load_for_config,
    load_keys,
    parse_keys,
)

PROD = {"WALLET_ENV": "production", "WALLET_SECRET_KEY": "s" * 40, "WALLET_TOKEN_KEYS": "k",
        "WALLET_BASE_URL": "https://wallet.app.region.example"}


def test_created_file_is_private_and_loads_back_the_same_key(tmp_path):
    path = tmp_path / "keys" / "issuer_keys.json"
    created = create_keys(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    loaded = load_keys(path)
    assert loaded.current.id == "key-1"
    assert loaded.current.public_multibase == created.current.public_multibase
    assert loaded.current.public_multibase.startswith("z6Mk")


def test_an_existing_file_is_never_overwritten(tmp_path):
    path = tmp_path / "issuer_keys.json"
    create_keys(path)
    before = path.read_bytes()
    with pytest.raises(IssuerKeyError, match="never replaced"):
        create_keys(path)
    assert path.read_bytes() == before


def test_development_creates_the_file_in_the_instance_once_then_reuses_it(tmp_path):
    config = {"ENV": "development", "_INSTANCE_PATH": str(tmp_path)}
    assert key_file_path(config) == tmp_path / "issuer_keys.json"
    first = load_for_config(config)
    again = load_for_config(config)
    assert (tmp_path / "issuer_keys.json").is_file()
    assert again.current.public_multibase == first.current.public_multibase


def test_development_does_not_replace_a_broken_file(tmp_path):
    path = tmp_path / "issuer_keys.json"
    path.write_text("{not json")
    with pytest.raises(IssuerKeyError, match="not valid JSON"):
        load_for_config({"ENV": "development", "_INSTANCE_PATH": str(tmp_path)})
    assert path.read_text() == "{not json"


def test_production_requires_the_file_and_never_creates_it(tmp_path):
    with pytest.raises(IssuerKeyError, match="ISSUER_KEY_FILE is required"):
        load_for_config({"ENV": "production", "_INSTANCE_PATH": str(tmp_path)})
    missing = tmp_path / "absent.json"
    with pytest.raises(IssuerKeyError, match="does not exist"):
        load_for_config({"ENV": "production", "ISSUER_KEY_FILE": str(missing)})
    assert not missing.exists()


def test_unreadable_file_is_refused(tmp_path):
    path = tmp_path / "issuer_keys.json"
    path.mkdir()  # a directory: open() fails whoever runs the test
    with pytest.raises(IssuerKeyError, match="cannot be read"):
        load_keys(path)


@pytest.mark.parametrize("document, message", [
    ({"format": "other"}, "not a"),
    ({"format": FORMAT, "current": "key-1", "keys": []}, "no keys"),
    ({"format": FORMAT, "current": "key-1", "keys": [{"id": "key-1", "type": "RSA", "seed": "x"}]}, "Ed25519"),
    ({"format": FORMAT, "current": "key-1", "keys": [{"id": "key-1", "type": "Ed25519", "seed": "c2hvcnQ"}]},
     "32-byte"),
    ({"format": FORMAT, "current": "key-9",
      "keys": [{"id": "key-1", "type": "Ed25519", "seed": "A" * 43}]}, "current"),
    ({"format": FORMAT, "current": "key-1",
      "keys": [{"id": "key-1", "type": "Ed25519", "seed": "A" * 43}] * 2}, "twice"),
    ({"format": FORMAT, "current": "a b",
      "keys": [{"id": "a b", "type": "Ed25519", "seed": "A" * 43}]}, "short name"),
])
def test_malformed_key_files_are_refused(document, message):
    with pytest.raises(IssuerKeyError, match=message):
        parse_keys(document)


def test_several_keys_keep_the_current_one_for_signing(tmp_path):
    first = create_keys(tmp_path / "a.json")
    second = create_keys(tmp_path / "b.json")
    merged = json.loads((tmp_path / "a.json").read_text())
    extra = json.loads((tmp_path / "b.json").read_text())["keys"][0]
    merged["keys"].append({**extra, "id": "key-2"})
    merged["current"] = "key-2"
    keys = parse_keys(merged)
    assert [k.id for k in keys.keys] == ["key-1", "key-2"]
    assert keys.current.public_multibase == second.current.public_multibase
    assert keys.keys[0].public_multibase == first.current.public_multibase


def _production_env(monkeypatch, tmp_path, **extra: str) -> None:
    monkeypatch.setenv("WALLET_INSTANCE_PATH", str(tmp_path / "instance"))
    for key, value in {**PROD, **extra}.items():
        monkeypatch.setenv(key, value)


def test_app_refuses_to_start_in_production_without_the_key_file(tmp_path, monkeypatch):
    from wallet import create_app

    _production_env(monkeypatch, tmp_path, WALLET_ISSUER_KEY_FILE=str(tmp_path / "absent.json"))
    with pytest.raises(ConfigError, match="does not exist"):
        create_app()
    assert not (tmp_path / "absent.json").exists()


def test_app_refuses_to_start_in_production_with_no_key_file_setting(tmp_path, monkeypatch):
    from wallet import create_app

    _production_env(monkeypatch, tmp_path)
    with pytest.raises(ConfigError, match="ISSUER_KEY_FILE"):
        create_app()


def test_app_starts_in_production_with_its_key_file(tmp_path, monkeypatch):
    from wallet import create_app

    path = tmp_path / "secrets" / "issuer_keys.json"
    keys = create_keys(path)
    _production_env(monkeypatch, tmp_path, WALLET_ISSUER_KEY_FILE=str(path))
    app = create_app()
    assert app.extensions["wallet_issuer_keys"].current.public_multibase == keys.current.public_multibase
