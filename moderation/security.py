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
