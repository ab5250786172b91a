"""The Perspective endpoints: AnalyzeComment, SuggestCommentScore and the discovery document."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from flask import Blueprint, jsonify, request
from flask.typing import ResponseReturnValue

from api.auth import request_key
from api.perspective import errors
from api.perspective.discovery import API_VERSION, discovery_document
from api.perspective.errors import ERROR_INFO_TYPE, SERVICE, PerspectiveError
from api.perspective.schemas import (
    ANALYZE_REQUEST,
    REQUESTABLE_SCORE_TYPES,
    SUGGEST_REQUEST,
    AnalyzeRequest,
    SuggestRequest,
    TextEntry,
    load,
)
from api.services import services
from moderation.comments import NewComment, ScoringState, Span
from moderation.integrations import (
    MAX_PERSPECTIVE_BYTES,
    Attribute,
    html_to_text,
    resolve_attribute,
    utf16_index,
)
from moderation.language import UNDETERMINED, primary_language
from moderation.sites import Site
from moderation.text import is_blank

blp = Blueprint("perspective", __name__)
errors.register(blp)

FEEDBACK_SOURCE = "perspective"


# -- shared checks ------------------------------------------------------------


def _site() -> Site:
    """The site whose API key is in `?key=` (or `X-Goog-Api-Key`), with Google's answers if not."""
    key = request_key()
    if not key:
        raise PerspectiveError(403, "The request is missing a valid API key.")
    site = services().store.sites.for_key(key)
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


def _scoring_language(site: Site, detected: str, requested: Sequence[str], attribute: str) -> str:
    """The language to score in: the first requested one a model here reads, else the detected one.

    Like Google's, a request's `languages` are taken at their word (a short German
    comment can look English to identification). None of them readable, or a language
    the site's policy holds, is LANGUAGE_NOT_SUPPORTED_BY_ATTRIBUTE.
    """
    readable = {"en", *services().service.scorers.languages}
    if requested:
        chosen = next((lang for lang in requested if primary_language(lang) in readable), None)
        if chosen is None:
            raise _unsupported_language(attribute, "requestedLanguages", list(requested))
        language = primary_language(chosen)
        if site.policy.holds_language(language):
            raise _unsupported_language(attribute, "requestedLanguages", list(requested))
        return language
    if site.policy.holds_language(detected):
        raise _unsupported_language(attribute, "detectedLanguages", [detected])
    return detected


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
    site: Site, req: AnalyzeRequest, text: str, language: str
) -> tuple[Mapping[str, float], tuple[Span, ...]]:
    """Score with doNotStore (nothing kept) or as a stored comment (queued when held)."""
    service = services().service
    scores: Mapping[str, float] | None
    if req.do_not_store:
        analysis = service.analyze(
            site, text, sentence_spans=req.span_annotations, language=language
        )
        scores = analysis.scores
        spans = analysis.spans
    else:
        stored = service.submit(site, NewComment(text=text), language=language).comment
        scores = stored.scores if stored.scoring_state is ScoringState.SCORED else None
        spans = stored.spans
        if scores is not None and req.span_annotations and len(spans) <= 1:
            spans = service.sentence_spans(text, scores, language=language, site=site)
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


@blp.post(f"/{API_VERSION}/comments:analyze")
def analyze() -> ResponseReturnValue:
    """Score a comment for the requested attributes (AnalyzeComment)."""
    site = _site()
    req: AnalyzeRequest = load(ANALYZE_REQUEST)
    text = _text(req.comment)
    if not req.attributes:
        raise PerspectiveError(400, "Missing requested_attributes.", "NO_REQUESTED_ATTRIBUTES")
    attributes = []
    for a in req.attributes:
        attribute = _attribute(a.key, req.languages)
        if a.score_type is not None and a.score_type not in REQUESTABLE_SCORE_TYPES:
            raise PerspectiveError(
                400,
                f"Requested score type {a.score_type} is not supported by attribute {attribute.name}.",
            )
        attributes.append((attribute, a.score_threshold))
    # Identified once: the language check and the scoring (and what is stored) share it.
    identified = services().service.language_of(text)
    language = _scoring_language(site, identified, req.languages, attributes[0][0].name)
    scores, spans = _scores_and_spans(site, req, text, language)
    detected = None if identified == UNDETERMINED else identified
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


@blp.post(f"/{API_VERSION}/comments:suggestscore")
def suggest_score() -> ResponseReturnValue:
    """Record a client's own scores for a comment as labels (SuggestCommentScore)."""
    site = _site()
    req: SuggestRequest = load(SUGGEST_REQUEST)
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
        services().store.labels.add(site.id, text, name, value, FEEDBACK_SOURCE)
    detected = services().service.language_of(text)
    body: dict[str, Any] = {}
    if detected != UNDETERMINED:
        body["detectedLanguages"] = [detected]
    if req.languages:
        body["requestedLanguages"] = list(req.languages)
    if req.client_token is not None:
        body["clientToken"] = req.client_token
    return jsonify(body)


@blp.route(f"/{API_VERSION}/<path:rest>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
def unknown_method(rest: str) -> ResponseReturnValue:
    """Any other path or method under /v1alpha1: Google's 404."""
    raise PerspectiveError(404, "Method not found.")


# -- discovery ----------------------------------------------------------------


@blp.get("/$discovery/rest")
def discovery() -> ResponseReturnValue:
    """The discovery document google-api-python-client builds its client from."""
    version = request.args.get("version", API_VERSION)
    if version != API_VERSION:
        raise PerspectiveError(404, f"Discovery document not found for API version {version}.")
    return jsonify(discovery_document(request.host_url))
