"""A teacher's scores written to a file train a student as the teacher's checkpoint does."""

from __future__ import annotations

import numpy as np
import pytest

from models.data import Source, load_sources, split
from models.labels import CATEGORIES
from tests.models.test_train import _distillation_args, _labelled_csv, _scorer_of, _train


def test_a_student_trained_on_written_scores_learns_what_the_checkpoint_teaches(
    make_checkpoint, tiny_path, tmp_path
) -> None:
    from models.teacher_scores import main as write_scores

    a = tmp_path / "site_a.csv"
    _labelled_csv(a, 2)
    teacher = make_checkpoint(seed=3, layers=4)
    scores_file = tmp_path / "teacher.npz"
    write_scores([str(a), "--teacher", str(teacher), "--output", str(scores_file), "--seed", "5"])
    scores = _scorer_of(tiny_path, load_sources([a])[0].texts)
    common = _distillation_args(a, tiny_path)
    runs = {"checkpoint": str(teacher), "file": str(scores_file), "alone": None}
    for name, source in runs.items():
        extra = ["--teacher", source, "--teacher-weight", "20"] if source else []
        _train([*common, "--output", str(tmp_path / name), *extra])
    by_checkpoint, by_file, alone = (scores(tmp_path / n / "epoch2") for n in runs)
    # The file's scores are the checkpoint's rounded to float16: the same student, within
    # what that rounding moves, and far from the one trained without a teacher.
    gap = np.abs(by_file - by_checkpoint).max()
    assert gap < 0.02
    assert gap < 0.1 * np.abs(alone - by_checkpoint).max()


def _scored(texts: list[str], name: str = "site") -> Source:
    labels = np.zeros((len(texts), len(CATEGORIES)), dtype=np.float32)
    teacher = np.linspace(0.01, 0.99, len(texts) * len(CATEGORIES), dtype=np.float32)
    return Source(name, texts, labels, np.zeros(len(texts)), "en", teacher.reshape(len(texts), -1))


def test_scores_come_back_for_the_same_rows_and_are_refused_for_any_others(tmp_path) -> None:
    from models.teacher_scores import attach, save

    texts = ["a fine comment", "you absolute clown", "see you at the market"]
    written = _scored(texts)
    path = tmp_path / "scores.npz"
    save(path, [written])
    unscored = Source("site", texts, written.labels, written.stratify, "en")
    (back,) = attach(path, [unscored])
    assert back.teacher is not None and back.teacher.dtype == np.float32
    assert np.allclose(back.teacher, written.teacher, atol=1e-3)
    assert unscored.teacher is None  # the source given is left as it was

    for rows in (texts[::-1], texts[:2], [*texts[:2], "see you at the market!"]):
        with pytest.raises(SystemExit, match="other rows of site"):
            attach(
                path, [Source("site", rows, written.labels[: len(rows)], written.stratify, "en")]
            )
    with pytest.raises(SystemExit, match="no scores for source olid"):
        attach(path, [unscored, Source("olid", texts, written.labels, written.stratify, "en")])
    not_ours = tmp_path / "notes.npz"
    not_ours.write_text("not an archive")
    with pytest.raises(SystemExit, match="not a teacher scores file"):
        attach(not_ours, [unscored])
    with pytest.raises(ValueError, match="no teacher scores"):
        save(path, [unscored])


def test_a_file_scored_on_another_split_is_refused_by_training(
    make_checkpoint, tiny_path, tmp_path
) -> None:
    from models.teacher_scores import attach
    from models.teacher_scores import main as write_scores

    a = tmp_path / "site_a.csv"
    _labelled_csv(a, 3)
    scores_file = tmp_path / "teacher.npz"
    teacher = make_checkpoint(seed=3, layers=4)
    write_scores([str(a), "--teacher", str(teacher), "--output", str(scores_file), "--seed", "5"])
    same, _ = split(load_sources([a]), 0.1, 5)
    assert attach(scores_file, same)[0].teacher is not None
    common = [str(a), "--base", str(tiny_path), "--threads", "1", "--epochs", "1"]
    with pytest.raises(SystemExit, match="scored on other rows"):
        _train(
            [*common, "--seed", "6", "--output", str(tmp_path / "x"), "--teacher", str(scores_file)]
        )
