"""Schemas for the moderator queue and the operator's site settings."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import UTC
from typing import Any

import marshmallow as ma

from api.schemas import (
    CommentSchema,
    QueryArgsSchema,
    ReasonSchema,
    ReportSchema,
    ReportSummarySchema,
    StrictBoolean,
    StrictSchema,
    UtcDateTime,
)
from moderation.categories import CATEGORIES
from moderation.comments import StoredComment
from moderation.policy import LanguageAction
from moderation.review import Action, DecisionIn, RejectReason
from moderation.standing import AuthorAction, NewAuthorAction

MAX_AGE_MINUTES = 10 * 366 * 24 * 60  # ten years


class AuthorActionSchema(ma.Schema):
    action = ma.fields.Enum(AuthorAction, by_value=True)
    note = ma.fields.String(allow_none=True)
    expires_at = UtcDateTime(allow_none=True, metadata={"description": "null: until cleared"})
    actor = ma.fields.String(metadata={"description": "the moderator's user id"})
    created_at = UtcDateTime()


class ParentSchema(ma.Schema):
    id = ma.fields.String()
    text = ma.fields.String()
    status = ma.fields.String()
    author_name = ma.fields.String(allow_none=True)


class RevisionSchema(ma.Schema):
    version = ma.fields.Integer(metadata={"description": "the version this text had"})
    text = ma.fields.String()
    status = ma.fields.String()
    reasons = ma.fields.List(ma.fields.Nested(ReasonSchema))
    scores = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Float())
    written_at = UtcDateTime()
    replaced_at = UtcDateTime()


class QueueItemSchema(CommentSchema):
    site_id = ma.fields.String(dump_only=True)
    risk = ma.fields.Float(dump_only=True)
    claimed_by = ma.fields.String(dump_only=True, allow_none=True)
    claim_expires_at = ma.fields.DateTime(dump_only=True, allow_none=True)
    decision_reason = ma.fields.String(dump_only=True, allow_none=True)
    decision_note = ma.fields.String(dump_only=True, allow_none=True)
    decided_at = ma.fields.DateTime(dump_only=True, allow_none=True)
    author_history = ma.fields.Dict(
        keys=ma.fields.String(), values=ma.fields.Integer(), dump_only=True
    )
    author_standing = ma.fields.Nested(
        AuthorActionSchema,
        dump_only=True,
        allow_none=True,
        metadata={"description": "a ban, premoderation or trust in force on the author"},
    )
    reports = ma.fields.Nested(
        ReportSummarySchema,
        dump_only=True,
        allow_none=True,
        metadata={"description": "readers' reports since a moderator last decided it"},
    )
    parent = ma.fields.Nested(
        ParentSchema,
        dump_only=True,
        allow_none=True,
        metadata={"description": "the comment this one replies to"},
    )
    revisions = ma.fields.List(
        ma.fields.Nested(RevisionSchema),
        dump_only=True,
        metadata={"description": "the text before each of the author's edits, oldest first"},
    )


class QueueArgsSchema(QueryArgsSchema):
    site = ma.fields.String()
    category = ma.fields.String(validate=ma.validate.OneOf(CATEGORIES))
    reason = ma.fields.String()
    sort = ma.fields.String(load_default="risk", validate=ma.validate.OneOf(["risk", "age"]))
    min_age_minutes = ma.fields.Integer(validate=ma.validate.Range(min=0, max=MAX_AGE_MINUTES))
    max_age_minutes = ma.fields.Integer(validate=ma.validate.Range(min=0, max=MAX_AGE_MINUTES))
    cursor = ma.fields.String()
    limit = ma.fields.Integer(load_default=50, validate=ma.validate.Range(min=1, max=200))


class QueuePageSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(QueueItemSchema))
    next_cursor = ma.fields.String(allow_none=True)


class ClaimInSchema(StrictSchema):
    n = ma.fields.Integer(strict=True, load_default=10, validate=ma.validate.Range(min=1, max=100))
    site = ma.fields.String()


class ClaimOutSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(QueueItemSchema))
    lease_seconds = ma.fields.Integer()


class IdsSchema(StrictSchema):
    ids = ma.fields.List(
        ma.fields.String(), required=True, validate=ma.validate.Length(min=1, max=200)
    )


class HeldIdsSchema(ma.Schema):
    ids = ma.fields.List(ma.fields.String(), metadata={"description": "ids you still hold"})


class DecisionSchema(StrictSchema):
    action = ma.fields.Enum(Action, by_value=True, required=True)
    version = ma.fields.Integer(
        strict=True,
        required=True,
        metadata={"description": "the version the moderator saw; a stale one gets 409"},
    )
    reason = ma.fields.Enum(RejectReason, by_value=True, allow_none=True)
    note = ma.fields.String(validate=ma.validate.Length(max=2000), allow_none=True)


class BulkDecisionItemSchema(DecisionSchema):
    id = ma.fields.String(required=True)

    @ma.post_load
    def make(self, data: dict[str, Any], **_: Any) -> DecisionIn:
        return DecisionIn(comment_id=data.pop("id"), **data)


class BulkDecisionsSchema(StrictSchema):
    decisions = ma.fields.List(
        ma.fields.Nested(BulkDecisionItemSchema),
        required=True,
        validate=ma.validate.Length(min=1, max=200),
    )


class BulkResultSchema(ma.Schema):
    id = ma.fields.String()
    status = ma.fields.Integer(metadata={"description": "200, or the error status for this one"})
    message = ma.fields.String()
    comment = ma.fields.Nested(QueueItemSchema)


class BulkResultsSchema(ma.Schema):
    results = ma.fields.List(ma.fields.Nested(BulkResultSchema))


class AuditEntrySchema(ma.Schema):
    id = ma.fields.Integer()
    site_id = ma.fields.String(allow_none=True)
    comment_id = ma.fields.String(allow_none=True)
    actor = ma.fields.String()
    action = ma.fields.String()
    before = ma.fields.Raw(allow_none=True)
    after = ma.fields.Raw(allow_none=True)
    created_at = ma.fields.DateTime()


class AuditListSchema(ma.Schema):
    entries = ma.fields.List(ma.fields.Nested(AuditEntrySchema))


def _threshold_map(value: dict[str, Any]) -> None:
    unknown = set(value) - set(CATEGORIES)
    if unknown:
        raise ma.ValidationError(
            f"Unknown categories: {sorted(unknown)}; known: {list(CATEGORIES)}."
        )


def _language_map(value: dict[str, Any]) -> None:
    # The languages a model of this deployment reads (besides English): the defaults' list.
    from api.services import services

    served = sorted(services().store.default_policy.languages)
    unknown = sorted(set(value) - set(served))
    if unknown:
        raise ma.ValidationError(
            f"No model here reads {unknown}; it reads {served} besides English. "
            "Every other language follows other_languages."
        )


class LanguageRuleSchema(StrictSchema):
    action = ma.fields.Enum(
        LanguageAction,
        by_value=True,
        metadata={
            "description": (
                "score: decide on the model's scores and this language's thresholds; "
                "hold: hold every comment in it (language_unsupported); "
                "approve: no threshold applies (words, links, pre-moderation still do)"
            )
        },
    )
    thresholds = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.Float(validate=ma.validate.Range(0, 1)),
        validate=_threshold_map,
        metadata={"description": "this language's thresholds (default: calibrated for it)"},
    )


class PolicySchema(StrictSchema):
    thresholds = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.Float(validate=ma.validate.Range(0, 1)),
        validate=_threshold_map,
        metadata={"description": "hold when a category's score is at or above its threshold"},
    )
    blocked_words = ma.fields.List(
        ma.fields.String(validate=ma.validate.Length(min=1, max=100)),
        validate=ma.validate.Length(max=5000),
    )
    suspect_words = ma.fields.List(
        ma.fields.String(validate=ma.validate.Length(min=1, max=100)),
        validate=ma.validate.Length(max=5000),
    )
    max_links = ma.fields.Integer(strict=True, allow_none=True, validate=ma.validate.Range(min=0))
    premoderation = StrictBoolean()
    other_languages = ma.fields.Enum(
        LanguageAction,
        by_value=True,
        metadata={
            "description": (
                "languages no model here reads (e.g. nl, ru): hold (default), score them "
                "with the English model and thresholds, or approve"
            )
        },
    )
    languages = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.Nested(LanguageRuleSchema),
        validate=_language_map,
        metadata={
            "description": (
                "one rule per language a model here reads besides English (its keys are "
                "that list, ISO 639-1); fields left out keep their value"
            )
        },
    )
    report_threshold = ma.fields.Float(
        validate=ma.validate.Range(min=0.25, max=1000),
        metadata={
            "description": (
                "readers' reports put a comment in the queue once their weights add up to this "
                "(a new reporter's report weighs 1)"
            )
        },
    )
    hide_on_reports = StrictBoolean(
        metadata={"description": "also hold a comment its reports put in the queue"}
    )


_POLICY_FIELDS = frozenset(PolicySchema().fields)


@dataclass(frozen=True)
class PolicyUpdate:
    """A PUT of the live policy: the changed fields and what the caller read."""

    changes: dict[str, Any]
    policy_version: int | None = None
    shadow_policy: dict[str, Any] | None = None
    has_shadow_policy: bool = False


class PolicyUpdateSchema(PolicySchema):
    """The policy fields themselves, or the document GET answers, sent back (changed or not)."""

    policy = ma.fields.Nested(
        PolicySchema,
        metadata={"description": "the policy as GET answers it; instead of the fields above"},
    )
    policy_version = ma.fields.Integer(
        strict=True,
        validate=ma.validate.Range(min=1),
        metadata={"description": "the version you read; if the policy changed since, 409"},
    )
    shadow_policy = ma.fields.Nested(
        PolicySchema,
        allow_none=True,
        metadata={"description": "as GET answers it, unchanged (PUT .../policy/shadow sets it)"},
    )

    @ma.validates_schema
    def _one_shape(self, data: dict[str, Any], **_: Any) -> None:
        both = sorted(_POLICY_FIELDS & set(data)) if "policy" in data else []
        if both:
            message = "Send the policy's fields inside 'policy' or at the top level, not both."
            raise ma.ValidationError({name: [message] for name in both})

    @ma.post_load
    def make(self, data: dict[str, Any], **_: Any) -> PolicyUpdate:
        changes = data.get("policy", {k: v for k, v in data.items() if k in _POLICY_FIELDS})
        return PolicyUpdate(
            changes=changes,
            policy_version=data.get("policy_version"),
            shadow_policy=data.get("shadow_policy"),
            has_shadow_policy="shadow_policy" in data,
        )


class SimulateInSchema(StrictSchema):
    policy = ma.fields.Nested(PolicySchema, required=True)
    since = ma.fields.AwareDateTime(default_timezone=UTC, allow_none=True)
    until = ma.fields.AwareDateTime(default_timezone=UTC, allow_none=True)
    target_precision = ma.fields.Float(
        validate=ma.validate.Range(0, 1),
        allow_none=True,
        metadata={"description": "suggest thresholds for this precision; or target_recall"},
    )
    target_recall = ma.fields.Float(
        validate=ma.validate.Range(0, 1),
        allow_none=True,
        metadata={"description": "suggest thresholds for this recall; or target_precision"},
    )

    @ma.validates_schema
    def _one_target(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("target_precision") is not None and data.get("target_recall") is not None:
            message = "Give target_precision or target_recall, not both."
            raise ma.ValidationError({"target_precision": [message], "target_recall": [message]})


class WindowArgsSchema(QueryArgsSchema):
    since = ma.fields.AwareDateTime(default_timezone=UTC)
    until = ma.fields.AwareDateTime(default_timezone=UTC)


class WebhookInSchema(StrictSchema):
    url = ma.fields.Url(allow_none=True, require_tld=False, schemes={"http", "https"})
    rotate_secret = StrictBoolean(load_default=False)


class DeliveryAttemptSchema(ma.Schema):
    attempted_at = UtcDateTime()
    status_code = ma.fields.Integer(allow_none=True)
    error = ma.fields.String(allow_none=True)
    duration_ms = ma.fields.Float()


class DeliverySchema(ma.Schema):
    id = ma.fields.String()
    event = ma.fields.String()
    comment_id = ma.fields.String(allow_none=True)
    created_at = UtcDateTime()
    delivered_at = UtcDateTime(allow_none=True)
    attempts = ma.fields.Integer()
    next_attempt_at = UtcDateTime()
    last_error = ma.fields.String(allow_none=True)
    history = ma.fields.List(ma.fields.Nested(DeliveryAttemptSchema))


class WebhookOutSchema(ma.Schema):
    url = ma.fields.String(allow_none=True)
    secret = ma.fields.String(metadata={"description": "verify X-Moderation-Signature with it"})
    deliveries = ma.fields.List(ma.fields.Nested(DeliverySchema))


class ExportedAuthorSchema(ma.Schema):
    id = ma.fields.String(allow_none=True)
    name = ma.fields.String(allow_none=True)
    email_hash = ma.fields.String(allow_none=True)
    ip = ma.fields.String(
        allow_none=True, metadata={"description": "as stored: truncated to its network, or hashed"}
    )


class ExportedCommentSchema(CommentSchema):
    """A comment with everything kept about it, its author's e-mail hash and address included."""

    site_id = ma.fields.String(dump_only=True)
    author = ma.fields.Nested(ExportedAuthorSchema, dump_only=True)
    decision_reason = ma.fields.String(dump_only=True, allow_none=True)
    decision_note = ma.fields.String(dump_only=True, allow_none=True)
    decided_at = UtcDateTime(dump_only=True, allow_none=True)

    @ma.pre_dump
    def _with_email_hash(self, comment: StoredComment, **_: Any) -> dict[str, Any]:
        data = dataclasses.asdict(comment)
        data["author"] = {**data["author"], "email_hash": comment.author_email_hash}
        return data


