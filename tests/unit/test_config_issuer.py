"""The Region issuer's settings: a remote backend without credentials stops the app at startup
(SECURITY.md T50); mappings are parsed once; production wants https issuer APIs."""

from __future__ import annotations

import pytest

from wallet.app.settings import ConfigError, load_config, parse_mapping

OBF = {"WALLET_ISSUER": "obf", "WALLET_ISSUER_OBF_CLIENT_ID": "REGION",
       "WALLET_ISSUER_OBF_CLIENT_SECRET": "secret", "WALLET_ISSUER_OBF_BADGES": "organiser-1=B1, organiser-2=B2"}
BADGR = {"WALLET_ISSUER": "badgr", "WALLET_ISSUER_BADGR_BASE_URL": "https://api.eu.badgr.io/",
         "WALLET_ISSUER_BADGR_TOKEN": "token", "WALLET_ISSUER_BADGR_BADGECLASSES": "organiser-1=abcDEF"}
PROD = {"WALLET_ENV": "production", "WALLET_SECRET_KEY": "s" * 40, "WALLET_TOKEN_KEYS": "k",
        "WALLET_BASE_URL": "https://wallet.app.region.example"}


def test_builtin_issuer_needs_no_credentials(tmp_path):
    config = load_config(str(tmp_path), environ={})
    assert config["ISSUER"] == "builtin" and config["ISSUER_APPROVAL"] == "auto"
    assert config["ISSUER_OBF_BADGES"] == {} and config["ISSUER_BADGR_BADGECLASSES"] == {}


def test_remote_issuers_with_credentials_are_accepted_and_mappings_parsed(tmp_path):
    obf = load_config(str(tmp_path), environ=OBF)
    assert obf["ISSUER_OBF_BASE_URL"] == "https://openbadgefactory.com/v1"
    assert obf["ISSUER_OBF_BADGES"] == {"organiser-1": "B1", "organiser-2": "B2"}
    badgr = load_config(str(tmp_path), environ=BADGR)
    assert badgr["ISSUER_BADGR_BASE_URL"] == "https://api.eu.badgr.io"
    assert badgr["ISSUER_BADGR_BADGECLASSES"] == {"organiser-1": "abcDEF"}


@pytest.mark.parametrize("environ, missing", [
    ({**OBF, "WALLET_ISSUER_OBF_CLIENT_SECRET": ""}, "WALLET_ISSUER_OBF_CLIENT_SECRET"),
    ({**OBF, "WALLET_ISSUER_OBF_CLIENT_ID": ""}, "WALLET_ISSUER_OBF_CLIENT_ID"),
    ({**BADGR, "WALLET_ISSUER_BADGR_TOKEN": ""}, "WALLET_ISSUER_BADGR_TOKEN"),
    ({**BADGR, "WALLET_ISSUER_BADGR_BASE_URL": ""}, "WALLET_ISSUER_BADGR_BASE_URL"),
])
def test_remote_issuer_without_credentials_refuses_to_start(tmp_path, environ, missing):
    environ = {k: v for k, v in environ.items() if v}
    with pytest.raises(ConfigError, match=missing):
        load_config(str(tmp_path), environ=environ)


def test_create_app_fails_closed_without_issuer_credentials(tmp_path, monkeypatch):
    from wallet import create_app

    monkeypatch.setenv("WALLET_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("WALLET_ISSUER", "obf")
    with pytest.raises(ConfigError, match="ISSUER_OBF_CLIENT_ID"):
        create_app({"TESTING": True})


@pytest.mark.parametrize("change, message", [
    ({"WALLET_ISSUER": "credly"}, "WALLET_ISSUER must be one of"),
    ({"WALLET_ISSUER_APPROVAL": "sometimes"}, "ISSUER_APPROVAL"),
    ({"WALLET_ISSUER_OBF_BADGES": "organiser-1"}, "ISSUER_OBF_BADGES"),
    ({"WALLET_ISSUER_OBF_BADGES": "organiser-1=A,organiser-1=B"}, "twice"),
])
def test_bad_issuer_settings_are_refused(tmp_path, change, message):
    with pytest.raises(ConfigError, match=message):
        load_config(str(tmp_path), environ={**OBF, **change})


def test_production_issuer_api_must_be_https(tmp_path):
    with pytest.raises(ConfigError, match="https"):
        load_config(str(tmp_path), environ={**PROD, **OBF, "WALLET_ISSUER_OBF_BASE_URL": "http://obf.example/v1"})
    config = load_config(str(tmp_path), environ={**PROD, **OBF})
    assert config["ISSUER"] == "obf"


def test_mapping_accepts_a_dict_from_the_instance_file():
    assert parse_mapping({"organiser-1": "B1"}) == {"organiser-1": "B1"}
    assert parse_mapping("") == {} and parse_mapping(" a = 1 ,, b=2 ") == {"a": "1", "b": "2"}
    with pytest.raises(ValueError):
        parse_mapping("a=")
