"""The int8 fast path in ONNX Runtime: export once, then serve without torch.

    python -m models.onnx [--model DIR] [--output DIR]

`export` (needs torch) writes the checkpoint as ONNX with eager attention,
quantizes every MatMul's weights to int8 per channel (ONNX Runtime dynamic
quantization), and records in `export.json` the fp32 torch scores of
`PARITY_TEXTS`. `OnnxScorer` loads the result with ONNX Runtime and the
`tokenizers` library only: a process that serves through it never imports torch
(~280 MB of a worker's memory). At load it scores `PARITY_TEXTS` again and
compares with the recorded fp32 scores, so the parity check is made on the
machine that serves, as the torch fast path does.

`ensure_export` keeps exports in a cache folder keyed by the checkpoint's
weights version and runs the export in a child process, so the caller does not
import torch either.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from models.windows import (
    DEFAULT_BATCH_SIZE,
    DEFAULT_STRIDE,
    WindowScorer,
    mean_abs_diff,
    special_tokens,
    weights_version,
    window_length,
)

log = logging.getLogger(__name__)

MODEL_FILE = "model.int8.onnx"
META_FILE = "export.json"
CACHE_ENV = "MODERATION_MODEL_CACHE"
FORMAT = 3  # bump when the export changes, so old cache entries are not reused
# Passes of at least this many padded tokens (one 256-token window of a long comment,
# or more) go to the wide session when there is one. Measured on 2 idle cores: 1.6-1.8x
# faster on 2 threads at 256-512 tokens, only 1.2x for one 64-token window, which is
# most passes and would take the core another worker needs under load.
WIDE_PASS_TOKENS = 256
_COPIED = ("config.json", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json")


def available() -> bool:
    """Whether ONNX Runtime and the tokenizers library can be imported here."""
    import importlib.util

    return all(importlib.util.find_spec(m) for m in ("onnxruntime", "tokenizers"))


def cache_root() -> Path:
    """Where exports are kept: $MODERATION_MODEL_CACHE, else the user's cache folder."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "comment-moderation"


def export_dir(checkpoint: Path) -> Path:
    """The cache folder of one checkpoint's export (its name and weights version)."""
    checkpoint = Path(checkpoint).resolve()
    return cache_root() / "onnx" / f"{checkpoint.name}-{weights_version(checkpoint)}-v{FORMAT}"


def read_meta(folder: Path) -> dict[str, Any] | None:
    """The export's metadata, or None if the folder holds no complete export."""
    try:
        meta = json.loads((folder / META_FILE).read_text())
    except (OSError, ValueError):
        return None
    if meta.get("format") != FORMAT or not (folder / MODEL_FILE).is_file():
        return None
    return meta


