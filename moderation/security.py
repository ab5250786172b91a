"""Secrets: API keys and tokens are random, shown once, and stored only as SHA-256 hashes."""

from __future__ import annotations

import base64
import functools
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


# -- passwords (people sign in to the pages with one) ----------------------------

_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 2**15, 8, 1
_SCRYPT_MAXMEM = 64 * 1024 * 1024


def hash_password(password: str) -> str:
    """A salted scrypt hash: `scrypt$n$r$p$salt$hash`, base64 parts."""
    salt = secrets.token_bytes(16)
    key = hashlib.scrypt(
        password.encode(),
        salt=salt,
        n=_SCRYPT_N,
        r=_SCRYPT_R,
        p=_SCRYPT_P,
        maxmem=_SCRYPT_MAXMEM,
    )
    parts = [base64.b64encode(salt).decode(), base64.b64encode(key).decode()]
    return f"scrypt${_SCRYPT_N}${_SCRYPT_R}${_SCRYPT_P}${parts[0]}${parts[1]}"


def verify_password(stored: str, password: str) -> bool:
    """Whether the password matches a hash made by hash_password (constant-time compare)."""
    try:
        scheme, n, r, p, salt, key = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(key)
        got = hashlib.scrypt(
            password.encode(),
            salt=base64.b64decode(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            maxmem=_SCRYPT_MAXMEM,
            dklen=len(expected),
        )
    except ValueError:
        return False
    return hmac.compare_digest(got, expected)


def session_stamp(password_hash: str) -> str:
    """A short digest of the password hash: sessions carry it, so a new password ends them."""
    return hashlib.sha256(password_hash.encode()).hexdigest()[:20]


@functools.cache
def dummy_password_hash() -> str:
    """A hash of a random password: checked for unknown names, so timing tells nothing."""
    return hash_password(secrets.token_urlsafe(16))
