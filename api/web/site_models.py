"""The operator's page of a site's adapted models: versions, base against candidate, promote, rollback."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from api.services import services
from api.site_models import label_counts
from api.web.common import OPERATORS, blueprint, signed_in, user
from moderation.errors import DomainError
from moderation.site_models import (
    MAX_RETRAIN_AFTER,
    MIN_RETRAIN_AFTER,
    ModelState,
    SiteModel,
    parse_version,
)
from moderation.sites import Site

bp = blueprint("web_site_models")


def _site(ref: str) -> Site:
    site = services().store.sites.get(ref)
    if site is None or not user().can_access(site.id):
        abort(404, "No such site, or it is not one of yours.")
    assert site is not None
    return site


def _figure(model: SiteModel, *path: str) -> Any:
    value: Any = model.metrics
    for key in path:
        value = (value or {}).get(key) if isinstance(value, dict) else None
    return value


def comparison(model: SiteModel) -> list[tuple[str, Any, Any]]:
    """Rows of base against candidate: ROC-AUC, precision, recall, hold and false-hold rates."""
    rows: list[tuple[str, Any, Any]] = [
        ("ROC-AUC", _figure(model, "roc_auc", "base"), _figure(model, "roc_auc", "candidate"))
    ]
    for key, label in (
        ("precision", "Precision"),
        ("recall", "Recall"),
        ("hold_rate", "Hold rate"),
        ("false_hold_rate", "False-hold rate"),
    ):
        rows.append(
            (
                label,
                _figure(model, "at_thresholds", "base", key),
                _figure(model, "at_thresholds", "candidate", key),
            )
        )
    return rows


@bp.get("/sites/<string:site>/models")
@signed_in(*OPERATORS)
def models(site: str) -> ResponseReturnValue:
    """The site's model versions, newest first, with their validation against the base model."""
    current = _site(site)
    svc = services().site_models
    versions = svc.versions(current)
    training = any(m.state in (ModelState.QUEUED, ModelState.TRAINING) for m in versions)
    # The shadow report (and the recalibration a promotion would apply) of each candidate.
    reports = {m.version: svc.shadow_report(current, m.version) for m in versions if m.metrics}
    return render_template(
        "web/site_models.html",
        site=current,
        versions=versions,
        reports=reports,
        labels=label_counts(svc.labels(current)),
        settings=svc.settings(current),
        min_retrain=MIN_RETRAIN_AFTER,
        max_retrain=MAX_RETRAIN_AFTER,
        comparison=comparison,
        figure=_figure,
        training=training,
        promotable=(ModelState.READY, ModelState.RETIRED),
    )


def _back(current: Site) -> ResponseReturnValue:
    return redirect(url_for("web_site_models.models", site=current.name))


@bp.post("/sites/<string:site>/models")
@signed_in(*OPERATORS)
def train(site: str) -> ResponseReturnValue:
    """Start training a new version on the site's labels."""
    current = _site(site)
    try:
        model = services().site_models.request(current, user().id)
    except DomainError as exc:
        flash(exc.message, "error")
        return _back(current)
    flash(f"Training {model.tag} on {model.labels} labelled comments.", "ok")
    return _back(current)


@bp.post("/sites/<string:site>/models/settings")
@signed_in(*OPERATORS)
def settings(site: str) -> ResponseReturnValue:
    """Save the site's model settings: auto-promotion, and retraining on new labels (or not)."""
    current = _site(site)
    changes: dict[str, Any] = {"auto_promote": request.form.get("auto_promote") == "on"}
    if request.form.get("retrain") == "on":
        raw = (request.form.get("retrain_after_labels") or "").strip()
        if not raw.isdigit() or len(raw) > 9:
            flash(
                f"New labels before retraining: a whole number from {MIN_RETRAIN_AFTER} "
                f"to {MAX_RETRAIN_AFTER}.",
                "error",
            )
            return _back(current)
        changes["retrain_after_labels"] = int(raw)
    else:
        changes["retrain_after_labels"] = None
    try:
        saved = services().site_models.change_settings(current, changes, user().id)
    except DomainError as exc:
        flash(exc.message, "error")
        return _back(current)
    n = saved.retrain_after_labels
    flash(
        f"Model settings saved: auto-promote {'on' if saved.auto_promote else 'off'}, "
        + (f"retrain after {n} new labels." if n is not None else "retrain only when asked."),
        "ok",
    )
    return _back(current)


@bp.post("/sites/<string:site>/models/<string:version>/promote")
@signed_in(*OPERATORS)
def promote(site: str, version: str) -> ResponseReturnValue:
    """Serve a version (the toxicity threshold recalibrated unless the box was unticked)."""
    current = _site(site)
    try:
        model = services().site_models.promote(
            current,
            parse_version(version),
            user().id,
            recalibrate=request.form.get("recalibrate") == "on",
        )
    except DomainError as exc:
        flash(exc.message, "error")
        return _back(current)
    flash(f"{model.tag} now scores {current.name}'s comments.", "ok")
    return _back(current)


@bp.post("/sites/<string:site>/models/rollback")
@signed_in(*OPERATORS)
def rollback(site: str) -> ResponseReturnValue:
    """Serve what served before."""
    current = _site(site)
    try:
        restored = services().site_models.rollback(current, user().id)
    except DomainError as exc:
        flash(exc.message, "error")
        return _back(current)
    flash(f"{restored.tag if restored else 'The base model'} scores {current.name} again.", "ok")
    return _back(current)


@bp.post("/sites/<string:site>/models/<string:version>/shadow")
@signed_in(*OPERATORS)
def shadow(site: str, version: str) -> ResponseReturnValue:
    """Run a version in shadow, or stop it (the form's `stop`)."""
    current = _site(site)
    svc = services().site_models
    try:
        number = parse_version(version)
        if request.form.get("stop"):
            svc.stop_shadow(current, number, user().id)
            flash(f"v{number} no longer runs in shadow.", "ok")
        else:
            svc.shadow(current, number, user().id)
            flash(f"v{number} now scores {current.name}'s new comments in shadow.", "ok")
    except DomainError as exc:
        flash(exc.message, "error")
    return _back(current)
