"""The torch int8 fast path: quantized Linear layers, results within 0.02 of fp32."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import torch

from models import load_scorer
from models.scorer import check_parity
from tests.models.comments import MIXED_COMMENTS

ROOT = Path(__file__).resolve().parents[2]

SENTENCES = MIXED_COMMENTS


def test_fast_path_quantizes_linear_layers_to_int8(tiny_path):
    fast = load_scorer(tiny_path, fast=True, engine="torch")
    assert fast.precision == "int8"
    kinds = {type(m).__module__ for m in fast.model.modules()}
    assert "torch.ao.nn.quantized.dynamic.modules.linear" in kinds
    assert not any(type(m) is torch.nn.Linear for m in fast.model.modules())


def test_fast_path_agrees_with_fp32(tiny_path, tiny_scorer):
    fast = load_scorer(tiny_path, fast=True, engine="torch")
    assert fast.version == tiny_scorer.version
    assert check_parity(tiny_scorer, tiny_scorer, SENTENCES) == 0.0
    assert check_parity(tiny_scorer, fast, SENTENCES) <= 0.02


def test_bench_comments_are_deterministic_and_sized(tiny_scorer):
    spec = importlib.util.spec_from_file_location("bench_scorer", ROOT / "bench" / "scorer.py")
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    assert bench.make_comments(3, 20) == bench.make_comments(3, 20)
    for tokens in (64, 256):
        texts = bench.fit_tokens(tiny_scorer, 8, tokens)
        lengths = [len(ids) for ids in tiny_scorer.tokenizer(texts)["input_ids"]]
        assert tiny_scorer.token_counts(texts) == lengths
        assert abs(sum(lengths) / len(lengths) - tokens) <= 0.1 * tokens


def test_verified_fast_path_loads_the_model_once(tiny_path, monkeypatch):
    from models.scorer import TransformersScorer

    loads = []
    original = TransformersScorer.from_pretrained.__func__

    def counting(cls, *args, **kwargs):
        loads.append(kwargs.get("fast", False))
        return original(cls, *args, **kwargs)

    monkeypatch.setattr(TransformersScorer, "from_pretrained", classmethod(counting))
    fast = load_scorer(tiny_path, fast=True, engine="torch")
    assert loads == [False]  # fp32 loaded once, then quantized in place after scoring
    assert fast.precision == "int8"
    assert fast.parity_mae is not None and 0 < fast.parity_mae <= 0.02


def test_fast_path_that_fails_parity_serves_fp32(tiny_path, tiny_scorer, monkeypatch):
    import models

    monkeypatch.setattr(models, "PARITY_LIMIT", 0.0)
    served = load_scorer(tiny_path, fast=True, engine="torch")
    assert served.precision == "fp32"
    assert served.parity_mae is not None and served.parity_mae > 0
    assert check_parity(tiny_scorer, served, SENTENCES) == 0.0
