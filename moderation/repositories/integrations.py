"""Integrations' settings per site: Coral's External Moderation Phase."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from moderation import db
from moderation.audit import Actor, AuditAction, AuditEntry
from moderation.clock import aware, utcnow
from moderation.integrations import ApprovedAnswer, CoralPhase
from moderation.repositories.audit import AuditLog
from moderation.repositories.base import Database


class CoralPhases:
    """The secret Coral signs its requests with (and the one it replaces), and how approvals answer."""

    def __init__(self, database: Database) -> None:
        self.db = database

    def _from_row(self, row: Any) -> CoralPhase:
        return CoralPhase(
            site_id=row.site_id,
            secret=row.secret,
            previous_secret=row.previous_secret,
            previous_expires_at=aware(row.previous_expires_at),
            approved_answer=ApprovedAnswer(row.approved_answer),
            updated_at=aware(row.updated_at) or utcnow(),
        )

    def get(self, site_id: str) -> CoralPhase | None:
        """A site's Coral External Moderation Phase settings, if it has any."""
        with self.db.read() as conn:
            row = conn.execute(
                db.coral_phases.select().where(db.coral_phases.c.site_id == site_id)
            ).first()
        return self._from_row(row) if row else None

    def set_secret(
        self,
        site_id: str,
        secret: str,
        *,
        previous_valid_for: timedelta = timedelta(0),
        actor: str = Actor.CLI,
    ) -> CoralPhase:
        """Set the secret Coral signs with; the one it replaces stays valid for `previous_valid_for`."""
        now = utcnow()
        t = db.coral_phases
        with self.db.write() as conn:
            row = conn.execute(t.select().where(t.c.site_id == site_id)).first()
            rotated = row is not None and row.secret != secret and previous_valid_for > timedelta(0)
            values: dict[str, Any] = {
                "secret": secret,
                "previous_secret": row.secret if rotated and row else None,
                "previous_expires_at": now + previous_valid_for if rotated else None,
                "updated_at": now,
            }
            if row is None:
                conn.execute(t.insert().values(site_id=site_id, **values))
            else:
                conn.execute(t.update().where(t.c.site_id == site_id).values(**values))
            # Never the secrets themselves: the audit trail is readable by operators.
            AuditLog.append(
                conn,
                AuditEntry(
                    site_id=site_id,
                    actor=actor,
                    action=AuditAction.CORAL_SECRET,
                    before={"configured": row is not None},
                    after={
                        "previous_valid_until": values["previous_expires_at"].isoformat()
                        if rotated
                        else None
                    },
                ),
            )
        phase = self.get(site_id)
        assert phase is not None
        return phase

    def set_approved_answer(
        self, site_id: str, answer: ApprovedAnswer, *, actor: str = Actor.CLI
    ) -> CoralPhase | None:
        """Choose how approvals are answered (None: the site has no Coral secret yet)."""
        t = db.coral_phases
        with self.db.write() as conn:
            row = conn.execute(t.select().where(t.c.site_id == site_id)).first()
            if row is None:
                return None
            conn.execute(
                t.update()
                .where(t.c.site_id == site_id)
                .values(approved_answer=answer.value, updated_at=utcnow())
            )
            AuditLog.append(
                conn,
                AuditEntry(
                    site_id=site_id,
                    actor=actor,
                    action=AuditAction.CORAL_APPROVED_ANSWER,
                    before={"approved_answer": row.approved_answer},
                    after={"approved_answer": answer.value},
                ),
            )
        return self.get(site_id)
