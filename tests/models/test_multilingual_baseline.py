"""The classical floor: one TF-IDF model per language, scored per source on its validation split.

The files are written here (in the sources' layouts), not taken from the shared data.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
import pytest

from models.data import load_sources
from models.labels import CATEGORIES
from models.multilingual_baseline import floor, main, source_label

NAN = math.nan


def _write(path: Path, header: list[str], rows: list[list[object]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)


def test_source_label_is_toxicity_else_what_the_source_knows() -> None:
    labels = np.array(
        [
            [1, NAN, NAN, NAN, NAN, NAN],  # toxic
            [0, 0, 0, 0, 0, 0],  # nothing wrong
            [NAN, NAN, NAN, NAN, NAN, 0],  # not hate speech, toxicity unknown
            [NAN, NAN, NAN, NAN, NAN, NAN],  # says nothing
        ],
        dtype=np.float32,
    )
    assert len(CATEGORIES) == labels.shape[1]
    out = source_label(labels)
    assert out[:3].tolist() == [1.0, 0.0, 0.0] and math.isnan(out[3])


# Sentences written for this test: a toxic row carries one of a few insults.
_BENIGN = {
    "de": ["Das Wetter in {} ist heute schön", "Ich fahre morgen mit dem Zug nach {}"],
    "es": ["Hoy hace buen tiempo en {}", "Mañana voy en tren a {}"],
}
_TOXIC = {
    "de": ["Du bist ein Idiot aus {}", "Halt die Klappe, du Trottel aus {}"],
    "es": ["Eres un imbécil de {}", "Cállate, idiota de {}"],
}
_PLACES = [f"Ort{i}" for i in range(40)]


def _folder(tmp_path: Path) -> Path:
    folder = tmp_path / "data" / "multilingual"
    folder.mkdir(parents=True)
    rows = {
        lang: [[t.format(p), 0] for p in _PLACES for t in _BENIGN[lang]]
        + [[t.format(p), 1] for p in _PLACES for t in _TOXIC[lang]]
        for lang in ("de", "es")
    }
    _write(folder / "germeval2021-de-train.csv", ["text", "label"], rows["de"])
    _write(folder / "hateval2019-es-train.csv", ["text", "label"], rows["es"])
    return folder


def test_each_language_is_learned_from_its_own_sources_and_scored_per_source(
    tmp_path: Path,
) -> None:
    rows = floor(load_sources([_folder(tmp_path)]), val_fraction=0.25, seed=13)
    assert [(r.language, r.source) for r in rows] == [("de", "germeval2021"), ("es", "hateval_es")]
    for r in rows:
        assert (r.train_rows, r.val_rows) == (120, 40)
        assert r.positive_share == pytest.approx(0.5)
        # The insults separate the classes completely: a working model ranks them all first.
        assert r.roc_auc == pytest.approx(1.0)


def test_a_model_that_learned_nothing_is_at_chance(tmp_path: Path) -> None:
    folder = tmp_path / "multilingual"
    folder.mkdir()
    rng = np.random.default_rng(0)
    # Labels independent of the text: the floor must not find signal that is not there.
    rows = [
        [f"Frase número {i} sobre {_PLACES[i % 40]}", int(rng.random() < 0.5)] for i in range(400)
    ]
    _write(folder / "told-br-pt-train.csv", ["text", "label"], rows)
    (row,) = floor(load_sources([folder]), val_fraction=0.25, seed=13)
    assert 0.3 < row.roc_auc < 0.7


def test_the_command_prints_a_table_from_the_data_folder(tmp_path: Path, capsys) -> None:
    _folder(tmp_path)
    main([str(tmp_path / "data"), "--val-fraction", "0.25"])
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("| language | source |")
    assert out[2].startswith("| de | germeval2021 | 120 | 40 | 0.50 | 1.000 |")
    assert out[3].startswith("| es | hateval_es | 120 | 40 | 0.50 | 1.000 |")


def test_no_language_source_is_an_error(tmp_path: Path) -> None:
    _write(tmp_path / "site.csv", ["text", "label"], [["fine", 0], ["bad", 1]])
    with pytest.raises(SystemExit, match="no German"):
        main([str(tmp_path)])
