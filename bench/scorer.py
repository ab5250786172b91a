"""Benchmark the scorer: comments/second and peak memory, fp32 reference vs int8 fast path.

    python bench/scorer.py [--model PATH] [--threads 1] [--comments 128] [--lengths 64 256]

Each variant runs in its own subprocess so that its peak RSS (getrusage maxrss) is
its own; the peak RSS delta is that peak minus the RSS before the model was loaded
(torch and transformers already imported), and the delta after load is the RSS
right after loading, before any inference, minus the same baseline. All
variants score the same synthetic comments (a seeded generator over a small
vocabulary below), cut to about the requested number of tokens.
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

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # runnable as `python bench/scorer.py`
    sys.path.insert(0, str(ROOT))

VARIANTS = ("reference", "fast")

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


def fit_tokens(tokenizer: object, n: int, tokens: int, seed: int = 7) -> list[str]:
    """Generate `n` comments whose tokenized length is about `tokens` (special tokens included)."""
    words = tokens
    for _ in range(8):
        probe = make_comments(16, words, seed)
        lengths = [len(ids) for ids in tokenizer(probe)["input_ids"]]  # type: ignore[operator]
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
    import torch

    # Imported before the baseline, so that the delta is the model's and inference's memory.
    from transformers import AutoModelForSequenceClassification, AutoTokenizer  # noqa: F401

    from models import load_scorer

    torch.set_num_threads(threads)
    before = _rss_kib()
    scorer = load_scorer(model, fast=variant == "fast", threads=threads)
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
        texts = fit_tokens(scorer.tokenizer, n, tokens)
        scorer.score(texts[:batch])  # warm up allocator and kernels
        start = time.perf_counter()
        scorer.score(texts)
        elapsed = time.perf_counter() - start
        mean_tokens = sum(len(x) for x in scorer.tokenizer(texts)["input_ids"]) / len(texts)
        result["per_length"][str(tokens)] = {
            "comments_per_s": n / elapsed,
            "mean_tokens": mean_tokens,
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


def report(results: dict[str, dict], lengths: list[int]) -> str:
    """Format the measurements as a table with the fast/reference ratio."""
    ref, fast = results["reference"], results["fast"]
    lines = [
        f"model {ref['model']} ({ref['version']})",
        "",
        f"{'':24}{'reference fp32':>16}{'fast int8':>14}{'fast/ref':>10}",
    ]
    for tokens in lengths:
        r, f = ref["per_length"][str(tokens)], fast["per_length"][str(tokens)]
        label = f"comments/s @{r['mean_tokens']:.0f} tok"
        a, b = r["comments_per_s"], f["comments_per_s"]
        lines.append(f"{label:24}{a:16.1f}{b:14.1f}{b / a:10.2f}")
    for key, label in (
        ("peak_rss_mib", "peak RSS MiB"),
        ("rss_delta_mib", "peak RSS delta MiB"),
        ("loaded_delta_mib", "RSS delta after load"),
    ):
        a, b = ref[key], fast[key]
        lines.append(f"{label:24}{a:16.0f}{b:14.0f}{b / a:10.2f}")
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
    results = {v: run_variant(args, v) for v in VARIANTS}
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        print(
            f"threads {args.threads}, {args.comments} comments per length, "
            f"batch size {args.batch_size}"
        )
        print(report(results, args.lengths))


if __name__ == "__main__":
    main()
