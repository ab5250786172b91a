"""Open-loop request arrivals for the load benchmark (no locust here: it patches sockets)."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any


def poisson_arrivals(
    rate_per_user: float, rng: random.Random, clock: Callable[[], float] = time.monotonic
) -> Callable[[Any], float]:
    """A locust wait_time giving each user Poisson arrivals at `rate_per_user` (open loop).

    Each user keeps its own schedule of exponential gaps and sends when the next
    arrival is due, whatever its last answer took (at once if it is behind). With
    locust's constant_throughput the users start together and stay in step, so a
    "low" rate arrives as bursts of every user at once; real readers do not.
    """

    def wait(user: Any) -> float:
        now = clock()
        due = getattr(user, "_due", now) + rng.expovariate(rate_per_user)
        user._due = due
        return max(0.0, due - now)

    return wait
