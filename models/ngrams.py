"""A character and word n-gram head beside a transformer: numpy only, the same code in training and serving.

Word n-grams are strong exactly where a small transformer is weak: tweets and
hate-speech sets whose signal is a handful of words, and the two err differently
(measured on the validation split: `models.multilingual_evaluate`, `models.compare`).
The head is one logistic regression per category over hashed, sublinear TF-IDF
features, L2-normalised per block:

- characters: 2- to 5-grams inside each word padded with a space on each side
  (scikit-learn's `char_wb`), lower-cased;
- words: unigrams and bigrams of `\\w+` tokens, lower-cased.

Each n-gram goes to one of `2**bits` buckets of its block by CRC-32 of its UTF-8
bytes, so nothing but arrays per block is stored: the inverse document frequency
of each bucket (0 for buckets seen in fewer than two training texts) and each
category's logistic coefficient. `NgramHead.probability(texts)` is the head's
probability per text and category; `blend` mixes it into a transformer's scores.

    python -m models.ngrams ../shared/data --output models/multilingual-toxicity/ngrams.npz

trains the multilingual head (toxicity only) on the training split of the sources in
`../shared/data/multilingual` (seed 13, 10 % held out, as `models.train`), pooled
over the five languages;

    python -m models.ngrams ../shared/data --english --counterfactual 1 --authored \\
        --output models/minilm-toxicity/ngrams.npz

the English one, a regression per category on the English training split with the
same counterfactual copies and written sets as `models.train`.
"""

from __future__ import annotations

import argparse
import functools
import itertools
import re
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

HEAD_FILE = "ngrams.npz"  # inside a checkpoint folder: served beside its transformer
DEFAULT_BITS = 18
DEFAULT_WEIGHT = 0.5  # the head's share of each blended score (the multilingual head)
ENGLISH_WEIGHT = 0.2  # the English heads' share (measured: models/minilm-toxicity/README.md)
MIN_DF = 2
CHAR_SIZES = (2, 3, 4, 5)
_WORD = re.compile(r"\w+")
_SPACE = re.compile(r"\s+")


def char_grams(text: str) -> list[str]:
    """Character 2- to 5-grams within each space-padded, lower-cased word."""
    out: list[str] = []
    for word in _SPACE.split(text.lower()):
        if not word:
            continue
        padded = f" {word} "
        for n in CHAR_SIZES:
            if len(padded) < n:
                break
            out.extend(padded[i : i + n] for i in range(len(padded) - n + 1))
    return out


def word_grams(text: str) -> list[str]:
    """Word unigrams and bigrams of the lower-cased text."""
    words = _WORD.findall(text.lower())
    return words + [f"{a} {b}" for a, b in itertools.pairwise(words)]


def buckets(grams: Iterable[str], bits: int) -> dict[int, int]:
    """Count the n-grams per hash bucket."""
    mask = (1 << bits) - 1
    counts: dict[int, int] = {}
    for gram in grams:
        b = zlib.crc32(gram.encode("utf-8", "surrogatepass")) & mask
        counts[b] = counts.get(b, 0) + 1
    return counts


BLOCKS = (char_grams, word_grams)

Counts = tuple[np.ndarray, np.ndarray]  # bucket ids (sorted) and how many n-grams fell in each


def char_counts(text: str, bits: int) -> Counts:
    """`buckets(char_grams(text), bits)` as arrays, from each word's buckets.

    A word's character n-grams are the same wherever it stands, and the same words
    come back comment after comment, so each word's bucket ids are hashed once
    (`_word_char_ids`, an LRU cache) and the text's are counted in numpy.
    """
    words = [w for w in _SPACE.split(text.lower()) if w]
    if not words:
        return _NO_COUNTS
    ids = np.frombuffer(b"".join([_word_char_ids(w, bits) for w in words]), dtype=np.uint32)
    found, counts = np.unique(ids, return_counts=True)
    return found.astype(np.int64), counts


# ~420 bytes a word (its bucket ids packed as uint32): ~1.7 MB when full. 4,096 words
# win nearly what 16,384 do (bench.ngram_head on 18,000 distinct words: 1.44-1.48x
# against 1.56-1.68x the head's speed before); the rest are hashed on each use.
@functools.lru_cache(maxsize=1 << 12)
def _word_char_ids(word: str, bits: int) -> bytes:
    mask = (1 << bits) - 1
    padded = f" {word} "
    return np.fromiter(
        (
            zlib.crc32(padded[i : i + n].encode("utf-8", "surrogatepass")) & mask
            for n in CHAR_SIZES
            for i in range(len(padded) - n + 1)
        ),
        dtype=np.uint32,
    ).tobytes()


def word_counts(text: str, bits: int) -> Counts:
    """`buckets(word_grams(text), bits)` as arrays."""
    counts = buckets(word_grams(text), bits)
    if not counts:
        return _NO_COUNTS
    ids = np.fromiter(counts, dtype=np.int64, count=len(counts))
    return ids, np.fromiter(counts.values(), dtype=np.int64, count=len(counts))


