"""Moderators' actions on authors, newest last; the one in force is the newest unexpired one."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from moderation import db
from moderation.audit import AuditEntry
from moderation.clock import aware, utcnow
from moderation.repositories.audit import AuditLog
from moderation.repositories.base import Database
from moderation.standing import AuthorAction, AuthorActionEntry


def action_from_row(row: Any) -> AuthorActionEntry:
    """An author_actions row as the domain's entry."""
    return AuthorActionEntry(
        action=AuthorAction(row.action),
        note=row.note,
        expires_at=aware(row.expires_at),
        actor=row.actor,
        created_at=aware(row.created_at) or utcnow(),
    )


class AuthorActions:
    """Every read and write of moderators' actions on authors."""

    def __init__(self, database: Database) -> None:
        self.db = database

    def history(self, site_id: str, author_id: str) -> list[AuthorActionEntry]:
        """Every action taken on the author on this site, oldest first."""
        a = db.author_actions.c
        with self.db.read() as conn:
            rows = conn.execute(
                db.author_actions.select()
                .where(a.site_id == site_id, a.author_id == author_id)
                .order_by(a.id)
            ).all()
        return [action_from_row(r) for r in rows]

    def in_force(
        self, site_id: str, author_ids: Sequence[str], now: datetime
    ) -> dict[str, AuthorActionEntry]:
        """Per author with one: the action in force (each author's newest, unless cleared or expired)."""
        ids = sorted({i for i in author_ids if i})
        if not ids:
            return {}
        a = db.author_actions.c
        newest = (
            sa.select(a.author_id, sa.func.max(a.id).label("id"))
            .where(a.site_id == site_id, a.author_id.in_(ids))
            .group_by(a.author_id)
            .subquery()
        )
        with self.db.read() as conn:
            rows = conn.execute(db.author_actions.select().join(newest, newest.c.id == a.id)).all()
        out = {}
        for row in rows:
            entry = action_from_row(row)
            if entry.in_force(now):
                out[row.author_id] = entry
        return out

    def add(
        self, site_id: str, author_id: str, entry: AuthorActionEntry, audit: AuditEntry
    ) -> AuthorActionEntry:
        """Record an action on the author and its audit entry in one transaction."""
        with self.db.write() as conn:
            conn.execute(
                db.author_actions.insert().values(
                    site_id=site_id,
                    author_id=author_id,
                    action=entry.action.value,
                    note=entry.note,
                    expires_at=entry.expires_at,
                    actor=entry.actor,
                    created_at=entry.created_at,
                )
            )
            AuditLog.append(conn, audit)
        return entry
