"""Readers' reports on published comments, and how much one reporter's report counts."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from moderation.comments import StoredComment

# A reporter whose reports moderators keep dismissing counts for less, never for nothing:
# one careful report from them still adds up with others.
MIN_WEIGHT = 0.25


class ReportReason(enum.StrEnum):
    """Why a reader reported a comment."""

    ABUSIVE = "abusive"
    HARASSMENT = "harassment"
    HATE = "hate"
    SPAM = "spam"
    OFF_TOPIC = "off_topic"
    OTHER = "other"


@dataclass(frozen=True)
class NewReport:
    """A report as a site sends it for one of its readers."""

    reporter_id: str
    reason: ReportReason
    note: str | None = None


@dataclass(frozen=True)
class Report:
    """A stored report and the weight it was given when it was made."""

    id: int
    site_id: str
    comment_id: str
    reporter_id: str
    reason: ReportReason
    note: str | None
    weight: float
    created_at: datetime


@dataclass(frozen=True)
class ReporterRecord:
    """How moderators decided the comments a reader reported before on this site."""

    upheld: int = 0  # a moderator rejected the comment
    dismissed: int = 0  # a moderator approved it


def reporter_weight(record: ReporterRecord) -> float:
    """What one more report by this reader counts for: (upheld + 1) / (upheld + dismissed + 1).

    A new reporter counts 1. Each dismissed report lowers that and each upheld one
    raises it back, down to MIN_WEIGHT: three dismissed and none upheld, 0.25.
    """
    weight = (record.upheld + 1) / (record.upheld + record.dismissed + 1)
    return round(max(MIN_WEIGHT, weight), 4)


@dataclass(frozen=True)
class ReportSummary:
    """The reports on one comment since a moderator last decided it."""

    count: int = 0
    weight: float = 0.0
    reasons: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Reported:
    """What a report did: the report (new or the reader's earlier one) and the comment now."""

    report: Report
    created: bool
    comment: StoredComment
    summary: ReportSummary