class WebhookEventSchema(ma.Schema):
    id = ma.fields.String()
    event = ma.fields.String()
    payload = ma.fields.Raw()
    created_at = UtcDateTime()
    delivered_at = UtcDateTime(allow_none=True)
    attempts = ma.fields.Integer()


class LabelSchema(ma.Schema):
    comment_id = ma.fields.String(allow_none=True)
    text = ma.fields.String()
    attribute = ma.fields.String()
    score = ma.fields.Float()
    source = ma.fields.String()
    created_at = UtcDateTime()


class AuthorExportSchema(ma.Schema):
    site_id = ma.fields.String()
    author_id = ma.fields.String()
    exported_at = UtcDateTime()
    comments = ma.fields.List(ma.fields.Nested(ExportedCommentSchema))
    audit = ma.fields.List(
        ma.fields.Nested(AuditEntrySchema),
        metadata={"description": "what happened to these comments, and who did it"},
    )
    webhook_events = ma.fields.List(ma.fields.Nested(WebhookEventSchema))
    feedback = ma.fields.List(
        ma.fields.Nested(LabelSchema), metadata={"description": "labels given on these comments"}
    )
    revisions = ma.fields.List(
        ma.fields.Nested(RevisionSchema),
        metadata={"description": "earlier texts of these comments"},
    )
    reports = ma.fields.List(
        ma.fields.Nested(ReportSchema), metadata={"description": "reports the author made"}
    )
    author_actions = ma.fields.List(
        ma.fields.Nested(AuthorActionSchema),
        metadata={"description": "moderators' actions on the author"},
    )


