"""What sites do with comments: submit, read, edit, withdraw, and relay readers' reports."""

from __future__ import annotations

from typing import Any

from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint

from api.auth import site_required
from api.schemas import (
    BatchInSchema,
    BatchOutSchema,
    CommentEditSchema,
    CommentInSchema,
    CommentSchema,
    ReportedSchema,
    ReportInSchema,
)
from api.services import services
from moderation.comments import CommentEdit, NewComment
from moderation.reports import NewReport

blp = Blueprint(
    "comments",
    __name__,
    url_prefix="/v1/comments",
    description=(
        "Submit readers' comments, read their status, edit or withdraw them, "
        "and relay readers' reports (site API key)."
    ),
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

    @blp.arguments(CommentEditSchema())
    @blp.response(200, CommentSchema)
    def put(self, edit: CommentEdit, comment_id: str) -> Any:
        """The author edited it: new text at the version they saw (409 if stale), re-decided.

        A moderator's rejection stands; anything else is decided again, so an approved
        comment edited into abuse is held. The earlier text is kept for moderators.
        """
        return services().service.edit(g.site, comment_id, edit)

    @blp.response(200, CommentSchema)
    def delete(self, comment_id: str) -> Any:
        """The author withdrew it: status `withdrawn`, out of the queue (idempotent)."""
        return services().service.withdraw(g.site, comment_id)


@blp.route("/<string:comment_id>/reports")
class CommentReports(MethodView):
    decorators = [site_required]

    @blp.arguments(ReportInSchema())
    @blp.response(201, ReportedSchema, description="Recorded.")
    @blp.alt_response(
        200, schema=ReportedSchema, description="This reader had reported it already: that report."
    )
    def post(self, report: NewReport, comment_id: str) -> Any:
        """A reader reported the comment; enough reports put it in the moderators' queue."""
        result = services().service.report(g.site, comment_id, report)
        body = {
            "report": result.report,
            "reports": result.summary,
            "status": result.comment.status,
            "queued": result.comment.flagged_at is not None,
        }
        return body, 201 if result.created else 200
