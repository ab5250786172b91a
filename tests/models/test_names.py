"""First names read as one (models.names): the reading, the list's making, the scorer's use."""

from __future__ import annotations

import itertools
import shutil
from pathlib import Path

import numpy as np
import pytest

from models import load_scorer, names, ngrams
from models.windows import weights_version

LISTED = names.FirstNames(frozenset({"omar", "raj", "mary", "mary-jane", "jean-paul", "keisha"}))


@pytest.mark.parametrize(
    ("text", "read"),
    [
        ("Thanks Omar, good point.", "Thanks Alex, good point."),
        ("OMAR YOU ARE RIGHT", "ALEX YOU ARE RIGHT"),
        ("thanks omar", "thanks alex"),
        ("Omar's photos and Keisha's too.", "Alex's photos and Alex's too."),
        ("Mary-Jane and Mary came.", "Alex and Alex came."),
        ("Jean-Paul, welcome back.", "Alex, welcome back."),
        ("@keisha agreed", "@alex agreed"),
    ],
)
def test_each_listed_name_reads_as_the_canonical_one_in_its_case(text: str, read: str) -> None:
    assert LISTED.read(text) == read


@pytest.mark.parametrize(
    "text",
    [
        "Omarosa and Rajasthan",  # a name inside a longer word
        "Mary-Kate was there",  # a hyphenated compound the list does not hold
        "O'Mary is a surname here",  # after an apostrophe: part of another word
        "keisha_99 posted twice",  # a handle's head
        "the rajah's palace",
    ],
)
def test_names_inside_other_words_are_left_alone(text: str) -> None:
    assert LISTED.read(text) == text


def test_a_list_saves_and_loads_with_its_canonical_name(tmp_path: Path) -> None:
    path = tmp_path / names.NAMES_FILE
    names.FirstNames(frozenset({"wei"}), canonical="Sam").save(path)
    loaded = names.FirstNames.load(path)
    assert loaded.read("Thanks Wei!") == "Thanks Sam!"
    assert loaded == names.FirstNames(frozenset({"wei"}), canonical="Sam")


def test_building_leaves_out_everyday_words_identity_terms_and_reserved_names() -> None:
    texts = [
        "I think we will win, and you will see.",  # "will" in lower case mid-sentence
        "Will you come?",  # a sentence's first word tells nothing
        "They said Tyrone was right and Tyrone agreed.",
        "then will it rain, and we will know",
        "My neighbour Christian is kind.",
    ]
    built, dropped = names.build(
        ["Will", "Tyrone", "Christian", "Jesus", "Priya"], texts, ["christian", "muslims"]
    )
    assert built.names == frozenset({"tyrone", "priya"})
    assert dropped == {
        "reserved": ["jesus"],
        "identity term": ["christian"],
        "everyday word": ["will"],
    }


def test_a_name_written_in_lower_case_now_and_then_is_still_a_name() -> None:
    every, lower = names.mid_sentence_uses(
        ["thanks tyrone", "Thanks Tyrone, and Tyrone again", "ok Tyrone"]
    )
    assert (every["tyrone"], lower["tyrone"]) == (4, 1)
    assert not names.is_word("tyrone", every, lower)


def test_the_written_lists_hold_no_reserved_name_and_the_shipped_list_comes_from_them() -> None:
    written = names.written()
    assert not set(written) & names.RESERVED
    shipped = names.find(Path("models/minilm-toxicity"))
    assert shipped is not None
    assert shipped.names <= set(written)
    assert not shipped.names & names.RESERVED


@pytest.fixture()
def named_checkpoint(tiny_path: Path, tmp_path: Path) -> Path:
    """The tiny checkpoint with a list of first names and an n-gram head that knows them."""
    out = tmp_path / "named"
    shutil.copytree(tiny_path, out)
    names.FirstNames(frozenset({"tyrone", "emily", "wei"})).save(out / names.NAMES_FILE)
    texts = ["I like you Tyrone", "Tyrone rocks", "Emily is kind", "Wei wrote well", "hello"] * 3
    labels = np.array([1.0, 1.0, 0.0, 0.0, 0.0] * 3)
    ngrams.fit(texts, labels, bits=10, weight=0.3).save(out / ngrams.HEAD_FILE)
    return out


def test_a_checkpoint_with_a_list_scores_every_listed_name_alike_on_every_path(
    named_checkpoint: Path, tiny_path: Path
) -> None:
    plain = tiny_path
    texts = ["I like you Tyrone.", "I like you Emily.", "I like you Wei.", "I like you Alex."]
    for fast in (False, True):
        scorer = load_scorer(named_checkpoint, fast=fast, engine="torch")
        assert scorer.first_names is not None
        scores = scorer.score(texts)
        for other in scores[1:]:
            assert other == pytest.approx(scores[0], abs=1e-6)
        assert scorer.token_counts(texts) == [scorer.token_counts(texts[-1:])[0]] * len(texts)
    # Without the list the same transformer tells the names apart, and the version says so.
    bare = load_scorer(plain, fast=False).transformer_scores(texts)
    assert max(abs(a["toxicity"] - b["toxicity"]) for a, b in itertools.pairwise(bare)) > 1e-4
    assert weights_version(named_checkpoint) != weights_version(plain)


def test_the_n_gram_head_reads_the_names_as_the_transformer_does(
    named_checkpoint: Path,
) -> None:
    scorer = load_scorer(named_checkpoint, fast=False)
    head = scorer.text_head
    assert head is not None
    texts = ["I like you Tyrone", "I like you Emily"]
    raw = head.probability(texts)[:, 0]
    assert raw[0] != pytest.approx(raw[1], abs=1e-3)  # the head alone learnt the names apart
    served = [s["toxicity"] for s in scorer.score(texts)]
    assert served[0] == pytest.approx(served[1], abs=1e-9)


def test_an_adapted_model_keeps_the_base_list_and_serves_it(
    named_checkpoint: Path, tmp_path: Path
) -> None:
    from models import export_adapted, load_adapted
    from tests.models.test_adapt import adapt_on, site_labels

    rows = site_labels(40)
    out = tmp_path / "site"
    adapt_on(named_checkpoint, rows[:30], rows[30:], out, epochs=1, bootstrap=20, probe=False)
    assert (out / names.NAMES_FILE).read_bytes() == (
        named_checkpoint / names.NAMES_FILE
    ).read_bytes()
    export_adapted(out)  # as a site-model job does, for the int8 ONNX path
    for fast in (False, True):
        served = load_adapted(out, name="site", version="v1", fast=fast, engine="auto")
        assert served.first_names is not None and served.text_head is not None
        assert served.engine == ("onnxruntime" if fast else "torch")
        a, b = served.score(["Thanks Tyrone.", "Thanks Wei."])
        assert a == pytest.approx(b, abs=1e-6)
