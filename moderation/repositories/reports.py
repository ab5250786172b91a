"""Readers' reports: one per reader and comment, with the weight it was given."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from moderation import db
from moderation.clock import aware, utcnow
from moderation.comments import Decider, Status
from moderation.reports import Report, ReporterRecord, ReportReason, ReportSummary
from moderation.repositories.base import Database


def report_from_row(row: Any) -> Report:
    """A reports row as the domain's report."""
    return Report(
        id=row.id,
        site_id=row.site_id,
        comment_id=row.comment_id,
        reporter_id=row.reporter_id,
        reason=ReportReason(row.reason),
        note=row.note,
        weight=row.weight,
        created_at=aware(row.created_at) or utcnow(),
    )


class ReportRepository:
    """Every read and write of readers' reports."""

    def __init__(self, database: Database) -> None:
        self.db = database

    def find(self, comment_id: str, reporter_id: str) -> Report | None:
        """The reader's report on the comment, if they made one."""
        r = db.reports.c
        with self.db.read() as conn:
            row = conn.execute(
                db.reports.select().where(r.comment_id == comment_id, r.reporter_id == reporter_id)
            ).first()
        return report_from_row(row) if row else None

    def add(
        self,
        site_id: str,
        comment_id: str,
        reporter_id: str,
        reason: ReportReason,
        note: str | None,
        weight: float,
        now: datetime,
    ) -> tuple[Report, bool]:
        """Store a report; the reader's earlier report on the comment if there is one (False)."""
        try:
            with self.db.write() as conn:
                new_id = conn.execute(
                    db.reports.insert().values(
                        site_id=site_id,
                        comment_id=comment_id,
                        reporter_id=reporter_id,
                        reason=reason.value,
                        note=note,
                        weight=weight,
                        created_at=now,
                    )
                ).inserted_primary_key
        except sa.exc.IntegrityError:
            # The same reader reported it a moment ago (another request won the insert).
            existing = self.find(comment_id, reporter_id)
            if existing is None:
                raise
            return existing, False
        assert new_id is not None
        report = Report(new_id[0], site_id, comment_id, reporter_id, reason, note, weight, now)
        return report, True

    def reporter_record(self, site_id: str, reporter_id: str) -> ReporterRecord:
        """How moderators decided the comments this reader reported on this site."""
        r, c = db.reports.c, db.comments.c
        query = (
            sa.select(c.status, sa.func.count())
            .select_from(db.reports.join(db.comments, c.id == r.comment_id))
            .where(
                r.site_id == site_id,
                r.reporter_id == reporter_id,
                c.decided_by != Decider.AUTO.value,
                c.status.in_([Status.APPROVED.value, Status.REJECTED.value]),
            )
            .group_by(c.status)
        )
        with self.db.read() as conn:
            counts = {status: n for status, n in conn.execute(query).all()}
        return ReporterRecord(
            upheld=counts.get(Status.REJECTED.value, 0),
            dismissed=counts.get(Status.APPROVED.value, 0),
        )

    def summaries(
        self, comments: Sequence[tuple[str, datetime | None]]
    ) -> dict[str, ReportSummary]:
        """Per comment: the reports made since `since` (a moderator's last decision, or ever)."""
        if not comments:
            return {}
        r = db.reports.c
        since = dict(comments)
        with self.db.read() as conn:
            rows = conn.execute(
                sa.select(r.comment_id, r.reason, r.weight, r.created_at).where(
                    r.comment_id.in_(list(since))
                )
            ).all()
        counted: dict[str, list[tuple[str, float]]] = {cid: [] for cid in since}
        for row in rows:
            cutoff = since[row.comment_id]
            created = aware(row.created_at)
            if cutoff is None or (created is not None and created > cutoff):
                counted[row.comment_id].append((row.reason, row.weight))
        out = {}
        for cid, items in counted.items():
            reasons: dict[str, int] = {}
            for reason, _ in items:
                reasons[reason] = reasons.get(reason, 0) + 1
            out[cid] = ReportSummary(
                count=len(items), weight=round(sum(w for _, w in items), 4), reasons=reasons
            )
        return out

    def by_reporter(self, site_id: str, reporter_id: str) -> list[Report]:
        """Every report the reader made on the site (their data export)."""
        r = db.reports.c
        with self.db.read() as conn:
            rows = conn.execute(
                db.reports.select()
                .where(r.site_id == site_id, r.reporter_id == reporter_id)
                .order_by(r.id)
            ).all()
        return [report_from_row(row) for row in rows]
