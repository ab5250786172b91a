"""What a policy change would do, measured on the site's own comments and moderators' decisions.

A moderator's rejection labels a comment toxic, an approval labels it fine;
comments nobody reviewed count toward hold rates but not precision or recall.
"""

from __future__ import annotations

import bisect
import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from moderation.categories import Category
from moderation.comments import Outcome, ShadowOutcome, Status, StoredComment
from moderation.policy import Policy, decide
from moderation.privacy import Label

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


@dataclass(frozen=True)
class TrainingLabel:
    """A text and whether it is toxic, as `models.evaluate` and `models.train` read them back."""

    comment_id: str | None
    text: str
    toxic: bool
    reason: str | None  # the moderator's reject reason
    at: datetime | None  # when it was decided, or when the label was sent
    source: str  # "moderator", or the label's own source
    model_toxicity: float | None  # the model's toxicity score for a stored comment


MODERATOR_SOURCE = "moderator"
# A site's label counts when it is about toxicity, and says toxic from this score up.
LABELLED_ATTRIBUTE = "TOXICITY"
TOXIC_FROM = 0.5


def training_labels(
    decided: Iterable[StoredComment], labels: Iterable[Label]
) -> Iterator[TrainingLabel]:
    """What counts as a label: moderators' approvals and rejections, then sites' toxicity labels.

    `decided` are the comments moderators decided whose text is still kept; a comment
    the policy decided on its own says nothing about it and is left out.
    """
    for c in decided:
        toxic = moderator_label(c)
        if toxic is None:
            continue
        yield TrainingLabel(
            comment_id=c.id,
            text=c.text,
            toxic=toxic,
            reason=c.decision_reason,
            at=c.decided_at,
            source=MODERATOR_SOURCE,
            model_toxicity=c.scores.get(Category.TOXICITY),
        )
    for f in labels:
        if f.attribute.upper() == LABELLED_ATTRIBUTE:
            yield TrainingLabel(
                comment_id=f.comment_id,
                text=f.text,
                toxic=f.score >= TOXIC_FROM,
                reason=None,
                at=f.created_at,
                source=f.source,
                model_toxicity=None,
            )


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


class _ByScore:
    """One category's scores sorted per label: the confusion at any threshold by bisection.

    The same counts as `confusion((score >= t ...), labels)`, without a pass over every
    comment for each of the curve's thresholds.
    """

    def __init__(self, values: Sequence[float], labels: Sequence[bool | None]) -> None:
        self.all = sorted(values)
        self.toxic = sorted(v for v, label in zip(values, labels, strict=True) if label is True)
        self.fine = sorted(v for v, label in zip(values, labels, strict=True) if label is False)

    def at(self, threshold: float) -> Confusion:
        """Holds at `threshold` (score >= threshold) against the labels."""

        def over(values: list[float]) -> int:
            return len(values) - bisect.bisect_left(values, threshold)

        tp, fp = over(self.toxic), over(self.fine)
        return Confusion(
            len(self.all), over(self.all), tp, fp, len(self.toxic) - tp, len(self.fine) - fp
        )


class Measured(Decided, Protocol):
    """A stored comment as far as the figures go: its scores and where it stands."""

    @property
    def scores(self) -> Mapping[str, float]: ...


# What a policy decides on besides the scores, per comment id: the text and its language.
DecisionInputs = Callable[[Sequence[str]], Mapping[str, tuple[str, str | None]]]


class HeldUnder:
    """Which stored comments a site's live policy holds, each decided once per comment version.

    For the settings page, which measures the live policy on every comment the site ever
    had: a comment's verdict depends only on the policy and on its text, scores and
    language, and any change to those bumps the comment's version. So a verdict is
    reused while the policy and the comment's version stay the same, and only comments
    new or changed since are read in full and decided; a new policy starts afresh.
    One per process; threads share it.
    """

    def __init__(self, max_sites: int = 64) -> None:
        self.max_sites = max_sites
        self._lock = threading.Lock()
        self._sites: OrderedDict[str, tuple[str, dict[str, tuple[int, bool]]]] = OrderedDict()

    def held(
        self, site_id: str, policy: Policy, outcomes: Sequence[Outcome], inputs: DecisionInputs
    ) -> list[bool]:
        """Whether `policy` holds each comment (as `decide` says), in order."""
        fingerprint = json.dumps(policy.as_dict(), sort_keys=True)
        with self._lock:
            known_policy, known = self._sites.get(site_id, ("", {}))
        if known_policy != fingerprint:
            known = {}
        misses = [o.id for o in outcomes if (hit := known.get(o.id)) is None or hit[0] != o.version]
        texts = inputs(misses) if misses else {}
        now: dict[str, tuple[int, bool]] = {}
        for o in outcomes:
            hit = known.get(o.id)
            if hit is None or hit[0] != o.version:
                text, language = texts[o.id]
                hit = (o.version, decide(policy, text, o.scores, language).status is Status.HELD)
            now[o.id] = hit
        with self._lock:
            self._sites[site_id] = (fingerprint, now)
            self._sites.move_to_end(site_id)
            while len(self._sites) > self.max_sites:
                self._sites.popitem(last=False)
        return [now[o.id][1] for o in outcomes]


def simulate(
    policy: Policy,
    comments: Sequence[StoredComment],
    target_precision: float | None = None,
    target_recall: float | None = None,
) -> dict[str, Any]:
    """Decide every comment again under `policy` and measure the result against moderators."""
    held = [decide(policy, c.text, c.scores, c.language).status is Status.HELD for c in comments]
    return measure(policy, comments, held, target_precision, target_recall)


def measure(
    policy: Policy,
    comments: Sequence[Measured],
    held: Sequence[bool],
    target_precision: float | None = None,
    target_recall: float | None = None,
) -> dict[str, Any]:
    """Measure `policy` against moderators, given whether it holds each comment."""
    labels = [moderator_label(c) for c in comments]
    overall = confusion(held, labels)
    categories: dict[str, Any] = {}
    for category, threshold in policy.thresholds.items():
        by_score = _ByScore([c.scores.get(category, 0.0) for c in comments], labels)
        curve = []
        for t in CURVE_THRESHOLDS:
            point = by_score.at(t).as_dict()
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
            **by_score.at(threshold).as_dict(),
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
