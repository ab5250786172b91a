"""The transactional outbox: webhook events written with their decisions, claimed for delivery."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from moderation import db
from moderation.clock import aware, utcnow
from moderation.events import Attempt, DueEvent, NewEvent, WebhookEvent
from moderation.repositories.base import Database

_INSERT = db.webhook_outbox.insert()


def event_from_row(row: Any, history: tuple[Attempt, ...] = ()) -> WebhookEvent:
    """An outbox row as the domain's event (its public id is `evt_<row id>`)."""
    return WebhookEvent(
        id=f"evt_{row.id}",
        event=row.event,
        payload=dict(row.payload or {}),
        created_at=aware(row.created_at) or utcnow(),
        delivered_at=aware(row.delivered_at),
        attempts=row.attempts,
        next_attempt_at=aware(row.next_attempt_at),
        last_error=row.last_error,
        history=history,
    )


class Outbox:
    """Webhook events and their delivery attempts."""

    def __init__(self, database: Database) -> None:
        self.db = database

    @staticmethod
    def add(conn: sa.Connection, event: NewEvent) -> None:
        """Write an event inside the caller's transaction (the one storing its decision)."""
        conn.execute(
            _INSERT,
            {
                "site_id": event.site_id,
                "event": event.event.value,
                "created_at": event.created_at,
                "attempts": 0,
                "next_attempt_at": event.created_at,
                "delivered_at": None,
                "last_error": None,
                "payload": dict(event.payload),
            },
        )

    def claim_due(
        self, now: datetime, limit: int, hold_for: timedelta, max_attempts: int
    ) -> list[DueEvent]:
        """Claim undelivered events that are due, oldest first: nobody else picks them for `hold_for`.

        PostgreSQL skips rows another deliverer is claiming (FOR UPDATE SKIP LOCKED);
        SQLite serialises the write transaction.
        """
        o = db.webhook_outbox.c
        pick = (
            sa.select(o.id)
            .where(o.delivered_at.is_(None), o.next_attempt_at <= now, o.attempts < max_attempts)
            .order_by(o.next_attempt_at, o.id)
            .limit(limit)
        )
        with self.db.write() as conn:
            if conn.dialect.name == "postgresql":
                pick = pick.with_for_update(skip_locked=True)
            ids = conn.execute(pick).scalars().all()
            if not ids:
                return []
            conn.execute(
                db.webhook_outbox.update()
                .where(o.id.in_(ids))
                .values(next_attempt_at=now + hold_for)
            )
            rows = conn.execute(
                sa.select(o.id, o.site_id, o.payload, o.attempts)
                .where(o.id.in_(ids))
                .order_by(o.id)
            ).all()
        return [DueEvent(r.id, r.site_id, dict(r.payload or {}), r.attempts) for r in rows]

    def record_attempt(self, event: DueEvent, attempt: Attempt, retry_at: datetime | None) -> None:
        """Record one delivery attempt: delivered when it has no error, else due again at `retry_at`."""
        o = db.webhook_outbox.c
        values: dict[str, Any] = {"attempts": event.attempts + 1, "last_error": attempt.error}
        if attempt.error is None:
            values["delivered_at"] = attempt.attempted_at
        else:
            values["next_attempt_at"] = retry_at
        with self.db.write() as conn:
            conn.execute(
                db.webhook_attempts.insert().values(
                    outbox_id=event.id,
                    site_id=event.site_id,
                    attempted_at=attempt.attempted_at,
                    status_code=attempt.status_code,
                    error=attempt.error,
                    duration_ms=attempt.duration_ms,
                )
            )
            conn.execute(db.webhook_outbox.update().where(o.id == event.id).values(**values))

    def recent(self, site_id: str, limit: int = 100) -> list[WebhookEvent]:
        """The site's newest events with every delivery attempt, newest first."""
        o, a = db.webhook_outbox.c, db.webhook_attempts.c
        with self.db.read() as conn:
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
        by_event: dict[int, list[Attempt]] = {}
        for at in attempts:
            by_event.setdefault(at.outbox_id, []).append(
                Attempt(
                    aware(at.attempted_at) or utcnow(), at.status_code, at.error, at.duration_ms
                )
            )
        return [event_from_row(e, tuple(by_event.get(e.id, ()))) for e in events]

    def delete_finished(self, site_id: str, before: datetime, max_attempts: int) -> tuple[int, int]:
        """Delete events delivered before a time, or given up on and made before it.

        Returns (events, attempts) deleted; a batch per transaction.
        """
        o, at = db.webhook_outbox.c, db.webhook_attempts.c
        finished = sa.or_(
            o.delivered_at < before,
            sa.and_(o.delivered_at.is_(None), o.attempts >= max_attempts, o.created_at < before),
        )
        events = attempts = 0
        while True:
            with self.db.write() as conn:
                ids = list(
                    conn.execute(
                        sa.select(o.id).where(o.site_id == site_id, finished).limit(500)
                    ).scalars()
                )
                if not ids:
                    return events, attempts
                attempts += conn.execute(
                    db.webhook_attempts.delete().where(at.outbox_id.in_(ids))
                ).rowcount
                events += conn.execute(db.webhook_outbox.delete().where(o.id.in_(ids))).rowcount
