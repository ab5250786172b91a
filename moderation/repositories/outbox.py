"""The transactional outbox: webhook events written with their decisions, claimed for delivery."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from moderation import db
from moderation.clock import aware, utcnow
from moderation.events import Attempt, DueEvent, NewEvent, WebhookEvent
from moderation.repositories.base import Database

_INSERT = db.webhook_outbox.insert()
# pg_advisory_xact_lock key of the delivery claim (any constant no other lock of ours uses).
_CLAIM_LOCK = 0x6D6F_0001


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
        self,
        now: datetime,
        limit: int,
        hold_for: timedelta,
        max_attempts: int,
        per_site: int | None = None,
        site_id: str | None = None,
    ) -> list[DueEvent]:
        """Claim due, undelivered events, oldest first, each with a token of its own.

        A claimed event is due again only once `hold_for` has passed (its lease); then
        another claim takes it over with a new token, and the first claimer's late
        `start` or `record_attempt` finds the token gone. `per_site`: at most this many
        events of one site claimed at once, counting those still claimed (in flight).
        Claimers take turns (an advisory lock on PostgreSQL, BEGIN IMMEDIATE on SQLite),
        so two of them never exceed a site's limit between them. `site_id`: that site's only.
        """
        o = db.webhook_outbox.c
        due = sa.and_(o.delivered_at.is_(None), o.next_attempt_at <= now, o.attempts < max_attempts)
        if site_id is not None:
            due = sa.and_(due, o.site_id == site_id)
        with self.db.write() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(sa.select(sa.func.pg_advisory_xact_lock(_CLAIM_LOCK)))
            if per_site is None:
                ids = list(
                    conn.execute(
                        sa.select(o.id).where(due).order_by(o.next_attempt_at, o.id).limit(limit)
                    ).scalars()
                )
            else:
                in_flight: dict[str, int] = dict(
                    conn.execute(
                        sa.select(o.site_id, sa.func.count())
                        .where(
                            o.delivered_at.is_(None),
                            o.claim_token.is_not(None),
                            o.next_attempt_at > now,
                        )
                        .group_by(o.site_id)
                    ).all()
                )
                # Each site's first `per_site` due events, by a window over the due rows.
                rank = (
                    sa.func.row_number()
                    .over(partition_by=o.site_id, order_by=(o.next_attempt_at, o.id))
                    .label("rank")
                )
                ranked = sa.select(o.id, o.site_id, o.next_attempt_at, rank).where(due).subquery()
                rows = conn.execute(
                    sa.select(ranked.c.id, ranked.c.site_id, ranked.c.rank)
                    .where(ranked.c.rank <= per_site)
                    .order_by(ranked.c.next_attempt_at, ranked.c.id)
                ).all()
                ids = [r.id for r in rows if r.rank <= per_site - in_flight.get(r.site_id, 0)][
                    :limit
                ]
            if not ids:
                return []
            tokens = {i: secrets.token_hex(16) for i in ids}
            for event_id, token in tokens.items():
                conn.execute(
                    db.webhook_outbox.update()
                    .where(o.id == event_id)
                    .values(next_attempt_at=now + hold_for, claim_token=token)
                )
            claimed = conn.execute(
                sa.select(o.id, o.site_id, o.payload, o.attempts)
                .where(o.id.in_(ids))
                .order_by(o.id)
            ).all()
        return [
            DueEvent(r.id, r.site_id, dict(r.payload or {}), r.attempts, tokens[r.id])
            for r in claimed
        ]

    def site_of(self, event_id: int) -> str | None:
        """The site an event is for (None: no such event)."""
        o = db.webhook_outbox.c
        with self.db.read() as conn:
            return conn.execute(sa.select(o.site_id).where(o.id == event_id)).scalar()

    def start(self, event: DueEvent, now: datetime, hold_for: timedelta) -> DueEvent | None:
        """Begin the delivery of a claimed event: None if the claim is no longer the caller's.

        The claim's token is replaced by a new one (returned in the event), so a job
        queue delivering the same job twice (at least once, by design) starts one
        delivery, not two; and its lease is renewed to cover the delivery itself
        (`hold_for` longer than any POST may take), however long the job waited.
        """
        o = db.webhook_outbox.c
        token = secrets.token_hex(16)
        with self.db.write() as conn:
            renewed = conn.execute(
                db.webhook_outbox.update()
                .where(o.id == event.id, o.claim_token == event.claim, o.delivered_at.is_(None))
                .values(next_attempt_at=now + hold_for, claim_token=token)
            ).rowcount
            if renewed != 1:
                return None
            row = conn.execute(
                sa.select(o.site_id, o.payload, o.attempts).where(o.id == event.id)
            ).one()
        return DueEvent(event.id, row.site_id, dict(row.payload or {}), row.attempts, token)

    def record_attempt(self, event: DueEvent, attempt: Attempt, retry_at: datetime | None) -> bool:
        """Record one delivery attempt: delivered when it has no error, else due again at `retry_at`.

        `attempts` goes up in SQL (attempts + 1), never from a value read before the POST.
        Returns False when the claim was no longer the caller's (the attempt is recorded
        and counted all the same: it was made).
        """
        o = db.webhook_outbox.c
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
            mine = sa.and_(o.id == event.id, o.claim_token == event.claim)
            counted = {"attempts": o.attempts + 1}
            if attempt.error is None:
                ours = conn.execute(
                    db.webhook_outbox.update()
                    .where(mine)
                    .values(
                        **counted,
                        delivered_at=attempt.attempted_at,
                        last_error=None,
                        claim_token=None,
                    )
                ).rowcount
            else:
                ours = conn.execute(
                    db.webhook_outbox.update()
                    .where(mine, o.delivered_at.is_(None))
                    .values(
                        **counted,
                        last_error=attempt.error,
                        next_attempt_at=retry_at,
                        claim_token=None,
                    )
                ).rowcount
            if ours != 1:
                values: dict[str, Any] = dict(counted)
                if attempt.error is None:
                    values.update(
                        delivered_at=sa.func.coalesce(o.delivered_at, attempt.attempted_at)
                    )
                conn.execute(db.webhook_outbox.update().where(o.id == event.id).values(**values))
        return ours == 1

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
