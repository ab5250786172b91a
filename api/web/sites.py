"""The operator's pages: a site's thresholds and word lists with their measured effect, keys, history."""

from __future__ import annotations

import re
from typing import Any

import marshmallow as ma
from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from werkzeug.datastructures import MultiDict

from api.review_schemas import PolicySchema
from api.services import services
from api.web import present
from api.web.common import OPERATORS, blueprint, signed_in, user
from moderation import tuning
from moderation.categories import CATEGORIES
from moderation.policy import LanguageAction, Policy
from moderation.repositories import StalePolicy
from moderation.sites import Site

bp = blueprint("web_sites")

METRICS = (
    ("hold_rate", "Hold rate", "share of all comments held"),
    ("precision", "Precision", "held comments moderators rejected"),
    ("recall", "Recall", "rejected comments that were held"),
    ("false_hold_rate", "False-hold rate", "approved comments that were held"),
)


def _site(ref: str) -> Site:
    site = services().store.sites.get(ref)
    if site is None or not user().can_access(site.id):
        abort(404, "No such site, or it is not one of yours.")
    assert site is not None
    return site


def _words(raw: str) -> list[str]:
    """One word or phrase per line (commas also separate); blanks and repeats dropped."""
    return list(dict.fromkeys(w.strip() for w in re.split(r"[\n,]", raw) if w.strip()))


def _number(text: str, kind: type[int] | type[float]) -> Any:
    """Form text as a number; text that is not one is left for the schema to reject."""
    try:
        return kind(text)
    except ValueError:
        return text


def policy_from_form(form: MultiDict[str, str]) -> dict[str, Any]:
    """The policy fields of the settings form, as PolicySchema loads them."""
    links = form.get("max_links", "").strip()
    data: dict[str, Any] = {
        "thresholds": {
            c: _number(form[f"threshold-{c}"], float)
            for c in CATEGORIES
            if form.get(f"threshold-{c}")
        },
        "blocked_words": _words(form.get("blocked_words", "")),
        "suspect_words": _words(form.get("suspect_words", "")),
        "max_links": _number(links, int) if links else None,
        "premoderation": form.get("premoderation") == "on",
    }
    if form.get("other_languages"):
        data["other_languages"] = form["other_languages"]
    languages: dict[str, Any] = {}
    for name, value in form.items():
        found = _LANGUAGE_FIELD.fullmatch(name)
        if found is None or not value.strip():
            continue
        code, field = found.group(1), found.group(2)
        rule = languages.setdefault(code, {})
        if field == "action":
            rule["action"] = value
        else:
            rule.setdefault("thresholds", {})[field.removeprefix("threshold-")] = _number(
                value.strip(), float
            )
    if languages:
        data["languages"] = languages
    return data


# language-de-action, language-de-threshold-insult
_LANGUAGE_FIELD = re.compile(r"language-([a-z]{2,3})-(action|threshold-[a-z_]+)")


@bp.get("/sites")
@signed_in(*OPERATORS)
def index() -> ResponseReturnValue:
    """The operator's sites (straight to the settings when there is only one)."""
    mine = [s for s in services().store.sites.all() if user().can_access(s.id)]
    if len(mine) == 1:
        return redirect(url_for("web_sites.settings", site=mine[0].name))
    held = services().store.comments.held_counts()
    return render_template("web/sites.html", sites=mine, held=held)


