"""Average the weights of checkpoints fine-tuned from one another (a "model soup").

    python -m models.average runs/warm/best models/minilm-toxicity --output runs/soup

Checkpoints on one training path (an epoch and the next, or a model and its
continuation) sit in the same basin of the loss, and their average often
generalises better than either. Every input must have the same architecture and
labels; the result is written like `models.train` exports (fp16 safetensors,
the first input's config and tokenizer). Judge it with `models.calibrate` like
any other candidate.
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path


def average(paths: list[Path], output: Path, weights: list[float] | None = None) -> None:
    """Write the (weighted) mean of the checkpoints' tensors to `output`."""
    import torch
    from safetensors.torch import load_file, save_file

    if len(paths) < 2:
        raise SystemExit("give two or more checkpoints to average")
    weights = weights or [1.0] * len(paths)
    if len(weights) != len(paths) or min(weights) < 0 or sum(weights) <= 0:
        raise SystemExit("--weights: one non-negative weight per checkpoint")
    configs = [json.loads((p / "config.json").read_text()) for p in paths]
    for p, c in zip(paths[1:], configs[1:], strict=True):
        if c.get("id2label") != configs[0].get("id2label"):
            raise SystemExit(f"{p} has other labels than {paths[0]}")
    states = [load_file(p / "model.safetensors") for p in paths]
    if any(s.keys() != states[0].keys() for s in states):
        raise SystemExit("the checkpoints have different tensors: not one architecture")
    total = sum(weights)
    mean = {}
    for name, first in states[0].items():
        if not first.is_floating_point():
            mean[name] = first
            continue
        # Started from float zeros, as sum() from 0 would, so that acc is a tensor.
        zero = torch.zeros_like(first, dtype=torch.float32)
        acc = sum((w * s[name].float() for w, s in zip(weights, states, strict=True)), zero)
        mean[name] = (acc / total).to(first.dtype).contiguous()
    output.mkdir(parents=True, exist_ok=True)
    save_file(mean, output / "model.safetensors", metadata={"format": "pt"})
    # The config and tokenizer only: thresholds and validation figures belong to the
    # input they were measured on, and are made anew for the average by models.calibrate.
    for f in paths[0].iterdir():
        if f.name == "config.json" or "token" in f.name or f.name.startswith("vocab"):
            shutil.copy2(f, output / f.name)
    (output / "averaged_from.json").write_text(
        json.dumps({"checkpoints": [str(p) for p in paths], "weights": weights}, indent=2)
    )


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("checkpoints", nargs="+", type=Path)
    ap.add_argument("--output", type=Path, required=True)
    ap.add_argument("--weights", type=float, nargs="+", help="one per checkpoint (default equal)")
    args = ap.parse_args(argv)
    average(args.checkpoints, args.output, args.weights)
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
