"""Perspective API's AnalyzeComment and SuggestCommentScore, so its clients need only a new URL.

Google's protocol, not ours: the key comes as `?key=` (or `X-Goog-Api-Key`),
fields in lowerCamelCase or their proto snake_case names, unknown fields
rejected as Google does, and every error in Google's shape
`{"error": {"code", "message", "status", "details"}}`. Google's standard
query parameters (`alt`, `prettyPrint`, `fields`, `quotaUser`, ...) are
accepted and ignored. A discovery document at `/$discovery/rest` lets
google-api-python-client build a client against this host.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import marshmallow as ma
from flask import Blueprint, Response, current_app, jsonify, request
from flask.typing import ResponseReturnValue
from sqlalchemy import exc as sa_exc
from werkzeug.exceptions import HTTPException

from api.auth import request_key
from api.limits import retry_after
from api.services import services
from moderation.comments import NewComment, Span
from moderation.integrations import (
    MAX_PERSPECTIVE_BYTES,
    PERSPECTIVE_ATTRIBUTES,
    Attribute,
    english,
    html_to_text,
    resolve_attribute,
    utf16_index,
)
from moderation.policy import OtherLanguages
from moderation.sites import Site
from moderation.text import is_blank

blp = Blueprint("perspective", __name__)

ERROR_TYPE = "type.googleapis.com/google.commentanalyzer.v1alpha1.Error"
BAD_REQUEST_TYPE = "type.googleapis.com/google.rpc.BadRequest"
ERROR_INFO_TYPE = "type.googleapis.com/google.rpc.ErrorInfo"
SERVICE = "commentanalyzer.googleapis.com"
SCORE_TYPES = frozenset({"PROBABILITY", "SCORE_TYPE_UNSPECIFIED"})
FEEDBACK_SOURCE = "perspective"

# Canonical gRPC status names, as Google's JSON errors spell them.
STATUS = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    405: "UNIMPLEMENTED",
    409: "ABORTED",
    413: "INVALID_ARGUMENT",
    415: "INVALID_ARGUMENT",
    422: "INVALID_ARGUMENT",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    501: "UNIMPLEMENTED",
    503: "UNAVAILABLE",
}


class PerspectiveError(Exception):
    """An error to answer in Google's shape, with Perspective's `errorType` where it has one."""

    def __init__(
        self,
        code: int,
        message: str,
        error_type: str | None = None,
        *,
        extra: Mapping[str, Any] | None = None,
        details: Sequence[Mapping[str, Any]] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = list(details or [])
        if error_type is not None:
            self.details.append({"@type": ERROR_TYPE, "errorType": error_type, **(extra or {})})
        self.headers = dict(headers or {})


def google_error(
    code: int,
    message: str,
    details: Sequence[Mapping[str, Any]] = (),
    headers: Mapping[str, str] | None = None,
) -> Response:
    """Google's error body: code, message, status, and details when there are any."""
    error: dict[str, Any] = {
        "code": code,
        "message": message,
        "status": STATUS.get(code, "UNKNOWN"),
    }
    if details:
        error["details"] = list(details)
    response = jsonify({"error": error})
    response.status_code = code
    response.headers.update(headers or {})
    return response


@blp.errorhandler(PerspectiveError)
def _perspective_error(exc: PerspectiveError) -> ResponseReturnValue:
    return google_error(exc.code, exc.message, exc.details, exc.headers)


def _http_error(exc: HTTPException) -> ResponseReturnValue:
    code = exc.code or 500
    if code == 429:
        seconds = retry_after()
        return google_error(
            429,
            f"Quota exceeded for this API key: {exc.description}. Retry in {seconds} s.",
            headers={"Retry-After": str(seconds)},
        )
    if code == 413:
        limit = current_app.config["MAX_CONTENT_LENGTH"]
        return google_error(413, f"Request payload size exceeds the limit: {limit} bytes.")
    if code == 422:
        # What api.inbound refuses before the view runs (text no database can store),
        # in Google's words: a 400 naming each field.
        data = getattr(exc, "data", None) or {}
        located = data.get("messages") or {}
        return _perspective_error(
            _invalid_payload({k: v for where in located.values() for k, v in where.items()})
        )
    if code == 503:
        unavailable = "The service is currently unavailable."
        return google_error(503, unavailable, headers={"Retry-After": "5"})
    if code >= 500:
        return google_error(500, "Internal error encountered.")
    return google_error(code, exc.description or exc.name)


