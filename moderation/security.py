"""Secrets: API keys and tokens are random, shown once, and stored only as SHA-256 hashes."""

from __future__ import annotations

import hashlib
import hmac
import secrets

SITE_KEY_PREFIX = "msk_"
USER_TOKEN_PREFIX = "mut_"


def new_secret(prefix: str) -> str:
    """A 256-bit random secret with a recognisable prefix (for secret scanners)."""
    return prefix + secrets.token_urlsafe(32)


def hash_secret(secret: str) -> str:
    """SHA-256 is enough for 256-bit random secrets: there is nothing to brute-force."""
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def same_hash(a: str, b: str) -> bool:
    """Compare two digests in constant time."""
    return hmac.compare_digest(a.encode(), b.encode())


def new_id(prefix: str) -> str:
    """A short random identifier such as `cmt_3f9a...`."""
    return f"{prefix}_{secrets.token_hex(10)}"


def hash_email(email: str, pepper: str) -> str:
    """Keyed hash of a normalised address: lets us count an author's comments, not read the address."""
    return hmac.new(pepper.encode(), email.strip().lower().encode(), hashlib.sha256).hexdigest()


MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024  # a longer one is a mistake or an attack on the hash's cost


class WeakPassword(ValueError):
    """A password the policy refuses; the message says why, in words for the person."""


def check_password_policy(name: str, password: str) -> None:
    """Raise WeakPassword unless the password is 12 to 1,024 characters and not the name."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise WeakPassword(f"use at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise WeakPassword(f"use at most {MAX_PASSWORD_LENGTH} characters")
    if password.strip().casefold() == name.strip().casefold():
        raise WeakPassword("the password cannot be the user name")
