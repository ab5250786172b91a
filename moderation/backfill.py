"""Backfill: re-score stored comments after a model change, in chunks any number of workers share.

A run covers the scored comments in its scope (a site, made since a date, scored by
a model version) that existed when it started, split into chunks of consecutive ids.
A chunk job claims its chunk (a lease), then scores its comments a batch at a time;
each batch's new scores and the chunk's cursor (the last id done) are stored in one
transaction. So a comment is re-scored once per run even when a worker dies and
another takes its chunk over (it goes on from the cursor), running a chunk again
does nothing, and starting the same run again continues it.

A re-score changes a comment's scores, language and model, never its status, its
reasons or anyone's decision: published comments stay published, held ones held,
and moderators' decisions stay theirs. The new scores are what tuning simulates a
policy on and what the model's comparisons read.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Protocol

from moderation.clock import utcnow
from moderation.comments import ModelInfo, StoredComment
from moderation.security import new_id

if TYPE_CHECKING:
    from moderation.repositories import Repositories

CHUNK_SIZE = 1000  # comments per chunk (one job)
BATCH = 32  # comments per model call and per transaction
CHUNK_LEASE = timedelta(minutes=10)  # renewed with every batch stored


@dataclass(frozen=True)
class Scope:
    """Which stored comments a run re-scores (None: any)."""

    site_id: str | None = None
    since: datetime | None = None  # made at or after
    model_version: str | None = None  # scored by this model version


@dataclass(frozen=True)
class BackfillRun:
    """A run and its progress."""

    id: str
    created_at: datetime
    scope: Scope
    chunk_size: int
    comments: int  # in scope when the run started
    chunks: int
    chunks_finished: int
    rescored: int
    finished_at: datetime | None

    @property
    def percent(self) -> float:
        return 100.0 * self.rescored / self.comments if self.comments else 100.0


@dataclass(frozen=True)
class ChunkRef:
    """A claimed chunk: its id range, where it got to, and the run's scope."""

    run_id: str
    seq: int
    claim: str
    first_id: str
    last_id: str
    cursor: str | None
    scope: Scope
    created_at: datetime


@dataclass(frozen=True)
class Rescored:
    """New scores for a comment read at `version`."""

    comment_id: str
    version: int
    scores: Mapping[str, float]
    language: str | None
    model_name: str | None
    model_version: str | None


class ScoresTexts(Protocol):
    """What a backfill needs of the service: scores for texts, and the model making them."""

    def rescore_texts(
        self, comments: list[StoredComment]
    ) -> list[tuple[dict[str, float], str | None, ModelInfo | None]] | None: ...

    @property
    def model(self) -> ModelInfo | None: ...


class Backfill:
    """Start, resume and run backfills; the chunk job is `run_chunk`."""

    def __init__(
        self,
        repos: Repositories,
        scoring: ScoresTexts,
        clock: Callable[[], datetime] = utcnow,
        batch: int = BATCH,
    ) -> None:
        self.repos = repos
        self.scoring = scoring
        self.clock = clock
        self.batch = batch

    def start(self, scope: Scope, chunk_size: int = CHUNK_SIZE) -> tuple[BackfillRun, bool]:
        """The unfinished run of this scope if there is one (resumed), else a new one.

        Returns (run, created).
        """
        for run in self.repos.backfills.unfinished(scope):
            return run, False
        return self.repos.backfills.create(new_id("bf"), scope, self.clock(), chunk_size), True

    def open_chunks(self, run_id: str) -> list[int]:
        return self.repos.backfills.open_chunks(run_id)

    def run_chunk(self, run_id: str, seq: int) -> int:
        """Re-score one chunk (a job): returns comments re-scored now (0: finished or taken)."""
        chunk = self.repos.backfills.claim_chunk(run_id, seq, self.clock(), CHUNK_LEASE)
        if chunk is None:
            return 0
        done = 0
        while True:
            comments = self.repos.backfills.next_batch(chunk, self.batch)
            if not comments:
                break
            scored = self.scoring.rescore_texts(comments)
            if scored is None:
                raise RuntimeError("the model is unavailable; the chunk goes on from its cursor")
            rescored = [
                Rescored(
                    c.id,
                    c.version,
                    scores,
                    language,
                    model.name if model else None,
                    model.version if model else None,
                )
                for c, (scores, language, model) in zip(comments, scored, strict=True)
            ]
            stored, _stale = self.repos.backfills.store_batch(
                chunk, rescored, comments[-1].id, self.clock(), CHUNK_LEASE
            )
            if stored:
                done += len(rescored)
                chunk = replace(chunk, cursor=comments[-1].id)
            elif not _stale:
                return done  # the chunk is someone else's now (our lease ran out)
            # else: a comment changed while it was scored: read the batch again
        self.repos.backfills.finish_chunk(chunk, self.clock())
        return done

    def status(self, limit: int = 10) -> list[BackfillRun]:
        """The newest runs with their progress."""
        return self.repos.backfills.recent(limit)
