"""Backfill runs: a re-score of stored comments split into id ranges (chunks) workers share."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from moderation import db
from moderation.backfill import BackfillRun, ChunkRef, Rescored, Scope
from moderation.clock import aware, utcnow
from moderation.comments import StoredComment
from moderation.repositories.base import Database
from moderation.repositories.comments import comment_from_row


class _Changed(Exception):
    def __init__(self, comment_id: str) -> None:
        self.comment_id = comment_id


def _in_scope(scope: Scope, created_before: datetime) -> Any:
    """The comments a run re-scores: scored, text kept, made before the run, in its scope."""
    c = db.comments.c
    where = [
        c.scoring_state == "scored",
        c.redacted_at.is_(None),
        c.created_at <= created_before,
    ]
    if scope.site_id is not None:
        where.append(c.site_id == scope.site_id)
    if scope.since is not None:
        where.append(c.created_at >= scope.since)
    if scope.model_version is not None:
        where.append(c.model_version == scope.model_version)
    return sa.and_(*where)


def _run_from_row(row: Any, chunks: int, finished: int, done: int) -> BackfillRun:
    return BackfillRun(
        id=row.id,
        created_at=aware(row.created_at) or utcnow(),
        scope=Scope(row.site_id, aware(row.since), row.model_version),
        chunk_size=row.chunk_size,
        comments=row.comments,
        chunks=chunks,
        chunks_finished=finished,
        rescored=done,
        finished_at=aware(row.finished_at),
    )


class BackfillRepository:
    """Runs, their chunks, and the transaction that stores a batch with the chunk's progress."""

    def __init__(self, database: Database) -> None:
        self.db = database

    def create(self, run_id: str, scope: Scope, now: datetime, chunk_size: int) -> BackfillRun:
        """Make a run over what is in scope now: chunks of `chunk_size` comments by id."""
        c = db.comments.c
        numbered = (
            sa.select(c.id, sa.func.row_number().over(order_by=c.id).label("n"))
            .where(_in_scope(scope, now))
            .subquery()
        )
        with self.db.write() as conn:
            total = conn.execute(
                sa.select(sa.func.count()).select_from(db.comments).where(_in_scope(scope, now))
            ).scalar_one()
            # Only each chunk's first and last id travel back, not a million ids.
            edges = conn.execute(
                sa.select(numbered.c.id, numbered.c.n)
                .where(
                    sa.or_(
                        (numbered.c.n - 1) % chunk_size == 0,
                        numbered.c.n % chunk_size == 0,
                        numbered.c.n == total,
                    )
                )
                .order_by(numbered.c.n)
            ).all()
            conn.execute(
                db.backfill_runs.insert().values(
                    id=run_id,
                    created_at=now,
                    site_id=scope.site_id,
                    since=scope.since,
                    model_version=scope.model_version,
                    chunk_size=chunk_size,
                    comments=total,
                    finished_at=now if total == 0 else None,
                )
            )
            chunks: dict[int, dict[str, Any]] = {}
            for comment_id, n in edges:
                seq = (n - 1) // chunk_size
                chunk = chunks.setdefault(seq, {"run_id": run_id, "seq": seq, "done": 0})
                if (n - 1) % chunk_size == 0:
                    chunk["first_id"] = comment_id
                if n % chunk_size == 0 or n == total:
                    chunk["last_id"] = comment_id
                    chunk["comments"] = n - seq * chunk_size
            if chunks:
                conn.execute(db.backfill_chunks.insert(), list(chunks.values()))
        found = self.get(run_id)
        assert found is not None
        return found

    def get(self, run_id: str) -> BackfillRun | None:
        runs = self._runs(db.backfill_runs.c.id == run_id)
        return runs[0] if runs else None

    def unfinished(self, scope: Scope | None = None) -> list[BackfillRun]:
        """Runs with chunks left, oldest first (of `scope` only, when given)."""
        r = db.backfill_runs.c
        where: list[sa.ColumnElement[bool]] = [r.finished_at.is_(None)]
        if scope is not None:
            where += [
                r.site_id.is_(None) if scope.site_id is None else r.site_id == scope.site_id,
                r.since.is_(None) if scope.since is None else r.since == scope.since,
                r.model_version.is_(None)
                if scope.model_version is None
                else r.model_version == scope.model_version,
            ]
        return self._runs(sa.and_(*where))

    def recent(self, limit: int = 10) -> list[BackfillRun]:
        """The newest runs, newest first."""
        return self._runs(sa.true(), newest_first=True, limit=limit)

    def _runs(
        self, where: Any, newest_first: bool = False, limit: int | None = None
    ) -> list[BackfillRun]:
        r, k = db.backfill_runs.c, db.backfill_chunks.c
        progress = (
            sa.select(
                k.run_id,
                sa.func.count().label("chunks"),
                sa.func.count(k.finished_at).label("finished"),
                sa.func.coalesce(sa.func.sum(k.done), 0).label("done"),
            )
            .group_by(k.run_id)
            .subquery()
        )
        order = (r.created_at.desc(), r.id.desc()) if newest_first else (r.created_at, r.id)
        query = (
            sa.select(db.backfill_runs, progress.c.chunks, progress.c.finished, progress.c.done)
            .outerjoin(progress, progress.c.run_id == r.id)
            .where(where)
            .order_by(*order)
        )
        if limit is not None:
            query = query.limit(limit)
        with self.db.read() as conn:
            rows = conn.execute(query).all()
        return [
            _run_from_row(row, row.chunks or 0, row.finished or 0, row.done or 0) for row in rows
        ]

    def open_chunks(self, run_id: str) -> list[int]:
        """The run's chunks not finished yet, by number."""
        k = db.backfill_chunks.c
        with self.db.read() as conn:
            return list(
                conn.execute(
                    sa.select(k.seq)
                    .where(k.run_id == run_id, k.finished_at.is_(None))
                    .order_by(k.seq)
                ).scalars()
            )

    def remaining(self) -> int:
        """Comments left to re-score in every unfinished run."""
        r, k = db.backfill_runs.c, db.backfill_chunks.c
        with self.db.read() as conn:
            return int(
                conn.execute(
                    sa.select(sa.func.coalesce(sa.func.sum(k.comments - k.done), 0))
                    .select_from(db.backfill_chunks.join(db.backfill_runs, r.id == k.run_id))
                    .where(r.finished_at.is_(None), k.finished_at.is_(None))
                ).scalar_one()
            )

    def claim_chunk(
        self, run_id: str, seq: int, now: datetime, hold_for: timedelta
    ) -> ChunkRef | None:
        """Take a chunk that is not finished and not someone else's (their lease ran out)."""
        k = db.backfill_chunks.c
        token = secrets.token_hex(16)
        with self.db.write() as conn:
            taken = conn.execute(
                db.backfill_chunks.update()
                .where(
                    k.run_id == run_id,
                    k.seq == seq,
                    k.finished_at.is_(None),
                    sa.or_(k.claim_expires_at.is_(None), k.claim_expires_at <= now),
                )
                .values(claim_token=token, claim_expires_at=now + hold_for)
            ).rowcount
            if taken != 1:
                return None
            row = conn.execute(
                sa.select(db.backfill_chunks).where(k.run_id == run_id, k.seq == seq)
            ).one()
            run = conn.execute(
                sa.select(db.backfill_runs).where(db.backfill_runs.c.id == run_id)
            ).one()
        return ChunkRef(
            run_id=run_id,
            seq=seq,
            claim=token,
            first_id=row.first_id,
            last_id=row.last_id,
            cursor=row.cursor,
            scope=Scope(run.site_id, aware(run.since), run.model_version),
            created_at=aware(run.created_at) or now,
        )

    def next_batch(self, chunk: ChunkRef, limit: int) -> list[StoredComment]:
        """The chunk's next comments in scope after its cursor, by id."""
        c = db.comments.c
        after = c.id > chunk.cursor if chunk.cursor is not None else c.id >= chunk.first_id
        with self.db.read() as conn:
            rows = conn.execute(
                db.comments.select()
                .where(
                    after,
                    c.id <= chunk.last_id,
                    _in_scope(chunk.scope, chunk.created_at),
                )
                .order_by(c.id)
                .limit(limit)
            ).all()
        return [comment_from_row(r) for r in rows]

    def store_batch(
        self,
        chunk: ChunkRef,
        rescored: Sequence[Rescored],
        cursor: str,
        now: datetime,
        hold_for: timedelta,
    ) -> tuple[bool, list[str]]:
        """Store re-scored comments and move the chunk's cursor past them, in one transaction.

        Only scores, language and model change (never a status, a reason or a decision).
        Returns (stored, stale): nothing is stored when the chunk is no longer this claim's,
        or when some comment changed since it was read (`stale`: read and score those again).
        """
        try:
            return self._store(chunk, rescored, cursor, now, hold_for)
        except _Changed as changed:  # the transaction rolled back: nothing of the batch stored
            return False, [changed.comment_id]

    def _store(
        self,
        chunk: ChunkRef,
        rescored: Sequence[Rescored],
        cursor: str,
        now: datetime,
        hold_for: timedelta,
    ) -> tuple[bool, list[str]]:
        c, k = db.comments.c, db.backfill_chunks.c
        with self.db.write() as conn:
            versions = dict(
                conn.execute(
                    sa.select(c.id, c.version).where(c.id.in_([r.comment_id for r in rescored]))
                ).all()
            )
            stale = [r.comment_id for r in rescored if versions.get(r.comment_id) != r.version]
            if stale:
                return False, stale
            moved = conn.execute(
                db.backfill_chunks.update()
                .where(k.run_id == chunk.run_id, k.seq == chunk.seq, k.claim_token == chunk.claim)
                .values(cursor=cursor, done=k.done + len(rescored), claim_expires_at=now + hold_for)
            ).rowcount
            if moved != 1:
                return False, []
            for r in rescored:
                changed = conn.execute(
                    db.comments.update()
                    .where(c.id == r.comment_id, c.version == r.version)
                    .values(
                        scores=dict(r.scores),
                        language=r.language,
                        model_name=r.model_name,
                        model_version=r.model_version,
                    )
                ).rowcount
                if changed != 1:  # changed between the check and now: undo the batch
                    raise _Changed(r.comment_id)
        return True, []

    def finish_chunk(self, chunk: ChunkRef, now: datetime) -> None:
        """Mark the chunk done (and its run, when it was the last)."""
        r, k = db.backfill_runs.c, db.backfill_chunks.c
        with self.db.write() as conn:
            conn.execute(
                db.backfill_chunks.update()
                .where(k.run_id == chunk.run_id, k.seq == chunk.seq, k.claim_token == chunk.claim)
                .values(finished_at=now, claim_token=None, claim_expires_at=None)
            )
            left = conn.execute(
                sa.select(sa.func.count()).where(k.run_id == chunk.run_id, k.finished_at.is_(None))
            ).scalar_one()
            if left == 0:
                conn.execute(
                    db.backfill_runs.update()
                    .where(r.id == chunk.run_id, r.finished_at.is_(None))
                    .values(finished_at=now)
                )
