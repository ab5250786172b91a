"""Webhook delivery without HTTP: the outbox, retries on the backoff schedule, signatures."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any

import pytest

from moderation.clock import utcnow
from moderation.comments import NewComment, Status, StoredComment
from moderation.events import Attempt, EventName, NewEvent
from moderation.repositories import Repositories
from moderation.service import ModerationService
from moderation.sites import Site
from moderation.webhooks import (
    DISPATCH_LEASE,
    MAX_ATTEMPTS,
    SIGNATURE_HEADER,
    Deliverer,
    Response,
    backoff,
    verify,
)
from tests.fakes import Clock

Held = Callable[[str], StoredComment]


class Receiver:
    """A webhook receiver that answers the status codes it is given, in turn, and keeps every POST."""

    def __init__(self, *statuses: int) -> None:
        self.statuses = list(statuses)
        self.posts: list[tuple[str, bytes, Mapping[str, str]]] = []

    def __call__(self, url: str, body: bytes, headers: Mapping[str, str]) -> Response:
        self.posts.append((url, body, headers))
        return Response(self.statuses.pop(0) if self.statuses else 200)


def test_backoff_doubles_from_five_seconds_up_to_three_hours() -> None:
    assert [backoff(n).total_seconds() for n in range(1, 8)] == [5, 10, 20, 40, 80, 160, 320]
    assert backoff(12) == timedelta(seconds=10240)
    assert backoff(13) == backoff(25) == timedelta(hours=3)
    # The waits between the 25 attempts: 5 s doubling 12 times, then 3 hours 12 times.
    total = sum((backoff(n) for n in range(1, MAX_ATTEMPTS)), timedelta())
    assert total == timedelta(seconds=5 * (2**12 - 1) + 12 * 3 * 3600)  # about 42 hours


def test_a_failed_delivery_is_retried_on_the_backoff_schedule(
    repos: Repositories, site: Site, held: Held, clock: Clock
) -> None:
    comment = held("You nitwit.")
    receiver = Receiver(500, 503)
    deliverer = Deliverer(repos, receiver, clock=clock)
    assert deliverer.deliver_due() == 0
    event = deliverer.log(site.id)[0]
    assert event.attempts == 1 and event.last_error == "HTTP 500"
    assert event.next_attempt_at == clock.now + timedelta(seconds=5)
    clock.advance(timedelta(seconds=4))
    assert deliverer.deliver_due() == 0 and len(receiver.posts) == 1  # not due yet
    clock.advance(timedelta(seconds=1))
    assert deliverer.deliver_due() == 0 and len(receiver.posts) == 2
    event = deliverer.log(site.id)[0]
    assert event.attempts == 2 and event.next_attempt_at == clock.now + timedelta(seconds=10)
    clock.advance(timedelta(seconds=10))
    assert deliverer.deliver_due() == 1
    event = deliverer.log(site.id)[0]
    assert event.delivered_at == clock.now and event.last_error is None
    assert [a.status_code for a in event.history] == [500, 503, 200]
    assert event.comment_id == comment.id
    clock.advance(timedelta(days=1))
    assert deliverer.deliver_due() == 0 and len(receiver.posts) == 3  # delivered once


def test_delivery_gives_up_after_the_last_attempt(
    repos: Repositories, site: Site, held: Held, clock: Clock
) -> None:
    held("You nitwit.")
    receiver = Receiver(*[500] * (MAX_ATTEMPTS + 5))
    deliverer = Deliverer(repos, receiver, clock=clock)
    for _ in range(MAX_ATTEMPTS + 5):
        deliverer.deliver_due()
        clock.advance(timedelta(hours=3))
    assert len(receiver.posts) == MAX_ATTEMPTS
    event = deliverer.log(site.id)[0]
    assert event.attempts == MAX_ATTEMPTS and event.delivered_at is None


def test_a_receiver_that_cannot_be_reached_is_a_failed_attempt(
    repos: Repositories, site: Site, held: Held, clock: Clock
) -> None:
    held("You nitwit.")

    def unreachable(url: str, body: bytes, headers: Mapping[str, str]) -> Response:
        raise ConnectionError("no route to host")

    Deliverer(repos, unreachable, clock=clock).deliver_due()
    event = repos.outbox.recent(site.id)[0]
    assert event.last_error == "ConnectionError: no route to host"
    assert event.history[0].status_code is None


def test_each_post_is_signed_with_the_sites_secret_and_carries_the_event_id(
    repos: Repositories, site: Site, held: Held, clock: Clock
) -> None:
    comment = held("You nitwit.")
    receiver = Receiver()
    Deliverer(repos, receiver, clock=clock).deliver_due()
    [(url, body, headers)] = receiver.posts
    assert url == site.webhook_url
    now = clock.now.timestamp()
    assert verify(site.webhook_secret, headers[SIGNATURE_HEADER], body, now=now)
    assert not verify("whsec_other", headers[SIGNATURE_HEADER], body, now=now)
    sent = json.loads(body)
    assert sent["id"] == repos.outbox.recent(site.id)[0].id
    assert (sent["event"], sent["comment_id"], sent["status"]) == (
        "comment.held",
        comment.id,
        "held",
    )


def test_a_site_without_a_webhook_url_gets_no_events(
    repos: Repositories, service: ModerationService
) -> None:
    quiet, _ = repos.sites.create("no-hook")
    assert service.submit(quiet, NewComment("You nitwit.")).comment.status is Status.HELD
    assert repos.outbox.recent(quiet.id) == []


def _events(repos: Repositories, sites: list[Site], n: int, now: datetime) -> None:
    """`n` approval events, spread over `sites` in turn, all due at `now`."""
    with repos.db.write() as conn:
        for i in range(n):
            site = sites[i % len(sites)]
            event = NewEvent.about(
                site.id, EventName.COMMENT_APPROVED, f"cmt_{i:04d}", None, Status.APPROVED, (), now
            )
            repos.outbox.add(conn, event)


class SlowReceiver:
    """A receiver answering 200 after 1 to 2 s (it varies per event); it keeps each body and
    the most deliveries it saw under way at once for one site."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.bodies: list[dict[str, Any]] = []
        self.under_way: Counter[str] = Counter()
        self.most_at_once: Counter[str] = Counter()

    def __call__(self, url: str, body: bytes, headers: Mapping[str, str]) -> Response:
        sent = json.loads(body)
        with self.lock:
            self.under_way[url] += 1
            self.most_at_once[url] = max(self.most_at_once[url], self.under_way[url])
        time.sleep(1 + (int(sent["comment_id"][-4:]) % 11) / 10)  # the receiver's own latency
        with self.lock:
            self.under_way[url] -= 1
            self.bodies.append(sent)
        return Response(200)