def export(checkpoint: Path, output: Path, *, opset: int = 17) -> dict[str, Any]:
    """Export `checkpoint` to `output` as int8 ONNX with its tokenizer; return the metadata.

    Writes into a temporary sibling folder and renames it into place, so a reader
    never sees half an export and two exporters racing both end with a whole one.
    """
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from transformers import AutoModelForSequenceClassification

    from models import PARITY_TEXTS
    from models.scorer import TransformersScorer

    checkpoint = Path(checkpoint)
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{output.name}-", dir=output.parent))
    try:
        reference = TransformersScorer.from_pretrained(checkpoint)
        expected = reference.score(PARITY_TEXTS)
        # Eager attention exports as plain MatMul/Softmax, which ONNX Runtime runs
        # faster than the exported SDPA graph (measured; see the model card).
        model = AutoModelForSequenceClassification.from_pretrained(
            checkpoint, dtype=torch.float32, local_files_only=True, attn_implementation="eager"
        ).eval()
        sample = torch.ones((2, 8), dtype=torch.long)
        fp32 = work / "model.fp32.onnx"
        with warnings.catch_warnings():
            # The TorchScript exporter (deprecated for the torch.export one, which needs
            # onnxscript) warns about traced shape checks that are constant for our inputs;
            # the parity check below is what vouches for the result.
            warnings.simplefilter("ignore")
            _export_onnx(model, sample, fp32, opset)
        # int8 weights with one scale per output channel; activations quantized on the
        # fly, as the torch fast path does. Weights keep to a 7-bit range: on CPUs
        # without VNNI the u8 x s8 kernel sums pairs of products in 16 bits, which
        # full-range weights can saturate (measured: parity lost on an AVX2 machine).
        quantize_dynamic(
            fp32,
            work / MODEL_FILE,
            weight_type=QuantType.QInt8,
            per_channel=True,
            reduce_range=True,
        )
        fp32.unlink()
        for name in _COPIED:
            if (checkpoint / name).is_file():
                shutil.copy2(checkpoint / name, work / name)
        meta = {
            "format": FORMAT,
            "checkpoint": checkpoint.resolve().name,
            "weights_version": reference.version,
            "max_length": reference.max_length,
            "categories": list(reference.categories),
            "reference_scores": expected,
        }
        (work / META_FILE).write_text(json.dumps(meta, indent=1) + "\n")
        int8 = OnnxScorer.from_export(work, verify=True)
        meta["export_parity_mae"] = int8.parity_mae
        (work / META_FILE).write_text(json.dumps(meta, indent=1) + "\n")
        work.chmod(0o755)
        try:
            work.rename(output)
        except OSError:  # the folder exists: keep another exporter's whole export
            if read_meta(output) is None:  # a broken one is replaced
                shutil.rmtree(output, ignore_errors=True)
                work.rename(output)
        return read_meta(output) or meta
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _export_onnx(model: Any, sample: Any, path: Path, opset: int) -> None:
    import torch

    torch.onnx.export(
        model,
        (sample, sample),
        str(path),
        input_names=["input_ids", "attention_mask"],
        output_names=["logits"],
        dynamic_axes={
            "input_ids": {0: "batch", 1: "tokens"},
            "attention_mask": {0: "batch", 1: "tokens"},
            "logits": {0: "batch"},
        },
        opset_version=opset,
        dynamo=False,
    )


def ensure_export(checkpoint: Path, *, timeout: float = 600) -> Path | None:
    """Return the cached export of `checkpoint`, exporting it in a child process if needed.

    None when the export could not be made (the reason is logged): the caller falls
    back to the torch fast path.
    """
    folder = export_dir(checkpoint)
    if read_meta(folder) is not None:
        return folder
    log.info("exporting %s to ONNX int8 in %s (once per model version)", checkpoint, folder)
    command = [sys.executable, "-m", "models.onnx", "--model", str(checkpoint)]
    command += ["--output", str(folder)]
    root = Path(__file__).resolve().parent.parent
    env = dict(
        os.environ, PYTHONPATH=os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")])
    )
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=timeout, env=env, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        log.warning("ONNX export of %s failed: %s", checkpoint, exc)
        return None
    if done.returncode != 0 or read_meta(folder) is None:
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        log.warning("ONNX export of %s failed: %s", checkpoint, " | ".join(tail))
        return None
    return folder