_NO_COUNTS: Counts = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64))
# What serving and training count, block by block (the same n-grams as BLOCKS).
BLOCK_COUNTS = (char_counts, word_counts)


@dataclass(frozen=True)
class NgramHead:
    """Per block the idf of each bucket; per category a coefficient per bucket and an intercept."""

    bits: int
    # float16 as saved (`load` keeps them so: half the memory, the same values), float32
    # as fitted; the arithmetic is float64 either way.
    idf: tuple[np.ndarray, ...]  # one array of 2**bits per block
    coef: tuple[np.ndarray, ...]  # one (categories x 2**bits) array per block
    intercept: np.ndarray  # float64, one per category
    categories: tuple[str, ...] = ("toxicity",)
    weight: float = DEFAULT_WEIGHT

    def logits(self, texts: Sequence[str]) -> np.ndarray:
        """The head's logit for each text (rows) and category (columns)."""
        out = np.tile(self.intercept, (len(texts), 1))
        for i, text in enumerate(texts):
            for block, idf, coef in zip(BLOCK_COUNTS, self.idf, self.coef, strict=True):
                idx, counts = block(text, self.bits)
                if not len(idx):
                    continue
                tf = 1.0 + np.log(counts)
                x = tf * idf[idx]
                norm = float(np.sqrt(x @ x))
                if norm > 0:
                    out[i] += coef[:, idx] @ x / norm
        return out

    def probability(self, texts: Sequence[str]) -> np.ndarray:
        """The head's probability for each text (rows) and category (columns)."""
        return 1.0 / (1.0 + np.exp(-self.logits(texts)))

    def mix(self, transformer: Any, head: Any) -> Any:
        """A served score: (1 - weight) · the transformer's + weight · the head's (floats or arrays)."""
        return (1 - self.weight) * transformer + self.weight * head

    def blend(
        self, texts: Sequence[str], scores: Sequence[Mapping[str, float]]
    ) -> list[dict[str, float]]:
        """The scores with each of the head's categories mixed (`mix`)."""
        out = []
        for row, q in zip(scores, self.probability(texts), strict=True):
            mixed = dict(row)
            for category, head in zip(self.categories, q, strict=True):
                if category in mixed:
                    mixed[category] = self.mix(mixed[category], float(head))
            out.append(mixed)
        return out

    def blend_columns(
        self, scores: np.ndarray, columns: Sequence[str], probability: np.ndarray
    ) -> np.ndarray:
        """`blend` for a matrix of scores (a row per text, a column per name in `columns`),
        given the head's `probability` for the same texts: a new matrix."""
        out = np.array(scores, dtype=np.float64)
        for j, category in enumerate(self.categories):
            if category in columns:
                k = list(columns).index(category)
                out[:, k] = self.mix(out[:, k], probability[:, j])
        return out

    def save(self, path: Path) -> None:
        """Write the head as a compressed npz (idf as float16, coefficients as float16)."""
        arrays: dict[str, np.ndarray] = {
            "bits": np.array(self.bits),
            "intercept": np.asarray(self.intercept),
            "categories": np.array(self.categories),
            "weight": np.array(self.weight),
        }
        for k, (idf, coef) in enumerate(zip(self.idf, self.coef, strict=True)):
            arrays[f"idf{k}"] = idf.astype(np.float16)
            arrays[f"coef{k}"] = coef.astype(np.float16)
        with path.open("wb") as fh:
            np.savez_compressed(fh, **arrays)  # type: ignore[arg-type]

    @classmethod
    def load(cls, path: Path) -> NgramHead:
        """Read a head written by `save` (one written before heads had categories is toxicity's)."""
        with np.load(path) as f:
            n, size = len(BLOCKS), 1 << int(f["bits"])
            categories = (
                tuple(str(c) for c in f["categories"]) if "categories" in f else ("toxicity",)
            )
            return cls(
                bits=int(f["bits"]),
                idf=tuple(f[f"idf{k}"].astype(np.float16) for k in range(n)),
                coef=tuple(f[f"coef{k}"].astype(np.float16).reshape(-1, size) for k in range(n)),
                intercept=np.atleast_1d(f["intercept"]).astype(np.float64),
                categories=categories,
                weight=float(f["weight"]),
            )


def find(checkpoint: Path) -> NgramHead | None:
    """The head stored in a checkpoint folder, if it has one."""
    path = Path(checkpoint) / HEAD_FILE
    return NgramHead.load(path) if path.is_file() else None


# -- training (scikit-learn and scipy: the model tools, not the serving image) ----------------


def features(texts: Sequence[str], bits: int) -> list[object]:
    """Each block's raw term counts, a sparse (texts x 2**bits) matrix per block."""
    from scipy.sparse import csr_matrix

    out: list[object] = []
    for block in BLOCK_COUNTS:
        counted = [block(text, bits) for text in texts]
        rows = np.repeat(np.arange(len(texts)), [len(ids) for ids, _ in counted])
        cols = np.concatenate([ids for ids, _ in counted] + [_NO_COUNTS[0]])
        vals = np.concatenate([c for _, c in counted] + [_NO_COUNTS[1]]).astype(np.float64)
        out.append(csr_matrix((vals, (rows, cols)), shape=(len(texts), 1 << bits)))
    return out


