"""Failed sign-ins slowed, then locked out, per account and per address (no Flask)."""

from __future__ import annotations

import os
import secrets
import socket
from collections.abc import Iterator
from datetime import timedelta

import pytest

from moderation.security import WeakPassword, check_password_policy
from moderation.throttle import (
    FailureCounts,
    MemoryFailureCounts,
    RedisFailureCounts,
    SignInLimits,
    SignInThrottle,
)

REDIS_URL = os.environ.get("MODERATION_TEST_REDIS", "redis://127.0.0.1:6379/15")
LIMITS = SignInLimits(account_failures=5, address_failures=8, window=timedelta(minutes=15))


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def _redis_up() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
        return True
    except OSError:
        return False


@pytest.fixture(params=["memory", "redis"])
def counts(request: pytest.FixtureRequest) -> Iterator[FailureCounts]:
    if request.param == "memory":
        yield MemoryFailureCounts()
        return
    if not _redis_up():
        if os.environ.get("CI"):
            pytest.fail("Redis is not running on 127.0.0.1:6379")
        pytest.skip("Redis is not running on 127.0.0.1:6379")
    redis_counts = RedisFailureCounts.from_url(REDIS_URL)
    # Keys of this test alone, so runs in parallel never share a count.
    redis_counts.PREFIX = f"test-{secrets.token_hex(4)}:"
    yield redis_counts
    for key in redis_counts.client.scan_iter(redis_counts.PREFIX + "*"):
        redis_counts.client.delete(key)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def throttle(counts: FailureCounts, clock: Clock) -> SignInThrottle:
    return SignInThrottle(counts, LIMITS, clock)


def fail_n(throttle: SignInThrottle, clock: Clock, n: int, account: str, address: str) -> None:
    """n failures, each tried as soon as it is allowed."""
    for _ in range(n):
        clock.now += throttle.retry_after(account, address)
        throttle.failed(account, address)


def test_one_typo_costs_nothing_then_each_try_waits_longer(
    throttle: SignInThrottle, clock: Clock
) -> None:
    throttle.failed("mia", "198.51.100.7")
    assert throttle.retry_after("mia", "198.51.100.7") == 0
    waits = []
    for _ in range(3):
        throttle.failed("mia", "198.51.100.7")
        waits.append(throttle.retry_after("mia", "198.51.100.7"))
        clock.now += waits[-1]
    assert waits == [1.0, 2.0, 4.0]
    clock.now -= 1.5  # part of the last wait has passed
    assert throttle.retry_after("mia", "198.51.100.7") == pytest.approx(1.5)


def test_the_fifth_failure_locks_the_account_everywhere_for_the_window(
    throttle: SignInThrottle, clock: Clock
) -> None:
    fail_n(throttle, clock, 5, "mia", "198.51.100.7")
    locked = throttle.retry_after("mia", "203.0.113.50")  # from any address
    assert locked == pytest.approx(15 * 60)
    assert throttle.retry_after("omar", "203.0.113.50") == 0  # other accounts are not
    clock.now += 15 * 60 - 1
    assert throttle.retry_after("mia", "203.0.113.50") == pytest.approx(1)
    clock.now += 1
    assert throttle.retry_after("mia", "203.0.113.50") == 0
    throttle.failed("mia", "203.0.113.50")  # counting starts again from one
    assert throttle.retry_after("mia", "203.0.113.50") == 0


def test_an_address_guessing_many_accounts_is_locked_out(
    throttle: SignInThrottle, clock: Clock
) -> None:
    for i in range(8):
        clock.now += throttle.retry_after(f"user{i}", "198.51.100.7")
        throttle.failed(f"user{i}", "198.51.100.7")
    assert throttle.retry_after("someone-else", "198.51.100.7") == pytest.approx(15 * 60)
    assert throttle.retry_after("someone-else", "203.0.113.50") == 0


def test_success_clears_the_account_but_not_the_address(
    throttle: SignInThrottle, clock: Clock
) -> None:
    fail_n(throttle, clock, 4, "mia", "198.51.100.7")
    clock.now += throttle.retry_after("mia", "198.51.100.7")
    throttle.succeeded("mia")
    throttle.failed("mia", "198.51.100.7")
    # The account's count started again, the address's did not (5 failures now: a wait).
    assert throttle.retry_after("mia", "203.0.113.50") == 0
    assert throttle.retry_after("omar", "198.51.100.7") > 0


def test_failures_far_apart_do_not_add_up(throttle: SignInThrottle, clock: Clock) -> None:
    for _ in range(10):
        throttle.failed("mia", "198.51.100.7")
        clock.now += 15 * 60
    assert throttle.retry_after("mia", "198.51.100.7") == 0


def test_redis_keeps_only_hashes_and_falls_back_to_memory(clock: Clock) -> None:
    if not _redis_up():
        pytest.skip("Redis is not running on 127.0.0.1:6379")
    counts = RedisFailureCounts.from_url(REDIS_URL)
    counts.PREFIX = f"test-{secrets.token_hex(4)}:"
    throttle = SignInThrottle(counts, LIMITS, clock)
    try:
        fail_n(throttle, clock, 2, "mia@example.org", "198.51.100.7")
        keys = [k.decode() for k in counts.client.scan_iter(counts.PREFIX + "*")]
        assert len(keys) == 2
        assert not any("mia" in k or "198.51" in k for k in keys)
        # A second worker (another client on the same Redis) sees the same counts.
        shared = RedisFailureCounts(counts.client)
        shared.PREFIX = counts.PREFIX
        other = SignInThrottle(shared, LIMITS, clock)
        assert other.retry_after("mia@example.org", "10.0.0.1") == pytest.approx(1.0)
    finally:
        for key in counts.client.scan_iter(counts.PREFIX + "*"):
            counts.client.delete(key)
    with socket.socket() as s:  # a port with nothing listening
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    down = SignInThrottle(RedisFailureCounts.from_url(f"redis://127.0.0.1:{port}/0"), LIMITS, clock)
    fail_n(down, clock, 5, "mia", "198.51.100.7")
    assert down.retry_after("mia", "203.0.113.50") == pytest.approx(15 * 60)


@pytest.mark.parametrize(
    ("name", "password", "problem"),
    [
        ("mia", "short pass", "at least 12"),
        ("mia", "x" * 11, "at least 12"),
        ("mia", "x" * 1025, "at most 1024"),
        ("maria.moderator", "maria.moderator", "user name"),
        ("maria.moderator", " MARIA.Moderator ", "user name"),
    ],
)
def test_password_policy_refuses(name: str, password: str, problem: str) -> None:
    with pytest.raises(WeakPassword, match=problem):
        check_password_policy(name, password)


def test_password_policy_accepts() -> None:
    check_password_policy("mia", "x" * 12)
    check_password_policy("mia", "mia mia mia mia")
    check_password_policy("mia", "x" * 1024)
