"""Benchmark the scorer: comments/second and peak memory, fp32 reference vs int8 fast paths.

    python bench/scorer.py [--model PATH] [--threads 1] [--comments 128] [--lengths 64 256]

Variants: `reference` (torch fp32), `torch-int8` (torch dynamic quantization) and
`onnx-int8` (ONNX Runtime, the default fast path; its export is made beforehand).
Each runs in its own subprocess so that its peak RSS (getrusage maxrss) is its
own; the delta is that peak minus the RSS before the model was loaded (the
variant's runtime already imported: torch for the torch variants, only
ONNX Runtime and tokenizers for onnx-int8, as in a serving worker). Variants
take turns, `--repeat` rounds, and each keeps its best round. All score the same
synthetic comments (a seeded generator over a small vocabulary below), cut to
about the requested number of tokens.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # runnable as `python bench/scorer.py`
    sys.path.insert(0, str(ROOT))

VARIANTS = ("reference", "torch-int8", "onnx-int8")

_VOCABULARY = (
    "the article about our town council meeting was really interesting and I think "
    "the mayor made a fair point on parking but the budget numbers still look odd to me "
    "maybe next year they will fix the bridge near the river before winter comes again "
    "thanks for writing this piece my neighbours and I read it over coffee this morning "
    "honestly I disagree with the second half because the bus routes changed twice already "
    "would love a follow up on the library hours and the new bike lanes downtown please"
)
_WORDS = _VOCABULARY.split()
_ENDINGS = (".", ".", ".", "!", "?")


def make_comments(n: int, words: int, seed: int = 7) -> list[str]:
    """Generate `n` reader-comment-like texts of about `words` words from our vocabulary."""
    rng = random.Random(seed)
    comments = []
    for _ in range(n):
        out: list[str] = []
        while len(out) < words:
            sentence = rng.sample(_WORDS, rng.randint(6, 14))
            sentence[0] = sentence[0].capitalize()
            sentence[-1] += rng.choice(_ENDINGS)
            out.extend(sentence)
        comments.append(" ".join(out[:words]))
    return comments


def fit_tokens(scorer: Any, n: int, tokens: int, seed: int = 7) -> list[str]:
    """Generate `n` comments whose tokenized length is about `tokens` (special tokens included)."""
    words = tokens
    for _ in range(8):
        probe = make_comments(16, words, seed)
        lengths = scorer.token_counts(probe)
        mean = sum(lengths) / len(lengths)
        if abs(mean - tokens) <= 2:
            break
        words = max(1, round(words * tokens / mean))
    return make_comments(n, words, seed)


def _rss_kib() -> int:
    """Return the current resident set size in KiB, read from /proc."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def worker(model: str, variant: str, threads: int, n: int, lengths: list[int], batch: int) -> dict:
    """Measure one variant in this process: throughput per length and peak memory."""
    from models import load_scorer

    if variant == "onnx-int8":
        import onnxruntime  # noqa: F401  the runtime, before the baseline
        import tokenizers  # noqa: F401
    else:
        import torch

        # Imported before the baseline, so that the delta is the model's and inference's.
        from transformers import AutoModelForSequenceClassification  # noqa: F401

        torch.set_num_threads(threads)
    engine = "onnxruntime" if variant == "onnx-int8" else "torch"
    before = _rss_kib()
    scorer = load_scorer(model, fast=variant != "reference", engine=engine, threads=threads)
    assert scorer.engine == engine and scorer.precision == (
        "fp32" if variant == "reference" else "int8"
    )
    scorer.batch_size = batch
    loaded = _rss_kib()
    result: dict = {
        "variant": variant,
        "model": scorer.name,
        "version": scorer.version,
        "precision": scorer.precision,
        "per_length": {},
    }
    for tokens in lengths:
        texts = fit_tokens(scorer, n, tokens)
        scorer.score(texts[:batch])  # warm up allocator and kernels
        start = time.perf_counter()
        scorer.score(texts)
        elapsed = time.perf_counter() - start
        counts = scorer.token_counts(texts)
        result["per_length"][str(tokens)] = {
            "comments_per_s": n / elapsed,
            "mean_tokens": sum(counts) / len(counts),
        }
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    result["peak_rss_mib"] = peak / 1024
    result["rss_delta_mib"] = (peak - before) / 1024
    result["loaded_delta_mib"] = (loaded - before) / 1024
    return result


