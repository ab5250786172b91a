"""The moderator queue: list, claim, decide, undo, audit (user token)."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import Any

import marshmallow as ma
from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint

from api.auth import user_required
from api.errors import status_for
from api.review_schemas import (
    AuditListSchema,
    BulkDecisionsSchema,
    BulkResultsSchema,
    ClaimInSchema,
    ClaimOutSchema,
    DecisionSchema,
    HeldIdsSchema,
    IdsSchema,
    QueueArgsSchema,
    QueueItemSchema,
    QueuePageSchema,
)
from api.services import services
from moderation.comments import StoredComment
from moderation.review import LEASE, BulkResult, DecisionIn, QueueItem
from moderation.sites import Role

blp = Blueprint(
    "queue",
    __name__,
    url_prefix="/v1",
    description="The moderator queue (moderator, operator or admin token).",
)
MODERATORS = (Role.MODERATOR, Role.OPERATOR)


def as_item(item: QueueItem | StoredComment) -> dict[str, Any]:
    """A queue item as the schema dumps it."""
    if isinstance(item, QueueItem):
        parent = item.parent
        return {
            **dataclasses.asdict(item.comment),
            "author_history": item.author_history,
            "author_standing": item.author_standing,
            "reports": item.reports,
            "parent": {
                "id": parent.id,
                "text": parent.text,
                "status": parent.status.value,
                "author_name": parent.author.name,
            }
            if parent
            else None,
            "revisions": item.revisions,
        }
    return dataclasses.asdict(item)


def bulk_result(result: BulkResult) -> dict[str, Any]:
    """One comment's outcome of a bulk decision, with the status it would have answered alone."""
    if result.error is not None:
        return {
            "id": result.comment_id,
            "status": status_for(result.error),
            "message": result.error.message,
        }
    assert result.comment is not None
    return {"id": result.comment_id, "status": 200, "comment": as_item(result.comment)}


@blp.route("/queue")
class Queue(MethodView):
    decorators = [user_required(*MODERATORS)]

    @blp.arguments(QueueArgsSchema(), location="query", unknown=ma.RAISE)
    @blp.response(200, QueuePageSchema)
    def get(self, args: dict[str, Any]) -> Any:
        """Held comments of your sites, riskiest (or oldest) first; cursor pagination."""
        min_age = args.pop("min_age_minutes", None)
        max_age = args.pop("max_age_minutes", None)
        page = services().review.queue(
            g.user,
            min_age=timedelta(minutes=min_age) if min_age is not None else None,
            max_age=timedelta(minutes=max_age) if max_age is not None else None,
            **args,
        )

        return {"items": [as_item(i) for i in page.items], "next_cursor": page.next_cursor}


@blp.route("/queue/claim")
class Claim(MethodView):
    decorators = [user_required(*MODERATORS)]

    @blp.arguments(ClaimInSchema(), required=False)
    @blp.response(200, ClaimOutSchema)
    def post(self, args: dict[str, Any]) -> Any:
        """Lease the next N unclaimed held comments to you (riskiest first)."""
        items = services().review.claim(g.user, args["n"], args.get("site"))

        return {"items": [as_item(i) for i in items], "lease_seconds": int(LEASE.total_seconds())}


@blp.route("/queue/claim/renew")
class RenewClaim(MethodView):
    decorators = [user_required(*MODERATORS)]

    @blp.arguments(IdsSchema())
    @blp.response(200, HeldIdsSchema)
    def post(self, args: dict[str, Any]) -> Any:
        """Extend your leases; returns the ids you still hold."""
        return {"ids": services().review.renew(g.user, args["ids"])}


@blp.route("/queue/claim/release")
class ReleaseClaim(MethodView):
    decorators = [user_required(*MODERATORS)]

    @blp.arguments(IdsSchema())
    @blp.response(204)
    def post(self, args: dict[str, Any]) -> None:
        """Give claimed comments back to the queue."""
        services().review.release(g.user, args["ids"])


@blp.route("/queue/decisions")
class BulkDecisions(MethodView):
    decorators = [user_required(*MODERATORS)]

    @blp.arguments(BulkDecisionsSchema())
    @blp.response(200, BulkResultsSchema)
    def post(self, body: dict[str, list[DecisionIn]]) -> Any:
        """Decide many comments; each result carries its own status (200, 404, 409, 422)."""
        results = services().review.decide_many(g.user, body["decisions"])
        return {"results": [bulk_result(r) for r in results]}


@blp.route("/comments/<string:comment_id>/decision")
class Decision(MethodView):
    decorators = [user_required(*MODERATORS)]

    @blp.arguments(DecisionSchema())
    @blp.response(200, QueueItemSchema)
    def post(self, args: dict[str, Any], comment_id: str) -> Any:
        """Approve or reject at the version you saw; 409 if it changed meanwhile."""
        return as_item(services().review.decide(g.user, DecisionIn(comment_id=comment_id, **args)))


@blp.route("/comments/<string:comment_id>/undo")
class Undo(MethodView):
    decorators = [user_required(*MODERATORS)]

    @blp.response(200, QueueItemSchema)
    def post(self, comment_id: str) -> Any:
        """Revert the comment's last moderator decision."""
        return as_item(services().review.undo(g.user, comment_id))


@blp.route("/comments/<string:comment_id>/audit")
class CommentAudit(MethodView):
    decorators = [user_required(*MODERATORS)]

    @blp.response(200, AuditListSchema)
    def get(self, comment_id: str) -> Any:
        """Every recorded event for the comment, newest first."""
        return {"entries": services().review.audit(g.user, comment_id)}
