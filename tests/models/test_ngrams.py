"""The n-gram head (models.ngrams): features, training and serving compute one function, blending."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from models import load_scorer, ngrams
from models.windows import weights_version

# Our own comments, written for this test: rude ones share words, kind ones share others.
RUDE = [
    "du bist ein dummer idiot",
    "halt die klappe du idiot",
    "was für ein dummer kommentar, idiot",
    "eres un idiota y un tonto",
    "cállate idiota, tonto",
    "sei un idiota e uno stupido",
    "che commento stupido, idiota",
    "seu idiota burro, cala a boca",
]
KIND = [
    "danke für den schönen bericht",
    "ein schöner bericht über den hafen",
    "gracias por el artículo tan claro",
    "muy buen artículo, gracias",
    "grazie per il bell'articolo",
    "un articolo chiaro, grazie mille",
    "obrigado pela reportagem tão clara",
    "boa reportagem, obrigado",
]


def test_character_grams_stay_inside_each_padded_lower_cased_word() -> None:
    grams = ngrams.char_grams("Ab  CDE")
    assert {" a", "ab", "b ", " ab", "ab ", " ab "} <= set(grams)
    assert {" c", " cd", " cde", " cde ", "de "} <= set(grams)
    assert not any("b c" in g or "bc" in g for g in grams)  # never across two words
    assert all(2 <= len(g) <= 5 for g in grams)


def test_word_grams_are_unigrams_and_bigrams_of_lower_cased_words() -> None:
    assert ngrams.word_grams("Nice day, Bob!") == ["nice", "day", "bob", "nice day", "day bob"]
    assert ngrams.word_grams("  ") == []


def test_buckets_count_each_gram_and_are_stable_across_calls() -> None:
    first = ngrams.buckets(["ab", "ab", "cd"], bits=10)
    assert sum(first.values()) == 3
    assert max(first.values()) >= 2
    assert ngrams.buckets(["ab", "ab", "cd"], bits=10) == first
    assert all(0 <= b < 1 << 10 for b in first)


@pytest.fixture(scope="module")
def head() -> ngrams.NgramHead:
    y = np.array([1.0] * len(RUDE) + [0.0] * len(KIND))
    return ngrams.fit(RUDE + KIND, y, bits=12, c=10.0)


def test_serving_computes_what_training_fitted(head: ngrams.NgramHead) -> None:
    """The per-text numpy path gives the logits of the sparse training matrix."""
    from scipy.sparse import diags, hstack
    from sklearn.preprocessing import normalize

    texts = ["du idiota", "gracias por el bericht", "", "ein ganz neuer satz"]
    blocks = []
    for counts, idf in zip(ngrams.features(texts, head.bits), head.idf, strict=True):
        tf = counts.copy()  # type: ignore[attr-defined]
        tf.data = 1.0 + np.log(tf.data)
        blocks.append(normalize(tf @ diags(idf)))
    expected = hstack(blocks).tocsr() @ np.concatenate(head.coef) + head.intercept
    assert head.logits(texts) == pytest.approx(expected, abs=1e-5)


def test_a_trained_head_scores_unseen_rude_text_above_unseen_kind_text(
    head: ngrams.NgramHead,
) -> None:
    rude, kind = head.probability(["so ein idiot", "danke für den artikel"])
    assert rude > 0.5 > kind


def test_saved_and_loaded_it_scores_the_same_within_fp16(
    head: ngrams.NgramHead, tmp_path: Path
) -> None:
    path = tmp_path / ngrams.HEAD_FILE
    head.save(path)
    loaded = ngrams.NgramHead.load(path)
    assert (loaded.bits, loaded.weight) == (head.bits, head.weight)
    texts = RUDE[:2] + KIND[:2]
    assert loaded.logits(texts) == pytest.approx(head.logits(texts), abs=0.02)


def test_blend_mixes_toxicity_by_the_weight_and_leaves_other_categories(
    head: ngrams.NgramHead,
) -> None:
    scores = [{"toxicity": 0.2, "insult": 0.7}, {"toxicity": 0.9, "insult": 0.1}]
    texts = ["du idiot", "danke schön"]
    p = head.probability(texts)
    mixed = head.blend(texts, scores)
    for row, orig, q in zip(mixed, scores, p, strict=True):
        assert row["toxicity"] == pytest.approx(
            (1 - head.weight) * orig["toxicity"] + head.weight * q
        )
        assert row["insult"] == orig["insult"]


def test_a_checkpoint_with_a_head_serves_it_on_every_path_and_versions_it(
    make_checkpoint: Callable[..., Path], head: ngrams.NgramHead, tmp_path: Path
) -> None:
    plain = make_checkpoint()
    with_head = tmp_path / "with-head"
    shutil.copytree(plain, with_head)
    head.save(with_head / ngrams.HEAD_FILE)
    saved = ngrams.NgramHead.load(with_head / ngrams.HEAD_FILE)  # fp16 on disk
    texts = ["du idiot", "danke schön"]
    expected = [
        (s, b)
        for s, b in zip(
            load_scorer(plain, fast=False).score(texts),
            saved.probability(texts),
            strict=True,
        )
    ]
    for fast in (False, True):
        scorer = load_scorer(with_head, fast=fast, engine="torch")
        assert scorer.text_head is not None
        for got, (base, q) in zip(scorer.score(texts), expected, strict=True):
            mixed = (1 - saved.weight) * base["toxicity"] + saved.weight * q
            assert got["toxicity"] == pytest.approx(mixed, abs=0.03 if fast else 1e-5)
    assert load_scorer(plain, fast=False).text_head is None
    assert weights_version(with_head) != weights_version(plain)
