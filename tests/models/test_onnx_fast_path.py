"""The ONNX Runtime int8 fast path: export, cache, parity with fp32, no torch when serving."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import models
from models import load_scorer, onnx
from models.scorer import TransformersScorer, check_parity
from tests.models.comments import MIXED_COMMENTS

ROOT = Path(__file__).resolve().parents[2]

TEXTS = MIXED_COMMENTS


@pytest.fixture(scope="module")
def tiny_export(tiny_path: Path) -> Path:
    folder = onnx.ensure_export(tiny_path)
    assert folder is not None
    return folder


def test_export_is_cached_per_weights_version(tiny_path, tiny_export, make_checkpoint, monkeypatch):
    meta = json.loads((tiny_export / onnx.META_FILE).read_text())
    assert meta["weights_version"] == TransformersScorer.from_pretrained(tiny_path).version
    assert tiny_export == onnx.export_dir(tiny_path)
    assert tiny_export.parent.parent == Path(os.environ[onnx.CACHE_ENV])

    def no_subprocess(*args, **kwargs):
        raise AssertionError("a cached export must not be made again")

    monkeypatch.setattr(subprocess, "run", no_subprocess)
    assert onnx.ensure_export(tiny_path) == tiny_export
    other = make_checkpoint(seed=1)  # other weights: another folder
    assert onnx.export_dir(other) != tiny_export


def test_incomplete_export_is_made_again(tiny_path, tmp_path):
    folder = tmp_path / "export"
    onnx.export(tiny_path, folder)
    assert onnx.read_meta(folder) is not None
    (folder / onnx.MODEL_FILE).unlink()  # e.g. a copy interrupted half-way
    assert onnx.read_meta(folder) is None
    onnx.export(tiny_path, folder)
    assert onnx.read_meta(folder) is not None
    meta = json.loads((folder / onnx.META_FILE).read_text())
    meta["format"] = onnx.FORMAT + 1  # made by another version of the exporter
    (folder / onnx.META_FILE).write_text(json.dumps(meta))
    assert onnx.read_meta(folder) is None


def test_onnx_scores_agree_with_torch_fp32(tiny_scorer, tiny_export):
    fast = onnx.OnnxScorer.from_export(tiny_export)
    assert (fast.engine, fast.precision) == ("onnxruntime", "int8")
    assert fast.version == tiny_scorer.version
    assert fast.parity_mae is not None and 0 < fast.parity_mae <= models.PARITY_LIMIT
    assert fast.categories == tiny_scorer.categories
    assert fast.preprocess(TEXTS) == tiny_scorer.preprocess(TEXTS)
    assert check_parity(tiny_scorer, fast, TEXTS) <= 0.02
    # Not the same numbers, though: this really is another (int8) model.
    assert check_parity(tiny_scorer, fast, TEXTS) > 0


def test_long_passes_run_on_the_wide_session_with_the_same_scores(tiny_path, tiny_export):
    narrow = load_scorer(tiny_path, fast=True)
    wide = load_scorer(tiny_path, fast=True, long_pass_threads=2)
    assert isinstance(wide, onnx.OnnxScorer) and narrow.wide_session is None
    ran: list[tuple[str, int]] = []

    class Recording:
        def __init__(self, name: str, session) -> None:
            self.name, self.session = name, session

        def run(self, outputs, feeds):
            ran.append((self.name, feeds["input_ids"].size))
            return self.session.run(outputs, feeds)

    wide.session = Recording("narrow", wide.session)
    wide.wide_session = Recording("wide", wide.wide_session)
    long_text = "The council met again about the harbour wall and its repairs. " * 40
    for texts in (["A short comment."], [long_text]):  # one pass each, as a server runs
        for got, want in zip(wide.score(texts), narrow.score(texts), strict=True):
            assert got == pytest.approx(want, abs=1e-5)  # the same model, on more threads
    assert {name for name, _ in ran} == {"narrow", "wide"}
    assert all((name == "wide") == (size >= onnx.WIDE_PASS_TOKENS) for name, size in ran)


def test_load_scorer_prefers_onnx_and_checks_parity(tiny_path, tiny_export):
    fast = load_scorer(tiny_path, fast=True)
    assert isinstance(fast, onnx.OnnxScorer)
    assert fast.parity_mae is not None and fast.parity_mae <= models.PARITY_LIMIT
    assert load_scorer(tiny_path, fast=True, engine="torch").engine == "torch"
    assert load_scorer(tiny_path, fast=False).precision == "fp32"


def test_onnx_that_fails_parity_falls_back_to_torch(tiny_path, tiny_export, monkeypatch):
    monkeypatch.setattr(models, "PARITY_LIMIT", 0.0)
    served = load_scorer(tiny_path, fast=True, engine="onnxruntime")
    # torch int8 fails the same zero limit, so fp32 serves
    assert (served.engine, served.precision) == ("torch", "fp32")


def test_export_that_cannot_be_made_falls_back_to_torch(tiny_path, tmp_path, monkeypatch, caplog):
    monkeypatch.setenv(onnx.CACHE_ENV, str(tmp_path / "cache"))
    (tmp_path / "cache").write_text("a file where the cache folder should be")
    with caplog.at_level("WARNING"):
        served = load_scorer(tiny_path, fast=True)
    assert (served.engine, served.precision) == ("torch", "int8")
    assert "ONNX export" in caplog.text


def test_serving_through_onnx_never_imports_torch(tiny_path, tiny_export):
    code = (
        "import sys; from models import load_scorer; "
        "s = load_scorer(sys.argv[1], fast=True); s.score(['hello there'] * 3); "
        "print(s.engine, 'torch' in sys.modules, 'transformers' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(tiny_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert out.stdout.split() == ["onnxruntime", "False", "False"]


def test_engine_is_validated(monkeypatch):
    with pytest.raises(ValueError, match="tensorflow"):
        models.fast_engine("tensorflow")
    assert models.fast_engine("torch") == "torch"
    monkeypatch.setenv("MODERATION_FAST_ENGINE", "torch")  # the service's setting, not read here
    assert models.fast_engine() == "onnxruntime"  # auto: installed in the test environment
