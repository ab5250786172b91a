"""What a site holds about one reader, across comments, audit, outbox and labels."""

from __future__ import annotations

import sqlalchemy as sa

from moderation import db
from moderation.audit import AuditAction, AuditEntry
from moderation.clock import utcnow
from moderation.events import EVENT_FIELDS
from moderation.privacy import AuthorRecord, Erasure, without_notes
from moderation.repositories.audit import AuditLog, entry_from_row
from moderation.repositories.base import Database
from moderation.repositories.comments import comment_from_row, revision_from_row
from moderation.repositories.labels import label_from_row
from moderation.repositories.outbox import event_from_row
from moderation.repositories.reports import report_from_row
from moderation.repositories.standing import action_from_row


class AuthorData:
    """A reader's data on one site: all of it for an export, none of it after an erasure."""

    def __init__(self, database: Database) -> None:
        self.db = database

    def record(self, site_id: str, author_id: str) -> AuthorRecord:
        """Everything stored about one author of one site: comments, their audit, events, labels."""
        c, a, o, f = db.comments.c, db.audit_log.c, db.webhook_outbox.c, db.feedback.c
        with self.db.read() as conn:
            rows = conn.execute(
                db.comments.select()
                .where(c.site_id == site_id, c.author_id == author_id)
                .order_by(c.created_at, c.id)
            ).all()
            ids = [r.id for r in rows]
            theirs = set(ids)
            audit = conn.execute(
                db.audit_log.select().where(a.comment_id.in_(ids)).order_by(a.id)
            ).all()
            events = [
                e
                for e in conn.execute(
                    db.webhook_outbox.select().where(o.site_id == site_id).order_by(o.id)
                ).all()
                if (e.payload or {}).get("comment_id") in theirs
            ]
            labels = conn.execute(
                db.feedback.select().where(f.comment_id.in_(ids)).order_by(f.id)
            ).all()
            rv, rp, aa = db.comment_revisions.c, db.reports.c, db.author_actions.c
            revisions = conn.execute(
                db.comment_revisions.select().where(rv.comment_id.in_(ids)).order_by(rv.id)
            ).all()
            reports = conn.execute(
                db.reports.select()
                .where(rp.site_id == site_id, rp.reporter_id == author_id)
                .order_by(rp.id)
            ).all()
            actions = conn.execute(
                db.author_actions.select()
                .where(aa.site_id == site_id, aa.author_id == author_id)
                .order_by(aa.id)
            ).all()
        return AuthorRecord(
            site_id=site_id,
            author_id=author_id,
            exported_at=utcnow(),
            comments=tuple(comment_from_row(r) for r in rows),
            audit=tuple(entry_from_row(r) for r in audit),
            webhook_events=tuple(event_from_row(e) for e in events),
            feedback=tuple(label_from_row(r) for r in labels),
            revisions=tuple(revision_from_row(r) for r in revisions),
            reports=tuple(report_from_row(r) for r in reports),
            author_actions=tuple(action_from_row(r) for r in actions),
        )

    def erase(self, site_id: str, author_id: str, actor: str) -> Erasure:
        """Remove an author's comments and every copy of their words, name, e-mail hash and address.

        One transaction: the comments, their earlier texts, the labels and reports on
        them, the reports the author made and moderators' actions on the author are
        deleted; audit rows about them keep who decided what (action, status, reason)
        but lose the moderators' notes; webhook events about them keep only the fields
        an event is made of (no text could ride along). Idempotent; every call is audited.
        """
        c, a, o, f = db.comments.c, db.audit_log.c, db.webhook_outbox.c, db.feedback.c
        with self.db.write() as conn:
            ids = list(
                conn.execute(
                    sa.select(c.id).where(c.site_id == site_id, c.author_id == author_id)
                ).scalars()
            )
            theirs = set(ids)
            scrubbed_audit = 0
            standing_rows = [
                row
                for row in conn.execute(
                    sa.select(a.id, a.before, a.after).where(
                        a.site_id == site_id, a.action == AuditAction.AUTHOR_STANDING.value
                    )
                ).all()
                if isinstance(row.after, dict) and row.after.get("author_id") == author_id
            ]
            for row in [
                *conn.execute(
                    sa.select(a.id, a.before, a.after).where(a.comment_id.in_(ids))
                ).all(),
                *standing_rows,
            ]:
                before, after = without_notes(row.before), without_notes(row.after)
                if (before, after) != (row.before, row.after):
                    conn.execute(
                        db.audit_log.update()
                        .where(a.id == row.id)
                        .values(before=before, after=after)
                    )
                    scrubbed_audit += 1
            scrubbed_events = 0
            for event in conn.execute(sa.select(o.id, o.payload).where(o.site_id == site_id)).all():
                payload = dict(event.payload or {})
                if payload.get("comment_id") in theirs:
                    kept = {k: v for k, v in payload.items() if k in EVENT_FIELDS}
                    if kept != payload:
                        conn.execute(
                            db.webhook_outbox.update().where(o.id == event.id).values(payload=kept)
                        )
                        scrubbed_events += 1
            labels = conn.execute(db.feedback.delete().where(f.comment_id.in_(ids))).rowcount
            rv, rp, aa = db.comment_revisions.c, db.reports.c, db.author_actions.c
            revisions = conn.execute(
                db.comment_revisions.delete().where(rv.comment_id.in_(ids))
            ).rowcount
            reports = conn.execute(
                db.reports.delete().where(
                    sa.or_(
                        rp.comment_id.in_(ids),
                        sa.and_(rp.site_id == site_id, rp.reporter_id == author_id),
                    )
                )
            ).rowcount
            actions = conn.execute(
                db.author_actions.delete().where(aa.site_id == site_id, aa.author_id == author_id)
            ).rowcount
            ms = db.model_shadow_scores.c
            conn.execute(db.model_shadow_scores.delete().where(ms.comment_id.in_(ids)))
            conn.execute(db.comments.delete().where(c.id.in_(ids)))
            erasure = Erasure(
                author_id,
                len(ids),
                labels,
                scrubbed_audit,
                scrubbed_events,
                revisions=revisions,
                reports=reports,
                author_actions=actions,
            )
            AuditLog.append(
                conn,
                AuditEntry(
                    site_id=site_id,
                    actor=actor,
                    action=AuditAction.AUTHOR_ERASE,
                    after=erasure.as_dict(),
                ),
            )
        return erasure