# Registered per code as well as per class: an app-wide handler for one code
# would otherwise win over a blueprint's class handler (Flask looks codes up first).
for _code in (400, 404, 405, 413, 415, 422, 429, 500, 503):
    blp.register_error_handler(_code, _http_error)
blp.register_error_handler(HTTPException, _http_error)


@blp.errorhandler(sa_exc.OperationalError)
@blp.errorhandler(sa_exc.InterfaceError)
@blp.errorhandler(sa_exc.TimeoutError)
def _database_unavailable(exc: Exception) -> ResponseReturnValue:
    # As for /v1: nothing was committed, so the client may retry.
    current_app.logger.warning("database unavailable: %s", type(exc).__name__)
    return google_error(503, "The service is currently unavailable.", headers={"Retry-After": "5"})


@blp.errorhandler(Exception)
def _unexpected(exc: Exception) -> ResponseReturnValue:
    current_app.logger.exception("unhandled error in the Perspective endpoints")
    return google_error(500, "Internal error encountered.")


# -- request bodies -----------------------------------------------------------


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
    text = ma.fields.String(allow_none=True)
    type = ma.fields.String(
        allow_none=True,
        validate=ma.validate.OneOf(["TEXT_TYPE_UNSPECIFIED", "PLAIN_TEXT", "HTML"]),
    )

    @ma.post_load
    def make(self, data: dict[str, Any], **_: Any) -> TextEntry:
        return TextEntry(**data)


class ArticleAndParentCommentSchema(ProtoSchema):
    article = ma.fields.Nested(TextEntrySchema, allow_none=True)
    parent_comment = ma.fields.Nested(TextEntrySchema, data_key="parentComment", allow_none=True)


class ContextSchema(ProtoSchema):
    """Accepted and not used: our model scores a comment on its own."""

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


class AttributeParametersSchema(ProtoSchema):
    score_type = ma.fields.String(data_key="scoreType", allow_none=True)
    score_threshold = ma.fields.Float(data_key="scoreThreshold", allow_none=True)


class ScoreSchema(ProtoSchema):
    value = ma.fields.Float(allow_none=True)
    type = ma.fields.String(allow_none=True)


class SpanScoreSchema(ProtoSchema):
    begin = ma.fields.Integer(allow_none=True)
    end = ma.fields.Integer(allow_none=True)
    score = ma.fields.Nested(ScoreSchema, allow_none=True)


class AttributeScoresSchema(ProtoSchema):
    summary_score = ma.fields.Nested(ScoreSchema, data_key="summaryScore", allow_none=True)
    span_scores = ma.fields.List(
        ma.fields.Nested(SpanScoreSchema), data_key="spanScores", allow_none=True
    )


class _CommentRequestSchema(ProtoSchema):
    comment = ma.fields.Nested(TextEntrySchema, allow_none=True)
    context = ma.fields.Nested(ContextSchema, allow_none=True)
    languages = ma.fields.List(ma.fields.String(), allow_none=True)
    client_token = ma.fields.String(data_key="clientToken", allow_none=True)
    session_id = ma.fields.String(data_key="sessionId", allow_none=True)
    community_id = ma.fields.String(data_key="communityId", allow_none=True)


class AnalyzeCommentRequestSchema(_CommentRequestSchema):
    requested_attributes = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.Nested(AttributeParametersSchema, allow_none=True),
        data_key="requestedAttributes",
        allow_none=True,
    )
    span_annotations = ma.fields.Boolean(data_key="spanAnnotations", allow_none=True)
    do_not_store = ma.fields.Boolean(data_key="doNotStore", allow_none=True)

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


# Built once: a schema is safe to reuse across requests and threads.
_ANALYZE_REQUEST = AnalyzeCommentRequestSchema()
_SUGGEST_REQUEST = SuggestCommentScoreRequestSchema()


