"""Operators' site settings: policy, simulation, shadow policy, audit, export, webhooks."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import Response, g
from flask.views import MethodView
from flask_smorest import Blueprint, abort

from api.auth import site_for_user, user_required
from api.exports import decisions_csv
from api.review_schemas import (
    AuditListSchema,
    PolicySchema,
    PolicyUpdate,
    PolicyUpdateSchema,
    RetentionOutSchema,
    RetentionSchema,
    SimulateInSchema,
    WebhookInSchema,
    WebhookOutSchema,
    WindowArgsSchema,
)
from api.services import services
from moderation import tuning
from moderation.policy import Policy
from moderation.repositories import StalePolicy
from moderation.sites import Role, Site

blp = Blueprint(
    "sites",
    __name__,
    url_prefix="/v1/sites",
    description="Site settings and tuning (operator or admin token).",
)
OPERATORS = (Role.OPERATOR,)


def _site(site: str) -> Site:
    return site_for_user(g.user, site)


def _policy_view(site: Site) -> dict[str, Any]:
    return {
        "policy": site.policy.as_dict(),
        "policy_version": site.policy_version,
        "shadow_policy": site.shadow_policy.as_dict() if site.shadow_policy else None,
    }


def _merged(site: Site, proposed: dict[str, Any]) -> Policy:
    return Policy.from_dict(proposed, site.policy)


def _check_shadow_unchanged(site: Site, update: PolicyUpdate) -> None:
    """A shadow policy sent back with the live one must be the one GET answered (422 if not)."""
    if not update.has_shadow_policy:
        return
    sent = update.shadow_policy
    sent_policy = _merged(site, sent).as_dict() if sent is not None else None
    if sent_policy != (site.shadow_policy.as_dict() if site.shadow_policy else None):
        abort(
            422,
            message=(
                f"The shadow policy is set with PUT /v1/sites/{site.name}/policy/shadow: "
                "send it back unchanged here, or leave it out."
            ),
            errors={"shadow_policy": ["Differs from the current shadow policy."]},
        )


@blp.route("/<string:site>/policy")
class SitePolicy(MethodView):
    decorators = [user_required(*OPERATORS)]

    @blp.response(200)
    def get(self, site: str) -> Any:
        """The live and shadow policy."""
        return _policy_view(_site(site))

    @blp.arguments(PolicyUpdateSchema())
    @blp.response(200)
    @blp.alt_response(409, response="CONFLICT")
    def put(self, update: PolicyUpdate, site: str) -> Any:
        """Change the live policy (fields left out keep their value); audited.

        Send the fields, or the document GET answers with your changes; with its
        `policy_version`, a policy changed meanwhile is a 409 and nothing is saved.
        """
        current = _site(site)
        _check_shadow_unchanged(current, update)
        policy = _merged(current, update.changes)
        try:
            services().store.policies.change(
                current.id,
                actor=g.user.id,
                live=policy,
                expected_version=update.policy_version,
            )
        except StalePolicy as exc:
            abort(
                409,
                message=(
                    f"The policy changed since you read version {update.policy_version}: it is "
                    f"at version {exc.current_version}. Read it again and reapply your change."
                ),
                errors={"policy_version": [f"stale: the current version is {exc.current_version}"]},
            )
        return _policy_view(_site(site))


@blp.route("/<string:site>/policy/simulate")
class Simulate(MethodView):
    decorators = [user_required(*OPERATORS)]

    @blp.arguments(SimulateInSchema())
    @blp.response(200)
    def post(self, body: dict[str, Any], site: str) -> Any:
        """What the proposed policy would hold, measured against moderators' decisions."""
        current = _site(site)
        comments = services().store.comments.scored_between(
            current.id, body.get("since"), body.get("until")
        )
        proposed = _merged(current, body["policy"])
        return {
            "proposed": tuning.simulate(
                proposed, comments, body.get("target_precision"), body.get("target_recall")
            ),
            "current": tuning.simulate(current.policy, comments)["overall"],
        }


