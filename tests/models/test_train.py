"""Training helpers: the masked loss, the per-source split and the per-epoch data mix."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch

from models.data import Source
from models.labels import CATEGORIES
from models.train import SourceBias, epoch_rows, length_batches, masked_bce, split

NAN = float("nan")


def test_unknown_labels_are_masked_not_negative() -> None:
    logits = torch.tensor([[3.0, -3.0, 0.0, 0.0, 0.0, 0.0]])
    known = torch.tensor([[1.0, NAN, NAN, NAN, NAN, NAN]])
    as_negative = torch.tensor([[1.0, 0.0, 0.0, 0.0, 0.0, 0.0]])
    w, pos = torch.ones(1), torch.ones(6)
    only_first = masked_bce(logits, known, w, pos, 0.0)
    expected = torch.nn.functional.binary_cross_entropy_with_logits(
        torch.tensor(3.0), torch.tensor(1.0)
    )
    assert torch.isclose(only_first, expected)
    assert masked_bce(logits, as_negative, w, pos, 0.0) > only_first


def _source(name: str, n: int, positives: int) -> Source:
    labels = np.full((n, len(CATEGORIES)), NAN, dtype=np.float32)
    labels[:, 0] = [1.0] * positives + [0.0] * (n - positives)
    texts = [f"{name} comment {i}" for i in range(n)]
    return Source(name, texts, labels, labels[:, 0].astype(int))


def test_split_holds_out_each_source_stratified_and_repeatably() -> None:
    sources = [_source("a", 200, 40), _source("b", 100, 50)]
    train, val = split(sources, 0.1, seed=13)
    _, again_val = split(sources, 0.1, seed=13)
    assert [v.texts for v in val] == [v.texts for v in again_val]
    for t, v, s in zip(train, val, sources, strict=True):
        assert not set(t.texts) & set(v.texts)
        assert len(t.texts) + len(v.texts) == len(s.texts)
        # The validation share of positives matches the source's (stratified).
        assert abs(np.nanmean(v.labels[:, 0]) - np.nanmean(s.labels[:, 0])) < 0.02
    assert [v.texts for v in split(sources, 0.1, seed=14)[1]] != [v.texts for v in val]


def test_epoch_rows_subsample_and_repeat_sources() -> None:
    row_source = np.array([0] * 100 + [1] * 10 + [2] * 5)
    rng = random.Random(1)
    rows = epoch_rows(row_source, {0: 0.3, 1: 2.5}, rng)
    counts = np.bincount(row_source[rows], minlength=3)
    assert counts.tolist() == [30, 25, 5]
    assert len(set(r for r in rows if r < 100)) == 30  # a subset, no repeats
    assert all(rows.count(r) >= 2 for r in range(100, 110))  # every row at least twice
    assert sorted(r for r in rows if r >= 110) == list(range(110, 115))  # untouched
    other_epoch = epoch_rows(row_source, {0: 0.3, 1: 2.5}, rng)
    assert {r for r in rows if r < 100} != {r for r in other_epoch if r < 100}


def test_length_batches_cover_the_epoch_rows_once_with_similar_lengths() -> None:
    lengths = [random.Random(i).randint(1, 200) for i in range(1000)]
    rows = list(range(0, 1000, 2)) * 2
    batches = length_batches(lengths, 16, random.Random(0), rows)
    flat = sorted(i for b in batches for i in b)
    assert flat == sorted(rows)
    spread = np.mean([max(lengths[i] for i in b) - min(lengths[i] for i in b) for b in batches])
    assert spread < 40  # sorted within chunks: far less padding than random batches


def test_average_of_two_checkpoints_is_their_mean(tiny_path, tmp_path) -> None:
    import shutil

    from safetensors.torch import load_file, save_file

    from models.average import average

    other = tmp_path / "other"
    shutil.copytree(tiny_path, other)
    state = load_file(other / "model.safetensors")
    shifted = {k: (v + 1 if v.is_floating_point() else v) for k, v in state.items()}
    save_file(shifted, other / "model.safetensors", metadata={"format": "pt"})
    out = tmp_path / "soup"
    average([tiny_path, other], out, weights=[3.0, 1.0])
    soup = load_file(out / "model.safetensors")
    for name, tensor in state.items():
        if tensor.is_floating_point():
            want = tensor.float() + 0.25
            assert torch.allclose(soup[name].float(), want, atol=2e-3), name
    assert (out / "config.json").read_text() == (tiny_path / "config.json").read_text()
    from models import load_scorer

    assert load_scorer(out).score(["a test"])[0].keys() >= {"toxicity"}


def test_source_bias_offsets_each_row_by_its_source_and_learns_base_rates() -> None:
    bias = SourceBias(n_sources=2, n_labels=3)
    logits = torch.zeros(4, 3)
    sources = torch.tensor([0, 1, 1, 0])
    with torch.no_grad():
        bias.offset[1, 2] = 1.5
    assert bias(logits, sources)[:, 2].tolist() == [0.0, 1.5, 1.5, 0.0]
    # Source 0 is all positive, source 1 all negative on label 0: a few steps on the
    # offsets alone move them apart, and label 1 (unknown to both) gets no gradient.
    pos, neg = [1.0, NAN, 0.0], [0.0, NAN, 0.0]
    labels = torch.tensor([pos, neg, neg, pos])
    opt = torch.optim.SGD(bias.parameters(), lr=1.0)
    for _ in range(20):
        loss = masked_bce(bias(logits, sources), labels, torch.ones(4), torch.ones(3), 0.0)
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert bias.offset[0, 0] > 1.0 > -1.0 > bias.offset[1, 0]
    assert bias.offset[:, 1].abs().max() == 0.0


def test_faded_source_bias_leaves_the_logits_alone() -> None:
    bias = SourceBias(n_sources=2, n_labels=3)
    with torch.no_grad():
        bias.offset.fill_(2.0)
    logits, sources = torch.zeros(2, 3), torch.tensor([0, 1])
    bias.scale = 0.25
    assert bias(logits, sources).tolist() == [[0.5] * 3] * 2
    bias.scale = 0.0
    assert bias(logits, sources).tolist() == [[0.0] * 3] * 2


def _labelled_csv(path, seed: int) -> None:
    """Write a small site export of our own made-up comments (1 = toxic)."""
    import csv

    rng = random.Random(seed)
    kind = ["thanks for the thoughtful article", "I disagree with the premise", "good point"]
    rude = ["you are a worthless idiot", "shut up you moron", "what a pathetic loser you are"]
    with path.open("w", newline="") as f:
        out = csv.writer(f)
        out.writerow(["text", "label"])
        for i in range(48):
            toxic = i % 3 == 0
            out.writerow([f"{rng.choice(rude if toxic else kind)} {i}", int(toxic)])


def _train(argv: list[str]) -> None:
    from models.train import main

    main(argv)


def _distillation_args(data, base) -> list[str]:
    """A short, fast-learning run of the tiny model, as the distillation tests train it."""
    common = [str(data), "--base", str(base), "--threads", "1", "--epochs", "2", "--seed", "5"]
    return [
        *common,
        "--batch-size",
        "8",
        "--lr",
        "3e-3",
        "--label-smoothing",
        "0",
        "--patience",
        "5",
    ]


def _scorer_of(tokenizer_path, texts: list[str]):
    """A function from a checkpoint folder to its fp32 scores of `texts` (rows x labels)."""
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from models.train import predict

    tokenizer = AutoTokenizer.from_pretrained(tokenizer_path)

    def scores(path):
        model = AutoModelForSequenceClassification.from_pretrained(path, dtype=torch.float32)
        return predict(model, tokenizer, texts, 64)

    return scores


def test_training_cli_exports_every_epoch_and_resumes_where_it_stopped(
    tiny_path, tmp_path, monkeypatch
) -> None:
    import json

    import models.train
    from models import load_scorer

    a, b = tmp_path / "site_a.csv", tmp_path / "site_b.csv"
    _labelled_csv(a, 1)
    _labelled_csv(b, 2)
    common = [str(a), str(b), "--epochs", "2", "--seed", "5", "--base", str(tiny_path)]
    common += ["--batch-size", "8", "--val-fraction", "0.25", "--threads", "1"]
    common += ["--source-bias", "--source-bias-anneal", "--patience", "5"]

    whole = tmp_path / "whole"
    _train([*common, "--output", str(whole)])
    for part in ("epoch1", "epoch2", "best"):
        assert set(load_scorer(whole / part).score(["a test"])[0]) >= {"toxicity"}
    summary = json.loads((whole / "validation.json").read_text())
    assert set(summary["source_bias"]) == {"site_a", "site_b"}
    history = json.loads((whole / "history.json").read_text())
    assert [h["epoch"] for h in history] == [1, 2]

    # The same run, killed during its second validation pass, then resumed.
    evaluate, calls = models.train.evaluate, []

    def crash_on_second(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return evaluate(*args, **kwargs)

    broken = tmp_path / "broken"
    monkeypatch.setattr(models.train, "evaluate", crash_on_second)
    with pytest.raises(KeyboardInterrupt):
        _train([*common, "--output", str(broken)])
    assert (broken / "epoch1").is_dir() and not (broken / "epoch2").exists()
    monkeypatch.setattr(models.train, "evaluate", evaluate)
    _train([*common, "--output", str(broken), "--resume"])
    resumed = (broken / "epoch2" / "model.safetensors").read_bytes()
    assert resumed == (whole / "epoch2" / "model.safetensors").read_bytes()
    assert json.loads((broken / "history.json").read_text()) == history
    without_offsets = [a for a in common if not a.startswith("--source-bias")]
    with pytest.raises(SystemExit, match="--source-bias"):
        _train([*without_offsets, "--output", str(broken), "--resume"])


def test_validation_csv_writes_the_held_out_rows_of_each_source(tmp_path) -> None:
    import csv

    from models.data import load_sources
    from models.data import main as data_main

    _labelled_csv(tmp_path / "site_a.csv", 1)
    _labelled_csv(tmp_path / "site_b.csv", 2)
    out = tmp_path / "val"
    data_main([str(tmp_path), "--validation-csv", str(out), "--seed", "13"])
    _, val = split(load_sources([tmp_path]), 0.1, seed=13)
    assert sorted(p.name for p in out.iterdir()) == ["site_a.csv", "site_b.csv"]
    for source in val:
        with (out / f"{source.name}.csv").open(newline="") as fh:
            rows = list(csv.DictReader(fh))
        assert [r["text"] for r in rows] == source.texts
        assert [int(r["toxicity"]) for r in rows] == source.labels[:, 0].astype(int).tolist()
        # A site's export says nothing about the other categories: empty, not 0.
        assert {r[c] for r in rows for c in CATEGORIES[1:]} == {""}


def test_split_seed_holds_out_the_same_rows_whatever_the_training_seed(
    tiny_path, tmp_path, monkeypatch
) -> None:
    import models.train

    a = tmp_path / "site_a.csv"
    _labelled_csv(a, 1)
    seen: list[list[str]] = []

    def recording_split(sources, fraction, seed):
        train, val = split(sources, fraction, seed)
        seen.append(val[0].texts)
        return train, val

    monkeypatch.setattr(models.train, "split", recording_split)
    common = [str(a), "--base", str(tiny_path), "--threads", "1", "--max-steps", "1"]
    common += ["--val-fraction", "0.25"]
    _train([*common, "--seed", "5", "--output", str(tmp_path / "a")])
    _train([*common, "--seed", "6", "--split-seed", "5", "--output", str(tmp_path / "b")])
    _train([*common, "--seed", "6", "--output", str(tmp_path / "c")])
    assert seen[0] == seen[1]  # training seed 6, split seed 5: run a's validation rows
    assert seen[2] != seen[0]  # without it the training seed splits too, as before


def test_authored_multilingual_adds_our_training_half_as_one_source_of_its_own() -> None:
    from models.authored_multilingual import examples
    from models.data import Source
    from models.train import AUTHORED_MULTILINGUAL, parse_args, with_fairness_data

    base = Source(
        "told_br", ["um comentário"], np.array([[0.0] * 6], dtype=np.float32), np.zeros(1)
    )
    out = with_fairness_data([base], 0, False, 13, multilingual=True)
    assert [s.name for s in out] == ["told_br", AUTHORED_MULTILINGUAL]
    train_half = examples("train")
    added = out[1]
    assert added.texts == [e.text for e in train_half]
    assert not set(added.texts) & {e.text for e in examples("probe")}
    hold = added.labels[:, 0] == 1
    assert hold.tolist() == [e.hold for e in train_half]
    assert parse_args(["d", "--output", "o", "--authored-multilingual"]).authored_multilingual


def test_distillation_loss_pulls_toward_the_teacher_and_ignores_rows_without_scores() -> None:
    from models.train import distillation_loss

    teacher = torch.tensor([[0.8] * 6, [NAN] * 6])
    w = torch.ones(2)
    at_teacher = torch.logit(torch.tensor([[0.8] * 6, [0.5] * 6])).requires_grad_()
    distillation_loss(at_teacher, teacher, w).backward()
    assert at_teacher.grad is not None
    # At the teacher's score the gradient vanishes; the row with no scores has none at all.
    assert torch.allclose(at_teacher.grad, torch.zeros(2, 6), atol=1e-6)
    above = torch.logit(torch.tensor([[0.95] * 6, [0.1] * 6])).requires_grad_()
    distillation_loss(above, teacher, w).backward()
    assert above.grad is not None
    assert (above.grad[0] > 0).all()  # a step of descent lowers the scores toward 0.8
    assert (above.grad[1] == 0).all()
    # The loss of a row is the same whether rows without scores sit beside it or not,
    # and a row's loss weight scales it.
    one = distillation_loss(above[:1], teacher[:1], w[:1])
    assert torch.isclose(distillation_loss(above, teacher, w), one)
    assert torch.isclose(distillation_loss(above[:1], teacher[:1], 2 * w[:1]), 2 * one)


def test_counterfactual_copies_keep_their_original_rows_teacher_scores() -> None:
    from models.train import with_fairness_data

    texts = ["Muslims are welcome here.", "Nice weather today.", "Gay people are lovely."]
    labels = np.array([[0.0] * 6] * 3, dtype=np.float32)
    scores = np.array([[0.1] * 6, [0.2] * 6, [0.3] * 6], dtype=np.float32)
    source = Source("site", texts, labels, np.zeros(3), "en", scores)
    assert np.array_equal(source.subset([2, 0]).teacher, scores[[2, 0]])

    (out,) = with_fairness_data([source], 2, False, 13)
    assert out.teacher is not None and len(out.teacher) == len(out.texts) > 3
    for text, row in zip(out.texts[3:], out.teacher[3:], strict=True):
        original = 0 if "welcome" in text else 2
        assert np.array_equal(row, scores[original]), text


def test_training_with_a_deeper_teacher_moves_the_student_toward_the_teachers_scores(
    make_checkpoint, tiny_path, tmp_path
) -> None:
    # The teacher has twice the student's layers, as the 12-layer teacher of the
    # 6-layer multilingual model: only its scores and the tokenizer are shared.
    from transformers import AutoModelForSequenceClassification

    from models.data import load_sources

    a = tmp_path / "site_a.csv"
    _labelled_csv(a, 1)
    teacher = make_checkpoint(seed=3, layers=4)
    scores = _scorer_of(tiny_path, load_sources([a])[0].texts)
    target, before = scores(teacher), scores(tiny_path)
    common = _distillation_args(a, tiny_path)
    taught, alone = tmp_path / "taught", tmp_path / "alone"
    _train([*common, "--output", str(taught), "--teacher", str(teacher), "--teacher-weight", "20"])
    _train([*common, "--output", str(alone)])
    gap = np.abs(scores(taught / "epoch2") - target).mean()
    student = AutoModelForSequenceClassification.from_pretrained(taught / "epoch2")
    assert student.config.num_hidden_layers == 2  # the student keeps its own depth
    # The teacher's scores on every head, the five the labels do not speak for included.
    assert gap < 0.5 * np.abs(before - target).mean()
    assert gap < 0.5 * np.abs(scores(alone / "epoch2") - target).mean()
    with pytest.raises(SystemExit, match="six-category"):
        _train([*common, "--output", str(tmp_path / "x"), "--teacher", str(tmp_path)])


def test_mask_label_makes_one_category_unknown_in_one_source_only() -> None:
    from models.train import with_masked_labels

    labels = np.ones((2, len(CATEGORIES)), dtype=np.float32)
    ours = Source("authored", ["a", "b"], labels, np.array([True, False]))
    public = Source("jigsaw", ["c", "d"], labels.copy(), np.array([True, False]))
    masked, kept = with_masked_labels([ours, public], ["authored=severe_toxicity"])
    severe = CATEGORIES.index("severe_toxicity")
    assert np.isnan(masked.labels[:, severe]).all()
    others = [c for c in range(len(CATEGORIES)) if c != severe]
    assert (masked.labels[:, others] == 1.0).all()
    assert (kept.labels == 1.0).all()
    assert (ours.labels == 1.0).all()  # the source it was given is left as it was
    with pytest.raises(SystemExit, match="no category"):
        with_masked_labels([ours], ["authored=severe"])
    with pytest.raises(SystemExit, match="no loaded source"):
        with_masked_labels([ours], ["olid=threat"])