def _violations(messages: Any, path: str = "") -> list[tuple[str, str]]:
    """Flatten marshmallow's nested messages into (field path, message) pairs."""
    if isinstance(messages, list):
        return [(path, str(m)) for m in messages if not isinstance(m, dict | list)] + [
            v for m in messages if isinstance(m, dict | list) for v in _violations(m, path)
        ]
    out: list[tuple[str, str]] = []
    for key, sub in messages.items():
        if key == "_schema":
            out += _violations(sub, path)
        elif key == "value" and isinstance(sub, dict):
            out += _violations(sub, path)  # a map entry's value: its fields sit under the key
        else:
            out += _violations(sub, f"{path}.{key}" if path else str(key))
    return out


def _invalid_payload(messages: Any) -> PerspectiveError:
    violations = _violations(messages)
    lines = []
    for field, message in violations:
        parent, _, name = field.rpartition(".")
        if message == "Unknown field.":
            where = f" at '{parent}'" if parent else ""
            lines.append(
                f'Invalid JSON payload received. Unknown name "{name}"{where}: Cannot find field.'
            )
        elif field:
            lines.append(f"Invalid value at '{field}': {message}")
        else:
            lines.append(message)
    return PerspectiveError(
        400,
        "\n".join(lines) or "Invalid JSON payload received.",
        details=[
            {
                "@type": BAD_REQUEST_TYPE,
                "fieldViolations": [{"field": f, "description": m} for f, m in violations],
            }
        ],
    )


def _load(schema: ma.Schema) -> Any:
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
        raise _invalid_payload(exc.messages) from exc


# -- shared checks ------------------------------------------------------------


def _site() -> Site:
    """The site whose API key is in `?key=` (or `X-Goog-Api-Key`), with Google's answers if not."""
    key = request_key()
    if not key:
        raise PerspectiveError(403, "The request is missing a valid API key.")
    site = services().store.site_for_key(key)
    if site is None:
        raise PerspectiveError(
            400,
            "API key not valid. Please pass a valid API key.",
            details=[
                {
                    "@type": ERROR_INFO_TYPE,
                    "reason": "API_KEY_INVALID",
                    "domain": "googleapis.com",
                    "metadata": {"service": SERVICE},
                }
            ],
        )
    return site


def _text(comment: TextEntry) -> str:
    """The comment's text (tags stripped for HTML), or COMMENT_EMPTY / COMMENT_TOO_LONG.

    Perspective's own limit applies here, 20,480 bytes of UTF-8, rather than
    MAX_COMMENT_CHARS: clients written against Google's limit must keep working.
    """
    raw = comment.text or ""
    size = len(raw.encode("utf-8"))  # api.inbound refused lone surrogates before the view ran
    if size > MAX_PERSPECTIVE_BYTES:
        raise PerspectiveError(
            400,
            f"Comment text too long. The limit is {MAX_PERSPECTIVE_BYTES} bytes of UTF-8; "
            f"this one has {size}.",
            "COMMENT_TOO_LONG",
        )
    text = html_to_text(raw) if comment.type == "HTML" else raw
    if is_blank(text):
        raise PerspectiveError(400, "Comment must be non-empty.", "COMMENT_EMPTY")
    return text


def _attribute(key: str, languages: Sequence[str]) -> Attribute:
    attribute = resolve_attribute(key)
    if attribute is None:
        langs = ", ".join(languages) or "en"
        raise PerspectiveError(400, f"Attribute {key} does not exist in languages: {langs}.")
    return attribute


def _language_check(site: Site, text: str, requested: Sequence[str], attribute: str) -> str | None:
    """The detected language; English only, as our model is (a hold-policy site refuses others)."""
    detected = services().service.detect_language(text)[0]
    if requested:
        if not any(english(lang) for lang in requested):
            raise _unsupported_language(attribute, "requestedLanguages", list(requested))
    elif detected not in ("en", "und") and site.policy.other_languages is OtherLanguages.HOLD:
        raise _unsupported_language(attribute, "detectedLanguages", [detected])
    return None if detected == "und" else detected


def _unsupported_language(attribute: str, field: str, languages: list[str]) -> PerspectiveError:
    return PerspectiveError(
        400,
        f"Attribute {attribute} does not support request languages: {', '.join(languages)}",
        "LANGUAGE_NOT_SUPPORTED_BY_ATTRIBUTE",
        extra={"languageNotSupportedByAttributeError": {field: languages, "attribute": attribute}},
    )


def _unavailable() -> PerspectiveError:
    return PerspectiveError(
        503, "The service is currently unavailable.", headers={"Retry-After": "30"}
    )