class OnnxScorer(WindowScorer):
    """The int8 scorer in ONNX Runtime, with the `tokenizers` library: no torch."""

    engine = "onnxruntime"

    def __init__(
        self,
        session: Any,
        tokenizer: Any,
        config: dict[str, Any],
        *,
        name: str = "model",
        version: str = "unversioned",
        max_length: int | None = None,
        stride: int = DEFAULT_STRIDE,
        batch_size: int = DEFAULT_BATCH_SIZE,
        declared_max_length: int | None = None,
        wide_session: Any = None,
        wide_from_tokens: int = WIDE_PASS_TOKENS,
    ) -> None:
        self.session = session
        # Runs the passes of at least `wide_from_tokens` padded tokens, on more threads.
        self.wide_session = wide_session
        self.wide_from_tokens = wide_from_tokens
        self.tokenizer = tokenizer
        prefix, suffix = special_tokens(
            tokenizer.encode("a").ids, tokenizer.encode("a", add_special_tokens=False).ids
        )
        pad_id = config.get("pad_token_id")
        super().__init__(
            id2label=config.get("id2label") or {},
            num_labels=int(config.get("num_labels") or len(config.get("id2label") or {}) or 2),
            problem_type=config.get("problem_type"),
            prefix=prefix,
            suffix=suffix,
            pad_id=int(pad_id) if pad_id is not None else 0,
            max_length=window_length(
                max_length, config.get("max_position_embeddings"), declared_max_length
            ),
            name=name,
            version=version,
            stride=stride,
            batch_size=batch_size,
            precision="int8",
        )

    @classmethod
    def from_export(
        cls,
        folder: Path,
        *,
        threads: int = 1,
        long_pass_threads: int = 1,
        batch_size: int = DEFAULT_BATCH_SIZE,
        stride: int = DEFAULT_STRIDE,
        max_length: int | None = None,
        verify: bool = True,
    ) -> OnnxScorer:
        """Load an export folder; with `verify`, set `parity_mae` against the recorded fp32.

        With `long_pass_threads` above `threads`, passes of WIDE_PASS_TOKENS padded
        tokens or more (a long comment's 256-token windows) run on a second session
        with that many threads: the same weights, loaded twice.
        """
        import onnxruntime as ort
        from tokenizers import Tokenizer

        folder = Path(folder)
        meta = json.loads((folder / META_FILE).read_text())
        config = json.loads((folder / "config.json").read_text())
        declared = None
        if (folder / "tokenizer_config.json").is_file():
            declared = json.loads((folder / "tokenizer_config.json").read_text()).get(
                "model_max_length"
            )
        tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        tokenizer.no_truncation()
        tokenizer.no_padding()

        def session(threads: int) -> Any:
            options = ort.SessionOptions()
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
            options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
            if threads > 1:
                # Idle pool threads sleep instead of spinning, so that a worker's second
                # thread does not burn the core another worker is scoring on.
                options.add_session_config_entry("session.intra_op.allow_spinning", "0")
            return ort.InferenceSession(
                str(folder / MODEL_FILE), options, providers=["CPUExecutionProvider"]
            )

        scorer = cls(
            session(threads),
            tokenizer,
            config,
            name=meta.get("checkpoint", folder.name),
            version=meta.get("weights_version", "unversioned"),
            max_length=max_length or meta.get("max_length"),
            stride=stride,
            batch_size=batch_size,
            declared_max_length=declared,
            wide_session=session(long_pass_threads) if long_pass_threads > threads else None,
        )
        if verify:
            from models import PARITY_TEXTS

            scorer.parity_mae = mean_abs_diff(meta["reference_scores"], scorer.score(PARITY_TEXTS))
        return scorer

    def _encode(self, texts: list[str]) -> list[list[int]]:
        return [e.ids for e in self.tokenizer.encode_batch(texts, add_special_tokens=False)]

    def forward(self, windows: list[list[int]]) -> np.ndarray:
        """Run the model over token windows, shortest first, padded per batch; return logits."""
        logits = np.zeros((len(windows), self.num_labels), dtype=np.float32)
        with self._lock:
            for idx, input_ids, attention_mask in self.batches(windows):
                feeds = {"input_ids": input_ids, "attention_mask": attention_mask}
                session = self.session
                if self.wide_session is not None and input_ids.size >= self.wide_from_tokens:
                    session = self.wide_session
                logits[idx] = session.run(["logits"], feeds)[0]
        return logits


def main(argv: Sequence[str] | None = None) -> None:
    from models import DEFAULT_MODEL_PATH, PARITY_LIMIT

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL_PATH)
    parser.add_argument("--output", type=Path, help="default: the cache folder of the model")
    args = parser.parse_args(argv)
    output = args.output or export_dir(args.model)
    if read_meta(output) is not None:
        print(f"{output}: already exported")
        return
    meta = export(args.model, output)
    mae = meta["export_parity_mae"]
    verdict = "ok" if mae <= PARITY_LIMIT else f"over the {PARITY_LIMIT} limit"
    print(f"{output}: int8 ONNX, mean |p_int8 - p_fp32| on the parity texts {mae:.4f} ({verdict})")


if __name__ == "__main__":
    main()
