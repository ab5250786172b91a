"""Counterfactual copies: whole words only, case and form kept, one replacement per term, labels kept."""

from __future__ import annotations

import random

import numpy as np
import pytest

from models.counterfactual import FIRST_NAMES, IDENTITY_KINDS, augment, mentions, swap
from models.data import Source
from models.train import AUTHORED, with_fairness_data

RELIGION_PLURALS = {m["plural"] for m in IDENTITY_KINDS["religion"]}


def test_a_term_swaps_for_the_same_form_of_another_member_of_its_kind() -> None:
    for seed in range(30):
        out = swap("the muslims on our street", random.Random(seed))
        assert out is not None
        word = out.split()[1]
        assert word in RELIGION_PLURALS - {"muslims"}, out


def test_one_term_gets_one_replacement_throughout_a_row() -> None:
    for seed in range(30):
        out = swap("Jews built it, and Jews still run it.", random.Random(seed))
        assert out is not None
        first, second = out.split()[0], out.split()[4]
        assert first == second != "Jews", out


def test_case_is_kept() -> None:
    rng = random.Random(3)
    upper = swap("I HATE MUSLIMS", rng)
    capital = swap("Muslims are welcome.", rng)
    lower = swap("some muslims are here", rng)
    assert upper is not None and upper.startswith("I HATE ") and upper.split()[-1].isupper()
    assert capital is not None and capital[0].isupper() and capital.split()[0][1:].islower()
    assert lower is not None and lower.split()[1].islower()


def test_nothing_is_swapped_inside_another_word() -> None:
    rng = random.Random(0)
    for text in ("Jewellery and jewels", "Christianity course", "Arabic lessons", "shindu"):
        assert swap(text, rng) is None, text
        assert mentions(text) == []
    # "Jewish" is its own adjective, never "Jew" + "ish".
    adjectives = {m["adj"].capitalize() for m in IDENTITY_KINDS["religion"]} - {"Jewish"}
    for seed in range(10):
        out = swap("a Jewish bakery", random.Random(seed))
        assert out is not None and out.split()[1] in adjectives, out


def test_everyday_words_count_only_before_a_word_for_people() -> None:
    rng = random.Random(0)
    for text in ("a black car on a white road", "three straight wins", "polish the table"):
        assert swap(text, rng) is None, text
    out = swap("Black women founded the club.", random.Random(2))
    assert out is not None and out.split()[0] in {"White", "Brown"}
    assert out.endswith("women founded the club.")


def test_names_swap_across_communities_within_gender_and_only_capitalised() -> None:
    women = {c: pair[0] for c, pair in FIRST_NAMES.items()}
    for seed in range(30):
        out = swap("Thanks Emily, good point.", random.Random(seed))
        assert out is not None
        name = out.split()[1].rstrip(",")
        community = next(c for c, names in women.items() if name in names)
        assert community != "anglo", out
    assert swap("emily is a lowercase handle", random.Random(0)) is None


def test_augment_keeps_labels_and_adds_only_distinct_copies() -> None:
    texts = ["Gay people are lovely.", "Nothing to swap here.", "Muslims are vermin."]
    labels = np.array([[0, 0, 0, 0, 0, 0], [0, 0, 0, 1, 0, 0], [1, 1, 1, 0, 0, 1]], np.float32)
    rows, new = augment(texts, copies=2, seed=5)
    assert set(rows) == {0, 2}
    assert all(t not in texts for t in new) and len(set(new)) == len(new)
    source = Source("demo", texts, labels, np.zeros(3))
    (augmented,) = with_fairness_data([source], copies=2, authored=False, seed=5)
    assert augmented.texts[:3] == texts
    for text, row in zip(augmented.texts[3:], augmented.labels[3:], strict=True):
        original = 0 if "people" in text else 2
        np.testing.assert_array_equal(row, labels[original])


def test_the_authored_training_half_joins_as_its_own_source() -> None:
    from models.authored import examples

    source = Source("demo", ["a"], np.zeros((1, 6), np.float32), np.zeros(1))
    out = with_fairness_data([source], copies=0, authored=True, seed=0)
    assert [s.name for s in out] == ["demo", AUTHORED]
    train = examples("train")
    assert out[1].texts == [e.text for e in train]
    probe_texts = {e.text for e in examples("probe")}
    assert not probe_texts & set(out[1].texts)


@pytest.mark.parametrize("text", ["Hindus and Sikhs", "hindus, sikhs"])
def test_every_term_of_a_row_is_swapped(text: str) -> None:
    out = swap(text, random.Random(4))
    assert out is not None
    assert not {"hindus", "sikhs"} & {w.strip(",").lower() for w in out.split()}
