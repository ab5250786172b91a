"""How well a frozen encoder tells hold from approve on sentence shapes it never saw.

    python -m models.separability ENCODER_DIR [ENCODER_DIR ...] [--json out.json]

A measure of capacity before any training run: each encoder embeds our written
sentences (`models.authored`; mean of the last layer over the tokens, unit length),
a logistic regression learns hold-or-approve from the training half's embeddings
alone, and the probe half (other templates, never seen) is decided by it. Printed
per encoder: the probe's ROC-AUC, the share decided right and the share per family.
An encoder whose embeddings separate the unseen templates better has more to give
a student as a teacher; the figure says nothing about the public data sets.
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from models.authored import AuthoredExample, examples


def embed(encoder: Path, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
    """Unit-length mean-pooled last-layer embeddings of `texts` (rows x hidden)."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(encoder)
    model = AutoModel.from_pretrained(encoder, dtype=torch.float32).eval()
    out = []
    with torch.inference_mode():
        for start in range(0, len(texts), batch_size):
            enc = tokenizer(
                list(texts[start : start + batch_size]),
                padding=True,
                truncation=True,
                max_length=64,
                return_tensors="pt",
            )
            hidden = model(**enc).last_hidden_state
            mask = enc["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            mean = (hidden * mask).sum(1) / mask.sum(1)
            out.append(torch.nn.functional.normalize(mean, dim=-1).numpy())
    return np.concatenate(out)


def separability(
    train: Sequence[AuthoredExample],
    probe: Sequence[AuthoredExample],
    train_x: np.ndarray,
    probe_x: np.ndarray,
) -> dict[str, Any]:
    """Fit hold-or-approve on the training rows, judge the probe rows: AUC, right, per family."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score

    y_train = np.array([e.hold for e in train])
    y_probe = np.array([e.hold for e in probe])
    clf = LogisticRegression(C=4.0, max_iter=5000).fit(train_x, y_train)
    p = clf.predict_proba(probe_x)[:, 1]
    right = (p >= 0.5) == y_probe
    families: dict[str, list[bool]] = defaultdict(list)
    for e, ok in zip(probe, right, strict=True):
        families[e.family].append(bool(ok))
    return {
        "probe_roc_auc": round(float(roc_auc_score(y_probe, p)), 4),
        "right": round(float(right.mean()), 4),
        "families": {f: round(sum(v) / len(v), 3) for f, v in families.items()},
    }


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(
        prog="python -m models.separability",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument("encoders", nargs="+", type=Path)
    ap.add_argument("--json", type=Path, help="also write the figures here")
    args = ap.parse_args(argv)
    train, probe = examples("train"), examples("probe")
    results: dict[str, dict[str, Any]] = {}
    for encoder in args.encoders:
        x = embed(encoder, [e.text for e in [*train, *probe]])  # the encoder loaded once
        results[str(encoder)] = separability(train, probe, x[: len(train)], x[len(train) :])
    families = list(next(iter(results.values()))["families"])
    print("| family | " + " | ".join(results) + " |")
    print("|---|" + "---:|" * len(results))
    for key in ("probe_roc_auc", "right"):
        print(f"| **{key}** | " + " | ".join(f"{r[key]:.3f}" for r in results.values()) + " |")
    for family in families:
        cells = " | ".join(f"{r['families'][family]:.3f}" for r in results.values())
        print(f"| {family} | {cells} |")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
