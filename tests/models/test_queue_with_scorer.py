"""The inference queue over a real TransformersScorer: same scores as scoring directly."""

from __future__ import annotations

import concurrent.futures

from moderation.scoring import GuardedScorer, InferenceQueue


def test_concurrent_callers_get_the_scores_of_a_direct_call(trigger_scorer) -> None:
    scorer = trigger_scorer(max_length=16, stride=4, batch_size=4)
    texts = [
        "a calm remark",
        "the villain again",
        "word " * 60 + "villain at the very end",  # several windows, the last one toxic
        "",
        "many words here " * 5,
    ]
    expected = scorer.score(texts)
    direct_passes = len(scorer.model.batches)
    guarded = GuardedScorer(lambda: scorer, timeout=10, batch_tokens=48)
    assert InferenceQueue(scorer).windowed
    with concurrent.futures.ThreadPoolExecutor(5) as pool:
        singles = list(pool.map(lambda t: guarded.score([t])[0], texts * 3))
    for got, want in zip(singles, expected * 3, strict=True):
        assert got.keys() == want.keys()
        assert all(abs(got[c] - want[c]) < 1e-5 for c in want)
    assert singles[2]["toxicity"] > 0.99 and singles[0]["toxicity"] < 0.01
    # Passes never exceed the token budget (rows x padded width).
    assert all(rows * width <= 48 for rows, width in scorer.model.batches[direct_passes:])
