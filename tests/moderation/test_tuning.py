"""Tuning without HTTP: simulations, the shadow report, the settings page's cache, training labels."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime

from moderation import tuning
from moderation.comments import Decider, Outcome, ShadowOutcome, Status, StoredComment
from moderation.policy import Policy
from moderation.privacy import Label
from tests.fakes import CATEGORIES

T0 = datetime(2026, 3, 1, tzinfo=UTC)
POLICY = Policy(thresholds=dict.fromkeys(CATEGORIES, 0.5), blocked_words=("grr",))


def comment(
    n: int,
    toxicity: float,
    status: Status = Status.APPROVED,
    decided_by: str = Decider.AUTO,
    text: str = "a comment",
) -> StoredComment:
    scores = {c: 0.0 for c in CATEGORIES} | {"toxicity": toxicity}
    return StoredComment(
        id=f"cmt_{n}",
        site_id="site_1",
        text=text,
        status=status,
        scores=scores,
        reasons=(),
        spans=(),
        model=None,
        language="en",
        risk=toxicity,
        version=1,
        created_at=T0,
        updated_at=T0,
        decided_by=decided_by,
        decision_reason="abusive" if status is Status.REJECTED else None,
        decided_at=T0 if decided_by != Decider.AUTO else None,
    )


def outcome(
    live_held: bool, shadow: Status, status: Status, decided_by: str = "usr_mod"
) -> ShadowOutcome:
    return ShadowOutcome("cmt_x", status, decided_by, live_held, shadow, T0)


def test_the_shadow_report_labels_only_moderators_decisions() -> None:
    outcomes = [
        outcome(True, Status.HELD, Status.REJECTED),  # both held it; a moderator: toxic
        outcome(True, Status.APPROVED, Status.APPROVED),  # live held it; a moderator: fine
        outcome(False, Status.HELD, Status.APPROVED, Decider.AUTO),  # nobody reviewed it
        outcome(False, Status.APPROVED, Status.REJECTED),  # both let it through; toxic
        outcome(True, Status.HELD, Status.HELD, Decider.AUTO),  # still waiting: unlabelled
    ]
    report = tuning.shadow_report(outcomes)
    assert report["comments"] == 5 and report["agreement"] == 0.6
    assert report["matrix"] == {
        "live_approve_shadow_approve": 1,
        "live_approve_shadow_hold": 1,
        "live_hold_shadow_approve": 1,
        "live_hold_shadow_hold": 2,
    }
    assert report["live"] == {
        "comments": 5,
        "held": 3,
        "hold_rate": 0.6,
        "labelled": 3,
        "true_holds": 1,
        "false_holds": 1,
        "missed": 1,
        "precision": 0.5,
        "recall": 0.5,
        "false_hold_rate": 1.0,
    }
    assert report["shadow"] == {
        "comments": 5,
        "held": 3,
        "hold_rate": 0.6,
        "labelled": 3,
        "true_holds": 1,
        "false_holds": 0,
        "missed": 1,
        "precision": 1.0,
        "recall": 0.5,
        "false_hold_rate": 0.0,
    }


def test_moderator_labels() -> None:
    assert tuning.moderator_label(comment(1, 0.9, Status.REJECTED, "usr_mod")) is True
    assert tuning.moderator_label(comment(2, 0.9, Status.APPROVED, "usr_mod")) is False
    assert tuning.moderator_label(comment(3, 0.9, Status.HELD)) is None
    assert tuning.moderator_label(comment(4, 0.1, Status.APPROVED)) is None


def test_simulate_counts_holds_against_moderators() -> None:
    comments = [
        comment(1, 0.9, Status.REJECTED, "usr_mod"),  # held, toxic
        comment(2, 0.7, Status.APPROVED, "usr_mod"),  # held, fine
        comment(3, 0.2, Status.REJECTED, "usr_mod"),  # missed
        comment(4, 0.1, Status.APPROVED, "usr_mod", text="grr to you"),  # held by a word, fine
        comment(5, 0.3),  # unreviewed
    ]
    report = tuning.simulate(POLICY, comments, target_precision=0.6)
    assert report["overall"] == {
        "comments": 5,
        "held": 3,
        "hold_rate": 0.6,
        "labelled": 4,
        "true_holds": 1,
        "false_holds": 2,
        "missed": 1,
        "precision": 0.3333,
        "recall": 0.5,
        "false_hold_rate": 1.0,
    }
    toxicity = report["categories"]["toxicity"]
    assert (toxicity["held"], toxicity["true_holds"], toxicity["false_holds"]) == (2, 1, 1)
    point = next(p for p in toxicity["curve"] if p["threshold"] == 0.8)
    assert (point["precision"], point["recall"], point["hold_rate"]) == (1.0, 0.5, 0.2)
    assert toxicity["suggested_threshold"] == 0.15  # the lowest with precision >= 0.6


def _naive(policy: Policy, comments: Sequence[StoredComment]) -> dict[str, object]:
    """The figures the way they read: every threshold compared against every comment."""
    labels = [tuning.moderator_label(c) for c in comments]
    out: dict[str, object] = {}
    for category, threshold in policy.thresholds.items():
        values = [c.scores.get(category, 0.0) for c in comments]
        out[category] = (
            tuning.confusion((v >= threshold for v in values), labels).as_dict(),
            [
                tuning.confusion((v >= t for v in values), labels).as_dict()
                for t in tuning.CURVE_THRESHOLDS
            ],
        )
    return out


def test_the_curves_match_comparing_every_comment_at_every_threshold() -> None:
    rng = random.Random(3)
    statuses = [Status.APPROVED, Status.REJECTED, Status.HELD]
    comments = [
        comment(
            n,
            rng.choice([round(rng.random(), 2), 0.05, 0.5, 0.95]),
            rng.choice(statuses),
            rng.choice([Decider.AUTO, "usr_mod"]),
        )
        for n in range(400)
    ]
    report = tuning.simulate(POLICY, comments)
    for category, (at_threshold, curve) in _naive(POLICY, comments).items():
        got = report["categories"][category]
        assert {k: got[k] for k in at_threshold} == at_threshold  # type: ignore[union-attr]
        keys = ("precision", "recall", "hold_rate", "false_hold_rate")
        assert [{k: p[k] for k in keys} for p in got["curve"]] == [
            {k: p[k] for k in keys}  # type: ignore[index]
            for p in curve  # type: ignore[attr-defined]
        ]


class Inputs:
    """The texts HeldUnder asks for, recorded."""

    def __init__(self, comments: Sequence[StoredComment]) -> None:
        self.by_id = {c.id: (c.text, c.language) for c in comments}
        self.asked: list[list[str]] = []

    def __call__(self, ids: Sequence[str]) -> Mapping[str, tuple[str, str | None]]:
        self.asked.append(list(ids))
        return {i: self.by_id[i] for i in ids}


def _outcomes(comments: Sequence[StoredComment]) -> list[Outcome]:
    return [Outcome(c.id, c.version, c.status, c.decided_by, c.scores) for c in comments]


def test_held_under_decides_each_comment_once_per_version_and_policy() -> None:
    comments = [comment(1, 0.9), comment(2, 0.1), comment(3, 0.1, text="grr")]
    cache, inputs = tuning.HeldUnder(), Inputs(comments)
    assert cache.held("site_1", POLICY, _outcomes(comments), inputs) == [True, False, True]
    assert cache.held("site_1", POLICY, _outcomes(comments), inputs) == [True, False, True]
    assert inputs.asked == [["cmt_1", "cmt_2", "cmt_3"]]  # the second look decided nothing
    # Retention removed a text (a new version): only that comment is decided again.
    comments[2] = replace(comments[2], text="", version=2)
    comments.append(comment(4, 0.6))
    inputs.by_id.update({c.id: (c.text, c.language) for c in comments})
    assert cache.held("site_1", POLICY, _outcomes(comments), inputs) == [True, False, False, True]
    assert inputs.asked[-1] == ["cmt_3", "cmt_4"]
    # A new policy starts afresh, and the figures are the ones simulate gives.
    stricter = replace(POLICY, thresholds=dict.fromkeys(CATEGORIES, 0.95))
    held = cache.held("site_1", stricter, _outcomes(comments), inputs)
    assert held == [False, False, False, False] and len(inputs.asked[-1]) == 4
    assert tuning.measure(stricter, _outcomes(comments), held) == tuning.simulate(
        stricter, comments
    )


def test_training_labels_are_moderators_decisions_and_sites_toxicity_labels() -> None:
    decided = [
        comment(1, 0.9, Status.REJECTED, "usr_mod"),
        comment(2, 0.2, Status.APPROVED, "usr_mod"),
        comment(3, 0.9, Status.HELD),  # the policy's own decision: no label
    ]
    sent = [
        Label("cmt_9", "a site's label", "TOXICITY", 0.5, "site", T0),
        Label(None, "not toxic", "toxicity", 0.49, "site", T0),
        Label(None, "another attribute", "INSULT", 1.0, "site", T0),
    ]
    labels = list(tuning.training_labels(decided, sent))
    assert [(x.comment_id, x.toxic, x.source) for x in labels] == [
        ("cmt_1", True, "moderator"),
        ("cmt_2", False, "moderator"),
        ("cmt_9", True, "site"),
        (None, False, "site"),
    ]
    assert labels[0].reason == "abusive" and labels[0].model_toxicity == 0.9
    assert labels[2].model_toxicity is None and labels[2].at == T0
