"""Transfer sentences kept only where the teacher decides as their templates do."""

from __future__ import annotations

import csv
import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from models.agreement import agreeing, main, template_decisions
from models.data import Source, load_sources, split
from models.labels import CATEGORIES
from models.teacher_scores import attach, save
from models.transfer import main as write_transfer

THRESHOLDS = dict.fromkeys(CATEGORIES, 0.8) | {"identity_attack": 0.75}


def _source(texts: list[str], attack: list[float]) -> Source:
    n = len(texts)
    teacher = np.full((n, len(CATEGORIES)), 0.05, dtype=np.float32)
    teacher[:, CATEGORIES.index("identity_attack")] = attack
    labels = np.full((n, len(CATEGORIES)), np.nan, dtype=np.float32)
    return Source("transfer", texts, labels, np.zeros(n, dtype=int), teacher=teacher)


def test_a_sentence_is_kept_only_where_the_teacher_decides_as_its_templates() -> None:
    source = _source(["a", "b", "c", "d", "e"], [0.9, 0.2, 0.9, 0.2, 0.74])
    decisions = {"a": True, "b": True, "c": False, "d": False, "e": None}
    kept = agreeing(source, decisions, THRESHOLDS)
    # a held as its templates say; b approved against them; c held against them; d
    # approved as they say; e has no templates' decision and is kept.
    assert kept.texts == ["a", "d", "e"]
    assert kept.teacher is not None
    assert kept.teacher[:, CATEGORIES.index("identity_attack")].tolist() == pytest.approx(
        [0.9, 0.2, 0.74]
    )
    # At a threshold on the score itself the teacher holds.
    at = agreeing(_source(["f"], [0.75]), {"f": True}, THRESHOLDS)
    assert at.texts == ["f"]


def test_sentences_without_origins_or_a_source_without_scores_are_refused() -> None:
    with pytest.raises(SystemExit, match="no origins"):
        agreeing(_source(["a", "z"], [0.9, 0.9]), {"a": True}, THRESHOLDS)
    with pytest.raises(ValueError, match="no teacher scores"):
        agreeing(replace(_source(["a"], [0.9]), teacher=None), {"a": True}, THRESHOLDS)


def test_mixed_templates_say_hold_and_written_ones_say_nothing(tmp_path: Path) -> None:
    origins = tmp_path / "origins.csv"
    with origins.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["text", "kind", "families", "decision"])
        writer.writerow(["one", "pair", "benign_neutral+hate_threat", "mixed"])
        writer.writerow(["two", "splice", "hate_implicit+hate_threat", "hold"])
        writer.writerow(["three", "dropout", "news_like", "approve"])
        writer.writerow(["four", "written", "unlabelled", ""])
    assert template_decisions(origins) == {"one": True, "two": True, "three": False, "four": None}


def test_the_cli_writes_a_set_and_scores_that_models_train_reads_for_its_split(
    tmp_path: Path,
) -> None:
    transfer, origins = tmp_path / "transfer.csv", tmp_path / "origins.csv"
    write_transfer(
        ["--output", str(transfer), "--rows", "300", "--seed", "4", "--origins", str(origins)]
    )
    (source,) = load_sources([transfer])
    (train,), _ = split([source], 0.1, 7)
    # A teacher that holds every third sentence, whatever it says.
    attack = [0.95 if i % 3 == 0 else 0.02 for i in range(len(train.texts))]
    scores = tmp_path / "teacher.npz"
    save(scores, [replace(train, teacher=_source(train.texts, attack).teacher)])
    checkpoint = tmp_path / "checkpoint"
    checkpoint.mkdir()
    (checkpoint / "thresholds.json").write_text(json.dumps({"thresholds": THRESHOLDS}))
    out = tmp_path / "agreed"
    args = [str(transfer), "--origins", str(origins), "--scores", str(scores)]
    main([*args, "--thresholds", str(checkpoint), "--seed", "7", "--output", str(out)])

    decisions = template_decisions(origins)
    teacher_of = dict(zip(train.texts, attack, strict=True))
    with (out / "transfer.csv").open(newline="") as fh:
        kept = [row["text"] for row in csv.DictReader(fh)]
    expected = [t for t in train.texts if decisions[t] == (teacher_of[t] >= 0.75)]
    assert kept == expected
    assert 0 < len(kept) < len(train.texts)
    # The scores file is refused for any other split and read for the one models.train makes.
    (again,) = load_sources([out / "transfer.csv"])
    (student_rows,), _ = split([again], 0.1, 7)
    (read,) = attach([out / "transfer.npz"], [student_rows])
    assert read.teacher is not None
    got = read.teacher[:, CATEGORIES.index("identity_attack")].tolist()
    assert got == pytest.approx([teacher_of[t] for t in student_rows.texts], abs=1e-3)
    (other_rows,), _ = split([again], 0.1, 8)
    with pytest.raises(SystemExit, match="other rows"):
        attach([out / "transfer.npz"], [other_rows])


def test_the_cli_refuses_a_checkpoint_without_thresholds(tmp_path: Path) -> None:
    args = [str(tmp_path / "t.csv"), "--origins", "o", "--scores", "s", "--output", "x"]
    with pytest.raises(SystemExit, match="thresholds"):
        main([*args, "--thresholds", str(tmp_path)])