class ErasureSchema(ma.Schema):
    author_id = ma.fields.String()
    comments = ma.fields.Integer(metadata={"description": "comments erased"})
    labels = ma.fields.Integer(metadata={"description": "labels on them erased"})
    audit_entries_scrubbed = ma.fields.Integer(
        metadata={"description": "audit entries that lost a moderator's note (decisions kept)"}
    )
    webhook_events_scrubbed = ma.fields.Integer()
    revisions = ma.fields.Integer(metadata={"description": "earlier texts of their comments"})
    reports = ma.fields.Integer(
        metadata={"description": "reports they made, and reports on their comments"}
    )
    author_actions = ma.fields.Integer(metadata={"description": "moderators' actions on them"})


class AuthorActionInSchema(StrictSchema):
    action = ma.fields.Enum(AuthorAction, by_value=True, required=True)
    note = ma.fields.String(
        required=True,
        validate=ma.validate.Length(min=1, max=2000),
        metadata={"description": "why, for the other moderators"},
    )
    expires_at = UtcDateTime(
        allow_none=True,
        metadata={"description": "when it ends (in the future); null or absent: until cleared"},
    )

    @ma.post_load
    def make(self, data: dict[str, Any], **_: Any) -> NewAuthorAction:
        return NewAuthorAction(**data)


