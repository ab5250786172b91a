"""Marshmallow schemas: the API's edge. Unknown fields are rejected; server-set fields are dump-only."""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime
from typing import Any

import marshmallow as ma
from flask import current_app

from moderation.comments import Article, Author, CommentEdit, NewComment, Status
from moderation.reports import NewReport, ReportReason
from moderation.text import is_blank

CATEGORY_DESCRIPTION = "Probability per category: toxicity, severe_toxicity, insult, profanity, threat, identity_attack."


class StrictBoolean(ma.fields.Boolean):
    """JSON true or false only: marshmallow's Boolean also takes 0, 1, "yes", "on"..."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        return value


class UtcDateTime(ma.fields.DateTime):
    """ISO 8601 with its offset: a naive time (SQLite hands stored times back naive) is UTC."""

    def _serialize(self, value: datetime | None, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return super()._serialize(value, attr, obj, **kwargs)


class StrictSchema(ma.Schema):
    class Meta:
        unknown = ma.RAISE


class QueryArgsSchema(StrictSchema):
    """Query-string arguments: unknown names rejected, and each single-valued one given once."""

    @ma.pre_load
    def _each_once(self, data: Any, **_: Any) -> Any:
        # webargs hands a proxy over the request's MultiDict; it would quietly keep the first
        # of two values, and which one the caller meant is a guess.
        raw = getattr(data, "data", data)
        if hasattr(raw, "getlist"):
            repeated = {
                name: ["Given more than once."]
                for name in raw
                if len(raw.getlist(name)) > 1
                and not isinstance(self.fields.get(name), ma.fields.List)
            }
            if repeated:
                raise ma.ValidationError(repeated)
        return data


def _not_blank(value: str) -> None:
    # Blank as the model would see it: zero-width and other invisible characters count as
    # nothing, so the documented pattern `\S` lets through a few texts this refuses.
    if is_blank(value):
        raise ma.ValidationError("The comment text is empty.")


def _ip_address(value: str) -> None:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        raise ma.ValidationError("Not an IPv4 or IPv6 address.") from None


def _within_limit(value: str) -> None:
    limit = current_app.config["MAX_COMMENT_CHARS"]
    if len(value) > limit:
        raise ma.ValidationError(f"The comment is {len(value)} characters; the limit is {limit}.")


class AuthorSchema(StrictSchema):
    id = ma.fields.String(validate=ma.validate.Length(max=200), allow_none=True)
    name = ma.fields.String(validate=ma.validate.Length(max=200), allow_none=True)
    email = ma.fields.Email(
        load_only=True, allow_none=True, metadata={"description": "stored only as a keyed hash"}
    )
    ip = ma.fields.String(
        validate=[ma.validate.Length(max=64), _ip_address],
        allow_none=True,
        metadata={"description": "the reader's IPv4 or IPv6 address as the site saw it"},
    )

    @ma.post_load
    def make(self, data: dict[str, Any], **_: Any) -> Author:
        return Author(**data)


class ArticleSchema(StrictSchema):
    id = ma.fields.String(validate=ma.validate.Length(max=200), allow_none=True)
    url = ma.fields.String(validate=ma.validate.Length(max=2000), allow_none=True)
    title = ma.fields.String(validate=ma.validate.Length(max=500), allow_none=True)

    @ma.post_load
    def make(self, data: dict[str, Any], **_: Any) -> Article:
        return Article(**data)


class CommentInSchema(StrictSchema):
    text = ma.fields.String(
        required=True,
        # Empty and blank text get one message (from _not_blank, not also from a Length);
        # the limit is MAX_COMMENT_CHARS, documented at its default.
        validate=[_not_blank, _within_limit],
        metadata={
            "description": "the comment as the reader typed it",
            "pattern": r"\S",
            "minLength": 1,
            "maxLength": 20_000,
        },
    )
    author = ma.fields.Nested(AuthorSchema, load_default=Author)
    article = ma.fields.Nested(ArticleSchema, load_default=Article)
    parent_id = ma.fields.String(validate=ma.validate.Length(max=200), allow_none=True)
    external_id = ma.fields.String(
        validate=ma.validate.Length(min=1, max=200),
        allow_none=True,
        metadata={"description": "the site's own id; posting it again returns the stored result"},
    )

    @ma.post_load
    def make(self, data: dict[str, Any], **_: Any) -> NewComment:
        return NewComment(**data)


class BatchInSchema(StrictSchema):
    comments = ma.fields.List(
        ma.fields.Nested(CommentInSchema), required=True, validate=ma.validate.Length(min=1)
    )

    @ma.validates("comments")
    def _limit(self, value: list[Any], **_: Any) -> None:
        limit = current_app.config["BATCH_LIMIT"]
        if len(value) > limit:
            raise ma.ValidationError(f"At most {limit} comments per batch; got {len(value)}.")


class SpanSchema(ma.Schema):
    begin = ma.fields.Integer(metadata={"description": "offset of the first character"})
    end = ma.fields.Integer(metadata={"description": "offset after the last character"})
    scores = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Float())


class ReasonSchema(ma.Schema):
    code = ma.fields.String(
        metadata={
            "description": (
                "category | blocked_word | suspect_word | too_many_links | premoderation | "
                "language_unsupported | scoring_unavailable | reported | author_banned | "
                "author_premoderated"
            )
        }
    )
    category = ma.fields.String()
    score = ma.fields.Float()
    threshold = ma.fields.Float()
    word = ma.fields.String()
    begin = ma.fields.Integer()
    end = ma.fields.Integer()
    count = ma.fields.Integer()
    limit = ma.fields.Integer()
    language = ma.fields.String()

    @ma.post_dump
    def _drop_empty(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        return {k: v for k, v in data.items() if v is not None}


class ModelInfoSchema(ma.Schema):
    name = ma.fields.String()
    version = ma.fields.String()


class ArticleOutSchema(ma.Schema):
    id = ma.fields.String(allow_none=True)
    url = ma.fields.String(allow_none=True)
    title = ma.fields.String(allow_none=True)


class AuthorOutSchema(ma.Schema):
    id = ma.fields.String(allow_none=True)
    name = ma.fields.String(allow_none=True)


class CommentSchema(ma.Schema):
    id = ma.fields.String(dump_only=True)
    external_id = ma.fields.String(dump_only=True, allow_none=True)
    status = ma.fields.Enum(
        Status,
        by_value=True,
        dump_only=True,
        metadata={"description": "approved | held | rejected | withdrawn"},
    )
    text = ma.fields.String(dump_only=True)
    scores = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.Float(),
        dump_only=True,
        metadata={"description": CATEGORY_DESCRIPTION},
    )
    reasons = ma.fields.List(ma.fields.Nested(ReasonSchema), dump_only=True)
    spans = ma.fields.List(ma.fields.Nested(SpanSchema), dump_only=True)
    model = ma.fields.Nested(ModelInfoSchema, dump_only=True, allow_none=True)
    language = ma.fields.String(dump_only=True, allow_none=True)
    author = ma.fields.Nested(AuthorOutSchema, dump_only=True)
    article = ma.fields.Nested(ArticleOutSchema, dump_only=True)
    parent_id = ma.fields.String(dump_only=True, allow_none=True)
    scoring_state = ma.fields.String(dump_only=True, metadata={"description": "scored | pending"})
    decided_by = ma.fields.String(dump_only=True)
    version = ma.fields.Integer(dump_only=True)
    created_at = ma.fields.DateTime(dump_only=True)
    updated_at = ma.fields.DateTime(dump_only=True)
    redacted_at = ma.fields.DateTime(
        dump_only=True,
        allow_none=True,
        metadata={"description": "when retention removed the text and the author's data"},
    )
    edited_at = ma.fields.DateTime(
        dump_only=True, allow_none=True, metadata={"description": "when the author last edited"}
    )


class BatchItemSchema(ma.Schema):
    created = ma.fields.Boolean(
        metadata={"description": "false when external_id was already stored"}
    )
    comment = ma.fields.Nested(CommentSchema)


class BatchOutSchema(ma.Schema):
    results = ma.fields.List(ma.fields.Nested(BatchItemSchema))


class ReportInSchema(StrictSchema):
    reporter_id = ma.fields.String(
        required=True,
        validate=ma.validate.Length(min=1, max=200),
        metadata={"description": "the reporting reader's id on the site (as author.id)"},
    )
    reason = ma.fields.Enum(ReportReason, by_value=True, required=True)
    note = ma.fields.String(validate=ma.validate.Length(max=2000), allow_none=True)

    @ma.post_load
    def make(self, data: dict[str, Any], **_: Any) -> NewReport:
        return NewReport(**data)


class ReportSummarySchema(ma.Schema):
    count = ma.fields.Integer(metadata={"description": "reports since a moderator last decided"})
    weight = ma.fields.Float(
        metadata={"description": "their weights added up; compared with report_threshold"}
    )
    reasons = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer())


class ReportSchema(ma.Schema):
    id = ma.fields.Integer(dump_only=True)
    comment_id = ma.fields.String(dump_only=True)
    reporter_id = ma.fields.String(dump_only=True)
    reason = ma.fields.Enum(ReportReason, by_value=True, dump_only=True)
    note = ma.fields.String(dump_only=True, allow_none=True)
    weight = ma.fields.Float(
        dump_only=True, metadata={"description": "what this report counts for (reporter weighting)"}
    )
    created_at = UtcDateTime(dump_only=True)


class ReportedSchema(ma.Schema):
    report = ma.fields.Nested(ReportSchema, dump_only=True)
    reports = ma.fields.Nested(ReportSummarySchema, dump_only=True)
    status = ma.fields.Enum(Status, by_value=True, dump_only=True)
    queued = ma.fields.Boolean(
        dump_only=True, metadata={"description": "whether the reports put it in the queue"}
    )


class CommentEditSchema(StrictSchema):
    text = ma.fields.String(
        required=True,
        validate=[_not_blank, _within_limit],
        metadata={
            "description": "the new text",
            "pattern": r"\S",
            "minLength": 1,
            "maxLength": 20_000,
        },
    )
    version = ma.fields.Integer(
        strict=True,
        required=True,
        validate=ma.validate.Range(min=1),
        metadata={"description": "the version the author edited; a stale one gets 409"},
    )

    @ma.post_load
    def make(self, data: dict[str, Any], **_: Any) -> CommentEdit:
        return CommentEdit(**data)
