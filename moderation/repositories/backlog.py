"""What is waiting in the database, counted for the metrics (moderation.backlog.Backlog)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from moderation import db
from moderation.backlog import Backlog
from moderation.repositories.base import Database


class BacklogCounts:
    """A few aggregate queries over comments, the outbox and backfills, for /metrics/database."""

    def __init__(self, database: Database) -> None:
        self.db = database

    def measure(self, now: datetime, max_attempts: int) -> Backlog:
        """Count what is waiting now (three aggregate queries in one read transaction)."""
        c, o, s = db.comments.c, db.webhook_outbox.c, db.sites.c
        # count(*) over site_id and status alone: an index-only scan of ix_comments_held.
        held = (
            sa.select(s.name, sa.func.count())
            .select_from(db.comments)
            .join(db.sites, c.site_id == s.id)
            .where(c.status == "held")
            .group_by(s.name)
        )
        given_up = o.attempts >= max_attempts
        due = sa.and_(~given_up, o.next_attempt_at <= now)
        outbox = sa.select(
            sa.func.count().filter(due),
            sa.func.count().filter(sa.and_(~given_up, o.next_attempt_at > now)),
            sa.func.count().filter(given_up),
            sa.func.min(o.next_attempt_at).filter(due),
        ).where(o.delivered_at.is_(None))
        pending = sa.select(sa.func.count()).where(c.scoring_state == "pending")
        with self.db.read() as conn:
            per_site = {name: n for name, n in conn.execute(held).all()}
            n_due, n_waiting, n_given_up, oldest = conn.execute(outbox).one()
            n_pending = conn.execute(pending).scalar_one()
        if oldest is not None and oldest.tzinfo is None:  # SQLite gives naive UTC back
            oldest = oldest.replace(tzinfo=now.tzinfo)
        return Backlog(
            held=per_site,
            webhooks_due=n_due,
            webhooks_waiting=n_waiting,
            webhooks_given_up=n_given_up,
            oldest_due_seconds=max(0.0, (now - oldest).total_seconds()) if oldest else 0.0,
            pending_rescores=n_pending,
        )