def test_two_workers_with_slow_receivers_deliver_every_event_once_and_count_attempts_exactly(
    repos: Repositories,
) -> None:
    # Issue 18: with a receiver answering in 2 s, a worker claimed 50 events for 60 s and
    # delivered them one by one, so another worker claimed the rest again: 60 events made
    # 80 deliveries, and attempts, written back from the value read at the claim, said 60.
    sites = [
        repos.sites.create(f"paper-{n}", webhook_url=f"https://paper-{n}.example/hook")[0]
        for n in range(4)
    ]
    _events(repos, sites, 200, utcnow())
    receiver = SlowReceiver()
    per_site = 8
    done = threading.Event()
    errors: list[BaseException] = []

    def worker() -> None:
        deliverer = Deliverer(repos, receiver, timeout=5, per_site=per_site)
        try:
            with ThreadPoolExecutor(16) as pool:
                while not done.is_set():
                    if deliverer.deliver_due(50, run=pool.map) == 0:
                        done.wait(0.05)  # nothing claimable: the other worker has it
        except BaseException as exc:
            errors.append(exc)
            raise

    workers = [threading.Thread(target=worker) for _ in range(2)]
    for w in workers:
        w.start()
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline and not errors:
            events = [e for s in sites for e in repos.outbox.recent(s.id, 500)]
            if all(e.delivered_at is not None for e in events):
                break
            done.wait(0.2)
    finally:
        done.set()
        for w in workers:
            w.join()
    assert not errors
    events = [e for s in sites for e in repos.outbox.recent(s.id, 500)]
    assert len(events) == 200 and all(e.delivered_at is not None for e in events)
    assert len(receiver.bodies) == 200  # none twice
    assert sorted(b["id"] for b in receiver.bodies) == sorted(e.id for e in events)
    assert all(e.attempts == 1 and len(e.history) == 1 for e in events)  # counted exactly
    assert max(receiver.most_at_once.values()) <= per_site
    assert len(receiver.most_at_once) == 4


