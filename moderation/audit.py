"""The audit trail's vocabulary: what can be recorded, by whom, and one recorded entry."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import Any


class AuditAction(enum.StrEnum):
    """Every kind of audit entry. `comment.*` are decisions; the rest are settings and access."""

    COMMENT_AUTO_DECISION = "comment.auto_decision"
    COMMENT_RESCORED = "comment.rescored"
    COMMENT_DECISION = "comment.decision"
    COMMENT_UNDO = "comment.undo"
    COMMENT_REPORTED = "comment.reported"
    COMMENT_EDITED = "comment.edited"
    COMMENT_WITHDRAWN = "comment.withdrawn"
    SITE_CREATE = "site.create"
    KEY_CREATE = "key.create"
    KEY_REVOKE = "key.revoke"
    USER_CREATE = "user.create"
    USER_PASSWORD_SET = "user.password_set"
    POLICY_UPDATE = "policy.update"
    POLICY_SHADOW_SET = "policy.shadow_set"
    POLICY_SHADOW_CLEAR = "policy.shadow_clear"
    WEBHOOK_UPDATE = "webhook.update"
    RETENTION_UPDATE = "retention.update"
    RETENTION_RUN = "retention.run"
    AUTHOR_EXPORT = "author.export"
    AUTHOR_ERASE = "author.erase"
    AUTHOR_STANDING = "author.standing"  # a moderator banned, premoderated, trusted or cleared
    CORAL_SECRET = "coral.secret"
    CORAL_APPROVED_ANSWER = "coral.approved_answer"
    LABELS_IMPORT = "labels.import"  # an operator imported a site's labels
    MODEL_TRAIN = "model.train"  # training of a site's model was requested
    MODEL_PROMOTE = "model.promote"  # a version of a site's model began to serve
    MODEL_ROLLBACK = "model.rollback"  # back to what served before
    MODEL_SHADOW_START = "model.shadow_start"  # a version began to score in shadow
    MODEL_SHADOW_STOP = "model.shadow_stop"  # it stopped (asked to, or promoted)
    MODEL_SETTINGS = "model.settings"  # a site's auto-promotion or retraining settings changed

    @property
    def is_comment_decision(self) -> bool:
        """Whether the entry records what happened to a comment (not a settings change)."""
        return self.value.startswith("comment.")


# What moderators did to a comment (and can be undone), as opposed to the system.
MODERATOR_ACTIONS = (AuditAction.COMMENT_DECISION, AuditAction.COMMENT_UNDO)


class Actor(enum.StrEnum):
    """Who acts when no person does; people act under their user id."""

    SYSTEM = "system"  # the service itself: automatic decisions, re-scoring, retention
    CLI = "cli"  # an operator at the command line
    DEMO = "demo"  # the /demo page's housekeeping


@dataclass(frozen=True)
class AuditEntry:
    """One audit row: who did what, to which site or comment, with the state before and after.

    `before` and `after` are the recorded snapshots (JSON), kept as they were written.
    `id` and `created_at` are set by the audit log when the entry is read back.
    """

    action: AuditAction
    actor: str
    site_id: str | None = None
    comment_id: str | None = None
    before: Any = None
    after: Any = None
    id: int | None = None
    created_at: datetime | None = None
