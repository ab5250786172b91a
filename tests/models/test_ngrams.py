"""The n-gram head (models.ngrams): features, training and serving compute one function, blending."""

from __future__ import annotations

import dataclasses
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models import load_scorer, ngrams
from models.labels import CATEGORIES
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


@given(
    st.lists(
        st.sampled_from(["the", "The", "THE", "idiot", "ünïcode", "😀", "a", "\ud800"]) | st.text()
    )
)
@settings(max_examples=300, deadline=None)
def test_block_counts_are_the_buckets_of_the_blocks_grams(words: list[str] | str) -> None:
    """What serving and training count (BLOCK_COUNTS: cached per word for characters)
    is exactly `buckets` over the block's n-grams, repeated words and odd text included."""
    text = words if isinstance(words, str) else "  ".join(words * 2)
    for count, grams in zip(ngrams.BLOCK_COUNTS, ngrams.BLOCKS, strict=True):
        for _ in range(2):  # a second time from the word cache
            ids, counts = count(text, 12)
            assert dict(zip(ids.tolist(), counts.tolist(), strict=True)) == ngrams.buckets(
                grams(text), 12
            )


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
    expected = hstack(blocks).tocsr() @ np.concatenate(head.coef, axis=1).T + head.intercept
    assert head.logits(texts).shape == (len(texts), 1)
    assert head.logits(texts) == pytest.approx(expected, abs=1e-5)


def test_a_trained_head_scores_unseen_rude_text_above_unseen_kind_text(
    head: ngrams.NgramHead,
) -> None:
    rude, kind = head.probability(["so ein idiot", "danke für den artikel"])[:, 0]
    assert rude > 0.5 > kind


@pytest.fixture
def loaded(head: ngrams.NgramHead, tmp_path: Path) -> ngrams.NgramHead:
    """The head saved and read back."""
    path = tmp_path / ngrams.HEAD_FILE
    head.save(path)
    return ngrams.NgramHead.load(path)


def test_saved_and_loaded_it_scores_the_same_within_fp16(
    head: ngrams.NgramHead, loaded: ngrams.NgramHead
) -> None:
    assert (loaded.bits, loaded.weight) == (head.bits, head.weight)
    texts = RUDE[:2] + KIND[:2]
    assert loaded.logits(texts) == pytest.approx(head.logits(texts), abs=0.02)


def test_a_loaded_head_keeps_its_arrays_in_float16_and_scores_as_in_float32(
    loaded: ngrams.NgramHead,
) -> None:
    """Half the memory a worker holds for the head, and not a digit of the scores."""
    assert {a.dtype for a in loaded.idf + loaded.coef} == {np.dtype(np.float16)}
    widened = dataclasses.replace(
        loaded,
        idf=tuple(a.astype(np.float32) for a in loaded.idf),
        coef=tuple(a.astype(np.float32) for a in loaded.coef),
    )
    texts = RUDE + KIND + ["ein ganz neuer satz", ""]
    assert np.array_equal(loaded.logits(texts), widened.logits(texts))