# -- analyze ------------------------------------------------------------------


def _scores_and_spans(
    site: Site, req: AnalyzeRequest, text: str
) -> tuple[Mapping[str, float], tuple[Span, ...]]:
    """Score with doNotStore (nothing kept) or as a stored comment (queued when held)."""
    service = services().service
    scores: Mapping[str, float] | None
    if req.do_not_store:
        analysis = service.analyze(site, text, sentence_spans=req.span_annotations)
        scores = analysis.scores
        spans = analysis.spans
    else:
        stored = service.submit(site, NewComment(text=text)).comment
        scores = stored.scores if stored.scoring_state == "scored" else None
        spans = stored.spans
        if scores is not None and req.span_annotations and len(spans) <= 1:
            spans = service.sentence_spans(text, scores)
    if scores is None:
        raise _unavailable()
    if not req.span_annotations:
        spans = (Span(0, len(text), scores),)
    return scores, spans


def _attribute_scores(
    attributes: Sequence[tuple[Attribute, float | None]],
    scores: Mapping[str, float],
    spans: Sequence[Span],
    text: str,
) -> dict[str, Any]:
    """Perspective's attributeScores: a summary and span scores, each at or over its threshold."""
    out: dict[str, Any] = {}
    for attribute, threshold in attributes:
        value = scores.get(attribute.category)
        if value is None or (threshold is not None and value < threshold):
            continue
        span_scores = [
            {
                "begin": utf16_index(text, span.begin),
                "end": utf16_index(text, span.end),
                "score": {"value": span.scores[attribute.category], "type": "PROBABILITY"},
            }
            for span in spans
            if attribute.category in span.scores
            and (threshold is None or span.scores[attribute.category] >= threshold)
        ]
        out[attribute.key] = {
            "spanScores": span_scores,
            "summaryScore": {"value": value, "type": "PROBABILITY"},
        }
    return out


@blp.post("/v1alpha1/comments:analyze")
def analyze() -> ResponseReturnValue:
    """Score a comment for the requested attributes (AnalyzeComment)."""
    site = _site()
    req: AnalyzeRequest = _load(_ANALYZE_REQUEST)
    text = _text(req.comment)
    if not req.attributes:
        raise PerspectiveError(400, "Missing requested_attributes.", "NO_REQUESTED_ATTRIBUTES")
    attributes = []
    for a in req.attributes:
        attribute = _attribute(a.key, req.languages)
        if a.score_type is not None and a.score_type not in SCORE_TYPES:
            raise PerspectiveError(
                400,
                f"Requested score type {a.score_type} is not supported by attribute {attribute.name}.",
            )
        attributes.append((attribute, a.score_threshold))
    detected = _language_check(site, text, req.languages, attributes[0][0].name)
    scores, spans = _scores_and_spans(site, req, text)
    body: dict[str, Any] = {}
    attribute_scores = _attribute_scores(attributes, scores, spans, text)
    if attribute_scores:
        body["attributeScores"] = attribute_scores
    body["languages"] = list(req.languages) or [detected or "en"]
    if detected:
        body["detectedLanguages"] = [detected]
    if req.client_token is not None:
        body["clientToken"] = req.client_token
    return jsonify(body)


# -- suggestscore -------------------------------------------------------------


@blp.post("/v1alpha1/comments:suggestscore")
def suggest_score() -> ResponseReturnValue:
    """Record a client's own scores for a comment as labels (SuggestCommentScore)."""
    site = _site()
    req: SuggestRequest = _load(_SUGGEST_REQUEST)
    text = _text(req.comment)
    if not req.scores:
        raise PerspectiveError(400, "Missing attribute_scores.")
    labels = []
    for key, value in req.scores:
        attribute = _attribute(key, req.languages)
        if value is None or not 0.0 <= value <= 1.0:
            raise PerspectiveError(
                400,
                f"attributeScores.{key}.summaryScore.value must be a probability from 0 to 1.",
            )
        labels.append((attribute.name, value))
    for name, value in labels:
        services().store.add_feedback(site.id, text, name, value, FEEDBACK_SOURCE)
    detected = services().service.detect_language(text)[0]
    body: dict[str, Any] = {}
    if detected != "und":
        body["detectedLanguages"] = [detected]
    if req.languages:
        body["requestedLanguages"] = list(req.languages)
    if req.client_token is not None:
        body["clientToken"] = req.client_token
    return jsonify(body)


