"""The domain's vocabulary for comments: what arrives, what we decide, what we store."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


class Status(enum.StrEnum):
    """Where a comment stands: published, waiting for a moderator, or removed."""

    APPROVED = "approved"
    HELD = "held"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"  # the author took it back: out of the queue, never published


class ScoringState(enum.StrEnum):
    """Whether the model has scored a comment, or scoring failed and it waits to be re-scored."""

    SCORED = "scored"
    PENDING = "pending"


class Decider(enum.StrEnum):
    """Who decided a comment when no moderator did (a moderator's decision holds their user id)."""

    AUTO = "auto"  # the policy, on arrival or on re-scoring


class ReasonCode(enum.StrEnum):
    """Why a comment was held: the rule that tripped."""

    CATEGORY = "category"
    BLOCKED_WORD = "blocked_word"
    SUSPECT_WORD = "suspect_word"
    TOO_MANY_LINKS = "too_many_links"
    LANGUAGE_UNSUPPORTED = "language_unsupported"
    PREMODERATION = "premoderation"
    SCORING_UNAVAILABLE = "scoring_unavailable"
    REPORTED = "reported"  # readers' reports reached the site's report_threshold
    AUTHOR_BANNED = "author_banned"
    AUTHOR_PREMODERATED = "author_premoderated"


class RejectReason(enum.StrEnum):
    """Why a moderator rejected a comment."""

    ABUSIVE = "abusive"
    HARASSMENT = "harassment"
    HATE_SPEECH = "hate_speech"
    THREAT = "threat"
    SPAM = "spam"
    OFF_TOPIC = "off_topic"
    OTHER = "other"


@dataclass(frozen=True)
class Author:
    id: str | None = None
    name: str | None = None
    email: str | None = None
    ip: str | None = None


@dataclass(frozen=True)
class Article:
    id: str | None = None
    url: str | None = None
    title: str | None = None


@dataclass(frozen=True)
class NewComment:
    """A comment as a site submits it, before anything is decided."""

    text: str
    author: Author = field(default_factory=Author)
    article: Article = field(default_factory=Article)
    parent_id: str | None = None
    external_id: str | None = None


@dataclass(frozen=True)
class Span:
    """A sentence of the original text (begin inclusive, end exclusive) and its scores."""

    begin: int
    end: int
    scores: Mapping[str, float]

    def as_dict(self) -> dict[str, Any]:
        return {"begin": self.begin, "end": self.end, "scores": dict(self.scores)}


@dataclass(frozen=True)
class Reason:
    """Why a comment was held: a rule's code and the figures that tripped it."""

    code: ReasonCode
    category: str | None = None
    score: float | None = None
    threshold: float | None = None
    word: str | None = None
    begin: int | None = None
    end: int | None = None
    count: int | None = None
    limit: int | None = None
    language: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Reason:
        fields = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**{**fields, "code": ReasonCode(fields["code"])})


@dataclass(frozen=True)
class Verdict:
    """What a policy says about one comment."""

    status: Status
    reasons: tuple[Reason, ...]
    risk: float


@dataclass(frozen=True)
class ModelInfo:
    name: str
    version: str


@dataclass(frozen=True)
class StoredComment:
    """A comment as the store holds it, with everything the API reports."""

    id: str
    site_id: str
    text: str
    status: Status
    scores: Mapping[str, float]
    reasons: tuple[Reason, ...]
    spans: tuple[Span, ...]
    model: ModelInfo | None
    language: str | None
    risk: float
    version: int
    created_at: datetime
    updated_at: datetime
    external_id: str | None = None
    parent_id: str | None = None
    author: Author = field(default_factory=Author)
    article: Article = field(default_factory=Article)
    scoring_state: ScoringState = ScoringState.SCORED
    decided_by: str = Decider.AUTO
    claimed_by: str | None = None
    claim_expires_at: datetime | None = None
    decision_reason: str | None = None
    decision_note: str | None = None
    decided_at: datetime | None = None
    shadow_status: Status | None = None
    author_email_hash: str | None = None  # never in API answers; in an author's data export
    redacted_at: datetime | None = None  # when retention removed the text (and the author's data)
    shadow_reasons: tuple[Reason, ...] | None = None  # the shadow policy's reasons, if it ran
    flagged_at: datetime | None = None  # when readers' reports put it in the queue
    edited_at: datetime | None = None  # when the author last changed the text

    @property
    def queued(self) -> bool:
        """Whether it waits for a moderator: held, or published and reported enough."""
        return self.status is Status.HELD or (
            self.status is Status.APPROVED and self.flagged_at is not None
        )

    @property
    def decided_by_moderator(self) -> bool:
        """Whether a moderator (not the policy) made the comment's current decision."""
        return self.decided_by != Decider.AUTO


@dataclass(frozen=True)
class Decision:
    """A moderator's decision on a stored comment, or an undo restoring an earlier one."""

    status: Status
    decided_by: str
    decided_at: datetime | None
    reason: str | None
    note: str | None
    at: datetime
    release_claim: bool = True  # a decision ends the moderator's lease; an undo leaves leases be
    flagged: bool = False  # still waiting on readers' reports (an undo restoring that state)


@dataclass(frozen=True)
class Flag:
    """Readers' reports reached the threshold: the comment enters the queue (held, if hidden)."""

    status: Status
    reasons: tuple[Reason, ...]
    risk: float
    at: datetime


@dataclass(frozen=True)
class Withdrawal:
    """The author withdrew the comment."""

    at: datetime


@dataclass(frozen=True)
class CommentEdit:
    """New text from the comment's author, and the version they edited."""

    text: str
    version: int


@dataclass(frozen=True)
class Edit:
    """An edited comment's new text, scores and decision."""

    text: str
    scores: Mapping[str, float]
    language: str | None
    model: ModelInfo | None
    status: Status
    decided_by: str
    reasons: tuple[Reason, ...]
    spans: tuple[Span, ...]
    risk: float
    scoring_state: ScoringState
    at: datetime


@dataclass(frozen=True)
class Revision:
    """A comment's text as it was before an edit (kept for moderators)."""

    comment_id: str
    version: int
    text: str
    status: Status
    reasons: tuple[Reason, ...]
    scores: Mapping[str, float]
    written_at: datetime
    replaced_at: datetime


@dataclass(frozen=True)
class Rescore:
    """Scores for a comment whose scoring failed; a verdict and spans when the policy decides again."""

    scores: Mapping[str, float]
    language: str | None
    model: ModelInfo | None
    at: datetime
    verdict: Verdict | None = None
    spans: tuple[Span, ...] = ()


@dataclass(frozen=True)
class Outcome:
    """A scored comment as tuning measures it: its scores and where it stands now."""

    id: str
    version: int
    status: Status
    decided_by: str
    scores: Mapping[str, float]

    @property
    def decided_by_moderator(self) -> bool:
        return self.decided_by != Decider.AUTO


@dataclass(frozen=True)
class ShadowOutcome:
    """What the live and the shadow policy decided about one comment, and where it stands now."""

    comment_id: str
    status: Status
    decided_by: str
    live_held: bool  # the automatic decision on arrival held it (it recorded reasons)
    shadow_status: Status
    created_at: datetime

    @property
    def decided_by_moderator(self) -> bool:
        return self.decided_by != Decider.AUTO
