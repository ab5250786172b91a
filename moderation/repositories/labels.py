"""Labels sites send (Perspective's SuggestCommentScore): a score they suggest for a text."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from moderation import db
from moderation.audit import AuditAction, AuditEntry
from moderation.clock import aware, utcnow
from moderation.privacy import Label
from moderation.repositories.audit import AuditLog
from moderation.repositories.base import Database


def label_from_row(row: Any) -> Label:
    """A feedback row as the domain's label."""
    return Label(
        comment_id=row.comment_id,
        text=row.text,
        attribute=row.attribute,
        score=row.score,
        source=row.source,
        created_at=aware(row.created_at) or utcnow(),
    )


class LabelRepository:
    """Labels per site."""

    def __init__(self, database: Database) -> None:
        self.db = database

    def add(
        self,
        site_id: str,
        text: str,
        attribute: str,
        score: float,
        source: str,
        comment_id: str | None = None,
    ) -> None:
        """Store a label a site sent."""
        with self.db.write() as conn:
            conn.execute(
                db.feedback.insert().values(
                    site_id=site_id,
                    comment_id=comment_id,
                    text=text,
                    attribute=attribute,
                    score=score,
                    source=source,
                    created_at=utcnow(),
                )
            )

    def add_many(
        self,
        site_id: str,
        labels: Sequence[tuple[str, str, float]],
        *,
        source: str,
        actor: str,
    ) -> None:
        """Store (text, attribute, score) labels and an audit entry: all of them, or none."""
        now = utcnow()
        with self.db.write() as conn:
            if labels:
                conn.execute(
                    db.feedback.insert(),
                    [
                        {
                            "site_id": site_id,
                            "comment_id": None,
                            "text": text,
                            "attribute": attribute,
                            "score": score,
                            "source": source,
                            "created_at": now,
                        }
                        for text, attribute, score in labels
                    ],
                )
            AuditLog.append(
                conn,
                AuditEntry(
                    AuditAction.LABELS_IMPORT,
                    actor,
                    site_id=site_id,
                    after={"labels": len(labels), "source": source},
                ),
            )

    def for_site(self, site_id: str) -> list[Label]:
        """A site's labels, oldest first."""
        f = db.feedback.c
        with self.db.read() as conn:
            rows = conn.execute(
                db.feedback.select().where(f.site_id == site_id).order_by(f.id)
            ).all()
        return [label_from_row(r) for r in rows]

    def delete_before(self, site_id: str, created_before: datetime) -> int:
        """Delete the labels (with their texts) a site sent before a time."""
        f = db.feedback.c
        with self.db.write() as conn:
            return conn.execute(
                db.feedback.delete().where(f.site_id == site_id, f.created_at < created_before)
            ).rowcount
