"""A teacher's scores of the training rows, written where the teacher runs, read where the student trains.

    python -m models.teacher_scores ../shared/data --teacher runs/mpnet --output runs/mpnet.npz \\
        --seed 13 [--split-seed 13] [--device cuda]
    python -m models.train ../shared/data --teacher runs/mpnet.npz ...   # the same split

`models.train --teacher DIR` scores every training row with a checkpoint before the
first step. A larger teacher than the 2 CPU cores can run in reasonable time (a
12-layer encoder fine-tuned on a GPU) is better scored where it was trained: this
writes its scores, six per row as float16 (0.6 MB for the public sets' 59,282
training rows, where the teacher's checkpoint is hundreds), and `models.train --teacher FILE` reads them in
place of a checkpoint. Rows are the training split of each public source (the
sources `models.train` distils; counterfactual copies take their row's scores
there). Each source's rows carry a fingerprint of their texts, so a file scored on
another split, seed or version of the data is refused, never applied to the wrong
rows.
"""

from __future__ import annotations

import argparse
import hashlib
from dataclasses import replace
from pathlib import Path

import numpy as np

from models.data import Source
from models.labels import CATEGORIES

FORMAT = 1


def fingerprint(texts: list[str]) -> str:
    """A digest of a source's rows in order: equal only for the same texts in the same order."""
    digest = hashlib.sha256()
    for text in texts:
        data = text.encode("utf-8")
        digest.update(len(data).to_bytes(8, "little"))
        digest.update(data)
    return digest.hexdigest()


def save(path: Path, sources: list[Source]) -> None:
    """Write the teacher scores the sources carry (`Source.teacher`), one array per source."""
    arrays: dict[str, np.ndarray] = {
        "format": np.array(FORMAT),
        "categories": np.array(CATEGORIES),
    }
    for s in sources:
        if s.teacher is None:
            raise ValueError(f"source {s.name} has no teacher scores to write")
        arrays[f"scores/{s.name}"] = np.asarray(s.teacher, dtype=np.float16)
        arrays[f"fingerprint/{s.name}"] = np.array(fingerprint(s.texts))
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as fh:
        np.savez_compressed(fh, **arrays)  # type: ignore[arg-type]


def _read(path: Path) -> dict[str, np.ndarray]:
    """A scores file's arrays; exits unless it is one of ours, of this version and categories."""
    try:
        data = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as e:
        raise SystemExit(f"--teacher {path} is not a teacher scores file: {e}") from None
    with data:
        if "format" not in data or int(data["format"]) != FORMAT:
            raise SystemExit(f"--teacher {path} is not a teacher scores file of this version")
        if [str(c) for c in data["categories"]] != list(CATEGORIES):
            raise SystemExit(f"--teacher {path} has other categories than ours")
        return {k: data[k] for k in data.files}


def attach(paths: Path | list[Path], sources: list[Source]) -> list[Source]:
    """The sources with the scores written for them in `paths`; exits on any mismatch.

    Several files may share the sources out (one teacher's scores of the public sets,
    another's of a transfer set): every source must be in exactly one of them, with
    exactly its rows (the fingerprint). A file with other categories, or one that is not
    ours, is refused with the reason.
    """
    files = [paths] if isinstance(paths, Path) else paths
    read = [(path, _read(path)) for path in files]
    out = []
    for s in sources:
        having = [(path, data) for path, data in read if f"scores/{s.name}" in data]
        if not having:
            named = " or ".join(str(p) for p in files)
            raise SystemExit(f"--teacher {named} has no scores for source {s.name}")
        if len(having) > 1:
            named = " and ".join(str(p) for p, _ in having)
            raise SystemExit(f"--teacher {named} both have scores for source {s.name}")
        ((path, data),) = having
        if str(data[f"fingerprint/{s.name}"]) != fingerprint(s.texts):
            raise SystemExit(
                f"--teacher {path} was scored on other rows of {s.name} (another split, "
                "seed or data version): score this split again"
            )
        out.append(replace(s, teacher=data[f"scores/{s.name}"].astype(np.float32)))
    return out


def sharpened(scores: np.ndarray, around: np.ndarray, factor: float) -> np.ndarray:
    """Scores pushed away from `around` (one threshold per category) by `factor` in logit space.

    A score at its category's threshold stays there, one above it moves further above
    and one below further below: the teacher's decision at those thresholds is kept and
    made more decisive (`factor` > 1), so a student that learns these scores from a
    handful of sentence shapes carries a margin, not a near miss, to shapes it has not
    seen. `factor` 1 returns the scores unchanged.
    """
    eps = 1e-4
    z = _logit(np.clip(scores, eps, 1 - eps))
    pivot = _logit(np.clip(around, eps, 1 - eps))
    out = 1 / (1 + np.exp(-(pivot + factor * (z - pivot))))
    return out.astype(scores.dtype)


def _logit(p: np.ndarray) -> np.ndarray:
    return np.log(p) - np.log1p(-p)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument(
        "data", nargs="+", type=Path, help="the data files or folders models.train reads"
    )
    ap.add_argument("--teacher", type=Path, required=True, help="a six-category checkpoint")
    ap.add_argument("--output", type=Path, required=True)
    ap.add_argument("--seed", type=int, default=13, help="as models.train --seed")
    ap.add_argument("--split-seed", type=int, default=None, help="as models.train --split-seed")
    ap.add_argument("--val-fraction", type=float, default=0.1)
    ap.add_argument("--max-length", type=int, default=128)
    ap.add_argument("--device", default="auto", help="cpu, cuda, or auto")
    ap.add_argument("--threads", type=int, default=0)
    args = ap.parse_args(argv)

    import torch

    from models.data import load_sources, split
    from models.train import device_of, require_ours, with_teacher_scores

    require_ours(args.teacher, "--teacher")
    if args.threads:
        torch.set_num_threads(args.threads)
    seed = args.seed if args.split_seed is None else args.split_seed
    train, _ = split(load_sources(args.data), args.val_fraction, seed)
    scored = with_teacher_scores(train, args.teacher, args.max_length, device_of(args))
    save(args.output, scored)
    rows = sum(len(s.texts) for s in scored)
    print(f"wrote {rows} rows' scores of {len(scored)} sources to {args.output}")


if __name__ == "__main__":
    main()
