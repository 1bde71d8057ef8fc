"""Configuration: defaults → instance/config.py → WALLET_* environment → test_config.

Fails fast on bad configuration (missing secrets in production, a fetch allow-list in production).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

ENV_PREFIX = "WALLET_"

DEFAULTS: dict[str, Any] = {
    "ENV": "development",
    "BASE_URL": "http://127.0.0.1:5000",
    "DATABASE_URL": None,  # → sqlite:///<instance>/wallet.db
    "SECRET_KEY": None,
    "TOKEN_KEYS": "",
    "ISSUER_KEY_FILE": None,
    "CONTEXTS_DIR": None,
    "FETCH_ALLOW": "",
    "CA_BUNDLE": None,
    "REFERENTIAL": None,
    "ISSUER": "builtin",
    "RATELIMIT_STORAGE_URI": "memory://",
    "MAIL_BACKEND": "console",  # console | smtp | memory (tests)
    "MAIL_SERVER": None,
    "MAIL_PORT": 587,
    "MAIL_USERNAME": None,
    "MAIL_PASSWORD": None,
    "MAIL_USE_TLS": True,
    "MAIL_SENDER": "Portefeuille de badges <no-reply@localhost>",
    "CONFIRM_MAX_AGE": 48 * 3600,
    "RESET_MAX_AGE": 2 * 3600,
    "REVERIFY_MAX_AGE_DAYS": 7,
    "MAX_CONTENT_LENGTH": 42 * 1024 * 1024,  # 20 files × 2 MiB + form overhead
}

# Keys whose environment value is parsed as an int / bool.
_INTS = {"MAIL_PORT", "CONFIRM_MAX_AGE", "RESET_MAX_AGE", "REVERIFY_MAX_AGE_DAYS", "MAX_CONTENT_LENGTH"}
_BOOLS = {"MAIL_USE_TLS", "TESTING", "DEBUG"}


class ConfigError(RuntimeError):
    """The configuration is unusable; the message says what to set."""


def _parse(key: str, value: str) -> Any:
    if key in _INTS:
        return int(value)
    if key in _BOOLS:
        return value.strip().lower() in {"1", "true", "yes", "on"}
    return value


def load_config(instance_path: str, environ: Mapping[str, str] | None = None,
                test_config: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Merge the four layers and validate the result."""
    environ = os.environ if environ is None else environ
    config: dict[str, Any] = dict(DEFAULTS)

    instance_file = Path(instance_path) / "config.py"
    if instance_file.is_file():
        namespace: dict[str, Any] = {}
        exec(compile(instance_file.read_text(), str(instance_file), "exec"), namespace)  # noqa: S102 - the operator's own file
        config.update({k: v for k, v in namespace.items() if k.isupper()})

    for name, value in environ.items():
        if name.startswith(ENV_PREFIX):
            key = name[len(ENV_PREFIX):]
            config[key] = _parse(key, value)

    if test_config:
        config.update(test_config)

    config["_INSTANCE_PATH"] = str(instance_path)
    if not config.get("DATABASE_URL"):
        config["DATABASE_URL"] = f"sqlite:///{Path(instance_path) / 'wallet.db'}"
    config["BASE_URL"] = str(config["BASE_URL"]).rstrip("/")
    validate(config)
    return config


def validate(config: dict[str, Any]) -> None:
    env = config.get("ENV")
    if env not in {"development", "production"}:
        raise ConfigError(f"WALLET_ENV must be 'development' or 'production', not {env!r}")
    production = env == "production"
    relaxed = config.get("TESTING") or config.get("DEBUG") or not production

    if not config.get("SECRET_KEY"):
        if not relaxed:
            raise ConfigError("WALLET_SECRET_KEY is required in production (32 random bytes or more).")
        # Development: a secret kept in instance/ so that sessions and signed links survive a restart.
        config["SECRET_KEY"] = _instance_secret(config, "secret_key", lambda: secrets.token_urlsafe(32))
    if not config.get("TOKEN_KEYS") and relaxed:
        from cryptography.fernet import Fernet

        config["TOKEN_KEYS"] = _instance_secret(config, "token_keys", lambda: Fernet.generate_key().decode())
    elif production and len(str(config["SECRET_KEY"])) < 32:
        raise ConfigError("WALLET_SECRET_KEY is too short for production (32 characters or more).")

    if production:
        if config.get("FETCH_ALLOW"):
            raise ConfigError("WALLET_FETCH_ALLOW is for tests and demos only; it is refused in production.")
        if config.get("DEBUG"):
            raise ConfigError("Debug mode is refused in production.")
        if not config.get("TOKEN_KEYS"):
            raise ConfigError("WALLET_TOKEN_KEYS is required in production (comma-separated Fernet keys).")
        if not str(config["BASE_URL"]).startswith("https://"):
            raise ConfigError("WALLET_BASE_URL must be an https:// URL in production.")
    if config.get("MAIL_BACKEND") not in {"console", "smtp", "memory"}:
        raise ConfigError("WALLET_MAIL_BACKEND must be console, smtp or memory.")
    if config.get("MAIL_BACKEND") == "smtp" and not config.get("MAIL_SERVER"):
        raise ConfigError("WALLET_MAIL_SERVER is required with WALLET_MAIL_BACKEND=smtp.")
    if config.get("MAIL_SERVER") and config.get("MAIL_BACKEND") == "console":
        # Setting an SMTP server is enough to send real mail.
        config["MAIL_BACKEND"] = "smtp"


def _instance_secret(config: dict[str, Any], name: str, make) -> str:
    """A development secret stored in the instance folder (created once, mode 600)."""
    folder = config.get("_INSTANCE_PATH")
    if config.get("TESTING") or not folder:
        return make()
    path = Path(folder) / name
    if path.is_file():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    value = make()
    path.write_text(value)
    path.chmod(0o600)
    return value


def fetch_allow_list(config: Mapping[str, Any]) -> list[str]:
    raw = config.get("FETCH_ALLOW") or ""
    items = raw if isinstance(raw, (list, tuple)) else str(raw).split(",")
    return [item.strip() for item in items if item.strip()]
