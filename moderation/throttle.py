"""Failed sign-ins, slowed and then locked out, per account and per address.

Failures are counted per key (an account name, an address) until `window` has
passed since the last one. From half the key's limit on (the 2nd failure of an
account, the 10th of an address, at the defaults) the next attempt waits 1 s,
then 2 s, 4 s... (at most `max_delay`); at the limit, `account_failures` or
`address_failures`, the key is locked until `window` after its last failure.
An address may be an office behind one NAT: its slowing starts later.
Attempts refused while waiting or locked are not checked and not counted, so
a guesser cannot extend a lock or learn anything from it. A correct password
clears its account's count, never its address's: signing in to one's own
account must not buy more guesses at someone else's.

Counts live where every worker sees them (Redis, when configured) or in this
process's memory. Keys are hashed: names and addresses never reach Redis.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Failures:
    """Failed attempts in a row for one key, and when the last one was (Unix seconds)."""

    count: int
    last: float


class FailureCounts(Protocol):
    """Where failure counts are kept."""

    def get(self, key: str, now: float, window: float) -> Failures | None:
        """The key's failures, or None when there are none or `window` has passed since the last."""

    def add(self, key: str, now: float, window: float) -> Failures:
        """Count one more failure (starting again if `window` has passed since the last)."""

    def clear(self, key: str) -> None:
        """Forget the key's failures."""


class MemoryFailureCounts:
    """Counts in this process (each worker counts on its own)."""

    MAX_KEYS = 100_000  # past this, expired keys are dropped, then the oldest

    def __init__(self) -> None:
        self._counts: dict[str, Failures] = {}
        self._lock = threading.Lock()

    def get(self, key: str, now: float, window: float) -> Failures | None:
        with self._lock:
            found = self._counts.get(key)
        return found if found is not None and now - found.last < window else None

    def add(self, key: str, now: float, window: float) -> Failures:
        with self._lock:
            found = self._counts.get(key)
            count = found.count + 1 if found is not None and now - found.last < window else 1
            self._counts[key] = updated = Failures(count, now)
            if len(self._counts) > self.MAX_KEYS:
                self._prune(now, window)
            return updated

    def clear(self, key: str) -> None:
        with self._lock:
            self._counts.pop(key, None)

    def _prune(self, now: float, window: float) -> None:
        live = {k: f for k, f in self._counts.items() if now - f.last < window}
        if len(live) > self.MAX_KEYS:
            newest = sorted(live.items(), key=lambda kv: kv[1].last)[-self.MAX_KEYS // 2 :]
            live = dict(newest)
        self._counts = live


# One round trip, atomic: start again after `window`, count, remember when, expire later.
_ADD = """
local last = tonumber(redis.call('HGET', KEYS[1], 'last'))
local now, window = tonumber(ARGV[1]), tonumber(ARGV[2])
if (not last) or now - last >= window then redis.call('DEL', KEYS[1]) end
local count = redis.call('HINCRBY', KEYS[1], 'count', 1)
redis.call('HSET', KEYS[1], 'last', ARGV[1])
redis.call('EXPIRE', KEYS[1], math.ceil(window) + 60)
return count
"""


class RedisFailureCounts:
    """Counts in Redis, shared by every worker and machine; in memory while Redis is down."""

    PREFIX = "moderation:signin:"

    def __init__(self, client: Any) -> None:
        self.client = client
        self.fallback = MemoryFailureCounts()
        self._add = client.register_script(_ADD)

    @classmethod
    def from_url(cls, url: str) -> RedisFailureCounts:
        import redis

        # A Redis that hangs must cost a sign-in a second at most.
        return cls(redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1))

    def _down(self, exc: Exception) -> None:
        log.warning(
            "sign-in counts: Redis unavailable (%s); counting in memory", type(exc).__name__
        )

    def get(self, key: str, now: float, window: float) -> Failures | None:
        try:
            found = self.client.hmget(self.PREFIX + key, "count", "last")
        except Exception as exc:  # any Redis failure: count in memory meanwhile
            self._down(exc)
            return self.fallback.get(key, now, window)
        if found[0] is None or found[1] is None:
            return None
        failures = Failures(int(found[0]), float(found[1]))
        return failures if now - failures.last < window else None

    def add(self, key: str, now: float, window: float) -> Failures:
        try:
            count = self._add(keys=[self.PREFIX + key], args=[repr(now), repr(window)])
        except Exception as exc:
            self._down(exc)
            return self.fallback.add(key, now, window)
        return Failures(int(count), now)

    def clear(self, key: str) -> None:
        try:
            self.client.delete(self.PREFIX + key)
        except Exception as exc:
            self._down(exc)
        self.fallback.clear(key)


@dataclass(frozen=True)
class SignInLimits:
    """How many failed sign-ins lock an account or an address, and for how long."""

    account_failures: int = 5
    address_failures: int = 20
    window: timedelta = timedelta(minutes=15)
    first_delay: float = 1.0  # seconds to wait once half the limit has failed
    max_delay: float = 30.0


def _key(kind: str, value: str) -> str:
    return f"{kind}:" + hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:32]


class SignInThrottle:
    """Decide whether a sign-in may be tried now; record how it went."""

    def __init__(
        self,
        counts: FailureCounts,
        limits: SignInLimits | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.counts = counts
        self.limits = limits or SignInLimits()
        self.clock = clock

    def _wait_for(self, failures: Failures | None, lock_at: int, now: float) -> float:
        slow_from = max(2, lock_at // 2)
        if failures is None or failures.count < slow_from:
            return 0.0
        window = self.limits.window.total_seconds()
        if failures.count >= lock_at:
            return failures.last + window - now
        delay = self.limits.first_delay * 2 ** (failures.count - slow_from)
        return max(0.0, failures.last + min(delay, self.limits.max_delay) - now)

    def retry_after(self, account: str, address: str) -> float:
        """Seconds until this account may be tried from this address (0: now)."""
        now = self.clock()
        window = self.limits.window.total_seconds()
        return max(
            self._wait_for(
                self.counts.get(_key("account", account), now, window),
                self.limits.account_failures,
                now,
            ),
            self._wait_for(
                self.counts.get(_key("address", address), now, window),
                self.limits.address_failures,
                now,
            ),
        )

    def failed(self, account: str, address: str) -> None:
        """Count a wrong name or password against both the account and the address."""
        now = self.clock()
        window = self.limits.window.total_seconds()
        self.counts.add(_key("account", account), now, window)
        self.counts.add(_key("address", address), now, window)

    def succeeded(self, account: str) -> None:
        """A right password: the account starts again from zero (its address does not)."""
        self.counts.clear(_key("account", account))