def run_variant(args: argparse.Namespace, variant: str) -> dict:
    """Run one variant in a fresh Python process and return its measurements."""
    cmd = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--worker",
        variant,
        "--model",
        str(args.model),
        "--threads",
        str(args.threads),
        "--comments",
        str(args.comments),
        "--batch-size",
        str(args.batch_size),
        "--lengths",
        *map(str, args.lengths),
    ]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def best_of(rounds: list[dict]) -> dict:
    """One variant's best round: the highest throughput per length, the lowest memory."""
    best = dict(rounds[0])
    best["per_length"] = {
        k: max((r["per_length"][k] for r in rounds), key=lambda m: m["comments_per_s"])
        for k in rounds[0]["per_length"]
    }
    for key in ("peak_rss_mib", "rss_delta_mib", "loaded_delta_mib"):
        best[key] = min(r[key] for r in rounds)
    return best


def report(results: dict[str, dict], lengths: list[int]) -> str:
    """Format the measurements as a table with each fast path's ratio to the reference."""
    ref = results["reference"]
    fast = [v for v in VARIANTS if v != "reference" and v in results]
    lines = [
        f"model {ref['model']} ({ref['version']})",
        "",
        f"{'':24}{'reference fp32':>16}" + "".join(f"{v:>12}{'/ref':>7}" for v in fast),
    ]
    for tokens in lengths:
        r = ref["per_length"][str(tokens)]
        label = f"comments/s @{r['mean_tokens']:.0f} tok"
        a = r["comments_per_s"]
        row = f"{label:24}{a:16.1f}"
        for v in fast:
            b = results[v]["per_length"][str(tokens)]["comments_per_s"]
            row += f"{b:12.1f}{b / a:7.2f}"
        lines.append(row)
    for key, label in (
        ("peak_rss_mib", "peak RSS MiB"),
        ("rss_delta_mib", "peak RSS delta MiB"),
        ("loaded_delta_mib", "RSS delta after load"),
    ):
        a = ref[key]
        row = f"{label:24}{a:16.0f}"
        for v in fast:
            b = results[v][key]
            row += f"{b:12.0f}{b / a:7.2f}"
        lines.append(row)
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    """Benchmark both variants, or (with --worker) measure one and print JSON."""
    from models import DEFAULT_MODEL_PATH

    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--model", type=Path, default=DEFAULT_MODEL_PATH)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--comments", type=int, default=128, help="comments per length")
    ap.add_argument("--lengths", type=int, nargs="+", default=[64, 256], help="tokens per comment")
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--repeat", type=int, default=2, help="rounds; each variant keeps its best")
    ap.add_argument("--json", action="store_true", help="print the raw measurements as JSON")
    ap.add_argument("--worker", choices=VARIANTS, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    if args.worker:
        print(
            json.dumps(
                worker(
                    str(args.model),
                    args.worker,
                    args.threads,
                    args.comments,
                    args.lengths,
                    args.batch_size,
                )
            )
        )
        return
    from models import onnx

    onnx.ensure_export(args.model)  # made once, outside the measurement
    rounds: dict[str, list[dict]] = {v: [] for v in VARIANTS}
    for _ in range(max(1, args.repeat)):
        for v in VARIANTS:
            rounds[v].append(run_variant(args, v))
    results = {v: best_of(r) for v, r in rounds.items()}
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        print(
            f"threads {args.threads}, {args.comments} comments per length, "
            f"batch size {args.batch_size}, best of {max(1, args.repeat)} rounds"
        )
        print(report(results, args.lengths))


if __name__ == "__main__":
    main()
