"""A candidate version of a site's model in shadow: it scores the site's live comments too.

While a version is in shadow, every comment of the site that the live model scores is
scored again by the candidate (the same readings, the same inference queue) and decided
by the site's policy with the candidate's proposed thresholds. Nothing of that is acted
on: the live decision is stored first and a failure of the candidate only costs its own
scoring. The report compares the two, against the moderators' later decisions (the
labels of moderation.site_models), like the shadow policy's report (moderation.tuning).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from moderation.categories import Category
from moderation.comments import Decider, Reason, Status
from moderation.policy import Policy
from moderation.site_models import SiteModel, decision_label, recalibrated
from moderation.sites import Site
from moderation.tuning import confusion

EXAMPLES = 5  # comments where live and candidate differ, shown in the report
EXAMPLE_CHARS = 300
# Live comments moderators must have labelled before their figures, rather than
# validation's, propose the promotion's threshold: fewer say too little.
MIN_LABELLED = 50
# The toxicity thresholds a recalibration tries, lowest first (as models.adapt does).
RECALIBRATION_STEPS = tuple(round(0.05 + 0.01 * i, 2) for i in range(95))


@dataclass(frozen=True)
class ShadowScore:
    """What a version in shadow scored for one live comment, and what the policy would decide."""

    comment_id: str
    site_id: str
    version: int
    scores: Mapping[str, float]
    status: Status  # the site's policy, with the candidate's thresholds, on these scores
    reasons: tuple[Reason, ...]
    created_at: datetime


@dataclass(frozen=True)
class ShadowComparison:
    """One live comment as the live model and the candidate saw it, and where it stands now."""

    comment_id: str
    text: str
    status: Status
    decided_by: str
    decision_reason: str | None
    live_held: bool  # the automatic decision on arrival held it (it recorded reasons)
    live_scores: Mapping[str, float]
    candidate_status: Status
    candidate_scores: Mapping[str, float]
    created_at: datetime

    @property
    def decided_by_moderator(self) -> bool:
        return self.decided_by != Decider.AUTO

    @property
    def candidate_held(self) -> bool:
        return self.candidate_status is not Status.APPROVED

    @property
    def label(self) -> bool | None:
        """The moderators' toxicity label (site_models' rules), None if they said nothing."""
        return decision_label(self)


def candidate_policy(site: Site, model: SiteModel) -> Policy:
    """The site's policy as it would be after promoting `model` with recalibration."""
    thresholds = recalibrated(site, model.metrics)
    if thresholds is None:
        return site.policy
    return replace(site.policy, thresholds=thresholds)


def roc_auc(labels: Sequence[bool], scores: Sequence[float]) -> float | None:
    """ROC-AUC of scores against labels (ties count half); None without both classes."""
    n_pos = sum(labels)
    n_neg = len(labels) - n_pos
    if n_pos == 0 or n_neg == 0:
        return None
    order = sorted(range(len(scores)), key=lambda i: scores[i])
    rank_sum = 0.0
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and scores[order[j + 1]] == scores[order[i]]:
            j += 1
        mean_rank = (i + j) / 2 + 1
        rank_sum += mean_rank * sum(labels[order[k]] for k in range(i, j + 1))
        i = j + 1
    return round((rank_sum - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg), 4)


def _held(scores: Mapping[str, float], thresholds: Mapping[str, float]) -> bool:
    return any(scores.get(c, 0.0) >= t for c, t in thresholds.items())


