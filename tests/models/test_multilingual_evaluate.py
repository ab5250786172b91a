"""models.multilingual_evaluate: per-language thresholds, the policy on probe sentences, the table."""

from __future__ import annotations

import numpy as np

from models.data import Source
from models.labels import CATEGORIES
from models.multilingual_evaluate import (
    MIN_POSITIVES,
    format_sources,
    held,
    language_thresholds,
    probe_table,
    source_rows,
)

NAN = float("nan")


def rows(n: int, toxic: bool, threat: float, attack: float = NAN) -> np.ndarray:
    label = [1.0 if toxic else 0.0, NAN, NAN, NAN, threat, attack]
    return np.array([label] * n, dtype=np.float32)


def test_each_language_gets_its_own_thresholds_and_the_pooled_one_where_it_labels_too_little() -> (
    None
):
    rng = np.random.default_rng(0)
    # German benign comments score low, Spanish ones high: one pooled toxicity threshold
    # would hold many Spanish benign comments, per-language ones do not.
    de_benign = rng.uniform(0.0, 0.3, 500)
    es_benign = rng.uniform(0.4, 0.7, 500)
    toxic = rng.uniform(0.8, 1.0, 200)
    tox = np.concatenate([de_benign, toxic, es_benign, toxic])
    scores = np.zeros((len(tox), len(CATEGORIES)))
    scores[:, 0] = tox
    scores[:, CATEGORIES.index("threat")] = rng.uniform(0, 1, len(tox))
    labels = np.concatenate(
        [
            rows(500, False, 0.0, 0.0),
            rows(200, True, 1.0),
            rows(500, False, 0.0),  # Spanish threats: negatives only
            rows(200, True, NAN),
        ]
    )
    languages = ["de"] * 700 + ["es"] * 700
    out = language_thresholds(scores, labels, languages, 0.02)
    de, es = out["languages"]["de"], out["languages"]["es"]
    assert de["thresholds"]["toxicity"] <= 0.31 < 0.69 <= es["thresholds"]["toxicity"]
    for entry in (de, es):
        assert entry["per_category"]["toxicity"]["false_hold_rate"] <= 0.02
        assert set(entry["thresholds"]) == set(CATEGORIES)
        assert {"insult", "profanity", "severe_toxicity"} <= set(entry["fallback"])
    # Spanish rows hold no threat: a threshold from negatives alone would be the model's
    # whim, so the pooled one, and it says so.
    assert "threat" in es["fallback"] and "threat" not in de["fallback"]
    assert es["thresholds"]["threat"] == out["thresholds"]["threat"]
    assert es["per_category"]["threat"]["positives"] < MIN_POSITIVES
    assert es["policy_on_validation"]["benign"] == 500
    assert es["policy_on_validation"]["toxic_hold_rate"] == 1.0
    assert de["policy_on_validation"]["not_identity_attack"] == 500
    assert es["policy_on_validation"]["not_identity_attack"] == 0


def test_the_policy_holds_when_any_category_reaches_its_threshold() -> None:
    thresholds = {"toxicity": 0.9, "insult": 0.5}
    assert held({"toxicity": 0.2, "insult": 0.5}, thresholds)
    assert not held({"toxicity": 0.89, "insult": 0.49}, thresholds)


class KeywordScorer:
    """Scores 0.99 toxicity for sentences containing a word of ours, else 0.01."""

    def __init__(self, words: tuple[str, ...]) -> None:
        self.words = words

    def score(self, texts: list[str]) -> list[dict[str, float]]:
        return [
            {c: (0.99 if any(w in t.lower() for w in self.words) else 0.01) for c in CATEGORIES}
            for t in texts
        ]


def test_probe_table_counts_benign_sentences_held_as_wrong() -> None:
    from models.authored_multilingual import examples

    probe = examples("probe", "de")
    thresholds = {"de": dict.fromkeys(CATEGORIES, 0.5)}
    never = probe_table(KeywordScorer(()), thresholds)["de"]
    # holding nothing: exactly the sentences that should be held are wrong
    should_hold = sum(e.hold for e in probe)
    assert never["sentences"] == len(probe)
    assert never["right"] == round((len(probe) - should_hold) / len(probe), 4)
    always = probe_table(KeywordScorer(("",)), thresholds)["de"]
    assert always["right"] == round(should_hold / len(probe), 4)


def test_source_rows_compare_with_the_floor_and_the_french_target() -> None:
    labels = np.array([[1.0] + [NAN] * 5, [0.0] + [NAN] * 5, [1.0] + [NAN] * 5, [0.0] * 6])
    src = Source("mlma_fr", ["a", "b", "c", "d"], labels, np.zeros(4), "fr")
    scores = np.zeros((4, 6))
    scores[:, 0] = [0.9, 0.1, 0.2, 0.3]  # one toxic row scored below one benign row
    (row,) = source_rows([src], scores)
    assert row["roc_auc"] == 0.75 and row["target"] == 0.75 and row["meets_target"]
    assert row["floor"] == 0.65 and row["beats_floor"]


def test_source_rows_report_each_part_of_a_blend_on_its_own() -> None:
    labels = np.array([[1.0] + [NAN] * 5, [0.0] + [NAN] * 5, [1.0] + [NAN] * 5, [0.0] * 6])
    src = Source("germeval2018", ["a", "b", "c", "d"], labels, np.zeros(4), "de")
    scores = np.zeros((4, 6))
    scores[:, 0] = [0.9, 0.1, 0.8, 0.2]
    parts = {
        "transformer": np.array([0.9, 0.1, 0.2, 0.3]),
        "ngrams": np.array([0.1, 0.9, 0.2, 0.8]),
    }
    (row,) = source_rows([src], scores, parts)
    assert row["roc_auc"] == 1.0
    assert row["roc_auc_transformer"] == 0.75 and row["roc_auc_ngrams"] == 0.0
    assert "| transformer alone | ngrams alone |" in format_sources([row])
