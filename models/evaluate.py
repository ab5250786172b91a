"""Evaluate a scorer on a labelled CSV: ROC-AUC, average precision, a threshold table.

    python -m models.evaluate FILE.csv --text-column C --label-column L
        [--category toxicity] [--model PATH] [--fast] [--threads N] [--json]
        [--skip-unlabelled] [--slice REGEX] [--disagreements N]

--slice REGEX also reports the figures separately for the comments that match the
pattern (case-insensitive) and for the rest: does the model do as well on comments
that swear, mention a group, quote someone? --disagreements N lists the N labelled
negatives the model scores highest and the N positives it scores lowest, with their
row numbers: where the model and your labels disagree, and often why (a label that
means something narrower than the category, or a mistake on either side).

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
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from models.exports import unescape_cell

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


@dataclass(frozen=True)
class Labelled:
    """Texts with 0/1 labels, and each one's row number in the file (the header is row 1)."""

    texts: list[str]
    labels: list[int]
    rows: list[int]
    skipped: int = 0  # rows with an empty label, left out on request


def read_csv(
    path: Path, text_column: str, label_column: str, *, skip_unlabelled: bool = False
) -> Labelled:
    """Read texts and 0/1 labels from a CSV file with a header row.

    With `skip_unlabelled`, rows whose label cell is empty are left out (and
    counted) instead of being an error; any other unknown value still is one.
    """
    texts: list[str] = []
    labels: list[int] = []
    rows: list[int] = []
    skipped = 0
    with path.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        columns = reader.fieldnames or []
        for column in (text_column, label_column):
            if column not in columns:
                raise EvaluationError(f"{path}: no column {column!r}; columns are {columns}")
        for row_number, row in enumerate(reader, start=2):  # row 1 is the header
            value = row[label_column] or ""
            if skip_unlabelled and not value.strip():
                skipped += 1
                continue
            try:
                labels.append(parse_label(value))
            except EvaluationError as err:
                raise EvaluationError(f"{path}, row {row_number}: {err}") from None
            texts.append(unescape_cell(row[text_column] or ""))
            rows.append(row_number)
    if not texts:
        raise EvaluationError(f"{path}: no labelled rows" if skipped else f"{path}: no rows")
    return Labelled(texts, labels, rows, skipped)


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


def compile_slice(pattern: str) -> re.Pattern[str]:
    """The --slice pattern, case-insensitive; a clear error if it is not a regex."""
    try:
        return re.compile(pattern, re.IGNORECASE)
    except re.error as err:
        raise EvaluationError(f"--slice {pattern!r} is not a regular expression: {err}") from None


def _summary(scores: Sequence[float], labels: Sequence[int]) -> dict[str, Any]:
    if not labels:
        return {"rows": 0, "positives": 0, "roc_auc": None, "average_precision": None}
    full = metrics(scores, labels, thresholds=())
    return {k: full[k] for k in ("rows", "positives", "roc_auc", "average_precision")}


def evaluate(
    scorer: Scorer,
    texts: Sequence[str],
    labels: Sequence[int],
    category: str = "toxicity",
    *,
    rows: Sequence[int] | None = None,
    slice_pattern: str | None = None,
    disagreements: int = 0,
) -> dict[str, Any]:
    """Score `texts` with `scorer` and compute the metrics of `category` against `labels`.

    `slice_pattern` adds the summary figures for the texts that match it and for
    the rest; `disagreements` adds that many highest-scored negatives and
    lowest-scored positives (`rows` numbers them, default 1-based positions).
    """
    if category not in scorer.categories:
        raise EvaluationError(f"the model has no {category!r}; it has {list(scorer.categories)}")
    pattern = compile_slice(slice_pattern) if slice_pattern is not None else None
    scores = [s[category] for s in scorer.score(texts)]
    result = {"category": category, **metrics(scores, labels)}
    if pattern is not None:
        hit = [bool(pattern.search(t)) for t in texts]
        result["slices"] = {
            "pattern": pattern.pattern,
            **{
                name: _summary(
                    [s for s, h in zip(scores, hit, strict=True) if h == want],
                    [y for y, h in zip(labels, hit, strict=True) if h == want],
                )
                for name, want in (("matching", True), ("not_matching", False))
            },
        }
    if disagreements > 0:
        numbers = list(rows) if rows is not None else list(range(1, len(texts) + 1))

        def listed(label: int, highest: bool) -> list[dict[str, Any]]:
            picked = [i for i, y in enumerate(labels) if y == label]
            picked.sort(key=lambda i: -scores[i] if highest else scores[i])
            return [
                {"row": numbers[i], "score": scores[i], "text": texts[i]}
                for i in picked[:disagreements]
            ]

        result["disagreements"] = {
            "highest_scored_negatives": listed(0, highest=True),
            "lowest_scored_positives": listed(1, highest=False),
        }
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
        f"rows: {result['rows']}  positives: {result['positives']}"
        + (
            f"  (skipped {result['skipped_unlabelled']} with no label)"
            if result.get("skipped_unlabelled")
            else ""
        ),
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
    if slices := result.get("slices"):
        lines += [
            "",
            f"slice /{slices['pattern']}/ (case-insensitive):",
            "| comments | rows | positives | ROC-AUC | average precision |",
            "|---|---|---|---|---|",
        ]
        for name, label in (("matching", "matching"), ("not_matching", "not matching")):
            part = slices[name]
            lines.append(
                f"| {label} | {part['rows']} | {part['positives']} "
                f"| {_fmt(part['roc_auc'], 4)} | {_fmt(part['average_precision'], 4)} |"
            )
    if listed := result.get("disagreements"):
        for key, title in (
            ("highest_scored_negatives", "labelled negative, scored highest"),
            ("lowest_scored_positives", "labelled positive, scored lowest"),
        ):
            lines += ["", f"{title}:"]
            lines += [
                f"  row {d['row']}  {d['score']:.3f}  {_clip(d['text'])}" for d in listed[key]
            ]
    return "\n".join(lines)


def _clip(text: str, width: int = 100) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


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
    ap.add_argument(
        "--skip-unlabelled", action="store_true", help="leave out rows with an empty label"
    )
    ap.add_argument(
        "--slice", metavar="REGEX", help="also report matching and other comments apart"
    )
    ap.add_argument(
        "--disagreements",
        type=int,
        default=0,
        metavar="N",
        help="list the N highest-scored negatives and N lowest-scored positives",
    )
    args = ap.parse_args(argv)
    if args.disagreements < 0:
        ap.error("--disagreements must be 0 or more")

    from models import load_scorer

    try:
        if args.slice is not None:
            compile_slice(args.slice)  # before loading the model
        data = read_csv(
            args.csv, args.text_column, args.label_column, skip_unlabelled=args.skip_unlabelled
        )
        scorer = load_scorer(args.model, fast=args.fast, threads=args.threads)
        result = evaluate(
            scorer,
            data.texts,
            data.labels,
            args.category,
            rows=data.rows,
            slice_pattern=args.slice,
            disagreements=args.disagreements,
        )
        if data.skipped:
            result["skipped_unlabelled"] = data.skipped
    except (EvaluationError, FileNotFoundError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(json.dumps(result, indent=2) if args.json else format_report(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
