"""TransformersScorer on tiny random checkpoints: labels, activations, order, loading."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import torch

from models import load_scorer
from models.scorer import TransformersScorer

ROOT = Path(__file__).resolve().parents[2]

TEXTS = [
    "What a lovely photo of the harbour.",
    "",
    "Short.",
    "The council should publish the minutes before the vote, not three weeks after it. "
    "Otherwise nobody can check what was decided or why the road plan changed again.",
    "   ",
    "Thanks!",
]


def raw_logits(scorer: TransformersScorer, text: str) -> torch.Tensor:
    """Run the scorer's model directly on one text, the plain transformers way."""
    enc = scorer.tokenizer([text], return_tensors="pt", truncation=True, max_length=512)
    with torch.inference_mode():
        return scorer.model(
            input_ids=enc["input_ids"], attention_mask=enc["attention_mask"]
        ).logits[0]


def test_loads_fp16_checkpoint_in_fp32_with_name_and_version(tiny_path: Path, tiny_scorer):
    digest = hashlib.sha256((tiny_path / "model.safetensors").read_bytes()).hexdigest()
    assert tiny_scorer.version == digest[:12]
    assert tiny_scorer.name == tiny_path.name
    assert tiny_scorer.precision == "fp32"
    assert {p.dtype for p in tiny_scorer.model.parameters()} == {torch.float32}
    assert tiny_scorer.categories == (
        "toxicity",
        "severe_toxicity",
        "insult",
        "profanity",
        "threat",
        "identity_attack",
    )


def test_scores_are_probabilities_for_every_category(tiny_scorer):
    results = tiny_scorer.score(TEXTS)
    assert len(results) == len(TEXTS)
    for scores in results:
        assert tuple(scores) == tiny_scorer.categories
        assert all(0.0 <= v <= 1.0 for v in scores.values())


def test_empty_input_and_empty_text(tiny_scorer):
    assert tiny_scorer.score([]) == []
    (scores,) = tiny_scorer.score([""])
    assert set(scores) == set(tiny_scorer.categories)
    with pytest.raises(TypeError):
        tiny_scorer.score("one string is not a list of texts")


def test_multilabel_head_is_sigmoid_of_the_logits(tiny_scorer):
    text = TEXTS[0]
    expected = torch.sigmoid(raw_logits(tiny_scorer, text))
    (scores,) = tiny_scorer.score([text])
    assert tiny_scorer.activation == "sigmoid"
    assert list(scores.values()) == pytest.approx(expected.tolist(), abs=1e-5)


def test_foreign_jigsaw_labels_map_onto_our_categories(make_checkpoint):
    labels = ("toxic", "obscene", "identity_hate", "severe_toxic")
    scorer = load_scorer(make_checkpoint(labels))
    assert scorer.categories == ("toxicity", "severe_toxicity", "profanity", "identity_attack")
    text = "The bus was late again this morning."
    probs = torch.sigmoid(raw_logits(scorer, text)).tolist()
    (scores,) = scorer.score([text])
    assert scores["toxicity"] == pytest.approx(probs[0], abs=1e-5)
    assert scores["profanity"] == pytest.approx(probs[1], abs=1e-5)
    assert scores["identity_attack"] == pytest.approx(probs[2], abs=1e-5)
    assert scores["severe_toxicity"] == pytest.approx(probs[3], abs=1e-5)


def test_single_label_two_class_head_uses_softmax(make_checkpoint):
    scorer = load_scorer(make_checkpoint(("non-toxic", "toxic"), "single_label_classification"))
    assert scorer.activation == "softmax"
    assert scorer.categories == ("toxicity",)
    text = "I like the new bike lanes."
    expected = torch.softmax(raw_logits(scorer, text), -1)[1].item()
    (scores,) = scorer.score([text])
    assert scores == {"toxicity": pytest.approx(expected, abs=1e-5)}


def test_unannotated_label_0_label_1_head_is_toxic_vs_not(make_checkpoint):
    scorer = load_scorer(make_checkpoint(("LABEL_0", "LABEL_1"), None))
    assert scorer.activation == "softmax"
    text = "The library opens at nine."
    expected = torch.softmax(raw_logits(scorer, text), -1)[1].item()
    assert scorer.score([text])[0] == {"toxicity": pytest.approx(expected, abs=1e-5)}


def test_toxicity_is_the_max_of_the_others_when_the_model_lacks_it(make_checkpoint):
    scorer = load_scorer(make_checkpoint(("insult", "threat", "neutral")))
    assert scorer.categories == ("toxicity", "insult", "threat")
    for scores in scorer.score(TEXTS):
        assert scores["toxicity"] == max(scores["insult"], scores["threat"])


def test_a_model_without_any_of_our_labels_is_refused(make_checkpoint):
    with pytest.raises(ValueError, match="maps onto our categories"):
        load_scorer(make_checkpoint(("positive", "negative")))


def test_results_keep_input_order_although_batches_are_sorted_by_length(trigger_scorer):
    scorer = trigger_scorer(max_length=128, batch_size=2)
    texts = ["word " * n for n in (9, 1, 30, 4, 17, 0, 12)]
    results = scorer.score(texts)
    alone = [scorer.score([t])[0] for t in texts]
    assert results == alone
    # Shortest first, each batch padded only to its own longest window.
    widths = [w for _, w in scorer.model.batches[: len(texts) // 2 + 1]]
    assert widths == sorted(widths)
    assert len(set(widths)) > 1


def test_results_keep_input_order_on_a_real_model(tiny_scorer):
    results = tiny_scorer.score(TEXTS)
    for text, scores in zip(TEXTS, results, strict=True):
        assert scores == pytest.approx(tiny_scorer.score([text])[0], abs=1e-5)


def test_max_length_defaults_to_256_capped_by_the_model(make_checkpoint, tiny_scorer):
    assert tiny_scorer.max_length == 128  # tiny model: 128 positions
    wide = load_scorer(make_checkpoint(max_position_embeddings=1024))
    assert wide.max_length == 256
    capped = TransformersScorer(wide.model, wide.tokenizer, max_length=4096)
    assert capped.max_length == 512


def test_concurrent_calls_give_the_same_results(tiny_scorer):
    expected = tiny_scorer.score(TEXTS)
    results: list[list[dict[str, float]]] = []

    def work() -> None:
        results.append(tiny_scorer.score(TEXTS))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [expected] * 4


def test_load_scorer_reads_no_setting_of_its_own(tiny_path, monkeypatch):
    # The service reads MODERATION_FAST_PATH once (api/config.py) and passes it in.
    monkeypatch.setenv("MODERATION_FAST_PATH", "1")
    assert load_scorer(tiny_path).precision == "fp32"
    assert load_scorer(tiny_path, fast=True).precision == "int8"


def test_missing_checkpoint_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"config\.json"):
        load_scorer(tmp_path / "nowhere")


def test_importing_models_does_not_import_torch():
    code = "import sys, models; assert 'torch' not in sys.modules, 'torch imported'"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, env=env)
