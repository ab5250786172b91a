"""What is waiting in the database: held comments, undelivered webhooks, comments to re-score.

These figures are the database's, not a process's: every replica reading them
gets the same numbers, so they are reported once (see docs/scaling.md), never
summed across replicas. A few small aggregate queries, kept apart from the
store so they can move into the repositories as they are.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from moderation import db


@dataclass(frozen=True)
class Backlog:
    """Work waiting in the database at one moment."""

    held: dict[str, int] = field(default_factory=dict)  # held comments per site name
    webhooks_due: int = 0  # undelivered events due now (a delivery run would take them)
    webhooks_waiting: int = 0  # undelivered events backing off until a later attempt
    webhooks_given_up: int = 0  # undelivered events that used up their attempts
    oldest_due_seconds: float = 0.0  # how long the oldest due event has been due
    pending_rescores: int = 0  # comments held as scoring_unavailable, waiting for the model
    jobs_queued: int | None = None  # the job queue's messages (None: no broker, in-process)
    backfill_remaining: int = 0  # comments unfinished backfill runs have still to re-score


def measure(engine: Engine, now: datetime, max_attempts: int) -> Backlog:
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
    with engine.connect() as conn:
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
