"""bench.encoders: a plain encoder made into a six-category model of ours, and the ratio table."""

from __future__ import annotations

import argparse
from pathlib import Path

from bench.encoders import VARIANTS, make_candidate, report
from models.labels import CATEGORIES


def test_an_encoder_folder_becomes_a_six_category_model_that_serves(
    make_checkpoint, tmp_path: Path
) -> None:
    from models import load_scorer

    # An encoder with some other head (two labels of another kind): the head is replaced.
    encoder = make_checkpoint(labels=("positive", "negative"), problem_type=None)
    out = tmp_path / "candidate"
    make_candidate(encoder, out)
    scorer = load_scorer(out, fast=False, threads=1)
    (scores,) = scorer.score(["A comment of our own about the bridge."])
    assert list(scores) == list(CATEGORIES)
    assert all(0.0 < v < 1.0 for v in scores.values())
    assert (out / "thresholds.json").is_file()


def test_the_table_gives_the_shipped_models_speed_as_a_multiple_of_the_candidates() -> None:
    def run(rate: float, rss: float) -> dict:
        per_length = {"64": {"comments_per_s": rate, "mean_tokens": 63.6}}
        return {"per_length": per_length, "loaded_delta_mib": rss}

    results = {}
    for variant in VARIANTS:
        results[("shipped", variant, 32)] = run(80.0, 100.0)
        results[("candidate", variant, 32)] = run(10.0, 400.0)
    args = argparse.Namespace(
        model="a", candidate="b", threads=1, comments=8, repeat=2, lengths=[64], batch_sizes=[32]
    )
    table = report(results, args)
    rows = [line.split() for line in table.splitlines() if line.startswith(VARIANTS)]
    assert [r[-1] for r in rows if len(r) == 6] == ["8.00", "8.00"]
    assert "candidate 400 MiB (4.00x)" in table