def test_blend_mixes_toxicity_by_the_weight_and_leaves_other_categories(
    head: ngrams.NgramHead,
) -> None:
    scores = [{"toxicity": 0.2, "insult": 0.7}, {"toxicity": 0.9, "insult": 0.1}]
    texts = ["du idiot", "danke schön"]
    p = head.probability(texts)
    mixed = head.blend(texts, scores)
    for row, orig, q in zip(mixed, scores, p, strict=True):
        assert row["toxicity"] == pytest.approx(
            (1 - head.weight) * orig["toxicity"] + head.weight * q[0]
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
            saved.probability(texts)[:, 0],
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


# Threats written for this test, sharing words with neither list above.
THREATS = [
    "ich werde dich finden und verprügeln",
    "wir werden dich finden",
    "te voy a encontrar y golpear",
    "ti troverò e ti picchierò",
    "vou te encontrar e bater",
]


@pytest.fixture(scope="module")
def two_heads() -> ngrams.NgramHead:
    """Toxicity and threat; threat unlabelled (NaN) for half the kind rows."""
    texts = RUDE + KIND + THREATS
    toxicity = [1.0] * len(RUDE) + [0.0] * len(KIND) + [1.0] * len(THREATS)
    threat = [0.0] * len(RUDE) + [0.0, np.nan] * (len(KIND) // 2) + [1.0] * len(THREATS)
    labels = np.array([toxicity, threat]).T
    return ngrams.fit(texts, labels, ("toxicity", "threat"), bits=12, c=10.0, weight=0.2)


def test_each_category_learns_from_its_own_labels(two_heads: ngrams.NgramHead) -> None:
    p = two_heads.probability(["ich werde euch finden", "so ein idiot", "danke für den bericht"])
    toxicity, threat = p[:, 0], p[:, 1]
    assert toxicity[0] > 0.5 and toxicity[1] > 0.5 > toxicity[2]
    assert threat[0] > 0.5 > threat[1]  # rude but no threat
    assert threat[0] > threat[2]


def test_blend_mixes_each_of_the_heads_categories_and_only_those(
    two_heads: ngrams.NgramHead,
) -> None:
    texts = ["wir werden dich finden", "danke"]
    scores = [{"toxicity": 0.1, "threat": 0.1, "insult": 0.6}, {"toxicity": 0.3, "insult": 0.2}]
    p = two_heads.probability(texts)
    first, second = two_heads.blend(texts, scores)
    assert first["toxicity"] == pytest.approx(0.8 * 0.1 + 0.2 * p[0, 0])
    assert first["threat"] == pytest.approx(0.8 * 0.1 + 0.2 * p[0, 1])
    assert first["insult"] == 0.6
    assert second == {"toxicity": pytest.approx(0.8 * 0.3 + 0.2 * p[1, 0]), "insult": 0.2}


def test_blend_columns_is_blend_on_a_matrix(two_heads: ngrams.NgramHead) -> None:
    """The same mix for a score matrix (evaluation, site adaptation) as for served dicts."""
    texts = ["wir werden dich finden", "danke", "so ein idiot"]
    columns = ("insult", "threat", "toxicity")
    matrix = np.array([[0.6, 0.1, 0.1], [0.2, 0.4, 0.3], [0.9, 0.05, 0.7]])
    rows = [dict(zip(columns, r, strict=True)) for r in matrix.tolist()]
    expected = [[row[c] for c in columns] for row in two_heads.blend(texts, rows)]
    mixed = two_heads.blend_columns(matrix, columns, two_heads.probability(texts))
    assert mixed.tolist() == expected
    assert mixed[:, 0].tolist() == matrix[:, 0].tolist()  # insult: not one of the head's
    assert matrix[0, 2] == 0.1  # the input is left as it was


def test_a_head_with_categories_survives_saving(
    two_heads: ngrams.NgramHead, tmp_path: Path
) -> None:
    path = tmp_path / ngrams.HEAD_FILE
    two_heads.save(path)
    loaded = ngrams.NgramHead.load(path)
    assert (loaded.categories, loaded.weight) == (("toxicity", "threat"), 0.2)
    texts = THREATS[:2] + KIND[:2]
    assert loaded.logits(texts) == pytest.approx(two_heads.logits(texts), abs=0.02)


def test_a_head_saved_before_categories_loads_as_toxicity(
    head: ngrams.NgramHead, tmp_path: Path
) -> None:
    """The multilingual checkpoint's head was written with one coefficient vector a block."""
    path = tmp_path / ngrams.HEAD_FILE
    arrays = {"bits": np.array(head.bits), "intercept": np.array(head.intercept[0])}
    arrays["weight"] = np.array(head.weight)
    for k, (idf, coef) in enumerate(zip(head.idf, head.coef, strict=True)):
        arrays[f"idf{k}"], arrays[f"coef{k}"] = idf.astype(np.float16), coef[0].astype(np.float16)
    np.savez_compressed(path, **arrays)  # type: ignore[arg-type]
    loaded = ngrams.NgramHead.load(path)
    assert loaded.categories == ("toxicity",)
    assert loaded.logits(RUDE[:2]) == pytest.approx(head.logits(RUDE[:2]), abs=0.02)


def test_labels_must_match_the_categories() -> None:
    with pytest.raises(ValueError, match="2 label columns for 1 categories"):
        ngrams.fit(RUDE + KIND, np.zeros((len(RUDE) + len(KIND), 2)), ("toxicity",), bits=10)


def test_a_category_labelled_with_one_class_only_is_left_to_the_transformer() -> None:
    texts = RUDE + KIND
    toxicity = [1.0] * len(RUDE) + [0.0] * len(KIND)
    threat = [0.0] * len(RUDE) + [np.nan] * len(KIND)  # no threat anywhere
    head = ngrams.fit(texts, np.array([toxicity, threat]).T, ("toxicity", "threat"), bits=10)
    assert head.categories == ("toxicity",)
    assert head.coef[0].shape == (1, 1 << 10)
    (mixed,) = head.blend(["du idiot"], [{"toxicity": 0.5, "threat": 0.5}])
    assert mixed["threat"] == 0.5 and mixed["toxicity"] != 0.5
    with pytest.raises(ValueError, match="no category has both classes"):
        ngrams.fit(RUDE, np.ones(len(RUDE)), bits=10)


def _site_export(path: Path) -> None:
    """A labelled export (text, label: 1 = toxic) of our own English comments."""
    rude = ["you are a worthless idiot", "shut up you moron", "what a pathetic loser"]
    kind = ["thanks for the careful article", "I disagree with the premise", "good point"]
    rows = [f"{(rude if i % 2 else kind)[i % 3]} {i},{i % 2}" for i in range(60)]
    path.write_text("text,label\n" + "\n".join(rows) + "\n")


def test_the_english_cli_learns_each_category_its_data_labels(tmp_path: Path) -> None:
    """A site export labels toxicity only; our written sets (--authored) label all six."""
    _site_export(tmp_path / "site.csv")
    plain, written = tmp_path / "plain.npz", tmp_path / "written.npz"
    common = [str(tmp_path), "--english", "--bits", "12"]
    ngrams.main([*common, "--output", str(plain)])
    ngrams.main([*common, "--authored", "--counterfactual", "1", "--output", str(written)])
    head = ngrams.NgramHead.load(plain)
    assert (head.categories, head.weight) == (("toxicity",), ngrams.ENGLISH_WEIGHT)
    rude, kind = head.probability(["such a worthless moron", "a careful point"])[:, 0]
    assert rude > kind
    both = ngrams.NgramHead.load(written)
    assert both.categories == CATEGORIES
