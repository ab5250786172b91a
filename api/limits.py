"""Per-site-key rate limits (Flask-Limiter): in memory, or in Redis so every worker shares a count.

One limit, RATE_LIMIT (e.g. "600/minute"), counted per API key across
/v1/comments* and the Perspective endpoints (per address for requests without
a key), and per address for refused Coral calls. Over it: 429 with
Retry-After, in our error shape (the Perspective blueprint answers in
Google's). If Redis cannot be reached the count falls back to each process's
memory rather than refusing comments.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable

from flask import Blueprint, Flask, Response, current_app, request
from flask.typing import ResponseReturnValue
from flask_limiter import Limiter, RateLimitExceeded

from api import errors
from api.auth import request_key
from moderation.security import hash_secret

_EXTENSION = "moderation.limiter"


def _rate() -> str:
    # Read per request, so a changed setting (or a test) needs no new Limiter.
    return str(current_app.config["RATE_LIMIT"])


def site_key() -> str:
    """Whom to count a request against: its API key (hashed: keys never reach Redis), else its IP."""
    key = request_key()
    if key:
        return "key:" + hash_secret(key)[:32]
    return "ip:" + (request.remote_addr or "unknown")


def address_key() -> str:
    """Whom to count an unsigned Coral call against: its IP address."""
    return "coral-ip:" + (request.remote_addr or "unknown")


def _refused(response: Response) -> bool:
    return response.status_code == 401


def retry_after() -> int:
    """Seconds until the breached window resets (at least 1)."""
    limiter: Limiter | None = current_app.extensions.get(_EXTENSION)
    current = limiter.current_limit if limiter is not None else None
    if current is None:
        return 1
    return max(1, math.ceil(current.window.reset_time - time.time()))


def _too_many(exc: RateLimitExceeded) -> ResponseReturnValue:
    seconds = retry_after()
    return errors.error_response(
        429,
        f"Too many requests: the limit is {exc.description}. Retry in {seconds} s.",
        {"limit": exc.description, "retry_after": seconds},
        headers={"Retry-After": str(seconds)},
    )


def init_app(app: Flask, *, per_key: Iterable[Blueprint], coral: Blueprint) -> Limiter:
    """Attach the limiter: one limit shared per key over `per_key`, refused Coral calls per address."""
    redis_url = app.config["REDIS_URL"]
    limiter = Limiter(
        site_key,
        app=app,
        storage_uri=redis_url or "memory://",
        # A Redis that hangs must cost a request a second at most, then memory takes over.
        storage_options={"socket_connect_timeout": 1, "socket_timeout": 1} if redis_url else {},
        strategy="fixed-window",
        key_prefix="moderation",
        swallow_errors=True,
        in_memory_fallback_enabled=True,
        enabled=bool(app.config["RATE_LIMIT_ENABLED"]),
    )
    shared = limiter.shared_limit(_rate, scope="site-key", key_func=site_key)
    for blueprint in per_key:
        shared(blueprint)
    # Coral publishes a comment whose phase answers 429, unmoderated: its signed
    # calls are never limited. Refused (unsigned, mis-signed) calls are, per address.
    limiter.limit(_rate, key_func=address_key, deduct_when=_refused)(coral)
    app.register_error_handler(RateLimitExceeded, _too_many)
    app.extensions[_EXTENSION] = limiter
    return limiter
