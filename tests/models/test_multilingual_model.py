"""The shipped multilingual checkpoint (models/multilingual-toxicity): layout, thresholds, scores.

It loads with `models.load_scorer` exactly as the English one does, fp32 and int8
(ONNX Runtime, parity checked on PARITY_TEXTS, which include its five languages),
and carries thresholds per language in the format the service reads.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from models import PARITY_LIMIT, load_scorer
from models.data import LANGUAGES
from models.labels import CATEGORIES

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

MODEL = Path(__file__).resolve().parents[2] / "models" / "multilingual-toxicity"

# Our own sentences: (benign, toxic) per language, written for this test.
PAIRS = {
    "de": (
        "Die neue Buslinie fährt ab Montag alle zehn Minuten zum Bahnhof.",
        "Halt endlich die Klappe, du widerlicher Vollidiot.",
    ),
    "es": (
        "La feria del libro de este año tiene muchas actividades para niños.",
        "Eres un imbécil asqueroso, lárgate de aquí.",
    ),
    "fr": (
        "Le marché du samedi déménage sur la place de la mairie.",
        "Espèce de crétin minable, ferme ta gueule.",
    ),
    "it": (
        "Il nuovo orario della biblioteca comunale mi sembra molto comodo.",
        "Sei un coglione schifoso, vattene via.",
    ),
    "pt": (
        "A feira de artesanato volta para a praça no próximo domingo.",
        "Seu idiota nojento, cala essa boca imunda.",
    ),
}


def test_the_folder_has_the_layout_of_the_english_one_and_one_fp16_file_under_50_mb() -> None:
    for name in (
        "config.json", "tokenizer.json", "tokenizer_config.json", "model.safetensors",
        "thresholds.json", "validation.json", "README.md", "training_history.json",
        "ngrams.npz",
    ):  # fmt: skip
        assert (MODEL / name).is_file(), name
    config = json.loads((MODEL / "config.json").read_text())
    assert [config["id2label"][str(i)] for i in range(6)] == list(CATEGORIES)
    weights = MODEL / "model.safetensors"
    assert weights.stat().st_size <= 50 * 1024 * 1024
    from safetensors import safe_open

    with safe_open(str(weights), "pt") as f:
        dtypes = {str(f.get_slice(k).get_dtype()) for k in f.keys()}  # noqa: SIM118 (no __iter__)
    assert dtypes == {"F16"}


def test_thresholds_hold_every_category_for_each_language_it_serves() -> None:
    data = json.loads((MODEL / "thresholds.json").read_text())
    assert set(data["thresholds"]) == set(CATEGORIES)
    assert set(data["languages"]) == set(LANGUAGES)
    for lang, entry in data["languages"].items():
        assert set(entry["thresholds"]) == set(CATEGORIES), lang
        assert all(0.05 <= t <= 0.96 for t in entry["thresholds"].values()), lang
        assert set(entry["fallback"]) <= set(CATEGORIES)
        for c in entry["fallback"]:
            assert entry["thresholds"][c] == data["thresholds"][c]
        policy = entry["policy_on_validation"]
        assert 0.0 <= policy["benign_hold_rate"] <= 1.0


@pytest.fixture(scope="module")
def reference():
    return load_scorer(MODEL, fast=False)


def test_in_each_language_the_insult_scores_above_the_benign_comment(reference) -> None:
    texts = [t for pair in PAIRS.values() for t in pair]
    scores = reference.score(texts)
    assert reference.name == "multilingual-toxicity"
    for i, lang in enumerate(PAIRS):
        benign, toxic = scores[2 * i], scores[2 * i + 1]
        assert toxic["toxicity"] > benign["toxicity"] + 0.3, (lang, benign, toxic)


def test_the_int8_onnx_path_serves_within_parity(tmp_path, monkeypatch, reference) -> None:
    monkeypatch.setenv("MODERATION_MODEL_CACHE", str(tmp_path))
    fast = load_scorer(MODEL, fast=True, engine="onnxruntime")
    assert (fast.engine, fast.precision) == ("onnxruntime", "int8")
    assert fast.parity_mae is not None and fast.parity_mae <= PARITY_LIMIT
    texts = [t for pair in PAIRS.values() for t in pair]
    for a, b in zip(reference.score(texts), fast.score(texts), strict=True):
        assert abs(a["toxicity"] - b["toxicity"]) < 0.1


def test_its_n_gram_head_is_served_with_the_transformer_on_both_paths(reference) -> None:
    """toxicity = half the transformer's + half the head's (models.ngrams), fp32 and int8 alike."""
    head = reference.text_head
    assert head is not None and head.weight == 0.5
    assert (MODEL / "ngrams.npz").stat().st_size < 5 * 1024 * 1024
    texts = [t for pair in PAIRS.values() for t in pair]
    alone = reference.transformer_scores(texts)
    head_p = head.probability(texts)[:, 0]  # its one category, toxicity
    assert head.categories == ("toxicity",)
    for a, b, q in zip(alone, reference.score(texts), head_p, strict=True):
        assert b["toxicity"] == pytest.approx(0.5 * a["toxicity"] + 0.5 * q)
        assert b["insult"] == a["insult"]
