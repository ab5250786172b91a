"""Comment intake for sites: POST /v1/comments, /v1/comments/batch, GET /v1/comments/{id}."""

from __future__ import annotations

from typing import Any

from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint

from api.auth import site_required
from api.schemas import BatchInSchema, BatchOutSchema, CommentInSchema, CommentSchema
from api.services import services
from moderation.comments import NewComment

blp = Blueprint(
    "comments",
    __name__,
    url_prefix="/v1/comments",
    description="Submit readers' comments and read their status (site API key).",
)


@blp.route("")
class Comments(MethodView):
    decorators = [site_required]

    @blp.arguments(CommentInSchema())
    @blp.response(201, CommentSchema, description="Scored, decided and stored.")
    @blp.alt_response(
        200,
        schema=CommentSchema,
        description="This external_id was already stored: the stored result.",
    )
    def post(self, comment: NewComment) -> Any:
        """Submit one comment: approve or hold, with scores, reasons and spans."""
        result = services().service.submit(g.site, comment)
        return result.comment, 201 if result.created else 200


@blp.route("/batch")
class CommentBatch(MethodView):
    decorators = [site_required]

    @blp.arguments(BatchInSchema())
    @blp.response(201, BatchOutSchema)
    def post(self, body: dict[str, list[NewComment]]) -> Any:
        """Submit up to BATCH_LIMIT comments at once (backfills); results in input order."""
        results = services().service.submit_batch(g.site, body["comments"])
        return {"results": [{"created": r.created, "comment": r.comment} for r in results]}


@blp.route("/<string:comment_id>")
class CommentById(MethodView):
    decorators = [site_required]

    @blp.response(200, CommentSchema)
    def get(self, comment_id: str) -> Any:
        """A comment's current status (only the calling site's own comments)."""
        return services().service.get(g.site, comment_id)
