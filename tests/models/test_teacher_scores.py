"""A teacher's scores written to a file train a student as the teacher's checkpoint does."""

from __future__ import annotations

from dataclasses import replace

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


def test_several_files_share_the_sources_out_each_source_in_exactly_one(tmp_path) -> None:
    from models.teacher_scores import attach, save

    site, olid = _scored(["a fine comment", "you clown"]), _scored(["see you", "go away"], "olid")
    a, b = tmp_path / "a.npz", tmp_path / "b.npz"
    save(a, [site])
    save(b, [olid])
    unscored = [replace(site, teacher=None), replace(olid, teacher=None)]
    back = attach([a, b], unscored)
    assert [s.name for s in back] == ["site", "olid"]
    assert np.allclose(back[0].teacher, site.teacher, atol=1e-3)
    assert np.allclose(back[1].teacher, olid.teacher, atol=1e-3)
    with pytest.raises(SystemExit, match="has no scores for source olid"):
        attach([a], unscored)
    save(b, [olid, site])
    with pytest.raises(SystemExit, match="both have scores for source site"):
        attach([a, b], unscored)


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
    both = ["--teacher", str(teacher), str(scores_file)]
    with pytest.raises(SystemExit, match="one checkpoint, or one or more scores files"):
        _train([*common, "--seed", "5", "--output", str(tmp_path / "y"), *both])


def test_an_unlabelled_transfer_set_teaches_through_the_teachers_scores_alone(
    tiny_path, tmp_path
) -> None:
    from models.teacher_scores import save

    a, transfer = tmp_path / "site_a.csv", tmp_path / "transfer.csv"
    _labelled_csv(a, 4)
    rng = np.random.default_rng(0)
    nouns = ["ferry", "orchard", "lantern", "harbour", "bicycle", "violin", "glacier", "quarry"]
    lines = [" ".join(rng.choice(nouns, 5)) + f" {i}" for i in range(48)]
    transfer.write_text("text\n" + "\n".join(lines) + "\n", encoding="utf-8")
    (unlabelled,) = load_sources([transfer])
    assert unlabelled.texts == lines and np.isnan(unlabelled.labels).all()

    # A teacher that reads the transfer sentences as threats, and the site's rows as labelled.
    site, unscored = split(load_sources([a, transfer]), 0.1, 5)[0]
    threat = np.full((len(unscored.texts), len(CATEGORIES)), 0.02, dtype=np.float32)
    threat[:, CATEGORIES.index("threat")] = 0.98
    # Two teachers' files, as the public sets' and a transfer set's scores are written.
    site_file, transfer_file = tmp_path / "site.npz", tmp_path / "transfer.npz"
    save(site_file, [replace(site, teacher=np.nan_to_num(site.labels))])
    save(transfer_file, [replace(unscored, teacher=threat)])
    scores = _scorer_of(tiny_path, lines)
    common = _distillation_args(a, tiny_path)[1:]
    with_it, without = tmp_path / "with", tmp_path / "without"
    teach = ["--teacher-weight", "20", "--teacher", str(site_file)]
    _train([str(a), str(transfer), *common, "--output", str(with_it), *teach, str(transfer_file)])
    _train([str(a), *common, "--output", str(without), *teach])
    # Rows with no label at all move the student toward the teacher on their kind of text.
    t = CATEGORIES.index("threat")
    taught, untaught = (scores(d / "epoch2")[:, t] for d in (with_it, without))
    assert taught.min() > untaught.max() and taught.mean() - untaught.mean() > 0.3


def test_sharpened_scores_keep_every_decision_and_move_away_from_the_threshold() -> None:
    from models.teacher_scores import sharpened

    around = np.array([0.9, 0.7, 0.8, 0.8, 0.2, 0.8], dtype=np.float32)
    scores = np.array(
        [[0.85, 0.75, 0.1, 0.8, 0.3, 0.5], [0.95, 0.05, 0.79, 0.81, 0.19, 0.99]], dtype=np.float32
    )
    twice = sharpened(scores, around, 2.0)
    assert twice.dtype == np.float32
    assert np.array_equal(twice >= around, scores >= around)  # the same decisions
    above, below = scores > around, scores < around
    assert (twice[above] > scores[above]).all() and (twice[below] < scores[below]).all()
    assert np.allclose(twice[0, 3], 0.8)  # a score on the line stays there
    assert np.allclose(sharpened(scores, around, 1.0), scores)
    # Twice as far from the line in logit space: 0.85 against 0.9 is log(0.85/0.15 / 9).
    logit = np.log(twice / (1 - twice)) - np.log(around / (1 - around))
    assert np.isclose(logit[0, 0], 2 * np.log(0.85 / 0.15 / 9.0), atol=1e-4)


def test_training_sharpens_only_the_named_sources_around_the_init_checkpoints_thresholds(
    tmp_path,
) -> None:
    import json

    from models.teacher_scores import sharpened
    from models.train import with_sharpened_teacher

    site, written = _scored(["a fine comment", "you clown"]), _scored(["they", "them"], "written")
    init = tmp_path / "init"
    init.mkdir()
    thresholds = dict(zip(CATEGORIES, [0.9, 0.7, 0.8, 0.8, 0.2, 0.8], strict=True))
    (init / "thresholds.json").write_text(json.dumps({"thresholds": thresholds}))
    back = with_sharpened_teacher([site, written], ["written=3"], init)
    assert back[0] is site
    around = np.array(list(thresholds.values()), dtype=np.float32)
    assert np.allclose(back[1].teacher, sharpened(written.teacher, around, 3.0))
    assert not np.allclose(back[1].teacher, written.teacher)
    with pytest.raises(SystemExit, match=r"no source with teacher scores: \[.olid.\]"):
        with_sharpened_teacher([site, written], ["olid=2"], init)
    with pytest.raises(SystemExit, match=r"needs --init with a thresholds\.json"):
        with_sharpened_teacher([site, written], ["written=2"], None)
