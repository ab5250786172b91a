"""What is waiting in the database: held comments, undelivered webhooks, comments to re-score.

These figures are the database's, not a process's: every replica reading them
gets the same numbers, so they are reported once (see docs/scaling.md), never
summed across replicas. The queries are the repositories'
(`Repositories.backlog.measure`); this module holds what they return.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Backlog:
    """Work waiting in the database at one moment."""

    held: dict[str, int] = field(default_factory=dict)  # held comments per site name
    webhooks_due: int = 0  # undelivered events due now (a delivery run would take them)
    webhooks_waiting: int = 0  # undelivered events backing off until a later attempt
    webhooks_given_up: int = 0  # undelivered events that used up their attempts
    oldest_due_seconds: float = 0.0  # how long the oldest due event has been due
    pending_rescores: int = 0  # comments held as scoring_unavailable, waiting for the model
    jobs_queued: int | None = None  # the job queue's messages (None: no broker, in-process)
    backfill_remaining: int = 0  # comments unfinished backfill runs have still to re-score