class AuthorProfileSchema(ma.Schema):
    site_id = ma.fields.String()
    author_id = ma.fields.String()
    standing = ma.fields.Nested(
        AuthorActionSchema,
        allow_none=True,
        metadata={"description": "the action in force: the newest, unless cleared or expired"},
    )
    actions = ma.fields.List(
        ma.fields.Nested(AuthorActionSchema), metadata={"description": "every action, oldest first"}
    )
    comments = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.Integer(),
        metadata={"description": "how many of their comments are approved, held, rejected..."},
    )


def _days(description: str) -> ma.fields.Integer:
    return ma.fields.Integer(
        strict=True,
        allow_none=True,
        validate=ma.validate.Range(min=1, max=100 * 366),
        metadata={"description": description},
    )


class RetentionSchema(StrictSchema):
    """How long the site keeps things, in days; null keeps them for ever."""

    comment_text_days = _days(
        "days after its decision a comment's text, its author's name, e-mail hash and address, "
        "and notes on it are removed (held comments are kept); labels sent with suggestscore "
        "after the same time"
    )
    webhook_days = _days("days delivered (or given-up) webhook events are kept")


class RetentionOutSchema(RetentionSchema):
    defaults = ma.fields.Nested(
        RetentionSchema, dump_only=True, metadata={"description": "the installation's defaults"}
    )