@blp.route("/<string:site>/policy/shadow")
class Shadow(MethodView):
    decorators = [user_required(*OPERATORS)]

    @blp.arguments(PolicySchema())
    @blp.response(200)
    def put(self, proposed: dict[str, Any], site: str) -> Any:
        """Set a shadow policy: every new comment is also decided by it, never acted on."""
        current = _site(site)
        services().store.policies.change(
            current.id, actor=g.user.id, shadow=_merged(current, proposed)
        )
        return _policy_view(_site(site))

    @blp.response(200)
    def delete(self, site: str) -> Any:
        """Stop shadowing."""
        current = _site(site)
        services().store.policies.change(current.id, actor=g.user.id, clear_shadow=True)
        return _policy_view(_site(site))


@blp.route("/<string:site>/policy/shadow-report")
class ShadowReport(MethodView):
    decorators = [user_required(*OPERATORS)]

    @blp.arguments(WindowArgsSchema(), location="query", unknown=ma.RAISE)
    @blp.response(200)
    def get(self, args: dict[str, Any], site: str) -> Any:
        """Live against shadow decisions on the same comments, and both against moderators."""
        current = _site(site)
        outcomes = services().store.comments.shadow_outcomes(
            current.id, args.get("since"), args.get("until")
        )
        return tuning.shadow_report(outcomes)


@blp.route("/<string:site>/audit")
class SiteAudit(MethodView):
    decorators = [user_required(*OPERATORS)]

    @blp.response(200, AuditListSchema)
    def get(self, site: str) -> Any:
        """Every settings change and decision on the site, newest first."""
        return {"entries": services().store.audit.entries(site_id=_site(site).id)}


@blp.route("/<string:site>/decisions.csv")
class DecisionsExport(MethodView):
    decorators = [user_required(*OPERATORS)]

    @blp.response(200, content_type="text/csv")
    def get(self, site: str) -> Any:
        """Moderator-labelled comments as CSV (text,label,...): input for models.evaluate and models.train.

        Cells a spreadsheet would run as a formula start with a quote; times are ISO 8601 with offset.
        """
        current = _site(site)
        store = services().store
        labels = tuning.training_labels(
            store.comments.moderator_decided(current.id), store.labels.for_site(current.id)
        )
        body = decisions_csv(labels)
        return Response(
            body,
            mimetype="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{current.name}-decisions.csv"'},
        )


@blp.route("/<string:site>/retention")
class SiteRetention(MethodView):
    decorators = [user_required(*OPERATORS)]

    @blp.response(200, RetentionOutSchema)
    def get(self, site: str) -> Any:
        """How long the site keeps decided comments' text and delivered webhook events."""
        return _retention_view(_site(site))

    @blp.arguments(RetentionSchema())
    @blp.response(200, RetentionOutSchema)
    def put(self, settings: dict[str, Any], site: str) -> Any:
        """Change the site's retention (fields left out keep their value; null: for ever); audited."""
        current = _site(site)
        services().store.sites.set_retention(current.id, settings, actor=g.user.id)
        return _retention_view(_site(site))


def _retention_view(site: Site) -> dict[str, Any]:
    job = services().retention
    return {**job.policy(site).as_dict(), "defaults": job.defaults.as_dict()}


@blp.route("/<string:site>/webhook")
class Webhook(MethodView):
    decorators = [user_required(*OPERATORS)]

    @blp.response(200, WebhookOutSchema)
    def get(self, site: str) -> Any:
        """The webhook URL, its signing secret, and the recent delivery log."""
        current = _site(site)
        deliverer = services().deliverer
        return {
            "url": current.webhook_url,
            "secret": current.webhook_secret,
            "deliveries": deliverer.log(current.id),
        }

    @blp.arguments(WebhookInSchema())
    @blp.response(200, WebhookOutSchema)
    def put(self, body: dict[str, Any], site: str) -> Any:
        """Set (or clear, with null) the webhook URL; optionally rotate the secret."""
        current = _site(site)
        services().store.sites.set_webhook(
            current.id, body.get("url"), actor=g.user.id, rotate_secret=body["rotate_secret"]
        )
        return self.get(site)
