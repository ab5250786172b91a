"""Evaluate a scorer on a labelled CSV: ROC-AUC, average precision, a threshold table.

    python -m models.evaluate FILE.csv --text-column C --label-column L
        [--category toxicity] [--model PATH] [--fast] [--threads N] [--json]

Accepted label values (case-insensitive, surrounding spaces ignored):
  positive: 1, 1.0, true, t, yes, y, toxic, positive, pos, flagged, hold, held, reject
  negative: 0, 0.0, false, f, no, n, ok, non-toxic, nontoxic, not toxic, clean, benign,
            negative, neg, approve, approved
Any other value, an empty cell included, is an error that names the row.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

THRESHOLDS: tuple[float, ...] = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95)

POSITIVE = frozenset(
    {
        "1",
        "1.0",
        "true",
        "t",
        "yes",
        "y",
        "toxic",
        "positive",
        "pos",
        "flagged",
        "hold",
        "held",
        "reject",
    }
)
NEGATIVE = frozenset(
    {
        "0",
        "0.0",
        "false",
        "f",
        "no",
        "n",
        "ok",
        "non-toxic",
        "nontoxic",
        "not toxic",
        "clean",
        "benign",
        "negative",
        "neg",
        "approve",
        "approved",
    }
)


class EvaluationError(ValueError):
    """The input cannot be evaluated (bad CSV, unknown label, missing category)."""


class Scorer(Protocol):
    """What evaluation needs of a scorer."""

    categories: tuple[str, ...]

    def score(self, texts: Sequence[str]) -> list[dict[str, float]]:
        """Return each text's probability per category."""
        ...


def parse_label(value: str) -> int:
    """Return 1 for a positive label value, 0 for a negative one; raise on anything else."""
    key = " ".join(value.strip().lower().split())
    if key in POSITIVE:
        return 1
    if key in NEGATIVE:
        return 0
    raise EvaluationError(
        f"unknown label {value!r}: use 1/0, true/false, yes/no or toxic/ok "
        "(see `python -m models.evaluate --help`)"
    )


def read_csv(path: Path, text_column: str, label_column: str) -> tuple[list[str], list[int]]:
    """Read texts and 0/1 labels from a CSV file with a header row."""
    texts: list[str] = []
    labels: list[int] = []
    with path.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        columns = reader.fieldnames or []
        for column in (text_column, label_column):
            if column not in columns:
                raise EvaluationError(f"{path}: no column {column!r}; columns are {columns}")
        for row_number, row in enumerate(reader, start=2):  # row 1 is the header
            try:
                labels.append(parse_label(row[label_column] or ""))
            except EvaluationError as err:
                raise EvaluationError(f"{path}, row {row_number}: {err}") from None
            texts.append(row[text_column] or "")
    if not texts:
        raise EvaluationError(f"{path}: no rows")
    return texts, labels


def _ratio(num: int, den: int) -> float | None:
    return num / den if den else None


def metrics(
    scores: Sequence[float], labels: Sequence[int], thresholds: Sequence[float] = THRESHOLDS
) -> dict[str, Any]:
    """Compute ROC-AUC, average precision and precision / recall / F1 / share flagged."""
    from sklearn.metrics import average_precision_score, roc_auc_score

    positives = sum(labels)
    both = 0 < positives < len(labels)
    result: dict[str, Any] = {
        "rows": len(labels),
        "positives": positives,
        "roc_auc": float(roc_auc_score(labels, scores)) if both else None,
        "average_precision": float(average_precision_score(labels, scores)) if positives else None,
        "thresholds": [],
    }
    for t in thresholds:
        flagged = [s >= t for s in scores]
        tp = sum(1 for f, y in zip(flagged, labels, strict=True) if f and y)
        n_flagged = sum(flagged)
        precision, recall = _ratio(tp, n_flagged), _ratio(tp, positives)
        f1 = _ratio(2 * tp, n_flagged + positives)  # 2PR / (P + R), defined when P is not
        result["thresholds"].append(
            {
                "threshold": t,
                "precision": precision,
                "recall": recall,
                "f1": f1,
                "flagged": n_flagged / len(labels),
            }
        )
    return result


def evaluate(
    scorer: Scorer, texts: Sequence[str], labels: Sequence[int], category: str = "toxicity"
) -> dict[str, Any]:
    """Score `texts` with `scorer` and compute the metrics of `category` against `labels`."""
    if category not in scorer.categories:
        raise EvaluationError(f"the model has no {category!r}; it has {list(scorer.categories)}")
    scores = [s[category] for s in scorer.score(texts)]
    result = {"category": category, **metrics(scores, labels)}
    for attr in ("name", "version", "precision"):
        if hasattr(scorer, attr):
            result[f"model_{attr}"] = getattr(scorer, attr)
    return result


def _fmt(value: float | None, digits: int = 3) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def format_report(result: dict[str, Any]) -> str:
    """Format an evaluation result as plain text with a Markdown threshold table."""
    model = " ".join(
        str(result[k]) for k in ("model_name", "model_version", "model_precision") if k in result
    )
    lines = [
        f"model: {model}" if model else "model: (unnamed)",
        f"category: {result['category']}",
        f"rows: {result['rows']}  positives: {result['positives']}",
        f"ROC-AUC: {_fmt(result['roc_auc'], 4)}",
        f"average precision: {_fmt(result['average_precision'], 4)}",
        "",
        "| threshold | precision | recall | F1 | flagged |",
        "|---|---|---|---|---|",
    ]
    for row in result["thresholds"]:
        lines.append(
            f"| {row['threshold']:.2f} | {_fmt(row['precision'])} | {_fmt(row['recall'])} "
            f"| {_fmt(row['f1'])} | {row['flagged']:.1%} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit status (2 for unusable input)."""
    ap = argparse.ArgumentParser(
        prog="python -m models.evaluate",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument("csv", type=Path, help="CSV file with a header row")
    ap.add_argument("--text-column", required=True)
    ap.add_argument("--label-column", required=True)
    ap.add_argument("--category", default="toxicity")
    ap.add_argument("--model", type=Path, default=None, help="checkpoint folder (default: shipped)")
    ap.add_argument("--fast", action="store_true", help="use the int8 fast path")
    ap.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    ap.add_argument("--json", action="store_true", help="print the result as JSON")
    args = ap.parse_args(argv)

    from models import load_scorer

    try:
        texts, labels = read_csv(args.csv, args.text_column, args.label_column)
        scorer = load_scorer(args.model, fast=args.fast, threads=args.threads)
        result = evaluate(scorer, texts, labels, args.category)
    except (EvaluationError, FileNotFoundError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(json.dumps(result, indent=2) if args.json else format_report(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
