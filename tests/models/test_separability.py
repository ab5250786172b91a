"""models.separability: hold-or-approve learned on the training half, judged on the probe half."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from models.authored import examples
from models.separability import main, separability


def _features(rows, sign: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(len(rows), 4))
    x[:, 0] += sign * np.array([3.0 if e.hold else -3.0 for e in rows])
    return x


def test_the_probe_is_judged_by_what_the_training_half_taught() -> None:
    train, probe = examples("train"), examples("probe")
    same = separability(train, probe, _features(train, 1, 1), _features(probe, 1, 2))
    assert same["probe_roc_auc"] > 0.99 and same["right"] > 0.95
    assert set(same["families"]) == {e.family for e in probe}
    # Where the probe's embeddings point the other way, a model fitted on the training
    # half gets it wrong: the probe is never fitted on.
    flipped = separability(train, probe, _features(train, 1, 1), _features(probe, -1, 2))
    assert flipped["probe_roc_auc"] < 0.01 and flipped["right"] < 0.05


def test_the_cli_measures_an_encoder_folder(tiny_path: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "sep.json"
    main([str(tiny_path), "--json", str(out)])
    (figures,) = json.loads(out.read_text()).values()
    assert 0.0 <= figures["probe_roc_auc"] <= 1.0
    assert set(figures["families"]) == {e.family for e in examples("probe")}
    assert "| **right** |" in capsys.readouterr().out
