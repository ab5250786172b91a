"""Transfer sentences: new shapes recombined from the written training half, never the probe's."""

from __future__ import annotations

import csv
from typing import Any

import pytest

from models.authored import FAMILIES, GROUPS, examples, fill, templates_of
from models.near_copies import words
from models.transfer import EXTRA_GROUPS, RECOMBINED, main, sentences, shapes


def texts_of(rows: int, seed: int, **kwargs: Any) -> list[str]:
    return [s.text for s in sentences(rows, seed, **kwargs)]


def _words(text: str) -> set[str]:
    return {w.strip("'") for w in words(text)}


def test_transfer_sentences_are_new_and_made_of_the_training_half_only() -> None:
    texts = texts_of(600, seed=3)
    assert len(set(texts)) == 600
    assert texts == texts_of(600, seed=3)
    assert texts != texts_of(600, seed=4)
    written = {e.text for half in ("train", "probe") for e in examples(half)}  # type: ignore[arg-type]
    assert not set(texts) & written
    train, _ = shapes()
    names = [f"{g.article} {g.adj} {g.people}" for g in GROUPS + EXTRA_GROUPS]
    vocabulary = {w for t in train + names for w in _words(t)}
    assert all(_words(t) <= vocabulary for t in texts)
    # Groups the written sets never name are filled in too.
    assert any(g.people in t or g.adj in t for t in texts for g in EXTRA_GROUPS)
    assert not {g.key for g in EXTRA_GROUPS} & {g.key for g in GROUPS}


def test_a_recombination_that_near_copies_a_probe_template_is_never_made() -> None:
    train = [
        "{People} run the bakery on the corner. They open at six every day.",
        "{People} sing in the choir. I like {people} a lot.",
        "Our club has many {adj} members who help at the fair on Sundays.",
    ]
    probe = ["{People} run the bakery on the corner. I like {people} a lot."]
    made = texts_of(60, seed=1, train=train, probe=probe)
    spliced = {
        f"{g.people[0].upper()}{g.people[1:]} run the bakery on the corner. I like "
        f"{g.people} a lot."
        for g in GROUPS + EXTRA_GROUPS
    }
    assert not set(made) & spliced
    assert any("They open at six every day" in t and "sing in the choir" in t for t in made)
    with pytest.raises(SystemExit, match="only"):
        texts_of(2_000, seed=1, train=train, probe=probe)


def test_the_cli_writes_a_text_only_csv(tmp_path) -> None:
    out = tmp_path / "t" / "transfer.csv"
    main(["--output", str(out), "--rows", "50", "--seed", "2"])
    with out.open(newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["text"]
    assert [r[0] for r in rows[1:]] == texts_of(50, seed=2)
    with pytest.raises(SystemExit):
        main(["--output", str(out), "--rows", "0"])


def test_the_written_kind_fills_the_unlabelled_templates_and_only_when_asked() -> None:
    written = ["{People} ran the fete this year.", "I trust {people} with my keys."]
    probe = ["{People} sing in the choir."]
    made = texts_of(40, seed=5, train=[], probe=probe, kinds=("written",), written=written)
    fills = {fill(w, g): w for w in written for g in GROUPS + EXTRA_GROUPS}
    assert len(set(made)) == 40
    assert {fills[t] for t in made} == set(written)
    assert any(g.people in t for t in made for g in EXTRA_GROUPS)
    # The default kinds recombine the training half and never use the written templates.
    default = texts_of(200, seed=5, written=written)
    assert not any("ran the fete" in t or "with my keys" in t for t in default)


def test_a_written_template_that_near_copies_a_probe_template_is_never_filled() -> None:
    written = ["Honestly, {people} sing in the choir.", "{People} ran the fete this year."]
    probe = ["{People} sing in the choir."]
    made = texts_of(30, seed=5, train=[], probe=probe, kinds=("written",), written=written)
    assert made and all("ran the fete" in t for t in made)


def test_each_sentence_keeps_the_templates_it_was_made_from() -> None:
    train = [
        "{People} run the bakery on the corner. They open at six every day.",
        "{People} sing in the choir. I like {people} a lot.",
        "Our club has many {adj} members who help at the fair on Sundays.",
        "My neighbours are {adj} and they grow tomatoes in the yard.",
    ]
    made = sentences(120, seed=1, train=train, probe=["{People} cook."])
    assert {m.kind for m in made} == set(RECOMBINED)
    groups = GROUPS + EXTRA_GROUPS
    for m in made:
        first = m.templates[0]
        if m.kind == "splice":
            head, tail = first.split(". ", 1)[0], m.templates[1].split(". ", 1)[1]
            assert m.text in {fill(f"{head}. {tail}", g) for g in groups}
        elif m.kind == "pair":
            assert m.text in {fill(f"{first} {m.templates[1]}", g) for g in groups}
        elif m.kind == "dropout":
            (source,) = m.templates
            left = m.text.lower().split()
            whole = [fill(source, g).lower().split() for g in groups]
            assert any(len(left) == len(w) - 1 and set(left) <= set(w) for w in whole)
        else:
            assert m.kind == "extra group"
            assert m.text in {fill(first, g) for g in EXTRA_GROUPS}


def test_the_cli_writes_each_sentences_origins_beside_it(tmp_path) -> None:
    out, origins = tmp_path / "transfer.csv", tmp_path / "origins.csv"
    main(["--output", str(out), "--rows", "300", "--seed", "2", "--origins", str(origins)])
    with origins.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["text"] for r in rows] == texts_of(300, seed=2)
    family = {f.name: f for f in FAMILIES}
    for row, m in zip(rows, sentences(300, seed=2), strict=True):
        named = [family[n] for n in row["families"].split("+")]
        assert row["kind"] == m.kind and len(named) == len(m.templates)
        assert all(t in templates_of(f, "train") for f, t in zip(named, m.templates, strict=True))
        holds = {f.hold for f in named}
        expected = "mixed" if len(holds) == 2 else ("hold" if True in holds else "approve")
        assert row["decision"] == expected
    assert {r["decision"] for r in rows} == {"hold", "approve", "mixed"}
    written = tmp_path / "written-origins.csv"
    main(["--output", str(out), "--rows", "20", "--kinds", "written", "--origins", str(written)])
    with written.open(newline="") as fh:
        assert {(r["families"], r["decision"]) for r in csv.DictReader(fh)} == {("unlabelled", "")}
