"""The non-English sources: each file's labels mapped onto our categories, the rest masked.

Every row here is written for this test (in the sources' file layouts), none is
taken from the shared data.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
import pytest

from models.data import load_sources, main, split
from models.labels import CATEGORIES

U = None  # an unknown (masked) category


def _write(path: Path, header: list[str], rows: list[list[object]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def _labels(row: np.ndarray) -> dict[str, float | None]:
    return {c: None if math.isnan(v) else float(v) for c, v in zip(CATEGORIES, row, strict=True)}


def _expect(**known: float) -> dict[str, float | None]:
    return {c: known.get(c) for c in CATEGORIES}


def _one(path: Path):
    (source,) = load_sources([path])
    return source


def test_germeval2018_fine_labels_say_which_kind_of_offence(tmp_path: Path) -> None:
    f = _write(
        tmp_path / "germeval2018-de-train.csv",
        ["text", "label", "fine"],
        [
            ["@USER Schönes Wetter heute in Köln.|LBR|Bis morgen!", 0, "OTHER"],
            ["Diese ganze Gruppe ist Abschaum.", 1, "ABUSE"],
            ["@USER Du bist ein Vollpfosten.", 1, "INSULT"],
            ["So ein Mist, der Zug ist schon wieder zu spät.", 1, "PROFANITY"],
        ],
    )
    s = _one(f)
    assert (s.name, s.language) == ("germeval2018", "de")
    assert s.texts[0] == "Schönes Wetter heute in Köln. Bis morgen!"
    assert s.texts[2] == "Du bist ein Vollpfosten."
    zeros = dict.fromkeys(CATEGORIES, 0.0)
    assert _labels(s.labels[0]) == zeros
    assert _labels(s.labels[1]) == _expect(toxicity=1.0, identity_attack=1.0)
    assert _labels(s.labels[2]) == _expect(toxicity=1.0, insult=1.0, identity_attack=0.0)
    assert _labels(s.labels[3]) == _expect(
        toxicity=1.0, profanity=1.0, insult=0.0, identity_attack=0.0, threat=0.0
    )


@pytest.mark.parametrize(
    ("filename", "name", "language"),
    [
        ("germeval2021-de-train.csv", "germeval2021", "de"),
        ("told-br-pt-train.csv", "told_br", "pt"),
    ],
)
def test_broad_toxicity_sources_know_only_that_a_positive_is_toxic(
    tmp_path: Path, filename: str, name: str, language: str
) -> None:
    f = _write(
        tmp_path / filename,
        ["text", "label"],
        [["@MEDIUM Gute Sendung gestern, danke! https://example.org/x", 0], ["Halt dein Maul.", 1]],
    )
    s = _one(f)
    assert (s.name, s.language) == (name, language)
    assert s.texts[0] == "Gute Sendung gestern, danke!"
    assert _labels(s.labels[0]) == dict.fromkeys(CATEGORIES, 0.0)
    assert _labels(s.labels[1]) == _expect(toxicity=1.0)


@pytest.mark.parametrize(
    ("filename", "name", "language"),
    [
        ("hateval2019-es-train.csv", "hateval_es", "es"),
        ("haspeede2020-it-train.csv", "haspeede2020", "it"),
    ],
)
def test_hate_speech_sources_say_identity_attack_and_nothing_about_other_offence(
    tmp_path: Path, filename: str, name: str, language: str
) -> None:
    f = _write(
        tmp_path / filename, ["text", "label"], [["Que tengas buen día.", 0], ["Fuera todos.", 1]]
    )
    s = _one(f)
    assert (s.name, s.language) == (name, language)
    # Not hate speech may still be rude: its toxicity is unknown, not 0.
    assert _labels(s.labels[0]) == _expect(identity_attack=0.0)
    assert _labels(s.labels[1]) == _expect(toxicity=1.0, identity_attack=1.0)


def test_the_spanish_hateval_file_is_not_read_as_the_english_one(tmp_path: Path) -> None:
    # The English HatEval loader would need the HS and AG columns this file lacks.
    _write(tmp_path / "hateval2019-es-train.csv", ["text", "label"], [["Hola a todos.", 0]])
    assert [(s.name, s.language) for s in load_sources([tmp_path])] == [("hateval_es", "es")]


def test_detoxis_level_three_is_severe(tmp_path: Path) -> None:
    f = _write(
        tmp_path / "detoxis-es-train.csv",
        ["text", "label", "level"],
        [
            ["Buen artículo,\nmuy claro.", 0, 0],
            ["Qué tontería.", 1, 1],
            ["Sois unos inútiles.", 1, 2],
            ["Ojalá os echen a todos a patadas.", 1, 3],
        ],
    )
    s = _one(f)
    assert (s.name, s.language) == ("detoxis", "es")
    assert s.texts[0] == "Buen artículo, muy claro."
    assert _labels(s.labels[0]) == dict.fromkeys(CATEGORIES, 0.0)
    assert _labels(s.labels[1]) == _expect(toxicity=1.0, severe_toxicity=0.0)
    assert _labels(s.labels[2]) == _expect(toxicity=1.0, severe_toxicity=0.0)
    assert _labels(s.labels[3]) == _expect(toxicity=1.0, severe_toxicity=1.0)


def test_mlma_sentiments(tmp_path: Path) -> None:
    f = _write(
        tmp_path / "mlma-fr-train.csv",
        ["text", "label", "sentiment"],
        [
            ["@user Bonne soirée à tous @url", 0, "normal"],
            ["J'ai peur de sortir le soir.", 0, "fearful"],
            ["Quel abruti celui-là.", 1, "offensive"],
            ["Ces gens-là sont une plaie.", 1, "abusive_hateful"],
        ],
    )
    s = _one(f)
    assert (s.name, s.language) == ("mlma_fr", "fr")
    assert s.texts[0] == "Bonne soirée à tous"
    assert _labels(s.labels[0]) == dict.fromkeys(CATEGORIES, 0.0)
    assert _labels(s.labels[1]) == _expect(toxicity=0.0)
    assert _labels(s.labels[2]) == _expect(toxicity=1.0)
    assert _labels(s.labels[3]) == _expect(toxicity=1.0, identity_attack=1.0)


def _many(tmp_path: Path) -> Path:
    folder = tmp_path / "multilingual"
    folder.mkdir()
    words = ["Hallo", "Wetter", "Zug", "Brot", "Katze", "Garten", "Buch", "Fahrrad"]
    rows = [[f"{w} Nummer {i}", i % 2, ["OTHER", "INSULT"][i % 2]] for i, w in enumerate(words * 5)]
    _write(folder / "germeval2018-de-train.csv", ["text", "label", "fine"], rows)
    pt = [[f"Frase número {i}", int(i % 3 == 0)] for i in range(30)]
    _write(folder / "told-br-pt-train.csv", ["text", "label"], pt)
    return folder


def test_validation_split_is_per_source_stratified_and_deterministic(tmp_path: Path) -> None:
    folder = _many(tmp_path)
    a_train, a_val = split(load_sources([folder]), 0.2, seed=13)
    _, b_val = split(load_sources([folder]), 0.2, seed=13)
    assert [v.texts for v in a_val] == [v.texts for v in b_val]
    for train, val in zip(a_train, a_val, strict=True):
        assert train.language == val.language
        assert not set(train.texts) & set(val.texts)
        # Stratified: both halves hold both classes in the source's proportions.
        assert 0 < np.nanmean(val.labels[:, 0]) < 1
    assert [(v.name, v.language, len(v.texts)) for v in a_val] == [
        ("germeval2018", "de", 8),
        ("told_br", "pt", 6),
    ]


def test_validation_csv_has_a_language_column(tmp_path: Path) -> None:
    folder = _many(tmp_path)
    out = tmp_path / "val"
    main([str(folder), "--validation-csv", str(out), "--val-fraction", "0.2"])
    with (out / "told_br.csv").open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 6 and {r["language"] for r in rows} == {"pt"}
    assert {r["insult"] for r in rows if r["toxicity"] == "1"} == {""}


def test_the_english_data_folder_does_not_read_its_multilingual_subfolder(tmp_path: Path) -> None:
    _many(tmp_path)
    _write(tmp_path / "site.csv", ["text", "label"], [["fine", 0], ["awful", 1]])
    assert [s.name for s in load_sources([tmp_path])] == ["site"]
