"""Password hashing (argon2id, OWASP parameters) and the password policy."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

# OWASP: m=19 MiB, t=2, p=1.
_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)

MIN_LENGTH = 12
MAX_LENGTH = 1024

# A short list of the passwords most tried against French services; the length rule removes most others.
_COMMON = {
    "motdepasse123", "motdepasse1234", "azertyuiop123", "azertyuiopqsd", "123456789012", "1234567890123",
    "password1234", "passwordpassword", "qwertyuiop123", "soleil123456", "bonjour123456", "marseille1234",
    "jetaime123456", "doudou123456", "chouchou1234", "loulou123456", "azertyazerty", "000000000000",
    "111111111111", "abcdefghijkl", "aaaaaaaaaaaa", "iloveyou1234", "motdepasse!!", "administrateur",
}

# Verifying against this dummy hash when the account does not exist keeps the timing alike.
_DUMMY_HASH = _hasher.hash("dummy password for timing equalisation")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password(stored_hash: str | None, password: str) -> bool:
    """Constant-work check; a missing account still pays for one verification."""
    if len(password) > MAX_LENGTH:
        return False
    try:
        return _hasher.verify(stored_hash or _DUMMY_HASH, password) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    return _hasher.check_needs_rehash(stored_hash)


def password_problem(password: str, *, personal: tuple[str, ...] = ()) -> str | None:
    """None when acceptable, else a code: too_short, too_long, too_common, personal."""
    if len(password) > MAX_LENGTH:
        return "too_long"
    if len(password) < MIN_LENGTH:
        return "too_short"
    lowered = password.lower()
    if lowered in _COMMON or len(set(lowered)) <= 2:
        return "too_common"
    for item in personal:
        item = item.lower().strip()
        if item and len(item) >= 4 and (item in lowered or lowered in item):
            return "personal"
    return None
