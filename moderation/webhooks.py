"""Signed webhooks through a transactional outbox, delivered with retries and backoff.

Each event row is written in the same transaction as the decision it reports,
so an event exists exactly when its decision does. Delivery is at least once:
receivers de-duplicate on the `id` in the body.

Signature header: `X-Moderation-Signature: t=<unix seconds>,v1=<hex>` where
hex = HMAC-SHA256(site secret, f"{t}.{raw body}"). Receivers recompute it,
compare in constant time, and reject timestamps older than a few minutes.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from moderation.clock import utcnow
from moderation.comments import Reason, Status
from moderation.events import Attempt, DueEvent, EventName, NewEvent, WebhookEvent
from moderation.sites import Site

if TYPE_CHECKING:
    from moderation.repositories import Repositories

SIGNATURE_HEADER = "X-Moderation-Signature"
MAX_ATTEMPTS = 25  # with the backoff below: retries for about 42 hours

_log = logging.getLogger(__name__)


def event_for(
    site: Site,
    event: EventName,
    comment_id: str,
    external_id: str | None,
    status: Status,
    reasons: Sequence[Reason],
    now: datetime,
) -> NewEvent | None:
    """The outbox event reporting a comment's status, or None when the site has no webhook URL."""
    if not site.webhook_url:
        return None
    return NewEvent.about(site.id, event, comment_id, external_id, status, reasons, now)


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The signature header value for a body sent at `timestamp`."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify(
    secret: str, header: str, body: bytes, now: float | None = None, tolerance: int = 300
) -> bool:
    """Check a signature header the way a receiver should: constant time, fresh timestamp."""
    try:
        parts = dict(p.split("=", 1) for p in header.split(","))
        timestamp = int(parts["t"])
    except (ValueError, KeyError):
        return False
    if abs((now if now is not None else time.time()) - timestamp) > tolerance:
        return False
    expected = sign(secret, timestamp, body)
    return hmac.compare_digest(expected.encode(), header.encode())


def backoff(attempts: int) -> timedelta:
    """5 s, 10 s, 20 s, ... capped at 3 hours."""
    return timedelta(seconds=min(5 * 2 ** max(0, attempts - 1), 3 * 3600))


@dataclass(frozen=True)
class Response:
    status_code: int


Post = Callable[[str, bytes, Mapping[str, str]], Response]


def http_post(timeout: float = 10.0) -> Post:
    """A real HTTP POST (requests), with a timeout."""
    import requests

    def post(url: str, body: bytes, headers: Mapping[str, str]) -> Response:
        r = requests.post(
            url, data=body, headers=dict(headers), timeout=timeout, allow_redirects=False
        )
        return Response(r.status_code)

    return post


def delivery_lease(timeout: float) -> timedelta:
    """How long a delivery under way keeps its claim: longer than its POST may take.

    `requests` applies the timeout to the connection and to each read, so a slow
    receiver may take a few timeouts in all; three of them and a minute's margin.
    """
    return timedelta(seconds=3 * timeout + 60)


# A claimed event waits this long for its delivery to start (in a job queue's backlog);
# then another claim takes it over and the late delivery job finds the claim gone.
DISPATCH_LEASE = timedelta(minutes=10)
PER_SITE = 8  # deliveries of one site under way at once, across every worker

Map = Callable[[Callable[[DueEvent], bool], Sequence[DueEvent]], Iterable[bool]]


class Deliverer:
    """Claims due outbox events, POSTs them signed, records every attempt.

    Each event has a claim of its own: the claim is renewed when its delivery
    starts for longer than the POST can take (`delivery_lease`), only its holder
    records the attempt, and `attempts` is counted in SQL. At most `per_site` events
    of a site are claimed at once, across every worker. Failed attempts are logged.
    """

    def __init__(
        self,
        repos: Repositories,
        post: Post,
        clock: Callable[[], datetime] = utcnow,
        *,
        timeout: float = 10.0,
        per_site: int = PER_SITE,
    ) -> None:
        self.repos = repos
        self.post = post
        self.clock = clock
        self.lease = delivery_lease(timeout)
        self.per_site = per_site

    def claim_due(self, limit: int = 50, site_id: str | None = None) -> list[DueEvent]:
        """Claim what is due (at most `per_site` per site in flight); deliver each with `deliver`."""
        return self.repos.outbox.claim_due(
            self.clock(), limit, DISPATCH_LEASE, MAX_ATTEMPTS, self.per_site, site_id
        )

    def deliver_and_continue(self, claimed: DueEvent, most: int = 20) -> int:
        """Deliver a claimed event, then (its site's slot now free) the site's next due ones.

        A job queue's delivery job: a site with many events due keeps up to `per_site`
        deliveries going without waiting for the next claim run. At most `most` events
        per call, so one job stays short. Returns how many were delivered.
        """
        delivered = int(self.deliver(claimed))
        site_id = self.repos.outbox.site_of(claimed.id)
        for _ in range(most - 1):
            following = self.claim_due(1, site_id) if site_id else []
            if not following:
                break
            delivered += int(self.deliver(following[0]))
        return delivered

    def deliver_due(self, limit: int = 50, run: Map = map) -> int:
        """Claim and deliver what is due; `run` maps over the claims (a thread pool's map
        delivers them at once). Returns how many were delivered."""
        return sum(1 for ok in run(self.deliver, self.claim_due(limit)) if ok)

    def deliver(self, claimed: DueEvent) -> bool:
        """Deliver one claimed event (a job): True if the receiver took it.

        Does nothing when the claim is no longer this one's (its lease ran out
        before the delivery started and another claim took the event over).
        """
        event = self.repos.outbox.start(claimed, self.clock(), self.lease)
        if event is None:
            _log.info("webhook event evt_%s: claim taken over, not delivering", claimed.id)
            return False
        site = self.repos.sites.get(event.site_id)
        body = json.dumps({"id": f"evt_{event.id}", **event.payload}, sort_keys=True).encode()
        now = self.clock()
        started = time.perf_counter()
        status: int | None = None
        error: str | None = None
        if site is None or not site.webhook_url:
            error = "the site has no webhook URL"
        else:
            headers = {
                "Content-Type": "application/json",
                "User-Agent": "comment-moderation",
                SIGNATURE_HEADER: sign(site.webhook_secret, int(now.timestamp()), body),
            }
            try:
                status = self.post(site.webhook_url, body, headers).status_code
                if not 200 <= status < 300:
                    error = f"HTTP {status}"
            except Exception as exc:  # any network failure is a failed attempt
                error = f"{type(exc).__name__}: {exc}"[:500]
        duration = round((time.perf_counter() - started) * 1000, 2)
        attempt = Attempt(now, status, error, duration)
        retry_at = now + backoff(event.attempts + 1) if error is not None else None
        if not self.repos.outbox.record_attempt(event, attempt, retry_at):
            _log.warning("webhook event evt_%s: claim lost during delivery", event.id)
        if error is not None:
            _log.warning(
                "webhook delivery failed: site %s, event evt_%s, attempt %d of %d: %s",
                event.site_id,
                event.id,
                event.attempts + 1,
                MAX_ATTEMPTS,
                error,
            )
        return error is None

    def log(self, site_id: str, limit: int = 100) -> list[WebhookEvent]:
        """The site's recent events with their delivery state and attempts."""
        return self.repos.outbox.recent(site_id, limit)
