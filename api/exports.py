"""CSV exports that are safe to open in a spreadsheet, with timestamps that say their time zone."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from moderation.tuning import TrainingLabel

# A spreadsheet reads a cell starting with one of these as a formula (OWASP, "CSV Injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
ESCAPE = "'"

DECISIONS_HEADER = (
    "comment_id",
    "text",
    "label",
    "reason",
    "decided_at",
    "source",
    "model_toxicity",
)


def spreadsheet_safe(cell: str) -> str:
    """The cell with a leading quote where a spreadsheet would run it as a formula.

    A cell that already starts with a quote before one of those characters (or before
    another quote) gets one more, so `models.exports.unescape_cell` gives back exactly
    the text that was stored.
    """
    if cell.startswith(FORMULA_STARTS) or (
        cell.startswith(ESCAPE) and cell[1:2] and cell[1] in (*FORMULA_STARTS, ESCAPE)
    ):
        return ESCAPE + cell
    return cell


def iso_time(value: datetime | None) -> str:
    """ISO 8601 with its offset; stored times are UTC (SQLite hands them back naive)."""
    if value is None:
        return ""
    return (value if value.tzinfo is not None else value.replace(tzinfo=UTC)).isoformat()


def csv_text(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """CSV with every text cell made spreadsheet-safe (numbers are written as they are)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    for row in rows:
        writer.writerow([spreadsheet_safe(v) if isinstance(v, str) else v for v in row])
    return out.getvalue()


def decisions_csv(labels: Iterable[TrainingLabel]) -> str:
    """Labelled texts (moderators' decisions, sites' labels), one row each."""
    return csv_text(
        DECISIONS_HEADER,
        (
            (
                label.comment_id or "",
                label.text,
                1 if label.toxic else 0,
                label.reason or "",
                iso_time(label.at),
                label.source,
                label.model_toxicity if label.model_toxicity is not None else "",
            )
            for label in labels
        ),
    )
