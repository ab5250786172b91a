"""Coral Talk's External Moderation Phase: POST /v1/integrations/coral/{site}, signed by Coral.

Coral posts each new or edited comment here before publishing it and applies
our answer: 204 (approve, let its other phases run), `{"status": "APPROVED"}`
(per site setting), or `{"status": "SYSTEM_WITHHELD", "actions": [...]}` for a
hold. The comment goes through the same pipeline as /v1/comments: stored,
queued when held, audited.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar, cast

import marshmallow as ma
from flask import Response, current_app, g, request
from flask.views import MethodView
from flask_smorest import Blueprint, abort

from api.services import services
from moderation.clock import utcnow
from moderation.comments import Article, Author, NewComment
from moderation.integrations import (
    CORAL_SIGNATURE_HEADER,
    coral_answer,
    html_to_text,
    looks_like_html,
    verify_coral_signature,
)
from moderation.text import is_blank

F = TypeVar("F", bound=Callable[..., Any])

blp = Blueprint(
    "coral",
    __name__,
    url_prefix="/v1/integrations/coral",
    description="Coral Talk's External Moderation Phase (requests signed by Coral).",
)

_CHALLENGE = {"WWW-Authenticate": f'{CORAL_SIGNATURE_HEADER} realm="moderation"'}


def coral_signed(view: F) -> F:
    """Require a valid X-Coral-Signature for the site in the path; the site is in `g.site`.

    An unknown site, a site without a Coral secret and a bad signature all look
    the same from outside (401), so the endpoint tells nobody which sites exist.
    """

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        site = services().store.sites.get(kwargs["site"])
        phase = services().store.coral.get(site.id) if site is not None else None
        body = request.get_data(cache=True)
        header = request.headers.get(CORAL_SIGNATURE_HEADER)
        if (
            site is None
            or phase is None
            or not verify_coral_signature(body, header, phase.secrets(utcnow()))
        ):
            abort(
                401,
                message=f"Send the body signed by Coral in '{CORAL_SIGNATURE_HEADER}'.",
                headers=_CHALLENGE,
            )
        g.site = site
        g.coral_phase = phase
        return view(*args, **kwargs)

    return cast(F, wrapper)


class _CoralSchema(ma.Schema):
    class Meta:
        # Coral's request, not ours: a field a newer Coral adds must not fail every comment.
        unknown = ma.EXCLUDE


class CoralCommentSchema(_CoralSchema):
    body = ma.fields.String(required=True, metadata={"description": "HTML or plain text"})
    parent_id = ma.fields.String(
        data_key="parentID", allow_none=True, validate=ma.validate.Length(max=200)
    )


class CoralAuthorSchema(_CoralSchema):
    id = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=200))
    role = ma.fields.String(allow_none=True)


class CoralStorySchema(_CoralSchema):
    id = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=200))
    url = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=2000))


class CoralSiteSchema(_CoralSchema):
    id = ma.fields.String(allow_none=True)


class CoralRequestSchema(_CoralSchema):
    """Coral's ExternalModerationRequest."""

    action = ma.fields.String(required=True, validate=ma.validate.OneOf(["NEW", "EDIT"]))
    comment = ma.fields.Nested(CoralCommentSchema, required=True)
    author = ma.fields.Nested(CoralAuthorSchema, load_default=dict)
    story = ma.fields.Nested(CoralStorySchema, load_default=dict)
    site = ma.fields.Nested(CoralSiteSchema, load_default=dict)
    tenant_id = ma.fields.String(data_key="tenantID", allow_none=True)
    tenant_domain = ma.fields.String(data_key="tenantDomain", allow_none=True)

    @ma.post_load
    def make(self, data: dict[str, Any], **_: Any) -> NewComment:
        body = data["comment"]["body"]
        text = html_to_text(body) if looks_like_html(body) else body
        limit = current_app.config["MAX_COMMENT_CHARS"]
        if is_blank(text):
            raise ma.ValidationError({"comment": {"body": ["The comment text is empty."]}})
        if len(text) > limit:
            message = f"The comment is {len(text)} characters; the limit is {limit}."
            raise ma.ValidationError({"comment": {"body": [message]}})
        return NewComment(
            text=text,
            author=Author(id=data["author"].get("id")),
            article=Article(id=data["story"].get("id"), url=data["story"].get("url")),
            parent_id=data["comment"].get("parent_id"),
        )


class CoralActionSchema(ma.Schema):
    action_type = ma.fields.String(
        attribute="actionType", data_key="actionType", metadata={"description": "FLAG"}
    )
    reason = ma.fields.String(
        metadata={"description": "COMMENT_DETECTED_TOXIC | COMMENT_DETECTED_SPAM"}
    )


class CoralResponseSchema(ma.Schema):
    """Coral's ExternalModerationResponse."""

    status = ma.fields.String(metadata={"description": "APPROVED | SYSTEM_WITHHELD"})
    actions = ma.fields.List(ma.fields.Nested(CoralActionSchema))


@blp.route("/<string:site>")
class CoralPhaseView(MethodView):
    decorators = [coral_signed]

    @blp.doc(security=[])
    @blp.arguments(CoralRequestSchema())
    @blp.response(
        200,
        CoralResponseSchema,
        description="Held (SYSTEM_WITHHELD), or approved when the site answers APPROVED.",
    )
    @blp.alt_response(204, description="Approved: Coral's other phases go on.")
    @blp.alt_response(401, description="Unsigned or mis-signed, or no Coral secret for this site.")
    def post(self, comment: NewComment, site: str) -> Any:
        """Moderate a comment Coral is about to publish."""
        stored = services().service.submit(g.site, comment).comment
        answer = coral_answer(stored, g.coral_phase.approved_answer)
        return Response(status=204) if answer is None else answer
