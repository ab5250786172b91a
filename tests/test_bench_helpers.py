"""Helpers of the benchmarks that decide what their tables say."""

from __future__ import annotations

import itertools
import random
import types
from pathlib import Path

from bench.arrivals import poisson_arrivals
from bench.profile_service import summarize

RAW = """\
thread (11): inference;_serve (moderation/scoring.py:156);TransformersScorer.forward (models/scorer.py:217);linear (torch) 60
thread (12): ThreadPoolExecutor-1_0;ThreadWorker.handle (gthread.py:1);Flask.wsgi_app (app.py:1);detect_language (language.py:64) 30
thread (12): ThreadPoolExecutor-1_0;ThreadWorker.handle (gthread.py:1);Response.write (util.py:348) 10
"""


def test_profile_summary_shares_add_up_per_thread_and_function() -> None:
    text = summarize(RAW)
    assert "100 samples" in text
    assert "| inference | 60.0 % |" in text
    assert "| ThreadPoolExecutor-1_0 | 40.0 % |" in text
    assert "| TransformersScorer.forward | 60.0 % |" in text
    assert "| ThreadWorker.handle | 40.0 % |" in text
    assert "| detect_language | 30.0 % |" in text
    assert summarize("") == "no samples"


def test_poisson_arrivals_keep_the_rate_and_are_not_in_step() -> None:
    clock = [0.0]
    wait = poisson_arrivals(2.0, random.Random(5), clock=lambda: clock[0])
    starts: list[list[float]] = []
    for user in [types.SimpleNamespace() for _ in range(20)]:
        t, mine = 0.0, []
        for _ in range(200):
            clock[0] = t
            t += wait(user)  # the user sends as soon as it is due (answers take no time here)
            mine.append(t)
        starts.append(mine)
    rates = [len(s) / s[-1] for s in starts]
    assert 1.7 < sum(rates) / len(rates) < 2.3  # 2 requests/s per user on average
    firsts = sorted(s[0] for s in starts)
    assert firsts[-1] - firsts[0] > 0.5  # users do not start together
    gaps = [b - a for s in starts for a, b in itertools.pairwise(s)]
    assert max(gaps) > 3 * min(gaps) + 0.5  # exponential gaps, not a fixed interval


def test_the_mixed_load_replaces_a_share_of_english_with_the_five_languages() -> None:
    from bench.corpus import corpus, mixed
    from moderation.language import detect_language

    english = corpus(300)
    load = mixed(english, 0.5)
    languages = [detect_language(text)[0] for text in load]
    replaced = [i for i, (a, b) in enumerate(zip(english, load, strict=True)) if a != b]
    assert 0.4 < len(replaced) / len(load) < 0.6
    assert {languages[i] for i in replaced} == {"de", "es", "fr", "it", "pt"}
    assert all(languages[i] == "en" for i in range(len(load)) if i not in replaced)
    assert mixed(english, 0.0) == english


def test_the_head_benchmark_times_two_paths_that_give_the_same_logits(tmp_path: Path) -> None:
    """bench.ngram_head's "before" path is the head as served before: same logits."""
    import numpy as np

    from bench.ngram_head import legacy_logits, real_comments
    from models import ngrams

    texts = ["what a lovely walk by the river", "you absolute clown, shut it", "thanks, see you"]
    head = ngrams.fit(texts * 2, np.array([0.0, 1.0, 0.0] * 2), bits=10, c=5.0)
    unseen = ["the river walk was lovely", "clown clown shut it", "", "ünïcode wörds"]
    assert np.allclose(legacy_logits(head, unseen), head.logits(unseen), atol=1e-12)

    (tmp_path / "a.csv").write_text("id,comment_text\n1,first comment\n2,second comment\n")
    (tmp_path / "b.tsv").write_text("id\ttweet\tlabel\n1\tthird one\t0\n")
    (tmp_path / "c.csv").write_text("id,other\n1,not a text column\n")
    got = real_comments(tmp_path, 10)
    assert sorted(got) == ["first comment", "second comment", "third one"]
    assert len(real_comments(tmp_path, 2)) == 2