@blp.route("/v1alpha1/<path:rest>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
def unknown_method(rest: str) -> ResponseReturnValue:
    """Any other path or method under /v1alpha1: Google's 404."""
    raise PerspectiveError(404, "Method not found.")


# -- discovery ----------------------------------------------------------------


def _object(description: str, properties: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "description": description, "properties": properties}


def _str(description: str, **extra: Any) -> dict[str, Any]:
    return {"type": "string", "description": description, **extra}


def _ref(name: str, description: str = "") -> dict[str, Any]:
    return {"$ref": name, "description": description} if description else {"$ref": name}


def _schemas() -> dict[str, Any]:
    text_entry = _object(
        "Represents a body of text.",
        {
            "text": _str("UTF-8 encoded text."),
            "type": _str(
                "Type of the text field.",
                enum=["TEXT_TYPE_UNSPECIFIED", "PLAIN_TEXT", "HTML"],
            ),
        },
    )
    score = _object(
        "Analysis scores are described by a value and a ScoreType.",
        {
            "value": {"type": "number", "format": "float", "description": "Score value."},
            "type": _str(
                "The type of the above value.",
                enum=[
                    "SCORE_TYPE_UNSPECIFIED",
                    "PROBABILITY",
                    "STD_DEV_SCORE",
                    "PERCENTILE",
                    "RAW",
                ],
            ),
        },
    )
    span_score = _object(
        "A score on a span of the text: offsets in UTF-16 code units, end exclusive.",
        {
            "begin": {"type": "integer", "format": "int32"},
            "end": {"type": "integer", "format": "int32"},
            "score": _ref("Score"),
        },
    )
    attribute_scores = _object(
        "The scores of one attribute: the whole text and its spans.",
        {
            "summaryScore": _ref("Score"),
            "spanScores": {"type": "array", "items": _ref("SpanScore")},
        },
    )
    attribute_parameters = _object(
        "Options for one requested attribute.",
        {
            "scoreType": _str("Only PROBABILITY is supported."),
            "scoreThreshold": {
                "type": "number",
                "format": "float",
                "description": "Scores below this threshold are not returned.",
            },
        },
    )
    context = _object(
        "Accepted and not used.",
        {
            "entries": {"type": "array", "items": _ref("TextEntry")},
            "articleAndParentComment": _ref("ArticleAndParentComment"),
        },
    )
    article_and_parent = _object(
        "An article and the comment being replied to.",
        {"article": _ref("TextEntry"), "parentComment": _ref("TextEntry")},
    )
    common = {
        "comment": _ref("TextEntry", "The comment."),
        "context": _ref("Context"),
        "languages": {"type": "array", "items": {"type": "string"}},
        "clientToken": _str("Opaque token that is echoed from the request to the response."),
        "sessionId": _str("Accepted and not used."),
        "communityId": _str("Accepted and not used."),
    }
    attributes = ", ".join(sorted(PERSPECTIVE_ATTRIBUTES))
    return {
        "TextEntry": {"id": "TextEntry", **text_entry},
        "Score": {"id": "Score", **score},
        "SpanScore": {"id": "SpanScore", **span_score},
        "AttributeScores": {"id": "AttributeScores", **attribute_scores},
        "AttributeParameters": {"id": "AttributeParameters", **attribute_parameters},
        "Context": {"id": "Context", **context},
        "ArticleAndParentComment": {"id": "ArticleAndParentComment", **article_and_parent},
        "AnalyzeCommentRequest": {
            "id": "AnalyzeCommentRequest",
            **_object(
                "The comment analysis request message.",
                {
                    **common,
                    "requestedAttributes": {
                        "type": "object",
                        "description": f"Attributes to score: {attributes} "
                        "(also NAME@VERSION and NAME_EXPERIMENTAL).",
                        "additionalProperties": _ref("AttributeParameters"),
                    },
                    "spanAnnotations": {"type": "boolean"},
                    "doNotStore": {
                        "type": "boolean",
                        "description": "Do not keep the comment after scoring it.",
                    },
                },
            ),
        },
        "AnalyzeCommentResponse": {
            "id": "AnalyzeCommentResponse",
            **_object(
                "The comment analysis response message.",
                {
                    "attributeScores": {
                        "type": "object",
                        "additionalProperties": _ref("AttributeScores"),
                    },
                    "languages": {"type": "array", "items": {"type": "string"}},
                    "detectedLanguages": {"type": "array", "items": {"type": "string"}},
                    "clientToken": _str("Same token from the original AnalyzeCommentRequest."),
                },
            ),
        },
        "SuggestCommentScoreRequest": {
            "id": "SuggestCommentScoreRequest",
            **_object(
                "Scores suggested for a comment: stored as labels for the site's operators.",
                {
                    **common,
                    "attributeScores": {
                        "type": "object",
                        "additionalProperties": _ref("AttributeScores"),
                    },
                },
            ),
        },
        "SuggestCommentScoreResponse": {
            "id": "SuggestCommentScoreResponse",
            **_object(
                "The comment score suggestion response message.",
                {
                    "detectedLanguages": {"type": "array", "items": {"type": "string"}},
                    "requestedLanguages": {"type": "array", "items": {"type": "string"}},
                    "clientToken": _str("Same token from the original request."),
                },
            ),
        },
    }


def _method(name: str, description: str, request_schema: str, response: str) -> dict[str, Any]:
    path = f"v1alpha1/comments:{name}"
    return {
        "id": f"commentanalyzer.comments.{name}",
        "path": path,
        "flatPath": path,
        "httpMethod": "POST",
        "description": description,
        "parameters": {},
        "parameterOrder": [],
        "request": _ref(request_schema),
        "response": _ref(response),
    }


def _query(description: str, kind: str = "string", **extra: Any) -> dict[str, Any]:
    return {"type": kind, "description": description, "location": "query", **extra}


def discovery_document(root_url: str) -> dict[str, Any]:
    """The commentanalyzer v1alpha1 discovery document, pointing clients at `root_url`."""
    return {
        "kind": "discovery#restDescription",
        "discoveryVersion": "v1",
        "id": "commentanalyzer:v1alpha1",
        "name": "commentanalyzer",
        "canonicalName": "Comment Analyzer",
        "version": "v1alpha1",
        "revision": "20261128",
        "title": "Perspective Comment Analyzer API (self-hosted comment moderation)",
        "description": "Perspective's AnalyzeComment and SuggestCommentScore, "
        "answered by this service's own model.",
        "protocol": "rest",
        "rootUrl": root_url,
        "mtlsRootUrl": root_url,
        "servicePath": "",
        "baseUrl": root_url,
        "basePath": "/",
        "batchPath": "batch",
        "version_module": True,
        "fullyEncodeReservedExpansion": True,
        "parameters": {
            "key": _query("The site's API key."),
            "access_token": _query("Not used."),
            "alt": _query(
                "Data format for response.",
                enum=["json"],
                enumDescriptions=["JSON"],
                default="json",
            ),
            "callback": _query("Not used."),
            "fields": _query("Not used: responses are always whole."),
            "oauth_token": _query("Not used."),
            "prettyPrint": _query("Not used.", "boolean", default="true"),
            "quotaUser": _query("Not used."),
            "upload_protocol": _query("Not used."),
            "uploadType": _query("Not used."),
            "$.xgafv": _query("Error format.", enum=["1", "2"], enumDescriptions=["v1", "v2"]),
        },
        "resources": {
            "comments": {
                "methods": {
                    "analyze": _method(
                        "analyze",
                        "Analyzes the provided text and returns scores for requested attributes.",
                        "AnalyzeCommentRequest",
                        "AnalyzeCommentResponse",
                    ),
                    "suggestscore": _method(
                        "suggestscore",
                        "Suggest comment scores as training data.",
                        "SuggestCommentScoreRequest",
                        "SuggestCommentScoreResponse",
                    ),
                }
            }
        },
        "schemas": _schemas(),
    }


@blp.get("/$discovery/rest")
def discovery() -> ResponseReturnValue:
    """The discovery document google-api-python-client builds its client from."""
    version = request.args.get("version", "v1alpha1")
    if version != "v1alpha1":
        raise PerspectiveError(404, f"Discovery document not found for API version {version}.")
    return jsonify(discovery_document(request.host_url))
