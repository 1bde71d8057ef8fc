"""Configuration layers and fail-fast rules."""

from __future__ import annotations

import pytest

from wallet.app.settings import ConfigError, load_config

PROD = {"WALLET_ENV": "production", "WALLET_SECRET_KEY": "s" * 40, "WALLET_TOKEN_KEYS": "k",
        "WALLET_BASE_URL": "https://wallet.app.region.example"}


def test_layers_defaults_instance_env_test_config(tmp_path):
    (tmp_path / "config.py").write_text("ISSUER_APPROVAL = 'auto'\nMAIL_PORT = 2525\nlower = 'ignored'\n")
    cfg = load_config(str(tmp_path), environ={"WALLET_MAIL_PORT": "25", "OTHER": "x"},
                      test_config={"ISSUER_APPROVAL": "review"})
    assert cfg["ISSUER_APPROVAL"] == "review"  # test_config wins
    assert cfg["MAIL_PORT"] == 25            # env over instance/config.py, parsed as int
    assert "lower" not in cfg
    assert cfg["DATABASE_URL"] == f"sqlite:///{tmp_path / 'wallet.db'}"
    assert cfg["BASE_URL"] == "http://127.0.0.1:5000"


def test_development_invents_a_secret(tmp_path):
    cfg = load_config(str(tmp_path), environ={})
    assert len(cfg["SECRET_KEY"]) >= 32


def test_production_accepts_a_complete_configuration(tmp_path):
    cfg = load_config(str(tmp_path), environ=PROD)
    assert cfg["ENV"] == "production"


@pytest.mark.parametrize("change, message", [
    ({"WALLET_SECRET_KEY": ""}, "SECRET_KEY is required"),
    ({"WALLET_SECRET_KEY": "short"}, "too short"),
    ({"WALLET_FETCH_ALLOW": "127.0.0.1:8000"}, "FETCH_ALLOW"),
    ({"WALLET_TOKEN_KEYS": ""}, "TOKEN_KEYS"),
    ({"WALLET_BASE_URL": "http://wallet.example"}, "https"),
    ({"WALLET_DEBUG": "1"}, "Debug"),
    ({"WALLET_ENV": "staging"}, "WALLET_ENV"),
    ({"WALLET_MAIL_BACKEND": "smtp"}, "MAIL_SERVER"),
])
def test_production_refuses_to_start_with_bad_settings(tmp_path, change, message):
    environ = {**PROD, **change}
    environ = {k: v for k, v in environ.items() if v != ""}
    with pytest.raises(ConfigError, match=message):
        load_config(str(tmp_path), environ=environ)


def test_create_app_refuses_fetch_allow_in_production(tmp_path, monkeypatch):
    from wallet import create_app

    monkeypatch.setenv("WALLET_INSTANCE_PATH", str(tmp_path))
    for key, value in {**PROD, "WALLET_FETCH_ALLOW": "127.0.0.1:9"}.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(ConfigError):
        create_app()


def test_development_secrets_survive_a_restart(tmp_path):
    first = load_config(str(tmp_path), environ={})
    second = load_config(str(tmp_path), environ={})
    assert first["SECRET_KEY"] == second["SECRET_KEY"] and len(first["SECRET_KEY"]) >= 32
    assert first["TOKEN_KEYS"] == second["TOKEN_KEYS"]
    assert oct((tmp_path / "secret_key").stat().st_mode & 0o777) == "0o600"
