"""models.compare: ROC-AUC as sklearn's, and paired bootstrap intervals that say which way a change went."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import roc_auc_score

from models.compare import compare, format_comparison, roc_auc
from models.data import Source
from models.labels import CATEGORIES

NAN = float("nan")


def _sources(rng: np.random.Generator) -> list[Source]:
    n1, n2 = 300, 200
    a = np.full((n1, 6), NAN, np.float32)
    a[:, 0] = rng.integers(0, 2, n1)  # toxicity labelled
    a[:, 2] = rng.integers(0, 2, n1)  # insult labelled
    b = np.full((n2, 6), NAN, np.float32)
    b[:, 5] = rng.integers(0, 2, n2)  # identity_attack only
    b[: n2 // 2, 0] = rng.integers(0, 2, n2 // 2)  # toxicity on half the rows
    return [
        Source("a", ["x"] * n1, a, np.zeros(n1)),
        Source("b", ["y"] * n2, b, np.zeros(n2)),
    ]


def test_roc_auc_matches_sklearn_with_ties() -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 500)
    p = np.round(rng.random(500), 1)  # many ties
    assert abs(roc_auc(y, p) - roc_auc_score(y, p)) < 1e-12


def test_identical_models_differ_by_nothing() -> None:
    rng = np.random.default_rng(1)
    val = _sources(rng)
    scores = rng.random((500, len(CATEGORIES)))
    result = compare(val, scores, scores, rounds=50, seed=0)
    assert [(c["source"], c["category"]) for c in result["cells"]] == [
        ("a", "toxicity"),
        ("a", "insult"),
        ("b", "toxicity"),
        ("b", "identity_attack"),
    ]
    for cell in result["cells"]:
        assert cell["difference"] == 0 and cell["interval"] == [0, 0]
        assert not cell["worse_beyond_interval"]


def test_a_better_and_a_worse_cell_are_told_apart() -> None:
    rng = np.random.default_rng(2)
    val = _sources(rng)
    labels = np.concatenate([s.labels for s in val])
    noise = rng.random((500, len(CATEGORIES)))
    base = np.where(np.isnan(labels), 0, labels) * 0.3 + noise * 0.7
    candidate = base.copy()
    tox = CATEGORIES.index("toxicity")
    ins = CATEGORIES.index("insult")
    candidate[:300, tox] = np.nan_to_num(labels[:300, tox]) * 0.9 + noise[:300, tox] * 0.1
    candidate[:300, ins] = noise[:300, ins]  # the insult head forgets what it knew
    result = compare(val, base, candidate, rounds=200, seed=0)
    by_cell = {(c["source"], c["category"]): c for c in result["cells"]}
    better, worse = by_cell[("a", "toxicity")], by_cell[("a", "insult")]
    assert better["interval"][0] > 0 and not better["worse_beyond_interval"]
    assert worse["interval"][1] < 0 and worse["worse_beyond_interval"]
    assert by_cell[("b", "identity_attack")]["difference"] == 0
    assert better["base"] == round(roc_auc_score(labels[:300, tox], base[:300, tox]), 4)
    table = format_comparison(result)
    assert "| a | insult |" in table and "**worse**" in table and "pooled" in table
