"""Comments: stored with their decision, audit entry and webhook event in one transaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from moderation import db
from moderation.audit import AuditEntry
from moderation.clock import aware, utcnow
from moderation.comments import (
    Article,
    Author,
    Decider,
    Decision,
    Edit,
    Flag,
    ModelInfo,
    Outcome,
    Reason,
    Rescore,
    Revision,
    ScoringState,
    ShadowOutcome,
    Span,
    Status,
    StoredComment,
    Withdrawal,
)
from moderation.errors import Conflict
from moderation.events import NewEvent
from moderation.privacy import without_notes
from moderation.repositories.audit import AuditLog
from moderation.repositories.base import Database
from moderation.repositories.outbox import Outbox

# Built once: it runs on every comment.
_INSERT = db.comments.insert()


def _reasons(data: Any) -> tuple[Reason, ...]:
    return tuple(Reason.from_dict(r) for r in data or ())


def comment_from_row(row: Any) -> StoredComment:
    """A comments row as the domain's comment."""
    model = ModelInfo(row.model_name, row.model_version) if row.model_name else None
    return StoredComment(
        id=row.id,
        site_id=row.site_id,
        text=row.text,
        status=Status(row.status),
        scores=row.scores,
        reasons=_reasons(row.reasons),
        spans=tuple(Span(s["begin"], s["end"], s["scores"]) for s in row.spans),
        model=model,
        language=row.language,
        risk=row.risk,
        version=row.version,
        created_at=aware(row.created_at) or utcnow(),
        updated_at=aware(row.updated_at) or utcnow(),
        external_id=row.external_id,
        parent_id=row.parent_id,
        author=Author(row.author_id, row.author_name, None, row.author_ip),
        article=Article(row.article_id, row.article_url, row.article_title),
        scoring_state=ScoringState(row.scoring_state),
        decided_by=row.decided_by,
        claimed_by=row.claimed_by,
        claim_expires_at=aware(row.claim_expires_at),
        decision_reason=row.decision_reason,
        decision_note=row.decision_note,
        decided_at=aware(row.decided_at),
        shadow_status=Status(row.shadow_status) if row.shadow_status else None,
        author_email_hash=row.author_email_hash,
        redacted_at=aware(row.redacted_at),
        shadow_reasons=_reasons(row.shadow_reasons) if row.shadow_reasons is not None else None,
        flagged_at=aware(row.flagged_at),
        edited_at=aware(row.edited_at),
    )


def revision_from_row(row: Any) -> Revision:
    """A comment_revisions row as the domain's revision."""
    return Revision(
        comment_id=row.comment_id,
        version=row.version,
        text=row.text,
        status=Status(row.status),
        reasons=_reasons(row.reasons),
        scores=row.scores,
        written_at=aware(row.written_at) or utcnow(),
        replaced_at=aware(row.replaced_at) or utcnow(),
    )


def _queued(c: Any) -> Any:
    """Waiting for a moderator: held, or published and flagged by readers' reports."""
    return sa.or_(
        c.status == Status.HELD.value,
        sa.and_(c.status == Status.APPROVED.value, c.flagged_at.is_not(None)),
    )


def _new_row(c: StoredComment) -> dict[str, Any]:
    return {
        "id": c.id,
        "site_id": c.site_id,
        "external_id": c.external_id,
        "text": c.text,
        "author_id": c.author.id,
        "author_name": c.author.name,
        "author_email_hash": c.author_email_hash,
        "author_ip": c.author.ip,
        "article_id": c.article.id,
        "article_url": c.article.url,
        "article_title": c.article.title,
        "parent_id": c.parent_id,
        "status": c.status.value,
        "decided_by": c.decided_by,
        "scoring_state": c.scoring_state.value,
        "language": c.language,
        "scores": dict(c.scores),
        "reasons": [r.as_dict() for r in c.reasons],
        "spans": [s.as_dict() for s in c.spans],
        "model_name": c.model.name if c.model else None,
        "model_version": c.model.version if c.model else None,
        "risk": c.risk,
        "shadow_status": c.shadow_status.value if c.shadow_status else None,
        "shadow_reasons": [r.as_dict() for r in c.shadow_reasons]
        if c.shadow_reasons is not None
        else None,
        "version": c.version,
        "claimed_by": c.claimed_by,
        "claim_expires_at": c.claim_expires_at,
        "created_at": c.created_at,
        "updated_at": c.updated_at,
    }


