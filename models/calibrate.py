"""Choose default hold thresholds from validation data, so that few benign comments are held.

    python -m models.calibrate ../shared/data --model models/minilm-toxicity [--false-hold 0.02]

Rebuilds the validation split exactly as `models.train` made it (same seed and
fraction), scores it, and for each category picks the lowest threshold at which
at most `--false-hold` of the comments labelled negative for that category
would be held. Writes `thresholds.json` into the checkpoint folder, where the
service reads its default policy, with the resulting rates recorded beside them,
and `validation.json`: ROC-AUC per source and category as the service scores
(long text in windows), beside alt-profanity-check's on the same rows.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np

from models.compare import validation_scores
from models.data import Source, load_sources
from models.labels import CATEGORIES
from models.train import auc_row, format_table, peer_table, split


def auc_table(val: list[Source], scores: np.ndarray) -> dict[str, dict[str, float]]:
    """ROC-AUC per source and category, for scores of all validation rows in source order."""
    table, start = {}, 0
    for s in val:
        table[s.name] = auc_row(s, scores[start : start + len(s.texts)])
        start += len(s.texts)
    return table


def calibrate(scores: np.ndarray, labels: np.ndarray, false_hold: float) -> dict[str, Any]:
    """Thresholds per category, their rates, and what the any-category policy holds.

    For each category, the lowest threshold at which at most `false_hold` of the rows
    labelled negative for it score at or above it (rounded up to 0.01, within
    0.05-0.96); 0.8 where no row is labelled negative. Returns `thresholds`,
    `per_category` (negatives, positives, false-hold rate, recall) and
    `policy_on_validation` (benign and toxic rows held when any category trips).
    """
    thresholds: dict[str, float] = {}
    report: dict[str, dict[str, float]] = {}
    for i, cat in enumerate(CATEGORIES):
        known = ~np.isnan(labels[:, i])
        neg = scores[known & (labels[:, i] == 0), i]
        pos = scores[known & (labels[:, i] == 1), i]
        t = float(np.quantile(neg, 1 - false_hold)) if len(neg) else 0.8
        t = round(min(0.95, max(0.05, t)) + 0.005, 2)  # round up to a readable value
        thresholds[cat] = t
        report[cat] = {
            "negatives": len(neg),
            "positives": len(pos),
            "false_hold_rate": round(float((neg >= t).mean()), 4) if len(neg) else 0.0,
            "recall": round(float((pos >= t).mean()), 4) if len(pos) else 0.0,
        }
    return {
        "thresholds": thresholds,
        "per_category": report,
        "policy_on_validation": hold_rates(scores, labels, thresholds),
    }


def hold_rates(
    scores: np.ndarray, labels: np.ndarray, thresholds: dict[str, float]
) -> dict[str, float]:
    """Shares of rows labelled benign / toxic (toxicity) that the policy holds: any category tripping."""
    benign = ~np.isnan(labels[:, 0]) & (labels[:, 0] == 0)
    toxic = ~np.isnan(labels[:, 0]) & (labels[:, 0] == 1)
    any_held = np.asarray((scores >= np.array([thresholds[c] for c in CATEGORIES])).any(axis=1))
    return {
        "benign_hold_rate": round(float(any_held[benign].mean()), 4) if benign.any() else 0.0,
        "toxic_hold_rate": round(float(any_held[toxic].mean()), 4) if toxic.any() else 0.0,
        "benign": int(benign.sum()),
        "toxic": int(toxic.sum()),
    }


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("data", nargs="+", type=Path)
    ap.add_argument("--model", type=Path, required=True)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--val-fraction", type=float, default=0.1)
    ap.add_argument(
        "--false-hold",
        type=float,
        default=0.02,
        help="share of a category's negatives allowed at or above its threshold",
    )
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument(
        "--cache",
        type=Path,
        help="keep the fp32 validation scores here by weights version (models.compare reads them)",
    )
    args = ap.parse_args(argv)

    from models import load_scorer

    _, val = split(load_sources(args.data), args.val_fraction, args.seed)
    scorer = load_scorer(args.model, fast=False, threads=args.threads)
    texts = [t for s in val for t in s.texts]
    labels = np.concatenate([s.labels for s in val])
    scores = validation_scores(scorer, texts, args.cache, f"seed{args.seed}-{args.val_fraction}")

    calibrated = calibrate(scores, labels, args.false_hold)
    out = {
        "thresholds": calibrated["thresholds"],
        "method": (
            f"per category, the lowest threshold at which at most {args.false_hold:.0%} of "
            "validation comments labelled negative for it score at or above it, rounded up "
            "to 0.01; validation split of models.train (seed "
            f"{args.seed}, {args.val_fraction:.0%} of each source)"
        ),
        "per_category": calibrated["per_category"],
        "policy_on_validation": calibrated["policy_on_validation"],
    }
    (args.model / "thresholds.json").write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps(out, indent=2))

    # The validation table as the service scores (windows, not truncation), beside the peer.
    ours = auc_table(val, scores)
    peer = peer_table(val)
    table = format_table(ours, peer)
    # The int8 fast path must not lose more than 0.005 ROC-AUC anywhere.
    fast = load_scorer(args.model, fast=True, verify=False, threads=args.threads)
    fast_scores = np.array([[r[c] for c in CATEGORIES] for r in fast.score(texts)])
    fast_table = auc_table(val, fast_scores)
    drops = {
        f"{src}/{cat}": round(ours[src][cat] - auc, 4)
        for src, cats in fast_table.items()
        for cat, auc in cats.items()
    }
    parity = float(np.abs(fast_scores - scores).mean())
    (args.model / "validation.json").write_text(
        json.dumps(
            {
                "ours": ours,
                "alt_profanity_check": peer,
                "int8_engine": fast.engine,
                "int8": fast_table,
                "int8_auc_drop": drops,
                "int8_mean_abs_diff": parity,
                "rows": {s.name: len(s.texts) for s in val},
            },
            indent=2,
        )
        + "\n"
    )
    print(table)
    worst = max(drops, key=lambda k: drops[k])
    print(
        f"int8 fast path ({fast.engine}): mean |p_int8 - p_fp32| = {parity:.4f} over {len(texts)} comments x "
        f"{len(CATEGORIES)} categories; largest ROC-AUC drop {drops[worst]:+.4f} ({worst})"
    )


if __name__ == "__main__":
    main()
