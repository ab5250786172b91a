"""`python -m models.evaluate`: label parsing, metrics, and the command line."""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest
from sklearn.metrics import average_precision_score, roc_auc_score

from models import load_scorer
from models.evaluate import EvaluationError, evaluate, main, metrics, parse_label

ROOT = Path(__file__).resolve().parents[2]

ROWS = [
    ("What a thoughtful piece on the harbour repairs.", "ok"),
    ("You absolute clown, nobody wants your opinion.", "toxic"),
    ("The bakery on Elm street reopened today.", "0"),
    ("Get lost, you pathetic little worm.", "1"),
    ("I disagree with the parking plan, but fair enough.", "false"),
    ("Shut up, moron.", "TRUE"),
    ("Lovely photos of the autumn fair!", "no"),
    ("Only an idiot would write this garbage.", " yes "),
]
RUDE = {"clown", "worm", "moron", "idiot"}


class WordListScorer:
    """A fake-ish scorer: high toxicity iff a rude word appears (separates ROWS perfectly)."""

    categories = ("toxicity",)
    name = "word-list"

    def score(self, texts: Sequence[str]) -> list[dict[str, float]]:
        return [
            {"toxicity": 0.9 if RUDE & set(re.findall(r"[a-z]+", t.lower())) else 0.05}
            for t in texts
        ]


