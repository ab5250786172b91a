"""Perspective's request and response messages as proto3 JSON schemas, and the requests they load.

Each schema's docstring starts with its description in the discovery document,
and each field's `metadata` holds its description (and, where Google documents
values the schema does not enforce, its `enum`): discovery.py generates the
document from these classes alone.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import marshmallow as ma
from flask import request

from api.perspective.errors import BAD_REQUEST_TYPE, PerspectiveError, invalid_payload
from moderation.integrations import PERSPECTIVE_ATTRIBUTES

TEXT_TYPES = ("TEXT_TYPE_UNSPECIFIED", "PLAIN_TEXT", "HTML")
# Google's score types; only PROBABILITY (or none) may be requested from this service.
SCORE_TYPES = ("SCORE_TYPE_UNSPECIFIED", "PROBABILITY", "STD_DEV_SCORE", "PERCENTILE", "RAW")
REQUESTABLE_SCORE_TYPES = frozenset({"PROBABILITY", "SCORE_TYPE_UNSPECIFIED"})


def _about(description: str) -> dict[str, Any]:
    return {"description": description}


class ProtoSchema(ma.Schema):
    """Proto3 JSON: each field in lowerCamelCase or its snake_case proto name; null means unset."""

    class Meta:
        unknown = ma.RAISE

    @ma.pre_load
    def _proto_names(self, data: Any, **_: Any) -> Any:
        if not isinstance(data, Mapping):
            return data
        camel = {name: f.data_key for name, f in self.load_fields.items() if f.data_key}
        return {camel.get(k, k): v for k, v in data.items()}


@dataclass(frozen=True)
class TextEntry:
    text: str | None = None
    type: str | None = None


@dataclass(frozen=True)
class RequestedAttribute:
    key: str
    score_type: str | None
    score_threshold: float | None


@dataclass(frozen=True)
class AnalyzeRequest:
    comment: TextEntry
    attributes: tuple[RequestedAttribute, ...]
    span_annotations: bool
    languages: tuple[str, ...]
    do_not_store: bool
    client_token: str | None


@dataclass(frozen=True)
class SuggestRequest:
    comment: TextEntry
    scores: tuple[tuple[str, float | None], ...]
    languages: tuple[str, ...]
    client_token: str | None


class TextEntrySchema(ProtoSchema):
    """Represents a body of text."""

    text = ma.fields.String(allow_none=True, metadata=_about("UTF-8 encoded text."))
    type = ma.fields.String(
        allow_none=True,
        validate=ma.validate.OneOf(TEXT_TYPES),
        metadata=_about("Type of the text field."),
    )

    @ma.post_load
    def make(self, data: dict[str, Any], **_: Any) -> TextEntry:
        return TextEntry(**data)


class ScoreSchema(ProtoSchema):
    """Analysis scores are described by a value and a ScoreType."""

    value = ma.fields.Float(allow_none=True, metadata=_about("Score value."))
    type = ma.fields.String(
        allow_none=True,
        metadata={"description": "The type of the above value.", "enum": list(SCORE_TYPES)},
    )


class SpanScoreSchema(ProtoSchema):
    """A score on a span of the text: offsets in UTF-16 code units, end exclusive."""

    begin = ma.fields.Integer(allow_none=True)
    end = ma.fields.Integer(allow_none=True)
    score = ma.fields.Nested(ScoreSchema, allow_none=True)


class AttributeScoresSchema(ProtoSchema):
    """The scores of one attribute: the whole text and its spans."""

    summary_score = ma.fields.Nested(ScoreSchema, data_key="summaryScore", allow_none=True)
    span_scores = ma.fields.List(
        ma.fields.Nested(SpanScoreSchema), data_key="spanScores", allow_none=True
    )


class AttributeParametersSchema(ProtoSchema):
    """Options for one requested attribute."""

    score_type = ma.fields.String(
        data_key="scoreType", allow_none=True, metadata=_about("Only PROBABILITY is supported.")
    )
    score_threshold = ma.fields.Float(
        data_key="scoreThreshold",
        allow_none=True,
        metadata=_about("Scores below this threshold are not returned."),
    )


class ArticleAndParentCommentSchema(ProtoSchema):
    """An article and the comment being replied to."""

    article = ma.fields.Nested(TextEntrySchema, allow_none=True)
    parent_comment = ma.fields.Nested(TextEntrySchema, data_key="parentComment", allow_none=True)


class ContextSchema(ProtoSchema):
    """Accepted and not used.

    Our model scores a comment on its own.
    """

    entries = ma.fields.List(ma.fields.Nested(TextEntrySchema), allow_none=True)
    article_and_parent_comment = ma.fields.Nested(
        ArticleAndParentCommentSchema, data_key="articleAndParentComment", allow_none=True
    )

    @ma.validates_schema
    def _one_of(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("entries") and data.get("article_and_parent_comment"):
            raise ma.ValidationError(
                "Context can have either entries or article_and_parent_comment, but both were set."
            )


class _CommentRequestSchema(ProtoSchema):
    comment = ma.fields.Nested(TextEntrySchema, allow_none=True, metadata=_about("The comment."))
    context = ma.fields.Nested(ContextSchema, allow_none=True)
    languages = ma.fields.List(
        ma.fields.String(),
        allow_none=True,
        metadata=_about(
            "ISO 639-1 codes of the comment's language (en, de, es, fr, it, pt where a "
            "multilingual model is served); the first one a model reads is used. Empty: "
            "the language is detected."
        ),
    )
    client_token = ma.fields.String(
        data_key="clientToken",
        allow_none=True,
        metadata=_about("Opaque token that is echoed from the request to the response."),
    )
    session_id = ma.fields.String(
        data_key="sessionId", allow_none=True, metadata=_about("Accepted and not used.")
    )
    community_id = ma.fields.String(
        data_key="communityId", allow_none=True, metadata=_about("Accepted and not used.")
    )


class AnalyzeCommentRequestSchema(_CommentRequestSchema):
    """The comment analysis request message."""

    requested_attributes = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.Nested(AttributeParametersSchema, allow_none=True),
        data_key="requestedAttributes",
        allow_none=True,
        metadata=_about(
            f"Attributes to score: {', '.join(sorted(PERSPECTIVE_ATTRIBUTES))} "
            "(also NAME@VERSION and NAME_EXPERIMENTAL)."
        ),
    )
    span_annotations = ma.fields.Boolean(data_key="spanAnnotations", allow_none=True)
    do_not_store = ma.fields.Boolean(
        data_key="doNotStore",
        allow_none=True,
        metadata=_about("Do not keep the comment after scoring it."),
    )

    @ma.post_load
    def make(self, data: dict[str, Any], **_: Any) -> AnalyzeRequest:
        attributes = tuple(
            RequestedAttribute(key, (p or {}).get("score_type"), (p or {}).get("score_threshold"))
            for key, p in (data.get("requested_attributes") or {}).items()
        )
        return AnalyzeRequest(
            comment=data.get("comment") or TextEntry(),
            attributes=attributes,
            span_annotations=bool(data.get("span_annotations")),
            languages=tuple(data.get("languages") or ()),
            do_not_store=bool(data.get("do_not_store")),
            client_token=data.get("client_token"),
        )


class SuggestCommentScoreRequestSchema(_CommentRequestSchema):
    """Scores suggested for a comment: stored as labels for the site's operators."""

    attribute_scores = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.Nested(AttributeScoresSchema, allow_none=True),
        data_key="attributeScores",
        allow_none=True,
    )

    @ma.post_load
    def make(self, data: dict[str, Any], **_: Any) -> SuggestRequest:
        scores = tuple(
            (key, ((s or {}).get("summary_score") or {}).get("value"))
            for key, s in (data.get("attribute_scores") or {}).items()
        )
        return SuggestRequest(
            comment=data.get("comment") or TextEntry(),
            scores=scores,
            languages=tuple(data.get("languages") or ()),
            client_token=data.get("client_token"),
        )


