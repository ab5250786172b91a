"""The inference queue: shared forward passes, shortest-remaining-first, aging, failures."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import pytest

from moderation.scoring import (
    AGING_TOKENS_PER_SECOND,
    MAX_PADDING,
    GuardedScorer,
    InferenceQueue,
    ScoringUnavailable,
)

WINDOW = 4  # words per window in the fake


class WordWindows:
    """A windowed fake: a text's words, cut into windows of WINDOW words (one 'token' a word).

    Each window scores 0.9 toxicity if it holds the word 'awful', else 0.1; a text
    takes the maximum over its windows. `gate` holds every forward pass until set.
    """

    name = "word-windows"
    version = "test"
    categories = ("toxicity",)

    def __init__(self) -> None:
        self.passes: list[list[str]] = []  # the words of each window, per forward pass
        self.gate = threading.Event()
        self.gate.set()
        self.entered = threading.Event()
        self.fail_on: str | None = None

    def preprocess(self, texts: Sequence[str]) -> tuple[list[list[str]], list[int]]:
        windows, owners = [], []
        for i, text in enumerate(texts):
            words = text.split() or [""]
            for start in range(0, len(words), WINDOW):
                windows.append(words[start : start + WINDOW])
                owners.append(i)
        return windows, owners

    def forward(self, windows: list[list[str]]) -> list[float]:
        self.entered.set()
        self.gate.wait(5)
        self.passes.append([" ".join(w) for w in windows])
        if self.fail_on and any(self.fail_on in w for w in windows):
            raise RuntimeError("model exploded")
        return [0.9 if "awful" in w else 0.1 for w in windows]

    def postprocess(self, rows: Any, owners: list[int], n_texts: int) -> list[dict[str, float]]:
        best = [0.0] * n_texts
        for owner, row in zip(owners, rows, strict=True):
            best[owner] = max(best[owner], row)
        return [{"toxicity": b} for b in best]

    def finish(
        self, texts: Sequence[str], scores: Sequence[dict[str, float]]
    ) -> list[dict[str, float]]:
        """A text-level step, as an n-gram head is: a text ending in '!' gains 0.05."""
        return [
            {"toxicity": s["toxicity"] + (0.05 if t.endswith("!") else 0.0)}
            for t, s in zip(texts, scores, strict=True)
        ]

    def score(self, texts: Sequence[str]) -> list[dict[str, float]]:
        windows, owners = self.preprocess(texts)
        return self.finish(texts, self.postprocess(self.forward(windows), owners, len(texts)))


def words(n: int, tag: str = "w") -> str:
    return " ".join(f"{tag}{i}" for i in range(n))


def blocked(queue: InferenceQueue, scorer: WordWindows) -> None:
    """Occupy the inference thread with a one-window call, so later calls pile up."""
    scorer.gate.clear()
    scorer.entered.clear()
    queue.submit(["blocker"])
    assert scorer.entered.wait(5)


def test_results_match_scoring_directly() -> None:
    scorer = WordWindows()
    queue = InferenceQueue(scorer, batch_tokens=64)
    texts = ["a fine day", words(9) + " awful " + words(6), "", "awful"]
    call = queue.submit(texts)
    assert queue.result(call, timeout=5) == scorer.score(texts)
    assert [r["toxicity"] for r in queue.result(call, timeout=5)] == [0.1, 0.9, 0.1, 0.9]


def test_the_text_level_step_sees_each_calls_own_texts_in_order() -> None:
    scorer = WordWindows()
    queue = InferenceQueue(scorer, batch_tokens=64)
    blocked(queue, scorer)
    first = queue.submit(["calm words here", "awful words here!"])
    second = queue.submit(["calm words there!", "awful"])
    scorer.gate.set()
    assert [r["toxicity"] for r in queue.result(first, timeout=5)] == pytest.approx([0.1, 0.95])
    assert [r["toxicity"] for r in queue.result(second, timeout=5)] == pytest.approx([0.15, 0.9])


def test_waiting_short_calls_share_one_forward_pass() -> None:
    scorer = WordWindows()
    queue = InferenceQueue(scorer, batch_tokens=64)
    blocked(queue, scorer)
    calls = [queue.submit([f"short comment {i}"]) for i in range(5)]
    scorer.gate.set()
    for call in calls:
        queue.result(call, timeout=5)
    assert scorer.passes[0] == ["blocker"]
    assert sorted(scorer.passes[1]) == sorted(f"short comment {i}" for i in range(5))
    assert len(scorer.passes) == 2


def test_a_long_call_runs_in_chunks_and_short_ones_go_between() -> None:
    scorer = WordWindows()
    # Two 4-word windows fit in a pass: the long comment (10 windows) needs five.
    queue = InferenceQueue(scorer, batch_tokens=8)
    blocked(queue, scorer)
    long_call = queue.submit([words(40, "long")])
    short_call = queue.submit(["two words"])
    scorer.gate.set()
    queue.result(long_call, timeout=5)
    queue.result(short_call, timeout=5)
    passes = scorer.passes[1:]
    # No pass over the budget of padded tokens (windows x the longest window's words).
    assert all(len(p) * max(len(w.split()) for w in p) <= 8 for p in passes)
    # The short comment arrived after the long one but leads the first pass.
    assert passes[0][0] == "two words"
    long_windows = [w for p in passes for w in p if w.startswith("long")]
    assert long_windows == [" ".join(f"long{i}" for i in range(k, k + 4)) for k in range(0, 40, 4)]
    # The short comment runs alone: beside a 4-word window it would be half padding.
    assert passes[0] == ["two words"]
    assert len(passes) == 6


def test_windows_of_very_different_lengths_do_not_share_a_pass() -> None:
    scorer = WordWindows()
    queue = InferenceQueue(scorer, batch_tokens=64)
    blocked(queue, scorer)
    calls = [queue.submit([t]) for t in ("one", "one two three four", "a b c d", "x")]
    scorer.gate.set()
    for call in calls:
        queue.result(call, timeout=5)
    passes = [sorted(p) for p in scorer.passes[1:]]
    # Shortest first; same-length windows share a pass, a 1-word and a 4-word one do not.
    assert passes == [["one", "x"], ["a b c d", "one two three four"]]
    for p in scorer.passes[1:]:
        widths = [len(w.split()) for w in p]
        assert sum(widths) >= (1 - MAX_PADDING) * len(p) * max(widths)


def test_a_calls_windows_run_shortest_first_so_similar_lengths_share_passes() -> None:
    scorer = WordWindows()
    queue = InferenceQueue(scorer, batch_tokens=64)
    # A comment's sentences, scored in one call: short and long ones alternate.
    sentences = ["fine", "what an awful take", "ok", "this is quite long", "awful", "a b c d"]
    call = queue.submit(sentences)
    scores = [r["toxicity"] for r in queue.result(call, timeout=5)]
    assert scores == [0.1, 0.9, 0.1, 0.1, 0.9, 0.1]  # each text gets its own windows back
    # In text order every window would open a pass (a 1-word and a 4-word window may
    # not share one); shortest first, two passes.
    assert [sorted(p) for p in scorer.passes] == [
        ["awful", "fine", "ok"],
        ["a b c d", "this is quite long", "what an awful take"],
    ]


def test_a_short_comment_arriving_mid_way_overtakes_the_rest_of_a_long_one() -> None:
    scorer = WordWindows()
    queue = InferenceQueue(scorer, batch_tokens=4)  # one window per pass
    scorer.gate.clear()
    scorer.entered.clear()
    long_call = queue.submit([words(24, "long")])  # six windows
    assert scorer.entered.wait(5)  # its first window is running
    short_call = queue.submit(["quick"])
    scorer.gate.set()
    queue.result(long_call, timeout=5)
    queue.result(short_call, timeout=5)
    order = [p[0] for p in scorer.passes]
    assert order.index("quick") == 1  # right after the window that was running


def test_waiting_earns_priority_so_long_comments_are_not_starved() -> None:
    now = [100.0]
    scorer = WordWindows()
    queue = InferenceQueue(scorer, batch_tokens=4, clock=lambda: now[0])
    blocked(queue, scorer)
    long_call = queue.submit([words(8, "long")])  # 8 tokens left
    # Long enough ago that its 8 tokens now count for less than a fresh 1-token call.
    now[0] += 8 / AGING_TOKENS_PER_SECOND + 0.01
    short_call = queue.submit(["fresh"])
    scorer.gate.set()
    queue.result(long_call, timeout=5)
    queue.result(short_call, timeout=5)
    assert [p[0] for p in scorer.passes[1:]] == [
        "long0 long1 long2 long3",
        "long4 long5 long6 long7",
        "fresh",
    ]


def test_a_timed_out_call_gives_up_its_remaining_windows() -> None:
    scorer = WordWindows()
    guarded = GuardedScorer(lambda: scorer, timeout=0.2, batch_tokens=4)
    guarded.load()
    scorer.gate.clear()
    with pytest.raises(ScoringUnavailable, match="longer than"):
        guarded.score([words(20, "slow")])  # five windows, stuck in the first
    scorer.gate.set()
    assert guarded.score(["after"]) == [{"toxicity": 0.1}]
    ran = [w for p in scorer.passes for w in p]
    assert ran == ["slow0 slow1 slow2 slow3", "after"]


def test_a_failing_pass_fails_its_calls_only() -> None:
    scorer = WordWindows()
    scorer.fail_on = "boom"
    queue = InferenceQueue(scorer, batch_tokens=4)
    guarded = GuardedScorer(lambda: scorer, timeout=5, batch_tokens=4)
    with pytest.raises(ScoringUnavailable, match="RuntimeError: model exploded"):
        guarded.score(["boom goes the model"])
    assert guarded.score(["still fine"]) == [{"toxicity": 0.1}]
    call = queue.submit(["boom"])
    with pytest.raises(RuntimeError):
        queue.result(call, timeout=5)


class PlainScorer:
    """No windows: the queue runs one whole call at a time, the shortest first."""

    name = "plain"
    version = "test"
    categories = ("toxicity",)

    def __init__(self) -> None:
        self.calls: list[list[str]] = []
        self.gate = threading.Event()
        self.entered = threading.Event()

    def score(self, texts: Sequence[str]) -> list[dict[str, float]]:
        self.entered.set()
        self.gate.wait(5)
        self.calls.append(list(texts))
        return [{"toxicity": 0.5} for _ in texts]


def test_a_plain_scorer_gets_whole_calls_shortest_first() -> None:
    scorer = PlainScorer()
    queue = InferenceQueue(scorer)
    assert not queue.windowed
    first = queue.submit(["first"])
    assert scorer.entered.wait(5)
    long_call = queue.submit(["a much longer comment " * 20, "and another"])
    short_call = queue.submit(["short"])
    scorer.gate.set()
    assert queue.result(long_call, timeout=5) == [{"toxicity": 0.5}] * 2
    queue.result(short_call, timeout=5)
    queue.result(first, timeout=5)
    assert scorer.calls == [["first"], ["short"], ["a much longer comment " * 20, "and another"]]
