"""Operators' site-adapted models: labels, training, versions, promotion, rollback."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import g, request
from flask.views import MethodView
from flask_smorest import Blueprint

from api.auth import site_for_user, user_required
from api.schemas import StrictBoolean, StrictSchema, UtcDateTime
from api.services import services
from moderation.errors import Invalid
from moderation.site_models import (
    MAX_RETRAIN_AFTER,
    MIN_RETRAIN_AFTER,
    LabelledText,
    SiteModel,
    parse_labels_csv,
    parse_version,
)
from moderation.sites import Role, Site

blp = Blueprint(
    "site_models",
    __name__,
    url_prefix="/v1/sites",
    description="A site's own labels and adapted models (operator or admin token).",
)
OPERATORS = (Role.OPERATOR,)


def _site(site: str) -> Site:
    return site_for_user(g.user, site)


class SiteModelSchema(ma.Schema):
    version = ma.fields.Function(lambda m: m.tag)
    state = ma.fields.Function(lambda m: m.state.value)
    progress = ma.fields.Float()
    labels = ma.fields.Integer(metadata={"description": "labelled comments it learnt from"})
    auto_promote = ma.fields.Boolean()
    requested_by = ma.fields.String()
    created_at = UtcDateTime()
    started_at = UtcDateTime(allow_none=True)
    finished_at = UtcDateTime(allow_none=True)
    promoted_at = UtcDateTime(allow_none=True)
    previous_version = ma.fields.Function(
        lambda m: f"v{m.previous_version}" if m.previous_version is not None else None,
        metadata={"description": "what served before it was promoted (rollback returns to it)"},
    )
    error = ma.fields.String(allow_none=True)
    metrics = ma.fields.Dict(
        metadata={
            "description": "validation on the site's newest 20 % of labels: roc_auc (base, "
            "candidate, delta with 95 % bootstrap intervals), at_thresholds, recalibration, "
            "fairness, drift, wins"
        }
    )


class LabelCountsSchema(ma.Schema):
    total = ma.fields.Integer()
    toxic = ma.fields.Integer()
    acceptable = ma.fields.Integer()
    from_decisions = ma.fields.Integer()
    imported = ma.fields.Integer()
    minimum = ma.fields.Integer()


class ModelsSchema(ma.Schema):
    serving = ma.fields.String(
        allow_none=True, metadata={"description": "the version that scores the site; null: base"}
    )
    shadow = ma.fields.String(
        allow_none=True,
        metadata={"description": "the version scoring the site's comments in shadow; null: none"},
    )
    labels = ma.fields.Nested(LabelCountsSchema)
    models = ma.fields.List(ma.fields.Nested(SiteModelSchema))


class AdaptInSchema(StrictSchema):
    auto_promote = StrictBoolean(
        metadata={
            "description": "promote it when it beats the base by its interval; left out: the "
            "site's stored setting (GET .../models/settings)"
        },
    )


class ModelSettingsSchema(StrictSchema):
    """A site's standing choices about its model; a PUT changes the fields it sends."""

    auto_promote = StrictBoolean(
        metadata={
            "description": "a new version serves by itself when it beats the base model by its "
            "interval with fairness no worse (a training request may say otherwise); default false"
        }
    )
    retrain_after_labels = ma.fields.Integer(
        strict=True,
        allow_none=True,
        validate=ma.validate.Range(min=MIN_RETRAIN_AFTER, max=MAX_RETRAIN_AFTER),
        metadata={
            "description": "train a new version by itself once this many labels arrived since "
            "the newest version's training (and at least 200 in all, of both kinds); null "
            "(the default): only when asked"
        },
    )


class PromoteInSchema(StrictSchema):
    recalibrate = StrictBoolean(
        load_default=True,
        metadata={"description": "apply the toxicity threshold that keeps false holds as they are"},
    )


class ImportOutSchema(ma.Schema):
    imported = ma.fields.Integer()
    labels = ma.fields.Nested(LabelCountsSchema)


def label_counts(labels: list[LabelledText]) -> dict[str, int]:
    """How many labels a site has, of which kind and from where."""
    from moderation.site_models import MIN_LABELS, LabelSource

    toxic = sum(x.toxic for x in labels)
    imported = sum(x.source is LabelSource.IMPORTED for x in labels)
    return {
        "total": len(labels),
        "toxic": toxic,
        "acceptable": len(labels) - toxic,
        "from_decisions": len(labels) - imported,
        "imported": imported,
        "minimum": MIN_LABELS,
    }


def models_view(site: Site) -> dict[str, Any]:
    svc = services().site_models
    return {
        "serving": f"v{site.model_version}" if site.model_version is not None else None,
        "shadow": f"v{site.shadow_model_version}"
        if site.shadow_model_version is not None
        else None,
        "labels": label_counts(svc.labels(site)),
        "models": svc.versions(site),
    }


