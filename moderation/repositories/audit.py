"""The audit log: append-only, written inside the transaction of the change it records."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from moderation import db
from moderation.audit import MODERATOR_ACTIONS, AuditAction, AuditEntry
from moderation.clock import aware, utcnow
from moderation.repositories.base import Database

_INSERT = db.audit_log.insert()


def entry_from_row(row: Any) -> AuditEntry:
    """An audit row as the domain's entry."""
    return AuditEntry(
        action=AuditAction(row.action),
        actor=row.actor,
        site_id=row.site_id,
        comment_id=row.comment_id,
        before=row.before,
        after=row.after,
        id=row.id,
        created_at=aware(row.created_at),
    )


class AuditLog:
    """Append entries (in the caller's transaction or one of their own) and read them back."""

    def __init__(self, database: Database) -> None:
        self.db = database

    @staticmethod
    def append(conn: sa.Connection, entry: AuditEntry) -> None:
        """Append one entry inside the caller's transaction."""
        conn.execute(
            _INSERT,
            {
                "site_id": entry.site_id,
                "comment_id": entry.comment_id,
                "actor": str(entry.actor),
                "action": entry.action.value,
                "before": entry.before,
                "after": entry.after,
                "created_at": entry.created_at or utcnow(),
            },
        )

    def record(self, entry: AuditEntry) -> None:
        """Append one entry in a transaction of its own (for things that change nothing)."""
        with self.db.write() as conn:
            self.append(conn, entry)

    def entries(
        self, *, site_id: str | None = None, comment_id: str | None = None, limit: int = 200
    ) -> list[AuditEntry]:
        """A site's or a comment's entries, newest first."""
        a = db.audit_log.c
        query = db.audit_log.select().order_by(a.id.desc()).limit(limit)
        if site_id is not None:
            query = query.where(a.site_id == site_id)
        if comment_id is not None:
            query = query.where(a.comment_id == comment_id)
        with self.db.read() as conn:
            return [entry_from_row(r) for r in conn.execute(query).all()]

    def settings_entries(self, site_id: str, limit: int = 100) -> list[AuditEntry]:
        """A site's entries other than comment decisions (policy, keys, webhook), newest first."""
        a = db.audit_log.c
        query = (
            db.audit_log.select()
            .where(a.site_id == site_id, sa.not_(a.action.like("comment.%")))
            .order_by(a.id.desc())
            .limit(limit)
        )
        with self.db.read() as conn:
            return [entry_from_row(r) for r in conn.execute(query).all()]

    def last_moderator_action(self, comment_id: str) -> AuditEntry | None:
        """The newest moderator decision or undo recorded for a comment."""
        a = db.audit_log.c
        query = (
            db.audit_log.select()
            .where(a.comment_id == comment_id, a.action.in_([x.value for x in MODERATOR_ACTIONS]))
            .order_by(a.id.desc())
            .limit(1)
        )
        with self.db.read() as conn:
            row = conn.execute(query).first()
        return entry_from_row(row) if row else None