def test_a_claim_taken_over_after_its_lease_is_not_delivered_by_its_first_holder(
    repos: Repositories, site: Site, held: Held, clock: Clock
) -> None:
    held("You nitwit.")
    receiver = Receiver()
    first, second = (Deliverer(repos, receiver, clock=clock) for _ in range(2))
    [late] = first.claim_due()
    assert second.claim_due() == []  # claimed: nobody else takes it
    clock.advance(DISPATCH_LEASE)  # the first worker's job never started
    [taken] = second.claim_due()
    assert taken.claim != late.claim
    assert first.deliver(late) is False and receiver.posts == []  # no longer its claim
    assert second.deliver(taken) is True and len(receiver.posts) == 1
    assert first.deliver(late) is False and len(receiver.posts) == 1
    event = repos.outbox.recent(site.id)[0]
    assert event.attempts == 1 and len(event.history) == 1


def test_an_attempt_whose_claim_was_lost_still_counts_in_sql(
    repos: Repositories, site: Site, held: Held, clock: Clock
) -> None:
    held("You nitwit.")
    [mine] = repos.outbox.claim_due(clock(), 10, DISPATCH_LEASE, MAX_ATTEMPTS)
    clock.advance(DISPATCH_LEASE)
    [theirs] = repos.outbox.claim_due(clock(), 10, DISPATCH_LEASE, MAX_ATTEMPTS)
    failed = Attempt(clock(), 500, "HTTP 500", 3.0)
    assert repos.outbox.record_attempt(mine, failed, clock() + backoff(1)) is False
    assert repos.outbox.record_attempt(theirs, failed, clock() + backoff(1)) is True
    event = repos.outbox.recent(site.id)[0]
    assert event.attempts == 2 and len(event.history) == 2  # both made, both counted
    assert event.next_attempt_at == clock() + backoff(1)  # the holder's retry time stands


def test_a_site_gets_at_most_its_concurrency_limit_of_claims_at_once(
    repos: Repositories, site: Site, clock: Clock
) -> None:
    other, _ = repos.sites.create("other-paper", webhook_url="https://other.example/hook")
    _events(repos, [site] * 5 + [other], 12, clock())
    deliverer = Deliverer(repos, Receiver(), clock=clock, per_site=3)
    first = deliverer.claim_due()
    assert Counter(e.site_id for e in first) == {site.id: 3, other.id: 2}
    assert deliverer.claim_due() == []  # both sites at their limit while those are under way
    assert deliverer.deliver(first[0]) is True
    [next_one] = deliverer.claim_due()  # one finished: one more of that site
    assert next_one.site_id == first[0].site_id


def test_failed_deliveries_are_logged(
    repos: Repositories, site: Site, held: Held, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    held("You nitwit.")
    with caplog.at_level(logging.WARNING, logger="moderation.webhooks"):
        Deliverer(repos, Receiver(503), clock=clock).deliver_due()
    [line] = [r.getMessage() for r in caplog.records]
    assert f"site {site.id}" in line and "attempt 1 of 25" in line and "HTTP 503" in line


def test_a_delivery_job_run_twice_at_once_posts_once(
    repos: Repositories, site: Site, held: Held, clock: Clock
) -> None:
    # A job queue delivers at least once: the same job (same claim) may start twice.
    held("You nitwit.")
    deliverer = Deliverer(repos, Receiver(), clock=clock)
    [claimed] = deliverer.claim_due()
    first = repos.outbox.start(claimed, clock(), deliverer.lease)
    assert first is not None and first.claim != claimed.claim
    assert repos.outbox.start(claimed, clock(), deliverer.lease) is None  # the copy
    assert deliverer.deliver(claimed) is False
