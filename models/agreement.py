"""Transfer sentences on which a teacher agrees with the templates they were made from.

    python -m models.transfer --output runs/transfer.csv --rows 6000 --seed 13 \\
        --origins runs/transfer-origins.csv
    python -m models.agreement runs/transfer.csv --origins runs/transfer-origins.csv \\
        --scores models/mpnet-scores/transfer.npz --thresholds models/minilm-toxicity \\
        --seed 13 --output runs/agreed
    python -m models.train ../shared/data runs/agreed/transfer.csv \\
        --teacher ... runs/agreed/transfer.npz --split-seed 13 ...

A teacher's scores of `models.transfer`'s recombined sentences teach a student only
through what the teacher reads in them, and where it reads a sentence made from
hateful templates as benign, that is what the student learns (model card, run W27:
the larger teacher approves a sixth of the sentences made from one implicit template,
and the student trained on them held twelve points fewer of the probe's implicit
hate). This keeps a transfer sentence only where the teacher's decision, at the given
thresholds, is the one its templates share: held when any of them is hateful (a
comment with a hateful sentence in it is held, whatever stands beside it), approved
when none is. Sentences of the written kind have no templates with a decision and are
all kept. Nothing is relabelled: what is kept still teaches the teacher's own scores.

The kept sentences are written as a new transfer set with the source's name, and their
scores as a scores file for the split `models.train` will make of it (`--seed`,
`--val-fraction`), so the student reads them as it reads any teacher's file.
"""

from __future__ import annotations

import argparse
import csv
from dataclasses import replace
from pathlib import Path

import numpy as np

from models import calibrated_thresholds
from models.adapt import held
from models.data import Source, load_sources, split
from models.labels import CATEGORIES
from models.teacher_scores import attach, save
from models.transfer import write_texts


def template_decisions(origins: Path) -> dict[str, bool | None]:
    """Per sentence of a `models.transfer --origins` file: True when its templates say hold
    (any of them hateful), False when they say approve, None when they say nothing."""
    with origins.open(newline="", encoding="utf-8") as fh:
        return {
            row["text"]: None if not row["decision"] else row["decision"] != "approve"
            for row in csv.DictReader(fh)
        }


def agreeing(
    source: Source, decisions: dict[str, bool | None], thresholds: dict[str, float]
) -> Source:
    """The rows of a scored source whose teacher decision at `thresholds` is their templates'.

    Exits when a row has no entry in `decisions` (origins of another transfer set).
    """
    if source.teacher is None:
        raise ValueError(f"source {source.name} carries no teacher scores")
    missing = [t for t in source.texts if t not in decisions]
    if missing:
        raise SystemExit(
            f"{len(missing)} sentences of {source.name} have no origins, e.g. {missing[0]!r}: "
            "write --origins with the same models.transfer command"
        )
    keep = [
        i
        for i, (text, h) in enumerate(
            zip(source.texts, held(source.teacher, thresholds), strict=True)
        )
        if decisions[text] is None or decisions[text] == bool(h)
    ]
    return source.subset(keep)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("transfer", type=Path, help="a models.transfer CSV")
    ap.add_argument("--origins", type=Path, required=True, help="its models.transfer --origins")
    ap.add_argument("--scores", type=Path, required=True, help="the teacher's scores of it")
    ap.add_argument(
        "--thresholds",
        type=Path,
        required=True,
        help="a checkpoint folder whose thresholds.json decides for the teacher",
    )
    ap.add_argument("--seed", type=int, default=13, help="the split seed models.train uses")
    ap.add_argument("--val-fraction", type=float, default=0.1)
    ap.add_argument("--output", type=Path, required=True, help="a folder for the CSV and scores")
    args = ap.parse_args(argv)

    thresholds = calibrated_thresholds(args.thresholds)
    if set(thresholds) != set(CATEGORIES):
        raise SystemExit(f"{args.thresholds} has no thresholds.json with every category")
    (source,) = load_sources([args.transfer])
    (train,), _ = split([source], args.val_fraction, args.seed)
    (scored,) = attach([args.scores], [train])
    kept = agreeing(scored, template_decisions(args.origins), thresholds)

    args.output.mkdir(parents=True, exist_ok=True)
    out = args.output / args.transfer.name
    write_texts(out, kept.texts)
    # models.train splits the new set again: the scores are of that split's training rows.
    (again,) = load_sources([out])
    (train_again,), _ = split([again], args.val_fraction, args.seed)
    assert kept.teacher is not None
    score_of = dict(zip(kept.texts, kept.teacher, strict=True))
    rescored = replace(train_again, teacher=np.stack([score_of[t] for t in train_again.texts]))
    scores_out = out.with_suffix(".npz")
    save(scores_out, [rescored])
    print(
        f"kept {len(kept.texts)} of {len(scored.texts)} training-split sentences "
        f"(the teacher agrees with their templates) in {out}; {len(train_again.texts)} "
        f"rows' scores for models.train's split in {scores_out}"
    )


if __name__ == "__main__":
    main()
