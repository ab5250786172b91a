"""The classical floor for the languages beyond English: TF-IDF n-grams + logistic regression.

    python -m models.multilingual_baseline ../shared/data [--seed 13] [--val-fraction 0.1]

For each language (German, Spanish, Italian, Portuguese, French) one model is
trained on the training split of that language's sources in
`../shared/data/multilingual` (character 2-5-grams within word boundaries and
word 1-2-grams, sublinear TF-IDF, L2-regularised logistic regression), and its
toxicity probability is scored on each source's validation split: the same
held-out rows as `models.data` / `models.train` with the same seed and fraction.

What is measured is each source's own label (the file's `label`): toxicity
where the source says it, and hate speech for HatEval and HaSpeeDe, whose
non-hateful tweets may still be rude (their toxicity is unknown, see
`models.data`). A transformer scorer for these languages has to beat this
table, source by source.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from models.data import LANGUAGES, Source, load_sources, split
from models.labels import CATEGORIES

if TYPE_CHECKING:
    from sklearn.pipeline import Pipeline

TOXICITY = CATEGORIES.index("toxicity")


def source_label(labels: np.ndarray) -> np.ndarray:
    """Each row's label as its source gave it: toxicity, else any known category.

    A hate-speech source knows a non-hateful row only as "not an identity attack":
    that is its 0. NaN where the row says nothing at all.
    """
    tox = labels[:, TOXICITY]
    known = ~np.isnan(labels)
    any_known = known.any(axis=1)
    any_positive = np.where(known, labels, 0.0).max(axis=1)
    fallback = np.where(any_known, any_positive, np.nan)
    return np.where(np.isnan(tox), fallback, tox)


@dataclass(frozen=True)
class Row:
    """One line of the table: a source's validation split scored by its language's model."""

    language: str
    source: str
    train_rows: int
    val_rows: int
    positive_share: float
    roc_auc: float


def make_model(seed: int = 13) -> Pipeline:
    """Character + word n-gram TF-IDF and a logistic regression."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import FeatureUnion, Pipeline

    features = FeatureUnion(
        [
            (
                "chars",
                TfidfVectorizer(
                    analyzer="char_wb",
                    ngram_range=(2, 5),
                    min_df=2,
                    sublinear_tf=True,
                    lowercase=True,
                    max_features=300_000,
                ),
            ),
            (
                "words",
                TfidfVectorizer(
                    analyzer="word",
                    ngram_range=(1, 2),
                    min_df=2,
                    sublinear_tf=True,
                    lowercase=True,
                    token_pattern=r"(?u)\b\w+\b",
                ),
            ),
        ]
    )
    classifier = LogisticRegression(C=4.0, solver="liblinear", max_iter=1000, random_state=seed)
    return Pipeline([("features", features), ("classifier", classifier)])


def _labelled(sources: Sequence[Source]) -> tuple[list[str], np.ndarray]:
    texts: list[str] = []
    ys: list[np.ndarray] = []
    for s in sources:
        y = source_label(s.labels)
        keep = ~np.isnan(y)
        texts.extend(t for t, k in zip(s.texts, keep, strict=True) if k)
        ys.append(y[keep])
    return texts, np.concatenate(ys) if ys else np.zeros(0)


def floor(sources: list[Source], val_fraction: float = 0.1, seed: int = 13) -> list[Row]:
    """Train one model per language on its training split; score each source's validation split."""
    from sklearn.metrics import roc_auc_score

    train, val = split(sources, val_fraction, seed)
    rows: list[Row] = []
    for language in LANGUAGES:
        tr = [s for s in train if s.language == language]
        if not tr:
            continue
        texts, y = _labelled(tr)
        model = make_model(seed).fit(texts, y.astype(int))
        for t, v in zip(tr, (s for s in val if s.language == language), strict=True):
            vt, vy = _labelled([v])
            p = model.predict_proba(vt)[:, 1]
            auc = float(roc_auc_score(vy, p)) if 0 < vy.sum() < len(vy) else math.nan
            n_train = int((~np.isnan(source_label(t.labels))).sum())
            rows.append(Row(language, v.name, n_train, len(vy), float(vy.mean()), auc))
    return rows


def table(rows: list[Row]) -> str:
    """The rows as a Markdown table."""
    lines = [
        "| language | source | train rows | validation rows | share 1 | toxicity ROC-AUC |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r.language} | {r.source} | {r.train_rows} | {r.val_rows} | "
            f"{r.positive_share:.2f} | {r.roc_auc:.3f} |"
        )
    return "\n".join(lines)


def data_folder(path: Path) -> Path:
    """The multilingual folder: `path` itself, or its `multilingual/` subfolder."""
    sub = path / "multilingual"
    return sub if sub.is_dir() else path


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(
        prog="python -m models.multilingual_baseline",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument("data", type=Path, help="../shared/data (or its multilingual/ folder)")
    ap.add_argument("--seed", type=int, default=13, help="the split seed (as models.train's)")
    ap.add_argument("--val-fraction", type=float, default=0.1)
    args = ap.parse_args(argv)
    sources = [s for s in load_sources([data_folder(args.data)]) if s.language in LANGUAGES]
    if not sources:
        raise SystemExit(f"no German, Spanish, Italian, Portuguese or French source in {args.data}")
    print(table(floor(sources, args.val_fraction, args.seed)))


if __name__ == "__main__":
    main()