@blp.route("/<string:site>/labels")
class Labels(MethodView):
    decorators = [user_required(*OPERATORS)]

    @blp.response(200, LabelCountsSchema)
    def get(self, site: str) -> Any:
        """How many labelled comments the site has (moderators' decisions and imported labels)."""
        return label_counts(services().site_models.labels(_site(site)))

    @blp.doc(
        requestBody={
            "required": True,
            "content": {"text/csv": {"schema": {"type": "string", "example": "text,label\n"}}},
        }
    )
    @blp.response(201, ImportOutSchema)
    def post(self, site: str) -> Any:
        """Import labels as CSV (`text,label`, label 0 or 1): all rows are stored, or none."""
        current = _site(site)
        try:
            content = request.get_data(cache=False).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise Invalid("The CSV is not valid UTF-8.") from exc
        rows = parse_labels_csv(content.removeprefix("\ufeff"))
        svc = services().site_models
        n = svc.import_labels(current, rows, actor=g.user.id)
        return {"imported": n, "labels": label_counts(svc.labels(current))}


@blp.route("/<string:site>/models")
class Models(MethodView):
    decorators = [user_required(*OPERATORS)]

    @blp.response(200, ModelsSchema)
    def get(self, site: str) -> Any:
        """The site's model versions, newest first, which one serves, and its labels."""
        return models_view(_site(site))

    @blp.arguments(AdaptInSchema(), required=False)
    @blp.response(202, SiteModelSchema)
    def post(self, body: dict[str, Any], site: str) -> Any:
        """Train a new version on the site's labels, in the background (422: too few labels)."""
        return services().site_models.request(
            _site(site), g.user.id, auto_promote=body.get("auto_promote")
        )


@blp.route("/<string:site>/models/settings")
class ModelSettings(MethodView):
    decorators = [user_required(*OPERATORS)]

    @blp.response(200, ModelSettingsSchema)
    def get(self, site: str) -> Any:
        """The site's model settings: promote a winning version by itself, retrain on new labels."""
        return services().site_models.settings(_site(site)).as_dict()

    @blp.arguments(ModelSettingsSchema())
    @blp.response(200, ModelSettingsSchema)
    def put(self, changes: dict[str, Any], site: str) -> Any:
        """Change the site's model settings (fields left out keep their value); audited."""
        return services().site_models.change_settings(_site(site), changes, g.user.id).as_dict()


@blp.route("/<string:site>/models/<string:version>")
class ModelVersion(MethodView):
    decorators = [user_required(*OPERATORS)]

    @blp.response(200, SiteModelSchema)
    def get(self, site: str, version: str) -> Any:
        """One version: state, training progress, validation metrics."""
        return services().site_models.version(_site(site), parse_version(version))


@blp.route("/<string:site>/models/<string:version>/promote")
class Promote(MethodView):
    decorators = [user_required(*OPERATORS)]

    @blp.arguments(PromoteInSchema(), required=False)
    @blp.response(200, SiteModelSchema)
    @blp.alt_response(409, response="CONFLICT")
    def post(self, body: dict[str, Any], site: str, version: str) -> Any:
        """Serve this version for the site (thresholds recalibrated unless told not to); audited."""
        model: SiteModel = services().site_models.promote(
            _site(site),
            parse_version(version),
            g.user.id,
            recalibrate=body.get("recalibrate", True),
        )
        return model


@blp.route("/<string:site>/models/rollback")
class Rollback(MethodView):
    decorators = [user_required(*OPERATORS)]

    @blp.response(200, ModelsSchema)
    @blp.alt_response(409, response="CONFLICT")
    def post(self, site: str) -> Any:
        """Serve what served before the current version (the base model if nothing did); audited."""
        current = _site(site)
        services().site_models.rollback(current, g.user.id)
        return models_view(_site(site))


@blp.route("/<string:site>/models/<string:version>/shadow")
class ModelShadow(MethodView):
    decorators = [user_required(*OPERATORS)]

    @blp.response(200, ModelsSchema)
    @blp.alt_response(409, response="CONFLICT")
    def post(self, site: str, version: str) -> Any:
        """Run a trained version in shadow: it scores the site's new comments too, never acted on.

        One version per site at a time (409 while another is in shadow); audited.
        """
        current = _site(site)
        services().site_models.shadow(current, parse_version(version), g.user.id)
        return models_view(_site(site))

    @blp.response(200, ModelsSchema)
    @blp.alt_response(409, response="CONFLICT")
    def delete(self, site: str, version: str) -> Any:
        """Stop running this version in shadow (its report stays); audited."""
        current = _site(site)
        services().site_models.stop_shadow(current, parse_version(version), g.user.id)
        return models_view(_site(site))

    @blp.response(200)
    def get(self, site: str, version: str) -> Any:
        """Live model against this version on the comments it scored in shadow, both against
        moderators' later decisions, a few comments where they differ, and the recalibration a
        promotion would apply (`recalibration.source`: shadow or validation)."""
        return services().site_models.shadow_report(_site(site), parse_version(version))