Change = Decision | Rescore | Flag | Withdrawal | Edit


def _change_values(change: Change) -> dict[str, Any]:
    if isinstance(change, Decision):
        values: dict[str, Any] = {
            "status": change.status.value,
            "decided_by": change.decided_by,
            "decided_at": change.decided_at,
            "decision_reason": change.reason,
            "decision_note": change.note,
            "updated_at": change.at,
            "flagged_at": change.at if change.flagged else None,
        }
        if change.release_claim:
            values.update(claimed_by=None, claim_expires_at=None)
        return values
    if isinstance(change, Flag):
        return {
            "status": change.status.value,
            "reasons": [r.as_dict() for r in change.reasons],
            "risk": change.risk,
            "flagged_at": change.at,
            "updated_at": change.at,
        }
    if isinstance(change, Withdrawal):
        return {
            "status": Status.WITHDRAWN.value,
            "flagged_at": None,
            "claimed_by": None,
            "claim_expires_at": None,
            "updated_at": change.at,
        }
    if isinstance(change, Edit):
        return {
            "text": change.text,
            "scores": dict(change.scores),
            "language": change.language,
            "model_name": change.model.name if change.model else None,
            "model_version": change.model.version if change.model else None,
            "status": change.status.value,
            "decided_by": change.decided_by,
            "reasons": [r.as_dict() for r in change.reasons],
            "spans": [s.as_dict() for s in change.spans],
            "risk": change.risk,
            "scoring_state": change.scoring_state.value,
            "edited_at": change.at,
            "updated_at": change.at,
        }
    values = {
        "scores": dict(change.scores),
        "scoring_state": ScoringState.SCORED.value,
        "scoring_claim_expires_at": None,
        "language": change.language,
        "model_name": change.model.name if change.model else None,
        "model_version": change.model.version if change.model else None,
        "updated_at": change.at,
    }
    if change.verdict is not None:
        values.update(
            status=change.verdict.status.value,
            risk=change.verdict.risk,
            reasons=[r.as_dict() for r in change.verdict.reasons],
            spans=[s.as_dict() for s in change.spans],
        )
    return values