class AnalyzeCommentResponseSchema(ProtoSchema):
    """The comment analysis response message."""

    attribute_scores = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.Nested(AttributeScoresSchema),
        data_key="attributeScores",
    )
    languages = ma.fields.List(
        ma.fields.String(), metadata=_about("The languages requested, else the one detected.")
    )
    detected_languages = ma.fields.List(
        ma.fields.String(),
        data_key="detectedLanguages",
        metadata=_about("The language identified in the comment's text (ISO 639-1)."),
    )
    client_token = ma.fields.String(
        data_key="clientToken",
        metadata=_about("Same token from the original AnalyzeCommentRequest."),
    )


class SuggestCommentScoreResponseSchema(ProtoSchema):
    """The comment score suggestion response message."""

    detected_languages = ma.fields.List(ma.fields.String(), data_key="detectedLanguages")
    requested_languages = ma.fields.List(ma.fields.String(), data_key="requestedLanguages")
    client_token = ma.fields.String(
        data_key="clientToken", metadata=_about("Same token from the original request.")
    )


# The messages of the discovery document, in its order.
MESSAGES: tuple[type[ProtoSchema], ...] = (
    TextEntrySchema,
    ScoreSchema,
    SpanScoreSchema,
    AttributeScoresSchema,
    AttributeParametersSchema,
    ContextSchema,
    ArticleAndParentCommentSchema,
    AnalyzeCommentRequestSchema,
    AnalyzeCommentResponseSchema,
    SuggestCommentScoreRequestSchema,
    SuggestCommentScoreResponseSchema,
)

# Built once: a schema is safe to reuse across requests and threads.
ANALYZE_REQUEST = AnalyzeCommentRequestSchema()
SUGGEST_REQUEST = SuggestCommentScoreRequestSchema()


def load(schema: ma.Schema) -> Any:
    """Parse the body whatever its Content-Type (Google does); empty means `{}`."""
    raw = request.get_data(cache=True)
    try:
        data = json.loads(raw) if raw.strip() else {}
    except (ValueError, UnicodeDecodeError) as exc:
        raise PerspectiveError(
            400,
            "Invalid JSON payload received. Unexpected token.",
            details=[{"@type": BAD_REQUEST_TYPE, "fieldViolations": [{"description": str(exc)}]}],
        ) from exc
    if not isinstance(data, dict):
        raise PerspectiveError(400, "Invalid JSON payload received. Expected an object.")
    try:
        return schema.load(data)
    except ma.ValidationError as exc:
        raise invalid_payload(exc.messages) from exc
