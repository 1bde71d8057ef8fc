"""wallet.keys.crypto: secrets at rest (SECURITY.md T34) — encryption, key rotation, wrong keys."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from wallet.keys import crypto

OLD, NEW, OTHER = (Fernet.generate_key().decode() for _ in range(3))


def test_round_trip_and_the_stored_value_is_not_the_secret():
    config = {"TOKEN_KEYS": NEW}
    token = crypto.encrypt(config, "refresh-token-éà")
    assert "refresh-token" not in token
    assert crypto.decrypt(config, token) == "refresh-token-éà"
    assert crypto.encrypt(config, "same") != crypto.encrypt(config, "same")  # random IV


def test_a_value_encrypted_with_an_old_key_decrypts_when_the_old_key_is_second():
    token = crypto.encrypt({"TOKEN_KEYS": OLD}, "secret")
    rotated = {"TOKEN_KEYS": f"{NEW}, {OLD}"}
    assert crypto.decrypt(rotated, token) == "secret"
    fresh = crypto.encrypt(rotated, "secret")  # the first key encrypts
    assert crypto.decrypt({"TOKEN_KEYS": NEW}, fresh) == "secret"
    with pytest.raises(crypto.TokenDecryptError):
        crypto.decrypt({"TOKEN_KEYS": OLD}, fresh)
    again = crypto.rotate(rotated, token)
    assert crypto.decrypt({"TOKEN_KEYS": NEW}, again) == "secret"


def test_a_wrong_key_gives_a_clear_error():
    token = crypto.encrypt({"TOKEN_KEYS": OLD}, "secret")
    with pytest.raises(crypto.TokenDecryptError) as caught:
        crypto.decrypt({"TOKEN_KEYS": OTHER}, token)
    assert "WALLET_TOKEN_KEYS" in str(caught.value)


@pytest.mark.parametrize("value", ["", "not-a-key", "a,b"])
def test_unusable_keys_are_named(value):
    with pytest.raises(crypto.TokenKeyError) as caught:
        crypto.encrypt({"TOKEN_KEYS": value}, "x")
    assert "WALLET_TOKEN_KEYS" in str(caught.value)


def test_tampered_or_garbage_values_are_refused():
    config = {"TOKEN_KEYS": NEW}
    token = crypto.encrypt(config, "secret")
    for bad in (token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1], "garbage", "é"):
        with pytest.raises(crypto.TokenDecryptError):
            crypto.decrypt(config, bad)


def test_an_app_or_its_config_can_be_given(app):
    token = crypto.encrypt(app, "x")
    assert crypto.decrypt(app.config, token) == "x"
