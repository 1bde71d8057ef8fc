"""Secrets and keys: token encryption, password hashing, the Region issuer's signing keys."""