def fit(
    texts: Sequence[str],
    labels: np.ndarray,
    categories: Sequence[str] = ("toxicity",),
    *,
    bits: int = DEFAULT_BITS,
    c: float = 4.0,
    weight: float = DEFAULT_WEIGHT,
    seed: int = 13,
) -> NgramHead:
    """Train the head: smoothed idf over all `texts` (buckets in fewer than MIN_DF dropped), then
    one liblinear logistic regression per category on the rows that label it.

    `labels`: one column per category (a vector for one), NaN where a row says nothing. A
    category whose labelled rows are all of one class is left out of the head: the
    transformer's score for it stands alone.
    """
    from scipy.sparse import diags, hstack
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import normalize

    y = np.asarray(labels, dtype=np.float64).reshape(len(texts), -1)
    if y.shape[1] != len(categories):
        raise ValueError(f"{y.shape[1]} label columns for {len(categories)} categories")
    idfs: list[np.ndarray] = []
    blocks = []
    for counts in features(texts, bits):
        df = np.bincount(counts.indices, minlength=1 << bits)  # type: ignore[attr-defined]
        idf = np.where(df >= MIN_DF, np.log((1 + len(texts)) / (1 + df)) + 1, 0.0)
        # Round as it is stored, so training sees the served weights.
        idf = idf.astype(np.float16).astype(np.float32)
        tf = counts.copy()  # type: ignore[attr-defined]
        tf.data = 1.0 + np.log(tf.data)
        blocks.append(normalize(tf @ diags(idf)))
        idfs.append(idf)
    x = hstack(blocks).tocsr()
    coefs, intercepts, learned = [], [], []
    for k, category in enumerate(categories):
        known = ~np.isnan(y[:, k])
        if len(np.unique(y[known, k])) < 2:
            continue
        learned.append(category)
        model = LogisticRegression(C=c, solver="liblinear", max_iter=1000, random_state=seed)
        model.fit(x[known], y[known, k].astype(int))
        coefs.append(model.coef_[0].astype(np.float32))
        intercepts.append(float(model.intercept_[0]))
    if not learned:
        raise ValueError("no category has both classes among its labelled rows")
    coef = np.stack(coefs)
    size = 1 << bits
    return NgramHead(
        bits=bits,
        idf=tuple(idfs),
        coef=tuple(coef[:, k * size : (k + 1) * size] for k in range(len(BLOCKS))),
        intercept=np.array(intercepts),
        categories=tuple(learned),
        weight=weight,
    )


def main(argv: list[str] | None = None) -> None:
    from models.data import LANGUAGES, load_sources, split
    from models.labels import CATEGORIES
    from models.multilingual_baseline import _labelled, data_folder
    from models.train import with_fairness_data

    ap = argparse.ArgumentParser(
        prog="python -m models.ngrams",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument("data", type=Path, help="../shared/data (with its multilingual/ folder)")
    ap.add_argument("--output", type=Path, required=True, help="the npz to write")
    ap.add_argument(
        "--english",
        action="store_true",
        help="the English sources instead, one head per category (each on the rows that label it)",
    )
    ap.add_argument(
        "--counterfactual",
        type=int,
        default=0,
        help="with --english: N copies of each identity or name mention, swapped (as models.train)",
    )
    ap.add_argument(
        "--authored",
        action="store_true",
        help="with --english: add the training half of our written sets (as models.train)",
    )
    ap.add_argument("--bits", type=int, default=DEFAULT_BITS)
    ap.add_argument(
        "--weight",
        type=float,
        help=f"the head's share of each served score (default {DEFAULT_WEIGHT}; "
        f"{ENGLISH_WEIGHT} with --english)",
    )
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--val-fraction", type=float, default=0.1)
    args = ap.parse_args(argv)

    if args.english:
        train, _ = split(load_sources([args.data]), args.val_fraction, args.seed)
        train = with_fairness_data(train, args.counterfactual, args.authored, args.seed)
        texts = [t for s in train for t in s.texts]
        labels = np.concatenate([s.labels for s in train])
        categories: Sequence[str] = CATEGORIES
        weight = ENGLISH_WEIGHT if args.weight is None else args.weight
    else:
        train, _ = split(load_sources([data_folder(args.data)]), args.val_fraction, args.seed)
        texts, labels = _labelled([s for s in train if s.language in LANGUAGES])
        categories = ("toxicity",)
        weight = DEFAULT_WEIGHT if args.weight is None else args.weight
    head = fit(texts, labels, categories, bits=args.bits, weight=weight, seed=args.seed)
    head.save(args.output)
    print(f"{args.output}: {len(texts)} training texts, {args.output.stat().st_size:,} bytes")


if __name__ == "__main__":
    main()