class CommentRepository:
    """Every read and write of stored comments."""

    def __init__(self, database: Database) -> None:
        self.db = database

    # -- one comment -----------------------------------------------------------

    def get(self, comment_id: str, site_id: str | None = None) -> StoredComment | None:
        """A comment by id, only if it belongs to `site_id` when one is given."""
        query = db.comments.select().where(db.comments.c.id == comment_id)
        if site_id is not None:
            query = query.where(db.comments.c.site_id == site_id)
        with self.db.read() as conn:
            row = conn.execute(query).first()
        return comment_from_row(row) if row else None

    def find_external(self, site_id: str, external_id: str) -> StoredComment | None:
        """A site's comment by the id the site gave it."""
        c = db.comments.c
        with self.db.read() as conn:
            row = conn.execute(
                db.comments.select().where(c.site_id == site_id, c.external_id == external_id)
            ).first()
        return comment_from_row(row) if row else None

    def add(
        self, comment: StoredComment, audit: AuditEntry, event: NewEvent | None
    ) -> StoredComment:
        """Store a new comment, its audit entry and its webhook event in one transaction.

        Raises Conflict when the site already has a comment with this external id.
        """
        try:
            with self.db.write() as conn:
                # Parameters beside a shared insert(): SQLAlchemy reuses its compiled
                # form instead of building a statement per comment.
                conn.execute(_INSERT, _new_row(comment))
                AuditLog.append(conn, audit)
                if event is not None:
                    Outbox.add(conn, event)
        except sa.exc.IntegrityError as exc:
            raise Conflict("external_id already stored") from exc
        return comment

    def apply(
        self,
        comment_id: str,
        expected_version: int,
        change: Change,
        audit: AuditEntry | None,
        event: NewEvent | None = None,
        revision: Revision | None = None,
    ) -> bool:
        """Change a comment only if nobody changed it since `expected_version` was read.

        The change, its audit entry, its webhook event and (for an edit) the earlier
        text commit together or not at all.
        """
        c = db.comments.c
        with self.db.write() as conn:
            result = conn.execute(
                db.comments.update()
                .where(c.id == comment_id, c.version == expected_version)
                .values(**_change_values(change), version=expected_version + 1)
            )
            if result.rowcount != 1:
                return False
            if revision is not None:
                conn.execute(
                    db.comment_revisions.insert().values(
                        comment_id=revision.comment_id,
                        version=revision.version,
                        text=revision.text,
                        status=revision.status.value,
                        reasons=[r.as_dict() for r in revision.reasons],
                        scores=dict(revision.scores),
                        written_at=revision.written_at,
                        replaced_at=revision.replaced_at,
                    )
                )
            if audit is not None:
                AuditLog.append(conn, audit)
            if event is not None:
                Outbox.add(conn, event)
        return True

    # -- many ------------------------------------------------------------------

    def pending_scoring(self, limit: int) -> list[StoredComment]:
        """Comments whose scoring failed, oldest first (claimed or not)."""
        c = db.comments.c
        with self.db.read() as conn:
            rows = conn.execute(
                db.comments.select()
                .where(c.scoring_state == ScoringState.PENDING.value)
                .order_by(c.created_at)
                .limit(limit)
            ).all()
        return [comment_from_row(r) for r in rows]

    def claim_pending_scoring(
        self, now: datetime, limit: int, hold_for: timedelta
    ) -> list[StoredComment]:
        """Claim comments waiting for the model, oldest first: nobody else takes them for `hold_for`.

        PostgreSQL skips rows another worker is claiming (FOR UPDATE SKIP LOCKED); SQLite
        has one writer at a time (BEGIN IMMEDIATE). Re-scoring a comment (a `Rescore`)
        ends its claim; `release_scoring_claims` ends the claims of those not scored.
        """
        c = db.comments.c
        pick = (
            sa.select(c.id)
            .where(
                c.scoring_state == ScoringState.PENDING.value,
                sa.or_(c.scoring_claim_expires_at.is_(None), c.scoring_claim_expires_at <= now),
            )
            .order_by(c.created_at, c.id)
            .limit(limit)
        )
        with self.db.write() as conn:
            if conn.dialect.name == "postgresql":
                pick = pick.with_for_update(skip_locked=True)
            ids = list(conn.execute(pick).scalars())
            if not ids:
                return []
            conn.execute(
                db.comments.update()
                .where(c.id.in_(ids))
                .values(scoring_claim_expires_at=now + hold_for)
            )
            rows = conn.execute(
                db.comments.select().where(c.id.in_(ids)).order_by(c.created_at, c.id)
            ).all()
        return [comment_from_row(r) for r in rows]

    def release_scoring_claims(self, ids: Sequence[str]) -> None:
        """End re-scoring claims on comments that were not scored (the model is still down)."""
        if not ids:
            return
        c = db.comments.c
        with self.db.write() as conn:
            conn.execute(
                db.comments.update().where(c.id.in_(ids)).values(scoring_claim_expires_at=None)
            )

    def scored_between(
        self, site_id: str, since: datetime | None, until: datetime | None
    ) -> list[StoredComment]:
        """Every scored comment of a site in a time window (for simulations and reports)."""
        c = db.comments.c
        query = db.comments.select().where(
            c.site_id == site_id, c.scoring_state == ScoringState.SCORED.value
        )
        if since is not None:
            query = query.where(c.created_at >= since)
        if until is not None:
            query = query.where(c.created_at < until)
        with self.db.read() as conn:
            return [comment_from_row(r) for r in conn.execute(query.order_by(c.created_at)).all()]

    def scored_outcomes(self, site_id: str) -> list[Outcome]:
        """Every scored comment of a site, as much of it as tuning measures, oldest first."""
        c = db.comments.c
        query = (
            sa.select(c.id, c.version, c.status, c.decided_by, c.scores)
            .where(c.site_id == site_id, c.scoring_state == ScoringState.SCORED.value)
            .order_by(c.created_at)
        )
        with self.db.read() as conn:
            rows = conn.execute(query).all()
        return [Outcome(r.id, r.version, Status(r.status), r.decided_by, r.scores) for r in rows]

    def decision_inputs(self, ids: Sequence[str]) -> dict[str, tuple[str, str | None]]:
        """What a policy decides on besides the scores: each comment's text and language."""
        c = db.comments.c
        out: dict[str, tuple[str, str | None]] = {}
        with self.db.read() as conn:
            for i in range(0, len(ids), 500):
                chunk = list(ids[i : i + 500])
                query = sa.select(c.id, c.text, c.language).where(c.id.in_(chunk))
                out.update({r.id: (r.text, r.language) for r in conn.execute(query).all()})
        return out

    def shadow_outcomes(
        self, site_id: str, since: datetime | None, until: datetime | None
    ) -> list[ShadowOutcome]:
        """Live and shadow decisions on the comments a shadow policy also decided."""
        c = db.comments.c
        query = sa.select(
            c.id, c.status, c.decided_by, c.reasons, c.shadow_status, c.created_at
        ).where(c.site_id == site_id, c.shadow_status.is_not(None))
        if since is not None:
            query = query.where(c.created_at >= since)
        if until is not None:
            query = query.where(c.created_at < until)
        with self.db.read() as conn:
            rows = conn.execute(query).all()
        return [
            ShadowOutcome(
                comment_id=r.id,
                status=Status(r.status),
                decided_by=r.decided_by,
                live_held=bool(r.reasons),
                shadow_status=Status(r.shadow_status),
                created_at=aware(r.created_at) or utcnow(),
            )
            for r in rows
        ]

    def moderator_decided(self, site_id: str, since: datetime | None = None) -> list[StoredComment]:
        """Comments a moderator approved or rejected whose text is still kept, in decision order."""
        c = db.comments.c
        query = db.comments.select().where(
            c.site_id == site_id,
            c.decided_by != Decider.AUTO.value,
            c.status.in_([Status.APPROVED.value, Status.REJECTED.value]),
            c.redacted_at.is_(None),  # the text is gone: nothing to learn from
        )
        if since is not None:
            query = query.where(c.decided_at >= since)
        with self.db.read() as conn:
            return [
                comment_from_row(r) for r in conn.execute(query.order_by(c.decided_at, c.id)).all()
            ]

    def published(self, site_id: str, article_id: str, limit: int = 50) -> list[StoredComment]:
        """Approved comments under one article, newest first (what the site shows readers)."""
        c = db.comments.c
        query = (
            db.comments.select()
            .where(
                c.site_id == site_id, c.article_id == article_id, c.status == Status.APPROVED.value
            )
            .order_by(c.created_at.desc(), c.id)
            .limit(limit)
        )
        with self.db.read() as conn:
            return [comment_from_row(r) for r in conn.execute(query).all()]

    def held_counts(self) -> dict[str, int]:
        """Held comments per site name (the queue depth)."""
        query = (
            sa.select(db.sites.c.name, sa.func.count(db.comments.c.id))
            .join(db.comments, db.comments.c.site_id == db.sites.c.id)
            .where(_queued(db.comments.c))
            .group_by(db.sites.c.name)
        )
        with self.db.read() as conn:
            return {name: n for name, n in conn.execute(query).all()}

    def author_history(self, site_id: str, author_ids: Sequence[str]) -> dict[str, dict[str, int]]:
        """Per author: how many of their comments on this site were approved, rejected, held."""
        if not author_ids:
            return {}
        c = db.comments.c
        query = (
            sa.select(c.author_id, c.status, sa.func.count())
            .where(c.site_id == site_id, c.author_id.in_(list(author_ids)))
            .group_by(c.author_id, c.status)
        )
        out: dict[str, dict[str, int]] = {
            a: {"approved": 0, "rejected": 0, "held": 0, "withdrawn": 0} for a in author_ids
        }
        with self.db.read() as conn:
            for author, status, n in conn.execute(query).all():
                out[author][status] = n
        return out

    def revisions(self, comment_ids: Sequence[str]) -> dict[str, list[Revision]]:
        """Per comment: its earlier texts, oldest first."""
        if not comment_ids:
            return {}
        r = db.comment_revisions.c
        out: dict[str, list[Revision]] = {i: [] for i in comment_ids}
        with self.db.read() as conn:
            rows = conn.execute(
                db.comment_revisions.select()
                .where(r.comment_id.in_(list(comment_ids)))
                .order_by(r.comment_id, r.version)
            ).all()
        for row in rows:
            out[row.comment_id].append(revision_from_row(row))
        return out

    def parents(self, site_id: str, parent_ids: Sequence[str]) -> dict[str, StoredComment]:
        """The comments replied to, by the parent id a reply gave (ours, or the site's own id)."""
        ids = sorted({i for i in parent_ids if i})
        if not ids:
            return {}
        c = db.comments.c
        with self.db.read() as conn:
            rows = conn.execute(
                db.comments.select().where(
                    c.site_id == site_id, sa.or_(c.id.in_(ids), c.external_id.in_(ids))
                )
            ).all()
        out: dict[str, StoredComment] = {}
        for row in rows:
            found = comment_from_row(row)
            for key in (found.id, found.external_id):
                if key in ids:
                    out[key] = found
        return out

    # -- the review queue ------------------------------------------------------

    def queue(
        self,
        site_ids: Sequence[str],
        *,
        sort: str,
        limit: int,
        after: tuple[Any, str] | None = None,
        category: str | None = None,
        reason: str | None = None,
        older_than: datetime | None = None,
        newer_than: datetime | None = None,
    ) -> list[StoredComment]:
        """Held comments of these sites, riskiest (or oldest) first, after a cursor position."""
        c = db.comments.c
        query = db.comments.select().where(_queued(c), c.site_id.in_(list(site_ids)))
        if older_than is not None:
            query = query.where(c.created_at <= older_than)
        if newer_than is not None:
            query = query.where(c.created_at >= newer_than)
        if sort == "risk":
            query = query.order_by(c.risk.desc(), c.id)
            if after is not None:
                query = query.where(
                    sa.or_(c.risk < after[0], sa.and_(c.risk == after[0], c.id > after[1]))
                )
        else:
            query = query.order_by(c.created_at, c.id)
            if after is not None:
                query = query.where(
                    sa.or_(
                        c.created_at > after[0], sa.and_(c.created_at == after[0], c.id > after[1])
                    )
                )
        # Category and reason filters look inside the JSON reasons: filtered in
        # Python over a bounded over-fetch so the SQL stays portable.
        if category is None and reason is None:
            with self.db.read() as conn:
                return [comment_from_row(r) for r in conn.execute(query.limit(limit)).all()]
        out: list[StoredComment] = []
        offset = 0
        with self.db.read() as conn:
            while len(out) < limit:
                rows = conn.execute(query.limit(500).offset(offset)).all()
                if not rows:
                    break
                offset += len(rows)
                for row in rows:
                    item = comment_from_row(row)
                    if category and not any(r.category == category for r in item.reasons):
                        continue
                    if reason and not any(r.code == reason for r in item.reasons):
                        continue
                    out.append(item)
                    if len(out) == limit:
                        break
        return out

    def claim(
        self, user_id: str, site_ids: Sequence[str], n: int, now: datetime, lease_until: datetime
    ) -> list[StoredComment]:
        """Give the user the next n held comments nobody holds a live lease on, riskiest first.

        SQLite serialises this write transaction (BEGIN IMMEDIATE); PostgreSQL
        skips rows another transaction is claiming (FOR UPDATE SKIP LOCKED).
        """
        c = db.comments.c
        free = sa.or_(c.claimed_by.is_(None), c.claim_expires_at < now, c.claimed_by == user_id)
        pick = (
            sa.select(c.id)
            .where(_queued(c), c.site_id.in_(list(site_ids)), free)
            .order_by(c.risk.desc(), c.id)
            .limit(n)
        )
        with self.db.write() as conn:
            if conn.dialect.name == "postgresql":
                pick = pick.with_for_update(skip_locked=True)
            ids = conn.execute(pick).scalars().all()
            if ids:
                conn.execute(
                    db.comments.update()
                    .where(c.id.in_(ids))
                    .values(claimed_by=user_id, claim_expires_at=lease_until)
                )
            rows = (
                conn.execute(
                    db.comments.select().where(c.id.in_(ids)).order_by(c.risk.desc(), c.id)
                ).all()
                if ids
                else []
            )
        return [comment_from_row(r) for r in rows]

    def renew_claims(
        self, user_id: str, ids: Sequence[str], lease_until: datetime, now: datetime
    ) -> list[str]:
        """Extend the user's live leases; returns the ids still held by the user."""
        c = db.comments.c
        with self.db.write() as conn:
            conn.execute(
                db.comments.update()
                .where(
                    c.id.in_(list(ids)),
                    c.claimed_by == user_id,
                    c.claim_expires_at >= now,
                    _queued(c),
                )
                .values(claim_expires_at=lease_until)
            )
            return list(
                conn.execute(
                    sa.select(c.id).where(
                        c.id.in_(list(ids)),
                        c.claimed_by == user_id,
                        c.claim_expires_at == lease_until,
                    )
                )
                .scalars()
                .all()
            )

    def release_claims(self, user_id: str, ids: Sequence[str]) -> None:
        """Give the user's claimed comments back to the queue."""
        c = db.comments.c
        with self.db.write() as conn:
            conn.execute(
                db.comments.update()
                .where(c.id.in_(list(ids)), c.claimed_by == user_id)
                .values(claimed_by=None, claim_expires_at=None)
            )

    # -- retention -------------------------------------------------------------

    def redact_decided(self, site_id: str, decided_before: datetime, now: datetime) -> int:
        """Remove the text and author data of comments decided before a time; returns how many.

        A batch per transaction, so a first run over years of comments never holds
        the write lock for long.
        """
        c, a = db.comments.c, db.audit_log.c
        decided = sa.func.coalesce(c.decided_at, c.created_at)
        pick = (
            sa.select(c.id)
            .where(
                c.site_id == site_id,
                c.status.in_(
                    [Status.APPROVED.value, Status.REJECTED.value, Status.WITHDRAWN.value]
                ),
                c.redacted_at.is_(None),
                decided < decided_before,
            )
            .limit(500)
        )
        done = 0
        while True:
            with self.db.write() as conn:
                ids = list(conn.execute(pick).scalars())
                if not ids:
                    return done
                conn.execute(
                    db.comments.update()
                    .where(c.id.in_(ids))
                    .values(
                        text="",
                        author_name=None,
                        author_email_hash=None,
                        author_ip=None,
                        decision_note=None,
                        spans=[],
                        redacted_at=now,
                        updated_at=now,
                        version=c.version + 1,
                    )
                )
                # Earlier texts go with the text; reports keep their reason, not the note.
                conn.execute(
                    db.comment_revisions.delete().where(db.comment_revisions.c.comment_id.in_(ids))
                )
                conn.execute(
                    db.reports.update()
                    .where(db.reports.c.comment_id.in_(ids), db.reports.c.note.is_not(None))
                    .values(note=None)
                )
                for row in conn.execute(
                    sa.select(a.id, a.before, a.after).where(a.comment_id.in_(ids))
                ).all():
                    before, after = without_notes(row.before), without_notes(row.after)
                    if (before, after) != (row.before, row.after):
                        conn.execute(
                            db.audit_log.update()
                            .where(a.id == row.id)
                            .values(before=before, after=after)
                        )
                done += len(ids)
