"""The n-gram head's cost per comment: hashing every n-gram against counting cached words.

    python -m bench.ngram_head [--data ../shared/data] [--comments 3000] [--rounds 3]

`models.ngrams` serves the head in Python on the request thread, for every text the
service scores. Its character block was `buckets(char_grams(text))`: every 2-5-gram
of every word sliced, encoded and CRC-32-hashed each time. It is now
`char_counts(text)`: each word's bucket ids come from an LRU cache (4,096 words)
and are counted in numpy. Both give the same counts (tests/models/test_ngrams.py);
this times them side by side, in one process, alternating rounds, on:

- comments from the English sources' files under `--data` when given (real
  readers' vocabulary, a few thousand distinct words per thousand comments), else
  `bench.corpus` (our synthetic comments: a small vocabulary, so nearly every word
  is a cache hit: the best case);
- the cache cold (emptied before each round: every word hashed once, then reused
  within the round) and warm (left from the round before: the steady state of a
  worker that has seen comments like these).

Prints milliseconds per comment for the whole head (`NgramHead.logits`, both blocks
and the numpy) and for the character block alone, and the ratios.
"""

from __future__ import annotations

import argparse
import csv
import random
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from models import DEFAULT_MODEL_PATH, ngrams

# The English sources' text columns (../shared/data/README.md): whichever a file has.
TEXT_COLUMNS = ("comment_text", "text", "tweet", "Comment")


def real_comments(data: Path, n: int, seed: int = 7) -> list[str]:
    """Up to n comments drawn evenly from the English csv/tsv files directly under `data`."""
    per_file: list[list[str]] = []
    for path in sorted([*data.glob("*.csv"), *data.glob("*.tsv")]):
        with path.open(newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh, delimiter="\t" if path.suffix == ".tsv" else ",")
            column = next((c for c in TEXT_COLUMNS if c in (reader.fieldnames or [])), None)
            if column is not None:
                per_file.append([row[column] for row in reader if row[column]])
    rng = random.Random(seed)
    out = [text for texts in per_file for text in rng.sample(texts, min(len(texts), n))]
    rng.shuffle(out)
    return out[:n]


def legacy_logits(head: ngrams.NgramHead, texts: list[str]) -> np.ndarray:
    """`NgramHead.logits` as it was served before: every n-gram hashed on every call."""
    out = np.tile(head.intercept, (len(texts), 1))
    for i, text in enumerate(texts):
        for grams, idf, coef in zip(ngrams.BLOCKS, head.idf, head.coef, strict=True):
            counts = ngrams.buckets(grams(text), head.bits)
            if not counts:
                continue
            idx = np.fromiter(counts, dtype=np.int64, count=len(counts))
            tf = 1.0 + np.log(np.fromiter(counts.values(), dtype=np.float64, count=len(idx)))
            x = tf * idf[idx]
            norm = float(np.sqrt(x @ x))
            if norm > 0:
                out[i] += coef[:, idx] @ x / norm
    return out


def per_comment_ms(run: Callable[[], object], n: int) -> float:
    start = time.perf_counter()
    run()
    return (time.perf_counter() - start) / n * 1e3


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, help="the shared data folder (English files at its top)")
    ap.add_argument("--comments", type=int, default=3000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--model", type=Path, default=DEFAULT_MODEL_PATH)
    args = ap.parse_args(argv)

    head = ngrams.find(args.model)
    if head is None:
        raise SystemExit(f"{args.model} has no {ngrams.HEAD_FILE}")
    if args.data:
        texts, source = real_comments(args.data, args.comments), f"{args.data} (English files)"
    else:
        from bench.corpus import corpus

        texts, source = corpus(args.comments), "bench.corpus (synthetic)"
    assert np.allclose(legacy_logits(head, texts[:200]), head.logits(texts[:200]), atol=1e-9)
    n = len(texts)
    words = {w for t in texts for w in t.lower().split()}
    print(
        f"{n} comments from {source}, mean {sum(map(len, texts)) / n:.0f} characters, "
        f"{len(words):,} distinct words; best of {args.rounds} rounds, ms per comment"
    )

    def cold(run: Callable[[], object]) -> Callable[[], object]:
        def go() -> object:
            ngrams._word_char_ids.cache_clear()
            return run()

        return go

    timings: dict[str, list[float]] = {}
    variants: dict[str, Callable[[], object]] = {
        "head, every n-gram hashed (before)": lambda: legacy_logits(head, texts),
        "head, word cache cold": cold(lambda: head.logits(texts)),
        "head, word cache warm": lambda: head.logits(texts),
        "characters, every n-gram hashed (before)": lambda: [
            ngrams.buckets(ngrams.char_grams(t), head.bits) for t in texts
        ],
        "characters, word cache cold": cold(
            lambda: [ngrams.char_counts(t, head.bits) for t in texts]
        ),
        "characters, word cache warm": lambda: [ngrams.char_counts(t, head.bits) for t in texts],
    }
    for _ in range(args.rounds):
        for name, run in variants.items():
            timings.setdefault(name, []).append(per_comment_ms(run, n))
    best = {name: min(t) for name, t in timings.items()}
    for name, ms in best.items():
        block = name.split(",")[0]
        before = best[f"{block}, every n-gram hashed (before)"]
        print(f"{name:<44} {ms:7.3f} ms   {before / ms:5.2f}x")
    info = ngrams._word_char_ids.cache_info()
    print(
        f"word cache after the warm rounds: {info.currsize:,} words, {info.hits:,} hits, {info.misses:,} misses"
    )


if __name__ == "__main__":
    main()