def _render(
    site: Site, *, new_key: str | None = None, errors: Any = None, status: int = 200
) -> Any:
    # Measured on every comment the site has; only those new or changed since the last
    # look are read in full and decided (tuning.HeldUnder).
    store = services().store
    outcomes = store.comments.scored_outcomes(site.id)
    held = services().held_under.held(
        site.id, site.policy, outcomes, store.comments.decision_inputs
    )
    simulated = tuning.measure(site.policy, outcomes, held)
    shadow_outcomes = services().store.comments.shadow_outcomes(site.id, None, None)
    entries = services().store.audit.settings_entries(site.id)
    names = services().store.users.names(sorted({e.actor for e in entries}))
    chart = request.args.get("chart", "toxicity")
    if chart not in simulated["categories"]:
        chart = next(iter(simulated["categories"]), "toxicity")
    curves = {c: v["curve"] for c, v in simulated["categories"].items()}
    return render_template(
        "web/site.html",
        site=site,
        policy=site.policy,
        shadow=site.shadow_policy,
        shadow_changes=present.policy_changes(site.policy.as_dict(), site.shadow_policy.as_dict())
        if site.shadow_policy
        else [],
        shadow_report=tuning.shadow_report(shadow_outcomes) if shadow_outcomes else None,
        overall=simulated["overall"],
        per_category=simulated["categories"],
        metrics=METRICS,
        categories=[(c, present.label(c)) for c in site.policy.thresholds],
        curves=curves,
        chart=chart,
        chart_paths={
            "precision": present.path(curves.get(chart, []), "precision"),
            "recall": present.path(curves.get(chart, []), "recall"),
        },
        plot=present.PLOT,
        x_at=present.x_at,
        marker_label=present.marker_label,
        audit=[present.audit_line(e, names) for e in entries],
        keys=services().store.sites.keys(site.id),
        new_key=new_key,
        errors=errors,
        language_actions=[o.value for o in LanguageAction],
        language_name=present.language_name,
        language_names=lambda codes: [present.language_name(c) for c in codes],
        action_label=present.LANGUAGE_ACTION_LABELS.get,
        other_label=present.OTHER_LANGUAGE_LABELS.get,
    ), status


@bp.get("/sites/<string:site>")
@signed_in(*OPERATORS)
def settings(site: str) -> ResponseReturnValue:
    """Thresholds, word lists and rules, their effect on past comments, shadow, keys, history."""
    return _render(_site(site))


@bp.post("/sites/<string:site>/policy")
@signed_in(*OPERATORS)
def save_policy(site: str) -> ResponseReturnValue:
    """Save the form as the live policy, or set it as the shadow policy; both are audited."""
    current = _site(site)
    try:
        loaded = PolicySchema().load(policy_from_form(request.form))
    except ma.ValidationError as exc:
        return _render(current, errors=exc.messages, status=422)
    policy = Policy.from_dict(loaded, current.policy)
    if request.form.get("target") == "shadow":
        services().store.policies.change(current.id, actor=user().id, shadow=policy)
        flash("Shadow policy set: new comments are also decided by it, without effect.", "ok")
        return redirect(url_for("web_sites.settings", site=current.name))
    read = request.form.get("policy_version", "")
    try:
        services().store.policies.change(
            current.id,
            actor=user().id,
            live=policy,
            expected_version=int(read) if read.isdigit() else None,
        )
    except StalePolicy as exc:
        changed = (
            f"someone saved version {exc.current_version} after you opened this page. "
            "Your changes are not in it: make them again below."
        )
        return _render(_site(site), errors={"policy": changed}, status=409)
    flash(f"Saved. New comments on {current.name} are decided by this policy.", "ok")
    return redirect(url_for("web_sites.settings", site=current.name))


@bp.post("/sites/<string:site>/shadow/clear")
@signed_in(*OPERATORS)
def clear_shadow(site: str) -> ResponseReturnValue:
    """Stop the shadow policy."""
    current = _site(site)
    services().store.policies.change(current.id, actor=user().id, clear_shadow=True)
    flash("Shadow policy stopped.", "ok")
    return redirect(url_for("web_sites.settings", site=current.name) + "#shadow")


@bp.post("/sites/<string:site>/keys")
@signed_in(*OPERATORS)
def create_key(site: str) -> ResponseReturnValue:
    """Create an API key and show it once, in this response only."""
    current = _site(site)
    _, key = services().store.sites.create_key(current.id, actor=user().id)
    return _render(current, new_key=key, status=201)


@bp.post("/sites/<string:site>/keys/<string:key_id>/revoke")
@signed_in(*OPERATORS)
def revoke_key(site: str, key_id: str) -> ResponseReturnValue:
    """Revoke one of the site's keys; requests with it fail at once."""
    current = _site(site)
    if key_id not in {k.id for k in services().store.sites.keys(current.id)}:
        abort(404, "No such key on this site.")
    services().store.sites.revoke_key(key_id, actor=user().id)
    flash(f"Key {key_id} revoked.", "ok")
    return redirect(url_for("web_sites.settings", site=current.name) + "#keys")
