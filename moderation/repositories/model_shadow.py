"""What a site's model version in shadow scored and would have decided, per live comment."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from moderation import db
from moderation.clock import aware, utcnow
from moderation.comments import ReasonCode, Status
from moderation.model_shadow import ShadowComparison, ShadowScore
from moderation.repositories.base import Database


class ModelShadowScores:
    """Rows of `model_shadow_scores`: one per live comment a version in shadow scored."""

    def __init__(self, database: Database) -> None:
        self.db = database

    def add_many(self, rows: Sequence[ShadowScore]) -> None:
        """Store a candidate's scores and decisions (one transaction; a repeat is ignored)."""
        if not rows:
            return
        t = db.model_shadow_scores
        with self.db.write() as conn:
            known = set(
                conn.execute(
                    sa.select(t.c.comment_id).where(
                        t.c.version == rows[0].version,
                        t.c.comment_id.in_([r.comment_id for r in rows]),
                    )
                ).scalars()
            )
            fresh = [r for r in rows if r.comment_id not in known]
            if fresh:
                conn.execute(
                    t.insert(),
                    [
                        {
                            "comment_id": r.comment_id,
                            "version": r.version,
                            "site_id": r.site_id,
                            "scores": dict(r.scores),
                            "status": r.status.value,
                            "reasons": [x.as_dict() for x in r.reasons],
                            "created_at": r.created_at,
                        }
                        for r in fresh
                    ],
                )

    def comparisons(self, site_id: str, version: int) -> list[ShadowComparison]:
        """The site's live comments `version` scored in shadow, with both models' view, oldest
        first; comments edited since are left out (only the live model read the new text)."""
        s, c = db.model_shadow_scores.c, db.comments.c
        query = (
            sa.select(
                c.id,
                c.text,
                c.status,
                c.decided_by,
                c.decision_reason,
                c.reasons,
                c.scores,
                s.status.label("candidate_status"),
                s.scores.label("candidate_scores"),
                c.created_at,
            )
            .join(db.comments, c.id == s.comment_id)
            .where(
                s.site_id == site_id,
                s.version == version,
                c.site_id == site_id,
                # An edit re-scored the live side only: the two no longer read the same text.
                sa.or_(c.edited_at.is_(None), c.edited_at <= s.created_at),
            )
            .order_by(c.created_at, c.id)
        )
        with self.db.read() as conn:
            rows = conn.execute(query).all()
        return [
            ShadowComparison(
                comment_id=r.id,
                text=r.text,
                status=Status(r.status),
                decided_by=r.decided_by,
                decision_reason=r.decision_reason,
                # Held on arrival: it recorded reasons (readers' reports add one later).
                live_held=any(x.get("code") != ReasonCode.REPORTED for x in r.reasons or ()),
                live_scores=r.scores or {},
                candidate_status=Status(r.candidate_status),
                candidate_scores=r.candidate_scores or {},
                created_at=aware(r.created_at) or utcnow(),
            )
            for r in rows
        ]
