"""Compare two checkpoints on our validation split, with paired bootstrap intervals.

    python -m models.compare ../shared/data --base models/minilm-toxicity --candidate runs/x/best

Scores the validation split that `models.train` holds out (same seed and fraction)
with both checkpoints, as the service scores (long text in windows, fp32), and
prints per source and category: both ROC-AUCs, the difference and its 95 %
interval from a paired bootstrap (the same resampled rows for both models,
resampled within each source), then the pooled figure (the mean over every
cell) with its interval. A candidate is worse in a cell "beyond its interval"
when the whole interval of the difference lies below zero.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy.stats import rankdata

from models.data import Source, load_sources, split
from models.labels import CATEGORIES


def roc_auc(y: np.ndarray, p: np.ndarray) -> float:
    """ROC-AUC from ranks (ties averaged), as sklearn computes it."""
    pos = y == 1
    n_pos, n_neg = int(pos.sum()), int((~pos).sum())
    ranks = rankdata(p)
    return float((ranks[pos].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


@dataclass(frozen=True)
class Cell:
    """One source and category with both classes labelled: where its rows are in the pool."""

    source: int
    category: str
    start: int  # the source's first row in the pooled score matrix
    known: np.ndarray  # per row of the source: is this category labelled
    labels: np.ndarray  # per row of the source: the label (NaN where unknown)

    def rows(self, local: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Pooled row indices and labels of the labelled rows among `local` (source rows)."""
        chosen = local[self.known[local]]
        return self.start + chosen, self.labels[chosen]


def cells(val: list[Source]) -> list[Cell]:
    """Every labelled cell of the validation split, in source then category order."""
    out, start = [], 0
    for n, s in enumerate(val):
        for c, cat in enumerate(CATEGORIES):
            known = ~np.isnan(s.labels[:, c])
            y = s.labels[known, c]
            if known.sum() and 0 < y.sum() < len(y):
                out.append(Cell(n, cat, start, known, s.labels[:, c]))
        start += len(s.texts)
    return out


def compare(
    val: list[Source], base: np.ndarray, candidate: np.ndarray, rounds: int, seed: int
) -> dict[str, object]:
    """Per-cell and pooled ROC-AUC of both score matrices, with paired bootstrap intervals."""
    rng = np.random.default_rng(seed)
    table = cells(val)
    diffs = np.zeros((rounds, len(table)))
    for r in range(rounds):
        # One resample of each source's rows per round, shared by every cell of that source
        # and by both models (paired).
        picks = [rng.integers(0, len(s.texts), len(s.texts)) for s in val]
        for k, cell in enumerate(table):
            c = CATEGORIES.index(cell.category)
            idx, y = cell.rows(picks[cell.source])
            if 0 < y.sum() < len(y):
                diffs[r, k] = roc_auc(y, candidate[idx, c]) - roc_auc(y, base[idx, c])
    rows_out = []
    for k, cell in enumerate(table):
        c = CATEGORIES.index(cell.category)
        idx, y = cell.rows(np.arange(len(val[cell.source].texts)))
        a, b = roc_auc(y, base[idx, c]), roc_auc(y, candidate[idx, c])
        lo, hi = np.quantile(diffs[:, k], [0.025, 0.975])
        rows_out.append(
            {
                "source": val[cell.source].name,
                "category": cell.category,
                "base": round(a, 4),
                "candidate": round(b, 4),
                "difference": round(b - a, 4),
                "interval": [round(float(lo), 4), round(float(hi), 4)],
                "worse_beyond_interval": bool(hi < 0),
            }
        )
    pooled = diffs.mean(axis=1)
    lo, hi = np.quantile(pooled, [0.025, 0.975])
    return {
        "cells": rows_out,
        "pooled": {
            "base": round(float(np.mean([r["base"] for r in rows_out])), 4),
            "candidate": round(float(np.mean([r["candidate"] for r in rows_out])), 4),
            "difference": round(float(np.mean([r["difference"] for r in rows_out])), 4),
            "interval": [round(float(lo), 4), round(float(hi), 4)],
        },
        "bootstrap_rounds": rounds,
    }


def format_comparison(result: dict) -> str:
    """Markdown table of a `compare` result."""
    lines = [
        "| source | category | base | candidate | difference (95% interval) |",
        "|---|---|---|---|---|",
    ]
    for r in result["cells"]:
        lo, hi = r["interval"]
        mark = " **worse**" if r["worse_beyond_interval"] else ""
        lines.append(
            f"| {r['source']} | {r['category']} | {r['base']:.3f} | {r['candidate']:.3f} | "
            f"{r['difference']:+.3f} ({lo:+.3f} to {hi:+.3f}){mark} |"
        )
    p = result["pooled"]
    lines.append(
        f"| pooled (mean of cells) | | {p['base']:.4f} | {p['candidate']:.4f} | "
        f"{p['difference']:+.4f} ({p['interval'][0]:+.4f} to {p['interval'][1]:+.4f}) |"
    )
    return "\n".join(lines)


def validation_scores(
    scorer: Any, texts: list[str], cache: Path | None, split_key: str
) -> np.ndarray:
    """The scorer's (rows x 6) scores of the validation texts, kept in `cache` by weights version."""
    cached = cache / f"{scorer.version}-{split_key}.npy" if cache else None
    if cached is not None and cached.exists():
        return np.load(cached)
    scores = np.array([[r[c] for c in CATEGORIES] for r in scorer.score(texts)])
    if cached is not None:
        cached.parent.mkdir(parents=True, exist_ok=True)
        np.save(cached, scores)
    return scores


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(
        prog="python -m models.compare",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument("data", nargs="+", type=Path)
    ap.add_argument("--base", type=Path, required=True)
    ap.add_argument("--candidate", type=Path, required=True)
    ap.add_argument("--seed", type=int, default=13, help="the training runs' (split) seed")
    ap.add_argument("--val-fraction", type=float, default=0.1)
    ap.add_argument("--bootstrap", type=int, default=1000)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--json", type=Path, help="also write the comparison here")
    ap.add_argument(
        "--cache",
        type=Path,
        help="keep each checkpoint's validation scores here (by weights version), to compare "
        "several candidates against one base without scoring it again",
    )
    args = ap.parse_args(argv)
    from models import load_scorer

    _, val = split(load_sources(args.data), args.val_fraction, args.seed)
    texts = [t for s in val for t in s.texts]
    scores = [
        validation_scores(
            load_scorer(path, fast=False, threads=args.threads),
            texts,
            args.cache,
            f"seed{args.seed}-{args.val_fraction}",
        )
        for path in (args.base, args.candidate)
    ]
    result = compare(val, scores[0], scores[1], args.bootstrap, args.seed)
    result["base_model"], result["candidate_model"] = str(args.base), str(args.candidate)
    print(format_comparison(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
