"""When each periodic job runs next: one row per job, moved forward by whoever runs it."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from moderation import db
from moderation.clock import aware
from moderation.repositories.base import Database


class Schedule:
    """Periodic jobs' next runs, shared by every worker."""

    def __init__(self, database: Database) -> None:
        self.db = database

    def take(self, job: str, now: datetime, every: float) -> bool:
        """True for exactly one caller per period: the one that moved `job`'s next run on.

        One UPDATE ... WHERE next_run_at <= now: of workers asking at the same moment,
        the database lets one change the row; the others find it already moved.
        """
        s = db.job_schedule.c
        following = now + timedelta(seconds=every)
        with self.db.read() as conn:  # most looks find it not due: no write lock for those
            next_run = aware(conn.execute(sa.select(s.next_run_at).where(s.name == job)).scalar())
        if next_run is not None and next_run > now:
            return False
        with self.db.write() as conn:
            moved = conn.execute(
                db.job_schedule.update()
                .where(s.name == job, s.next_run_at <= now)
                .values(next_run_at=following, last_run_at=now)
            ).rowcount
        if moved == 1:
            return True
        try:
            with self.db.write() as conn:
                if conn.execute(sa.select(s.name).where(s.name == job)).first() is not None:
                    return False
                conn.execute(
                    db.job_schedule.insert().values(
                        name=job, next_run_at=following, last_run_at=now
                    )
                )
        except sa.exc.IntegrityError:
            return False  # another worker made the row first, and so runs the job
        return True
