"""What a policy change would do, measured on the site's own comments and moderators' decisions.

A moderator's rejection labels a comment toxic, an approval labels it fine;
comments nobody reviewed count toward hold rates but not precision or recall.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from moderation.comments import ShadowOutcome, Status, StoredComment
from moderation.policy import Policy, decide

CURVE_THRESHOLDS = tuple(round(0.05 * i, 2) for i in range(1, 20))


@dataclass(frozen=True)
class Confusion:
    """Holds against moderator labels."""

    total: int = 0
    held: int = 0
    tp: int = 0  # held and rejected by a moderator
    fp: int = 0  # held but approved by a moderator
    fn: int = 0  # let through but rejected by a moderator
    tn: int = 0

    def as_dict(self) -> dict[str, Any]:
        labelled_held = self.tp + self.fp
        toxic = self.tp + self.fn
        fine = self.fp + self.tn
        return {
            "comments": self.total,
            "held": self.held,
            "hold_rate": _ratio(self.held, self.total),
            "labelled": self.tp + self.fp + self.fn + self.tn,
            "true_holds": self.tp,
            "false_holds": self.fp,
            "missed": self.fn,
            "precision": _ratio(self.tp, labelled_held),
            "recall": _ratio(self.tp, toxic),
            "false_hold_rate": _ratio(self.fp, fine),
        }


def _ratio(a: int, b: int) -> float | None:
    return round(a / b, 4) if b else None


def confusion(held: Iterable[bool], labels: Iterable[bool | None]) -> Confusion:
    """Count holds against labels (None: nobody reviewed that comment)."""
    total = n_held = tp = fp = fn = tn = 0
    for h, label in zip(held, labels, strict=True):
        total += 1
        n_held += h
        if label is None:
            continue
        if h and label:
            tp += 1
        elif h:
            fp += 1
        elif label:
            fn += 1
        else:
            tn += 1
    return Confusion(total, n_held, tp, fp, fn, tn)


class Decided(Protocol):
    """Anything that says where a comment stands and whether a moderator put it there."""

    @property
    def status(self) -> Status: ...

    @property
    def decided_by_moderator(self) -> bool: ...


def moderator_label(c: Decided) -> bool | None:
    """True for a moderator's rejection, False for a moderator's approval, else None."""
    if not c.decided_by_moderator:
        return None
    if c.status is Status.REJECTED:
        return True
    if c.status is Status.APPROVED:
        return False
    return None


def suggest(
    curve: Sequence[Mapping[str, Any]], target_precision: float | None, target_recall: float | None
) -> float | None:
    """The threshold that meets a target: lowest with precision >= target, or highest with recall >= target."""
    if target_precision is not None:
        ok = [
            p["threshold"]
            for p in curve
            if p["precision"] is not None and p["precision"] >= target_precision
        ]
        return min(ok) if ok else None
    if target_recall is not None:
        ok = [
            p["threshold"]
            for p in curve
            if p["recall"] is not None and p["recall"] >= target_recall
        ]
        return max(ok) if ok else None
    return None


def simulate(
    policy: Policy,
    comments: Sequence[StoredComment],
    target_precision: float | None = None,
    target_recall: float | None = None,
) -> dict[str, Any]:
    """Decide every comment again under `policy` and measure the result against moderators."""
    labels = [moderator_label(c) for c in comments]
    verdicts = [decide(policy, c.text, c.scores, c.language) for c in comments]
    overall = confusion((v.status is Status.HELD for v in verdicts), labels)
    categories: dict[str, Any] = {}
    for category, threshold in policy.thresholds.items():
        values = [c.scores.get(category, 0.0) for c in comments]
        curve = []
        for t in CURVE_THRESHOLDS:
            point = confusion((v >= t for v in values), labels).as_dict()
            curve.append(
                {
                    "threshold": t,
                    "precision": point["precision"],
                    "recall": point["recall"],
                    "hold_rate": point["hold_rate"],
                    "false_hold_rate": point["false_hold_rate"],
                }
            )
        categories[category] = {
            "threshold": threshold,
            **confusion((v >= threshold for v in values), labels).as_dict(),
            "curve": curve,
            "suggested_threshold": suggest(curve, target_precision, target_recall),
        }
    return {
        "overall": overall.as_dict(),
        "categories": categories,
        "target": {"precision": target_precision, "recall": target_recall},
    }


def shadow_report(outcomes: Sequence[ShadowOutcome]) -> dict[str, Any]:
    """Compare live and shadow decisions on the comments both decided.

    The live decision compared is the automatic one (held exactly when it recorded
    reasons); moderators' later decisions are the labels.
    """
    matrix = {
        "live_approve_shadow_approve": 0,
        "live_approve_shadow_hold": 0,
        "live_hold_shadow_approve": 0,
        "live_hold_shadow_hold": 0,
    }
    live_held: list[bool] = []
    shadow_held: list[bool] = []
    labels: list[bool | None] = []
    for r in outcomes:
        live = r.live_held
        shadow = r.shadow_status is Status.HELD
        key = f"live_{'hold' if live else 'approve'}_shadow_{'hold' if shadow else 'approve'}"
        matrix[key] += 1
        live_held.append(live)
        shadow_held.append(shadow)
        labels.append(moderator_label(r))
    agree = matrix["live_approve_shadow_approve"] + matrix["live_hold_shadow_hold"]
    return {
        "comments": len(outcomes),
        "agreement": _ratio(agree, len(outcomes)),
        "matrix": matrix,
        "live": confusion(live_held, labels).as_dict(),
        "shadow": confusion(shadow_held, labels).as_dict(),
    }
