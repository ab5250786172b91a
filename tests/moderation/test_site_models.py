"""Sites' adapted models in the domain: label rules, training preconditions, the time split, the LRU."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from moderation.comments import Decider, RejectReason, Status, StoredComment
from moderation.errors import Invalid, NotFound
from moderation.privacy import Label
from moderation.scoring import GuardedScorer, InferenceQueue, SiteModelCache, model_key
from moderation.site_models import (
    MIN_LABELS,
    MIN_RETRAIN_AFTER,
    LabelledText,
    LabelSource,
    ModelSettings,
    ModelState,
    SiteModel,
    check_settings,
    check_trainable,
    decision_label,
    new_labels,
    parse_labels_csv,
    parse_version,
    recalibrated,
    retrain_due,
    site_labels,
    split_by_time,
    wins,
)

T0 = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)


def comment(
    text: str = "A remark.",
    status: Status = Status.APPROVED,
    decided_by: str = "usr_1",
    reason: str | None = None,
    at: datetime = T0,
) -> StoredComment:
    return StoredComment(
        id=f"cmt_{abs(hash((text, at)))}",
        site_id="site_1",
        text=text,
        status=status,
        scores={},
        reasons=(),
        spans=(),
        model=None,
        language="en",
        risk=0.0,
        version=2,
        created_at=at,
        updated_at=at,
        decided_by=decided_by,
        decision_reason=reason,
    )


@pytest.mark.parametrize(
    ("status", "reason", "decided_by", "label"),
    [
        (Status.APPROVED, None, "usr_1", False),
        (Status.REJECTED, RejectReason.ABUSIVE, "usr_1", True),
        (Status.REJECTED, RejectReason.HARASSMENT, "usr_1", True),
        (Status.REJECTED, RejectReason.HATE_SPEECH, "usr_1", True),
        (Status.REJECTED, RejectReason.THREAT, "usr_1", True),
        # Civil spam and off-topic remarks say nothing about toxicity; "other" neither.
        (Status.REJECTED, RejectReason.SPAM, "usr_1", None),
        (Status.REJECTED, RejectReason.OFF_TOPIC, "usr_1", None),
        (Status.REJECTED, RejectReason.OTHER, "usr_1", None),
        # What the policy decided alone is no moderator's judgement.
        (Status.APPROVED, None, Decider.AUTO, None),
        (Status.HELD, None, Decider.AUTO, None),
        (Status.WITHDRAWN, None, "usr_1", None),
    ],
)
def test_decision_labels(
    status: Status, reason: str | None, decided_by: str, label: bool | None
) -> None:
    assert decision_label(comment(status=status, reason=reason, decided_by=decided_by)) is label


def test_a_published_comment_taken_down_later_is_a_toxic_label() -> None:
    # Auto-approved on arrival, then a moderator rejected it (readers reported it): the
    # comment row then says rejected, by that moderator, for abuse.
    taken_down = comment(status=Status.REJECTED, reason=RejectReason.ABUSIVE, decided_by="usr_9")
    assert decision_label(taken_down) is True


def test_site_labels_merge_decisions_and_imports_in_time_order() -> None:
    decided = [
        comment("Thanks, well put.", at=T0 + timedelta(hours=2)),
        comment("You absolute clown.", Status.REJECTED, reason="abusive", at=T0),
        comment("Buy cheap watches.", Status.REJECTED, reason="spam", at=T0),
    ]
    imported = [
        Label(None, "Imported rude remark.", "TOXICITY", 1.0, "import", T0 + timedelta(hours=1)),
        Label(None, "Imported polite remark.", "TOXICITY", 0.0, "import", T0 + timedelta(hours=3)),
        Label(None, "An insult score says nothing here.", "INSULT", 1.0, "import", T0),
    ]
    labels = site_labels(decided, imported)
    assert [(x.text, x.toxic, x.source) for x in labels] == [
        ("You absolute clown.", True, LabelSource.MODERATOR),
        ("Imported rude remark.", True, LabelSource.IMPORTED),
        ("Thanks, well put.", False, LabelSource.MODERATOR),
        ("Imported polite remark.", False, LabelSource.IMPORTED),
    ]


def labelled(n: int, toxic_every: int = 4) -> list[LabelledText]:
    return [
        LabelledText(
            f"text {i}", i % toxic_every == 0, T0 + timedelta(minutes=i), LabelSource.MODERATOR
        )
        for i in range(n)
    ]


def test_fewer_than_the_minimum_is_refused_with_the_count() -> None:
    with pytest.raises(
        Invalid, match=f"has {MIN_LABELS - 1} labelled comments.*at least {MIN_LABELS}"
    ):
        check_trainable(labelled(MIN_LABELS - 1))
    check_trainable(labelled(MIN_LABELS))


@pytest.mark.parametrize("toxic", [True, False])
def test_one_class_only_is_refused(toxic: bool) -> None:
    same = [replace(x, toxic=toxic) for x in labelled(MIN_LABELS + 50)]
    with pytest.raises(Invalid, match="both approved and rejected"):
        check_trainable(same)


def test_validation_is_the_newest_fifth() -> None:
    labels = labelled(250)
    shuffled = labels[::2] + labels[1::2]  # arrival order is not time order
    train, val = split_by_time(shuffled)
    assert len(val) == 50 and len(train) == 200
    assert min(x.at for x in val) > max(x.at for x in train)
    assert {x.text for x in val} == {f"text {i}" for i in range(200, 250)}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "header 'text,label'"),
        ("comment,insult\nhi,1\n", "header 'text,label'"),
        ("text,label\nFine remark,2\n", "Line 2: the label must be 0 or 1"),
        ("text,label\nFine remark,yes\n", "Line 2: the label must be 0 or 1"),
        ("text,label\nok,0\nA remark,1,extra\n", "Line 3: expected 2 fields"),
        ('text,label\n"unterminated,1\n', "not valid CSV"),
        ("text,label\n,1\n", "Line 2: the text is empty"),
        ("text,label\n", "holds no labels"),
        ("text,label\nnul \x00 here,1\n", "NUL"),
    ],
)
def test_bad_csv_names_the_problem(content: str, message: str) -> None:
    with pytest.raises(Invalid, match=message):
        parse_labels_csv(content)


def test_csv_rows_with_quotes_and_newlines() -> None:
    rows = parse_labels_csv('text,label\n"Two lines,\nwith a comma",1\nPlain,0\n\n')
    assert [(r.text, r.toxic) for r in rows] == [
        ("Two lines,\nwith a comma", True),
        ("Plain", False),
    ]


def test_versions_parse_with_or_without_v() -> None:
    assert parse_version("v3") == parse_version("3") == 3
    for bad in ("latest", "v", "-1", "v1.2", "9" * 12):
        with pytest.raises(NotFound):
            parse_version(bad)


def test_a_candidate_wins_only_when_its_interval_clears_zero_and_fairness_holds() -> None:
    fair = {"ok": True}
    assert wins({"roc_auc": {"delta": {"value": 0.05, "low": 0.01}}, "fairness": fair})
    assert not wins({"roc_auc": {"delta": {"value": 0.05, "low": -0.01}}, "fairness": fair})
    assert not wins({"roc_auc": {"delta": {"value": 0.05, "low": 0.01}}, "fairness": {"ok": False}})
    assert not wins({})


def test_recalibration_changes_only_toxicity() -> None:
    from moderation.policy import Policy
    from moderation.sites import Site

    site = Site(
        "s", "s", Policy(thresholds={"toxicity": 0.8, "threat": 0.5}), None, None, "x", 1, T0
    )
    proposed = recalibrated(site, {"recalibration": {"toxicity": {"proposed": 0.64}}})
    assert proposed == {"toxicity": 0.64, "threat": 0.5}
    assert recalibrated(site, {}) is None


# -- serving: the LRU of site models and the shared inference queue ----------


class Named:
    """A plain scorer that answers a fixed toxicity, named so callers can tell models apart."""

    categories = ("toxicity",)

    def __init__(self, name: str, toxicity: float) -> None:
        self.name, self.version, self.toxicity = name, "v1", toxicity
        self.calls: list[list[str]] = []

    def score(self, texts: Sequence[str]) -> list[dict[str, float]]:
        self.calls.append(list(texts))
        return [{"toxicity": self.toxicity} for _ in texts]


def test_the_lru_keeps_at_most_its_capacity_and_reloads_the_evicted() -> None:
    loaded: list[str] = []

    def load(key: str) -> Named:
        loaded.append(key)
        return Named(key, 0.5)

    cache = SiteModelCache(load, capacity=2)
    a = cache.get("a/v1")
    cache.get("b/v1")
    assert cache.get("a/v1") is a  # a hit: not loaded again, and now the most recent
    cache.get("c/v1")  # evicts b, the least recently used
    assert cache.keys() == ["a/v1", "c/v1"]
    cache.get("b/v1")
    assert cache.keys() == ["c/v1", "b/v1"]
    assert loaded == ["a/v1", "b/v1", "c/v1", "b/v1"]


def test_concurrent_first_requests_load_a_site_model_once() -> None:
    started, release = threading.Event(), threading.Event()
    loads: list[str] = []

    def load(key: str) -> Named:
        loads.append(key)
        started.set()
        release.wait(5)
        return Named(key, 0.5)

    cache = SiteModelCache(load, capacity=2)
    got: list[Named] = []
    threads = [threading.Thread(target=lambda: got.append(cache.get("a/v1"))) for _ in range(4)]
    for t in threads:
        t.start()
    started.wait(5)
    release.set()
    for t in threads:
        t.join(5)
    assert loads == ["a/v1"] and len({id(g) for g in got}) == 1


def test_a_site_model_scores_through_the_same_queue_and_names_itself() -> None:
    base, site = Named("base", 0.1), Named("base@site_1", 0.9)
    scorer = GuardedScorer(lambda: base, timeout=2, sites=SiteModelCache(lambda k: site, 2))
    key = model_key("site_1", 3)
    assert key == "site_1/v3" and model_key("site_1", None) is None
    assert scorer.score(["hello"], model=key) == [{"toxicity": 0.9}]
    assert scorer.score(["hello"]) == [{"toxicity": 0.1}]
    assert scorer.model_for(key).name == "base@site_1"
    assert scorer.model_for(None).name == "base"
    assert base.calls == [["hello"]] and site.calls == [["hello"]]


def test_windows_of_two_models_never_share_a_forward_pass() -> None:
    from tests.moderation.test_inference_queue import WordWindows

    base, other = WordWindows(), WordWindows()
    base.gate.clear()
    queue = InferenceQueue(base, batch_tokens=64)
    first = queue.submit(["a b c d"])  # occupies the thread while the next two queue up
    base.entered.wait(5)
    on_base = queue.submit(["awful e f g"])
    on_other = queue.submit(["h i j k"], other)
    base.gate.set()
    assert queue.result(on_other, 5) == [{"toxicity": 0.1}]
    assert queue.result(on_base, 5) == [{"toxicity": 0.9}]
    queue.result(first, 5)
    assert other.passes == [["h i j k"]]
    assert all("h i j k" not in p for p in base.passes)


# -- a site's stored opt-in: retraining on new labels ---------------------------


def version(
    n: int,
    state: ModelState = ModelState.READY,
    created: datetime = T0,
    started: datetime | None = None,
) -> SiteModel:
    return SiteModel(
        "site_1", n, state, "system", created_at=created, started_at=started or created
    )


def arriving(n: int, start: datetime, toxic_every: int = 4) -> list[LabelledText]:
    """n labels on comments written long ago, decided from `start` on, a minute apart."""
    return [
        LabelledText(
            f"text {i}",
            i % toxic_every == 0,
            T0 - timedelta(days=30),
            LabelSource.MODERATOR,
            labelled_at=start + timedelta(minutes=i),
        )
        for i in range(n)
    ]


NOW = T0 + timedelta(days=2)
EVERY_100 = ModelSettings(retrain_after_labels=100)


def test_no_retraining_unless_the_site_asked_for_it() -> None:
    labels = arriving(500, T0)
    assert not retrain_due(ModelSettings(), labels, [], NOW)
    assert not retrain_due(ModelSettings(auto_promote=True), labels, [], NOW)
    assert retrain_due(EVERY_100, labels, [], NOW)


def test_new_labels_count_from_the_newest_versions_training() -> None:
    trained = T0 + timedelta(days=1)
    old = arriving(300, T0)  # all decided before v2 started training
    # Labels are counted by when they arrived, not when the comment was written: a comment
    # from last month decided today is new.
    new = arriving(99, trained + timedelta(minutes=1))
    versions = [version(1, created=T0), version(2, created=trained)]
    assert new_labels(old + new, versions) == 99
    assert not retrain_due(EVERY_100, old + new, versions, NOW)
    more = [*old, *arriving(100, trained + timedelta(minutes=1))]
    assert retrain_due(EVERY_100, more, versions, NOW)
    # A failed newest version counts as trained: no retry on every tick, only after more labels.
    failed = [version(1, created=T0), version(2, ModelState.FAILED, created=trained)]
    assert new_labels(more, failed) == 100


def test_no_retraining_while_a_version_is_queued_or_training() -> None:
    labels = arriving(500, T0 + timedelta(hours=1))
    for state in (ModelState.QUEUED, ModelState.TRAINING):
        busy = [version(1, state, created=T0)]
        assert not retrain_due(EVERY_100, labels, busy, T0 + timedelta(hours=1))
    # A version whose job vanished stops blocking after six hours (the request fails it).
    lost = [version(1, ModelState.QUEUED, created=T0)]
    assert retrain_due(EVERY_100, labels, lost, T0 + timedelta(hours=7))


def test_no_retraining_without_enough_labels_of_both_kinds() -> None:
    settings = ModelSettings(retrain_after_labels=MIN_RETRAIN_AFTER)
    assert not retrain_due(settings, arriving(MIN_LABELS - 1, T0), [], NOW)
    assert retrain_due(settings, arriving(MIN_LABELS, T0), [], NOW)
    acceptable_only = arriving(MIN_LABELS + 100, T0, toxic_every=10**6 + 1)[1:]
    assert not retrain_due(settings, acceptable_only, [], NOW)


@pytest.mark.parametrize("n", [None, MIN_RETRAIN_AFTER, 10_000])
def test_sensible_retraining_thresholds_pass(n: int | None) -> None:
    check_settings(ModelSettings(retrain_after_labels=n))


@pytest.mark.parametrize("n", [0, 1, MIN_RETRAIN_AFTER - 1, 10**7])
def test_retraining_thresholds_out_of_range_are_refused(n: int) -> None:
    with pytest.raises(Invalid, match="retrain_after_labels must be between"):
        check_settings(ModelSettings(retrain_after_labels=n))
