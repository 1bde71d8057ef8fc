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
    "ISSUER": "builtin",  # builtin | obf | badgr (wallet/badge_claim/issuers)
    "ISSUER_APPROVAL": "auto",  # builtin issuer: auto | review (a person approves each claim)
    "ISSUER_OBF_BASE_URL": "https://openbadgefactory.com/v1",
    "ISSUER_OBF_CLIENT_ID": None,
    "ISSUER_OBF_CLIENT_SECRET": None,
    "ISSUER_OBF_BADGES": "",  # "regional-key=obf-badge-id,…"
    "ISSUER_BADGR_BASE_URL": None,  # e.g. https://api.eu.badgr.io
    "ISSUER_BADGR_TOKEN": None,  # a Bearer token with the rw:issuer scope
    "ISSUER_BADGR_BADGECLASSES": "",  # "regional-key=badgeclass-entityId,…"
    "RATELIMIT_STORAGE_URI": "memory://",
    "MAIL_BACKEND": "console",  # console | smtp | memory (tests)
    "MAIL_SERVER": None,
    "MAIL_PORT": 587,
    "MAIL_USERNAME": None,
    "MAIL_PASSWORD": None,
    "MAIL_USE_TLS": True,
    "MAIL_SENDER": "Portefeuille de badges <no-reply@localhost>",
    # Tests only: send queued mail at commit, inside the request (refused in production, where
    # mail is always sent after the response; wallet/mail.py).
    "MAIL_SEND_INLINE": False,
    "CONFIRM_MAX_AGE": 48 * 3600,
    "RESET_MAX_AGE": 2 * 3600,
    "UNLOCK_MAX_AGE": 3600,
    "REVERIFY_MAX_AGE_DAYS": 7,
    # The worker's shared HTTP cache and politeness towards partners (wallet/http/cache.py).
    "HTTP_CACHE_MAX_BYTES": 32 * 1024 * 1024,
    "HTTP_CACHE_MIN_TTL": 6 * 3600,  # seconds an issuer / badge class / key document is kept at least
    "PARTNER_MIN_INTERVAL_MS": 200,  # between two requests of one worker process to one host
    "MAX_CONTENT_LENGTH": 42 * 1024 * 1024,  # 20 files × 2 MiB + form overhead
    # The Region running the service: name, logo, colours, legal pages (wallet/app/region.py, README).
    "REGION_NAME": "Région Normandie",
    "REGION_NAME_EN": None,
    "REGION_LOGO": None,  # an SVG or PNG file; None = the packaged placeholder (static/region-logo.svg)
    "REGION_COLOR": "#0b4f8a",
    "REGION_COLOR_INK": "#ffffff",
    "LEGAL_NOTICE_URL": None,
    "LEGAL_NOTICE_TEXT": None,
    "LEGAL_NOTICE_TEXT_EN": None,
    "PRIVACY_URL": None,
    "PRIVACY_TEXT": None,
    "PRIVACY_TEXT_EN": None,
    "ACCESSIBILITY_URL": None,
    "ACCESSIBILITY_TEXT": None,
    "ACCESSIBILITY_TEXT_EN": None,
    "ACCESSIBILITY_STATUS": "partial",  # none | partial | full (RGAA)
    "TIMEZONE": "Europe/Paris",  # the Region's: every date a page shows is in it (wallet/text/formatting.py)
}

# Keys whose environment value is parsed as an int / bool.
_INTS = {"MAIL_PORT", "CONFIRM_MAX_AGE", "RESET_MAX_AGE", "UNLOCK_MAX_AGE", "REVERIFY_MAX_AGE_DAYS",
         "MAX_CONTENT_LENGTH", "HTTP_CACHE_MAX_BYTES", "HTTP_CACHE_MIN_TTL", "PARTNER_MIN_INTERVAL_MS"}
_BOOLS = {"MAIL_USE_TLS", "MAIL_SEND_INLINE", "TESTING", "DEBUG"}


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
        if config.get("MAIL_SEND_INLINE"):
            raise ConfigError("WALLET_MAIL_SEND_INLINE is for tests only; it is refused in production.")
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
    _validate_timezone(config)
    _validate_issuer(config, production)
    _validate_region(config)


def _validate_region(config: dict[str, Any]) -> None:
    from .region import RegionError, load_region

    try:
        load_region(config)
    except RegionError as exc:
        raise ConfigError(str(exc)) from None


def _validate_timezone(config: dict[str, Any]) -> None:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(str(config.get("TIMEZONE") or ""))
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"WALLET_TIMEZONE must be an IANA time zone such as Europe/Paris, "
                          f"not {config.get('TIMEZONE')!r}.") from None


ISSUER_BACKENDS = ("builtin", "obf", "badgr")
# The settings each remote issuer needs: without them no claim could ever be delivered (T50).
_ISSUER_REQUIRED = {
    "obf": ("ISSUER_OBF_BASE_URL", "ISSUER_OBF_CLIENT_ID", "ISSUER_OBF_CLIENT_SECRET"),
    "badgr": ("ISSUER_BADGR_BASE_URL", "ISSUER_BADGR_TOKEN"),
}
_ISSUER_MAPPING = {"obf": "ISSUER_OBF_BADGES", "badgr": "ISSUER_BADGR_BADGECLASSES"}


def _validate_issuer(config: dict[str, Any], production: bool) -> None:
    """The Region's issuer: a known backend, and a remote one only with its credentials.

    (The builtin issuer's key file is checked when the app starts: wallet/keys/issuer_keys.py.)"""
    backend = config.get("ISSUER")
    if backend not in ISSUER_BACKENDS:
        raise ConfigError(f"WALLET_ISSUER must be one of {', '.join(ISSUER_BACKENDS)}, not {backend!r}.")
    if config.get("ISSUER_APPROVAL") not in ("auto", "review"):
        raise ConfigError("WALLET_ISSUER_APPROVAL must be 'auto' or 'review'.")
    for key in _ISSUER_MAPPING.values():
        try:
            config[key] = parse_mapping(config.get(key))
        except ValueError as exc:
            raise ConfigError(f"WALLET_{key}: {exc}") from None
    if backend == "builtin":
        return
    missing = [key for key in _ISSUER_REQUIRED[backend] if not str(config.get(key) or "").strip()]
    if missing:
        raise ConfigError(f"WALLET_ISSUER={backend} needs {', '.join('WALLET_' + k for k in missing)} "
                          "(the issuer's API credentials, from the environment or the secret store).")
    base_key = _ISSUER_REQUIRED[backend][0]
    config[base_key] = str(config[base_key]).rstrip("/")
    if production and not config[base_key].startswith("https://"):
        raise ConfigError(f"WALLET_{base_key} must be an https:// URL in production.")


def parse_mapping(value: Any) -> dict[str, str]:
    """"key=value,key=value" (or a dict from instance/config.py) → {key: value}. Raises ValueError."""
    if not value:
        return {}
    if isinstance(value, Mapping):
        items = [(str(k), str(v)) for k, v in value.items()]
    else:
        items = []
        for entry in str(value).split(","):
            if not entry.strip():
                continue
            key, sep, target = entry.partition("=")
            if not sep:
                raise ValueError(f"{entry.strip()!r} is not of the form regional-key=issuer-id")
            items.append((key, target))
    mapping: dict[str, str] = {}
    for key, target in items:
        key, target = key.strip(), target.strip()
        if not key or not target:
            raise ValueError(f"{key or '?'}={target or '?'}: both sides are required")
        if key in mapping:
            raise ValueError(f"{key!r} is mapped twice")
        mapping[key] = target
    return mapping


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