def recalibration(
    rows: Sequence[ShadowComparison], thresholds: Mapping[str, float]
) -> dict[str, Any] | None:
    """The lowest toxicity threshold at which the candidate, on the live comments moderators
    approved, holds no more of them than the live model does at `thresholds`.

    The same rule and figures as validation's (models.adapt.recalibrate), on the live
    comments. None until moderators have labelled MIN_LABELLED of the comments in shadow,
    approvals among them (the false holds to keep).
    """
    labels = [r.label for r in rows]
    labelled = sum(label is not None for label in labels)
    if labelled < MIN_LABELLED or not any(label is False for label in labels):
        return None
    live = [_held(r.live_scores, thresholds) for r in rows]
    target = sum(h and label is False for h, label in zip(live, labels, strict=True))
    current = float(thresholds.get(Category.TOXICITY.value, 0.8))

    def candidate_at(t: float) -> list[bool]:
        at = {**thresholds, Category.TOXICITY.value: t}
        return [_held(r.candidate_scores, at) for r in rows]

    proposed = current
    for t in RECALIBRATION_STEPS:
        held = candidate_at(t)
        if sum(h and label is False for h, label in zip(held, labels, strict=True)) <= target:
            proposed = t
            break
    return {
        "source": "shadow",
        "comments": len(rows),
        "labelled": labelled,
        "toxicity": {
            "current": current,
            "proposed": proposed,
            "base_at_current": confusion(live, labels).as_dict(),
            "candidate_at_current": confusion(candidate_at(current), labels).as_dict(),
            "candidate_at_proposed": confusion(candidate_at(proposed), labels).as_dict(),
        },
    }


def proposal(site: Site, model: SiteModel, rows: Sequence[ShadowComparison]) -> dict[str, Any]:
    """The recalibration a promotion would apply: from the candidate's scores of live comments
    when they allow one, else from validation; `source` says which."""
    from_shadow = recalibration(rows, site.policy.thresholds)
    if from_shadow is not None:
        return from_shadow
    validation = (model.metrics.get("recalibration") or {}).get("toxicity")
    labelled = sum(r.label is not None for r in rows)
    return {
        "source": "validation" if validation else None,
        "comments": len(rows),
        "labelled": labelled,
        "toxicity": validation,
    }


def _example(r: ShadowComparison) -> dict[str, Any]:
    tox = Category.TOXICITY.value
    return {
        "comment_id": r.comment_id,
        "text": r.text[:EXAMPLE_CHARS],
        "live": {"held": r.live_held, "toxicity": r.live_scores.get(tox)},
        "candidate": {"held": r.candidate_held, "toxicity": r.candidate_scores.get(tox)},
        "moderators": None if r.label is None else ("toxic" if r.label else "acceptable"),
    }


def report(rows: Sequence[ShadowComparison], examples: int = EXAMPLES) -> dict[str, Any]:
    """Live against candidate decisions on the same comments, and both against moderators.

    The matrix counts the automatic live decision against the candidate's; moderators'
    later decisions (site_models' labels: approvals, and rejections for toxicity) say
    how often each was right, and rank both models' toxicity scores (ROC-AUC).
    """
    matrix = {
        "live_approve_candidate_approve": 0,
        "live_approve_candidate_hold": 0,
        "live_hold_candidate_approve": 0,
        "live_hold_candidate_hold": 0,
    }
    for r in rows:
        live = "hold" if r.live_held else "approve"
        candidate = "hold" if r.candidate_held else "approve"
        matrix[f"live_{live}_candidate_{candidate}"] += 1
    agree = matrix["live_approve_candidate_approve"] + matrix["live_hold_candidate_hold"]
    labels = [r.label for r in rows]
    labelled = [(r, label) for r, label in zip(rows, labels, strict=True) if label is not None]
    tox = Category.TOXICITY.value
    y = [label for _, label in labelled]
    differ = [r for r in rows if r.live_held != r.candidate_held]
    # Those moderators decided first: they show who was right.
    differ.sort(key=lambda r: (r.label is None, r.created_at))
    total = len(rows)
    return {
        "comments": total,
        "agreement": round(agree / total, 4) if total else None,
        "matrix": matrix,
        "live": confusion([r.live_held for r in rows], labels).as_dict(),
        "candidate": confusion([r.candidate_held for r in rows], labels).as_dict(),
        "moderators": {
            "labelled": len(labelled),
            "toxic": sum(y),
            "live_agreed": sum(r.live_held == label for r, label in labelled),
            "candidate_agreed": sum(r.candidate_held == label for r, label in labelled),
            "roc_auc": {
                "live": roc_auc(y, [r.live_scores.get(tox, 0.0) for r, _ in labelled]),
                "candidate": roc_auc(y, [r.candidate_scores.get(tox, 0.0) for r, _ in labelled]),
            },
        },
        "examples": [_example(r) for r in differ[:examples]],
    }
