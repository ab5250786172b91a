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
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from moderation import db
from moderation.comments import Reason, Status
from moderation.sites import Site
from moderation.store import SqlStore, utcnow

SIGNATURE_HEADER = "X-Moderation-Signature"
MAX_ATTEMPTS = 25  # with the backoff below: retries for about three days
CLAIM = timedelta(seconds=60)


def event_row(
    site: Site,
    event: str,
    comment_id: str,
    external_id: str | None,
    status: Status,
    reasons: Sequence[Reason],
    now: datetime,
) -> dict[str, Any] | None:
    """The outbox row for an event, or None when the site has no webhook URL."""
    if not site.webhook_url:
        return None
    return {
        "site_id": site.id,
        "event": event,
        "created_at": now,
        "attempts": 0,
        "next_attempt_at": now,
        "delivered_at": None,
        "last_error": None,
        "payload": {
            "event": event,
            "comment_id": comment_id,
            "external_id": external_id,
            "status": status.value,
            "reasons": [r.as_dict() for r in reasons],
            "occurred_at": now.isoformat(),
        },
    }


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


class Deliverer:
    """Claims due outbox rows, POSTs them signed, records every attempt."""

    def __init__(self, store: SqlStore, post: Post, clock: Callable[[], datetime] = utcnow) -> None:
        self.store = store
        self.post = post
        self.clock = clock

    def _claim(self, limit: int) -> list[Any]:
        o = db.webhook_outbox.c
        now = self.clock()
        pick = (
            sa.select(o.id)
            .where(o.delivered_at.is_(None), o.next_attempt_at <= now, o.attempts < MAX_ATTEMPTS)
            .order_by(o.next_attempt_at, o.id)
            .limit(limit)
        )
        with self.store.write() as conn:
            if conn.dialect.name == "postgresql":
                pick = pick.with_for_update(skip_locked=True)
            ids = conn.execute(pick).scalars().all()
            if not ids:
                return []
            # The claim: nobody else picks these rows until it lapses.
            conn.execute(
                db.webhook_outbox.update().where(o.id.in_(ids)).values(next_attempt_at=now + CLAIM)
            )
            return list(
                conn.execute(db.webhook_outbox.select().where(o.id.in_(ids)).order_by(o.id)).all()
            )

    def deliver_due(self, limit: int = 50) -> int:
        """Deliver what is due; returns how many were delivered."""
        delivered = 0
        for row in self._claim(limit):
            site = self.store.get_site(row.site_id)
            if site is None:
                continue
            body = json.dumps({"id": f"evt_{row.id}", **row.payload}, sort_keys=True).encode()
            now = self.clock()
            headers = {
                "Content-Type": "application/json",
                "User-Agent": "comment-moderation",
                SIGNATURE_HEADER: sign(site.webhook_secret, int(now.timestamp()), body),
            }
            started = time.perf_counter()
            status: int | None = None
            error: str | None = None
            if not site.webhook_url:
                error = "the site has no webhook URL"
            else:
                try:
                    status = self.post(site.webhook_url, body, headers).status_code
                    if not 200 <= status < 300:
                        error = f"HTTP {status}"
                except Exception as exc:  # any network failure is a failed attempt
                    error = f"{type(exc).__name__}: {exc}"[:500]
            duration = (time.perf_counter() - started) * 1000
            o = db.webhook_outbox.c
            with self.store.write() as conn:
                conn.execute(
                    db.webhook_attempts.insert().values(
                        outbox_id=row.id,
                        site_id=row.site_id,
                        attempted_at=now,
                        status_code=status,
                        error=error,
                        duration_ms=round(duration, 2),
                    )
                )
                values: dict[str, Any] = {"attempts": row.attempts + 1, "last_error": error}
                if error is None:
                    values["delivered_at"] = now
                    delivered += 1
                else:
                    values["next_attempt_at"] = now + backoff(row.attempts + 1)
                conn.execute(db.webhook_outbox.update().where(o.id == row.id).values(**values))
        return delivered

    def log(self, site_id: str, limit: int = 100) -> list[dict[str, Any]]:
        """The site's recent events with their delivery state and attempts."""
        o, a = db.webhook_outbox.c, db.webhook_attempts.c
        with self.store.read() as conn:
            events = conn.execute(
                db.webhook_outbox.select()
                .where(o.site_id == site_id)
                .order_by(o.id.desc())
                .limit(limit)
            ).all()
            ids = [e.id for e in events]
            attempts = (
                conn.execute(
                    db.webhook_attempts.select().where(a.outbox_id.in_(ids)).order_by(a.id)
                ).all()
                if ids
                else []
            )
        by_event: dict[int, list[dict[str, Any]]] = {}
        for at in attempts:
            by_event.setdefault(at.outbox_id, []).append(
                {
                    "attempted_at": at.attempted_at,
                    "status_code": at.status_code,
                    "error": at.error,
                    "duration_ms": at.duration_ms,
                }
            )
        return [
            {
                "id": f"evt_{e.id}",
                "event": e.event,
                "comment_id": e.payload.get("comment_id"),
                "created_at": e.created_at,
                "delivered_at": e.delivered_at,
                "attempts": e.attempts,
                "next_attempt_at": e.next_attempt_at,
                "last_error": e.last_error,
                "history": by_event.get(e.id, []),
            }
            for e in events
        ]