def write_csv(path: Path, rows: list[tuple[str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["comment", "label"])
        writer.writerows(rows)
    return path


@pytest.mark.parametrize(
    ("value", "expected"),
    [("1", 1), ("0", 0), ("True", 1), ("false", 0), ("toxic", 1), ("OK", 0), (" non-toxic ", 0)],
)
def test_accepted_label_values(value, expected):
    assert parse_label(value) == expected


@pytest.mark.parametrize("value", ["", "2", "maybe", "0.7"])
def test_other_label_values_are_errors(value):
    with pytest.raises(EvaluationError, match="unknown label"):
        parse_label(value)


def test_perfectly_separated_scores():
    texts = [t for t, _ in ROWS]
    labels = [parse_label(y) for _, y in ROWS]
    result = evaluate(WordListScorer(), texts, labels)
    assert result["roc_auc"] == 1.0
    assert result["average_precision"] == 1.0
    assert [row["threshold"] for row in result["thresholds"]] == [
        0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95,
    ]  # fmt: skip
    at_half = result["thresholds"][4]
    assert at_half == {"threshold": 0.5, "precision": 1.0, "recall": 1.0, "f1": 1.0, "flagged": 0.5}
    at_top = result["thresholds"][-1]  # nothing scores 0.95: nothing flagged
    assert at_top == {"threshold": 0.95, "precision": None, "recall": 0.0, "f1": 0.0, "flagged": 0}


def test_threshold_table_counts():
    result = metrics([0.2, 0.6, 0.7, 0.4], [0, 1, 0, 1], thresholds=[0.5])
    assert result["thresholds"] == [
        {"threshold": 0.5, "precision": 0.5, "recall": 0.5, "f1": 0.5, "flagged": 0.5}
    ]
    assert result["roc_auc"] == pytest.approx(roc_auc_score([0, 1, 0, 1], [0.2, 0.6, 0.7, 0.4]))


def test_cli_json_matches_sklearn_on_the_models_own_scores(tmp_path, tiny_path, capsys):
    path = write_csv(tmp_path / "comments.csv", ROWS)
    code = main([str(path), "--text-column", "comment", "--label-column", "label",
                 "--category", "insult", "--model", str(tiny_path), "--json"])  # fmt: skip
    assert code == 0
    result = json.loads(capsys.readouterr().out)
    texts, labels = [t for t, _ in ROWS], [parse_label(y) for _, y in ROWS]
    scores = [s["insult"] for s in load_scorer(tiny_path).score(texts)]
    assert result["category"] == "insult"
    assert result["rows"] == 8 and result["positives"] == 4
    assert result["roc_auc"] == pytest.approx(roc_auc_score(labels, scores))
    assert result["average_precision"] == pytest.approx(average_precision_score(labels, scores))
    assert result["model_precision"] == "fp32"


def test_cli_runs_as_a_module_and_prints_a_table(tmp_path, tiny_path):
    path = write_csv(tmp_path / "comments.csv", ROWS)
    out = subprocess.run(
        [sys.executable, "-m", "models.evaluate", str(path), "--text-column", "comment",
         "--label-column", "label", "--model", str(tiny_path), "--fast"],
        capture_output=True, text=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert "ROC-AUC:" in out.stdout and "average precision:" in out.stdout
    assert "int8" in out.stdout
    table = [line for line in out.stdout.splitlines() if line.startswith("| 0.")]
    assert [line.split("|")[1].strip() for line in table] == [
        "0.10", "0.20", "0.30", "0.40", "0.50", "0.60", "0.70", "0.80", "0.90", "0.95",
    ]  # fmt: skip


def test_cli_names_the_row_of_a_bad_label(tmp_path, tiny_path, capsys):
    path = write_csv(tmp_path / "bad.csv", [*ROWS[:3], ("A fine day.", "sometimes")])
    code = main([str(path), "--text-column", "comment", "--label-column", "label",
                 "--model", str(tiny_path)])  # fmt: skip
    assert code == 2
    err = capsys.readouterr().err
    assert "row 5" in err and "'sometimes'" in err


def test_cli_lists_the_columns_when_one_is_missing(tmp_path, tiny_path, capsys):
    path = write_csv(tmp_path / "comments.csv", ROWS)
    code = main([str(path), "--text-column", "text", "--label-column", "label",
                 "--model", str(tiny_path)])  # fmt: skip
    assert code == 2
    assert "no column 'text'" in capsys.readouterr().err


def test_cli_rejects_a_category_the_model_lacks(tmp_path, make_checkpoint, capsys):
    model = make_checkpoint(("non-toxic", "toxic"), "single_label_classification")
    path = write_csv(tmp_path / "comments.csv", ROWS)
    code = main([str(path), "--text-column", "comment", "--label-column", "label",
                 "--model", str(model), "--category", "threat"])  # fmt: skip
    assert code == 2
    assert "no 'threat'" in capsys.readouterr().err


class FixedScorer:
    """Scores each known text with a fixed toxicity (order differs from the labels)."""

    categories = ("toxicity",)

    def __init__(self, scores: dict[str, float]) -> None:
        self.scores = scores

    def score(self, texts: Sequence[str]) -> list[dict[str, float]]:
        return [{"toxicity": self.scores[t]} for t in texts]


# Not a perfect separation: the kind "parking" comment outscores the rude "worm" one.
FIXED = dict(zip([t for t, _ in ROWS], [0.1, 0.8, 0.3, 0.35, 0.6, 0.9, 0.2, 0.7], strict=True))


def test_slice_reports_matching_and_other_comments_apart():
    texts, labels = [t for t, _ in ROWS], [parse_label(y) for _, y in ROWS]
    result = evaluate(FixedScorer(FIXED), texts, labels, slice_pattern=r"\byou\b|THE")
    hit = [bool(re.search(r"\byou\b|the", t, re.IGNORECASE)) for t in texts]
    for name, want in (("matching", True), ("not_matching", False)):
        part = result["slices"][name]
        y = [label for label, h in zip(labels, hit, strict=True) if h == want]
        s = [FIXED[t] for t, h in zip(texts, hit, strict=True) if h == want]
        assert part["rows"] == len(y) and part["positives"] == sum(y)
        expected = roc_auc_score(y, s) if 0 < sum(y) < len(y) else None
        assert part["roc_auc"] == (pytest.approx(expected) if expected is not None else None)
    assert result["slices"]["matching"]["rows"] == 6
    assert result["slices"]["matching"]["roc_auc"] == pytest.approx(0.875)  # one pair misordered
    assert result["roc_auc"] == pytest.approx(roc_auc_score(labels, [FIXED[t] for t in texts]))


def test_a_slice_nothing_matches_has_no_figures():
    texts, labels = [t for t, _ in ROWS], [parse_label(y) for _, y in ROWS]
    result = evaluate(FixedScorer(FIXED), texts, labels, slice_pattern="zebra")
    assert result["slices"]["matching"] == {
        "rows": 0, "positives": 0, "roc_auc": None, "average_precision": None,
    }  # fmt: skip
    assert result["slices"]["not_matching"]["rows"] == len(ROWS)


def test_disagreements_list_the_worst_ranked_rows_with_their_row_numbers():
    texts, labels = [t for t, _ in ROWS], [parse_label(y) for _, y in ROWS]
    rows = list(range(2, 2 + len(ROWS)))  # as read from a file: the header is row 1
    result = evaluate(FixedScorer(FIXED), texts, labels, rows=rows, disagreements=2)
    negatives = result["disagreements"]["highest_scored_negatives"]
    positives = result["disagreements"]["lowest_scored_positives"]
    assert [(d["row"], d["score"]) for d in negatives] == [(6, 0.6), (4, 0.3)]
    assert negatives[0]["text"] == ROWS[4][0]
    assert [(d["row"], d["score"]) for d in positives] == [(5, 0.35), (9, 0.7)]


def test_cli_skips_unlabelled_rows_only_when_asked(tmp_path, tiny_path, capsys):
    path = write_csv(tmp_path / "partial.csv", [*ROWS[:4], ("Nobody labelled me.", ""), *ROWS[4:]])
    argv = [str(path), "--text-column", "comment", "--label-column", "label",
            "--model", str(tiny_path)]  # fmt: skip
    assert main(argv) == 2
    assert "row 6" in capsys.readouterr().err
    assert main([*argv, "--skip-unlabelled", "--disagreements", "8", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["rows"] == 8 and result["skipped_unlabelled"] == 1
    listed = result["disagreements"]["highest_scored_negatives"]
    listed += result["disagreements"]["lowest_scored_positives"]
    # Row numbers are the file's: the skipped row 6 is gone, the rows after it keep theirs.
    assert sorted(d["row"] for d in listed) == [2, 3, 4, 5, 7, 8, 9, 10]
    assert {d["row"]: d["text"] for d in listed}[7] == ROWS[4][0]


def test_cli_prints_slices_and_disagreements(tmp_path, tiny_path):
    path = write_csv(tmp_path / "comments.csv", ROWS)
    out = subprocess.run(
        [sys.executable, "-m", "models.evaluate", str(path), "--text-column", "comment",
         "--label-column", "label", "--model", str(tiny_path), "--slice", "you|the",
         "--disagreements", "1"],
        capture_output=True, text=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert "slice /you|the/" in out.stdout
    assert re.search(r"^\| matching \| 6 \| 2 \|", out.stdout, re.MULTILINE)
    assert re.search(r"^\| not matching \| 2 \| 2 \| n/a \|", out.stdout, re.MULTILINE)
    assert "labelled negative, scored highest:" in out.stdout
    assert len(re.findall(r"^  row \d+  0\.\d{3}  ", out.stdout, re.MULTILINE)) == 2


def test_cli_rejects_a_bad_slice_pattern_before_loading_a_model(tmp_path, capsys):
    path = write_csv(tmp_path / "comments.csv", ROWS)
    code = main([str(path), "--text-column", "comment", "--label-column", "label",
                 "--model", str(tmp_path / "no-such-model"), "--slice", "(unclosed"])  # fmt: skip
    assert code == 2
    assert "not a regular expression" in capsys.readouterr().err
