"""Webhook events as the outbox holds them: made with a decision, delivered later, with attempts."""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from moderation.comments import Reason, Status


class EventName(enum.StrEnum):
    """What a webhook event reports."""

    COMMENT_HELD = "comment.held"
    COMMENT_APPROVED = "comment.approved"
    COMMENT_REJECTED = "comment.rejected"
    COMMENT_WITHDRAWN = "comment.withdrawn"
    COMMENT_REPORTED = "comment.reported"
    COMMENT_EDITED = "comment.edited"

    @classmethod
    def for_status(cls, status: Status) -> EventName:
        """The event that reports a comment reaching `status`."""
        return cls(f"comment.{status.value}")


# What a webhook event's payload carries: ids, status, reasons, a time. An erasure keeps only
# these fields of the events about an author's comments, so nothing of theirs could ride
# along in a payload still waiting to be delivered.
EVENT_FIELDS = frozenset({"event", "comment_id", "external_id", "status", "reasons", "occurred_at"})


@dataclass(frozen=True)
class NewEvent:
    """An event to write into the outbox in the same transaction as the decision it reports."""

    site_id: str
    event: EventName
    payload: Mapping[str, Any]
    created_at: datetime

    @classmethod
    def about(
        cls,
        site_id: str,
        event: EventName,
        comment_id: str,
        external_id: str | None,
        status: Status,
        reasons: Sequence[Reason],
        now: datetime,
    ) -> NewEvent:
        """The event reporting a comment's status (its payload is what receivers get)."""
        return cls(
            site_id=site_id,
            event=event,
            created_at=now,
            payload={
                "event": event.value,
                "comment_id": comment_id,
                "external_id": external_id,
                "status": status.value,
                "reasons": [r.as_dict() for r in reasons],
                "occurred_at": now.isoformat(),
            },
        )


@dataclass(frozen=True)
class DueEvent:
    """An event claimed for delivery."""

    id: int
    site_id: str
    payload: Mapping[str, Any]
    attempts: int
    claim: str = ""  # the claim's token: only its holder records the attempt


@dataclass(frozen=True)
class Attempt:
    """One try at delivering an event: the receiver's status code, or the error."""

    attempted_at: datetime
    status_code: int | None
    error: str | None
    duration_ms: float


@dataclass(frozen=True)
class WebhookEvent:
    """A webhook event about a comment, and how far its delivery got."""

    id: str
    event: str
    payload: Mapping[str, Any]
    created_at: datetime
    delivered_at: datetime | None
    attempts: int
    next_attempt_at: datetime | None = None
    last_error: str | None = None
    history: tuple[Attempt, ...] = field(default=())

    @property
    def comment_id(self) -> str | None:
        """The comment the event is about."""
        value = self.payload.get("comment_id")
        return value if isinstance(value, str) else None
