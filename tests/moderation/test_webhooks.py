"""Webhook delivery without HTTP: the outbox, retries on the backoff schedule, signatures."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import timedelta

from moderation.comments import NewComment, Status, StoredComment
from moderation.repositories import Repositories
from moderation.service import ModerationService
from moderation.sites import Site
from moderation.webhooks import (
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
