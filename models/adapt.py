"""Adapt the shipped model to one site's moderators: fine-tune, validate, export.

    python -m models.adapt LABELS.csv --output runs/site --epochs 1

The site's label (toxic or not, from its moderators) trains `toxicity`; the other
five categories keep the base model's own scores on the same texts as targets
(distillation), so they do not drift while toxicity moves. The training loop is
`models.train`'s (its length batches, masked loss, linear schedule and fp16
export). Validation compares base and candidate on the held-out labels: ROC-AUC
with a paired bootstrap interval, precision, recall and hold rate at the site's
thresholds, the toxicity threshold that keeps the site's false-hold rate, and
the fairness probe of `models.bias` with a stated tolerance.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from models.labels import CATEGORIES

TOXICITY = CATEGORIES.index("toxicity")
EPOCHS = 1
MAX_LENGTH = 128  # training tokens per comment (news comments are rarely longer)
EVAL_LENGTH = 256  # one serving window
BATCH_SIZE = 32
LR = 3e-5
BOOTSTRAP = 1000
# The fairness probe may move this much the wrong way before a candidate counts as worse
# (shares of probe sentences held, mean toxicity of benign statements).
FAIRNESS_TOLERANCE = 0.02
# Probe figures where lower is better, and where higher is better.
LOWER_IS_BETTER = (
    "benign_held_share",
    "max_group_benign_mean_toxicity",
    "names_held_share",
    "names_max_toxicity",
)
HIGHER_IS_BETTER = ("hateful_held_share", "hard_cases_decided_right")
# The niceness of a training run in its own process (adapt_in_child): 19, the lowest
# priority, so that on a machine that also serves it takes only the CPU serving leaves.
CHILD_NICE = 19


def roc_auc(labels: np.ndarray, scores: np.ndarray) -> float:
    """ROC-AUC (ties counted half), without sklearn's overhead inside the bootstrap."""
    order = np.argsort(scores, kind="mergesort")
    ranks = np.empty(len(scores))
    sorted_scores = scores[order]
    # Average ranks of ties.
    i = 0
    while i < len(scores):
        j = i
        while j + 1 < len(scores) and sorted_scores[j + 1] == sorted_scores[i]:
            j += 1
        ranks[order[i : j + 1]] = (i + j) / 2 + 1
        i = j + 1
    pos = labels.astype(bool)
    n_pos, n_neg = int(pos.sum()), int((~pos).sum())
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    return float((ranks[pos].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def bootstrap_auc(
    labels: np.ndarray, base: np.ndarray, candidate: np.ndarray, rounds: int, seed: int
) -> dict[str, dict[str, float]]:
    """ROC-AUC of base and candidate and their difference, each with a 95 % paired bootstrap interval."""
    rng = np.random.default_rng(seed)
    n = len(labels)
    b, c, d = [], [], []
    for _ in range(rounds):
        idx = rng.integers(0, n, n)
        y = labels[idx]
        if y.min() == y.max():
            continue
        ab, ac = roc_auc(y, base[idx]), roc_auc(y, candidate[idx])
        b.append(ab)
        c.append(ac)
        d.append(ac - ab)

    def interval(value: float, draws: list[float]) -> dict[str, float]:
        low, high = np.percentile(draws, [2.5, 97.5]) if draws else (value, value)
        return {
            "value": round(value, 4),
            "low": round(float(low), 4),
            "high": round(float(high), 4),
        }

    auc_b, auc_c = roc_auc(labels, base), roc_auc(labels, candidate)
    return {
        "base": interval(auc_b, b),
        "candidate": interval(auc_c, c),
        "delta": interval(auc_c - auc_b, d),
    }


def held(probs: np.ndarray, thresholds: Mapping[str, float]) -> np.ndarray:
    """Whether the site's thresholds hold each row (any category at or above its threshold)."""
    limits = np.array([thresholds.get(c, 0.8) for c in CATEGORIES])
    return np.asarray((probs >= limits).any(axis=1))


def at_thresholds(labels: np.ndarray, hold: np.ndarray) -> dict[str, float | None]:
    """Precision, recall, hold rate and false-hold rate of holds against labels."""
    y = labels.astype(bool)
    tp, fp = int((hold & y).sum()), int((hold & ~y).sum())
    fn = int((~hold & y).sum())

    def ratio(a: int, b: int) -> float | None:
        return round(a / b, 4) if b else None

    return {
        "precision": ratio(tp, tp + fp),
        "recall": ratio(tp, tp + fn),
        "hold_rate": ratio(int(hold.sum()), len(hold)),
        "false_hold_rate": ratio(fp, int((~y).sum())),
    }


def recalibrate(
    labels: np.ndarray,
    base: np.ndarray,
    candidate: np.ndarray,
    thresholds: Mapping[str, float],
) -> dict[str, Any]:
    """The lowest toxicity threshold at which the candidate holds no more acceptable comments than the base.

    Other categories keep their thresholds. The figures are on the validation labels.
    """
    y = labels.astype(bool)
    target = float((held(base, thresholds) & ~y).sum())
    current = float(thresholds.get("toxicity", 0.8))
    proposed = current
    for t in np.round(np.arange(0.05, 0.991, 0.01), 2):
        if (held(candidate, {**thresholds, "toxicity": float(t)}) & ~y).sum() <= target:
            proposed = float(t)
            break
    new = {**thresholds, "toxicity": proposed}
    return {
        "toxicity": {
            "current": current,
            "proposed": proposed,
            "base_at_current": at_thresholds(labels, held(base, thresholds)),
            "candidate_at_current": at_thresholds(labels, held(candidate, thresholds)),
            "candidate_at_proposed": at_thresholds(labels, held(candidate, new)),
        }
    }


def fairness(
    base_score: Callable[[list[str]], list[dict[str, float]]],
    candidate_score: Callable[[list[str]], list[dict[str, float]]],
    thresholds: Mapping[str, float],
    tolerance: float = FAIRNESS_TOLERANCE,
) -> dict[str, Any]:
    """`models.bias`'s probe summary for both, and whether the candidate is within tolerance."""
    from models.bias import probe_summary

    base = probe_summary(base_score, dict(thresholds))
    cand = probe_summary(candidate_score, dict(thresholds))
    worse = [k for k in LOWER_IS_BETTER if cand[k] > base[k] + tolerance]
    worse += [k for k in HIGHER_IS_BETTER if cand[k] < base[k] - tolerance]
    return {
        "base": base,
        "candidate": cand,
        "tolerance": tolerance,
        "worse": worse,
        "ok": not worse,
    }


def adapt(
    base: Path,
    train_texts: Sequence[str],
    train_labels: Sequence[bool],
    val_texts: Sequence[str],
    val_labels: Sequence[bool],
    output: Path,
    *,
    thresholds: Mapping[str, float],
    epochs: int = EPOCHS,
    max_length: int = MAX_LENGTH,
    batch_size: int = BATCH_SIZE,
    lr: float = LR,
    seed: int = 13,
    threads: int | None = None,
    bootstrap: int = BOOTSTRAP,
    probe: bool = True,
    progress: Callable[[float], None] | None = None,
) -> dict[str, Any]:
    """Fine-tune `base` on the site's labels; write the checkpoint to `output`; return the metrics."""
    import torch
    from transformers import (
        AutoModelForSequenceClassification,
        AutoTokenizer,
        get_linear_schedule_with_warmup,
    )
    from transformers.utils import logging as hf_logging

    from models import names, ngrams
    from models.train import export, length_batches, masked_bce, predict

    hf_logging.disable_progress_bar()  # a job's output is its metrics, not loading bars
    # The base checkpoint's first names read as one (models.names) go with it: the
    # adapted model learns from, is measured on and serves the texts as it reads them.
    first_names = names.find(base)
    reading = first_names.read_all if first_names is not None else list
    train_texts, val_texts = reading(train_texts), reading(val_texts)
    # The base checkpoint's n-gram head, if it has one, is served beside the adapted
    # transformer too: it is copied into the output and mixed into every score compared
    # here, so base and candidate are measured as the service would serve them.
    head = ngrams.find(base)
    # The head does not change: its probabilities for a list of texts (validation, the
    # probe) are computed once and mixed into both the base's and the candidate's scores.
    head_probability: dict[tuple[str, ...], np.ndarray] = {}

    def served(probs: np.ndarray, texts: Sequence[str]) -> np.ndarray:
        if head is None:
            return probs
        key = tuple(texts)
        if key not in head_probability:
            head_probability[key] = head.probability(texts)
        return head.blend_columns(probs, CATEGORIES, head_probability[key])

    started = time.monotonic()
    report = progress or (lambda _p: None)
    if threads:
        torch.set_num_threads(threads)
    random.seed(seed)
    torch.manual_seed(seed)
    tokenizer = AutoTokenizer.from_pretrained(base, local_files_only=True)
    model = AutoModelForSequenceClassification.from_pretrained(
        base, dtype=torch.float32, local_files_only=True
    )
    # The base model's own scores: targets for the five other categories, and the
    # baseline of validation (scored before a single step changes the weights).
    teacher = predict(model, tokenizer, list(train_texts), max_length)
    base_val = served(predict(model, tokenizer, list(val_texts), EVAL_LENGTH), val_texts)
    report(0.1)

    targets = torch.tensor(teacher)
    targets[:, TOXICITY] = torch.tensor([1.0 if y else 0.0 for y in train_labels])
    lengths = [
        len(x)
        for x in tokenizer(list(train_texts), truncation=True, max_length=max_length)["input_ids"]
    ]
    weights = torch.ones(len(train_texts))
    pos = float(targets[:, TOXICITY].sum())
    pos_weight = torch.ones(len(CATEGORIES))
    # The site's toxic comments are few: weigh them up as models.train does (capped).
    pos_weight[TOXICITY] = min(8.0, max(1.0, math.sqrt((len(train_texts) - pos) / max(pos, 1.0))))
    steps = math.ceil(len(train_texts) / batch_size) * epochs
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    schedule = get_linear_schedule_with_warmup(optimizer, int(0.06 * steps), steps)
    rng = random.Random(seed)
    model.train()
    done = 0
    for _ in range(epochs):
        for batch in length_batches(lengths, batch_size, rng):
            enc = tokenizer(
                [train_texts[i] for i in batch],
                truncation=True,
                max_length=max_length,
                padding=True,
                return_tensors="pt",
            )
            loss = masked_bce(model(**enc).logits, targets[batch], weights[batch], pos_weight, 0.0)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            schedule.step()
            optimizer.zero_grad(set_to_none=True)
            done += 1
            report(0.1 + 0.75 * done / steps)
    trained = time.monotonic()

    cand_val = served(predict(model, tokenizer, list(val_texts), EVAL_LENGTH), val_texts)
    y = np.array([1 if v else 0 for v in val_labels])
    metrics: dict[str, Any] = {
        "roc_auc": bootstrap_auc(y, base_val[:, TOXICITY], cand_val[:, TOXICITY], bootstrap, seed),
        "at_thresholds": {
            "base": at_thresholds(y, held(base_val, thresholds)),
            "candidate": at_thresholds(y, held(cand_val, thresholds)),
        },
        "recalibration": recalibrate(y, base_val, cand_val, thresholds),
        # How far each category moved on the validation texts (mean absolute change):
        # toxicity should, the five distilled ones should not.
        "drift": {
            c: round(float(np.abs(cand_val[:, i] - base_val[:, i]).mean()), 4)
            for i, c in enumerate(CATEGORIES)
        },
    }
    report(0.9)
    if probe:
        base_model = AutoModelForSequenceClassification.from_pretrained(
            base, dtype=torch.float32, local_files_only=True
        )

        def scorer(m: Any) -> Callable[[list[str]], list[dict[str, float]]]:
            def score(texts: list[str]) -> list[dict[str, float]]:
                texts = reading(texts)
                probs = served(predict(m, tokenizer, texts, EVAL_LENGTH), texts)
                return [dict(zip(CATEGORIES, map(float, row), strict=True)) for row in probs]

            return score

        metrics["fairness"] = fairness(scorer(base_model), scorer(model), thresholds)
        del base_model
    export(model, tokenizer, output)
    for part in (ngrams.HEAD_FILE, names.NAMES_FILE):
        if (Path(base) / part).is_file():
            shutil.copyfile(Path(base) / part, Path(output) / part)
    metrics["settings"] = {
        "epochs": epochs,
        "max_length": max_length,
        "batch_size": batch_size,
        "lr": lr,
        "train_rows": len(train_texts),
        "validation_rows": len(val_texts),
        "threads": torch.get_num_threads(),
        "nice": os.nice(0),
    }
    metrics["seconds"] = {
        "training": round(trained - started, 1),
        "total": round(time.monotonic() - started, 1),
    }
    report(1.0)
    return metrics


def adapt_in_child(
    base: Path,
    train_texts: Sequence[str],
    train_labels: Sequence[bool],
    val_texts: Sequence[str],
    val_labels: Sequence[bool],
    output: Path,
    *,
    thresholds: Mapping[str, float],
    nice: int = CHILD_NICE,
    export: bool = True,
    progress: Callable[[float], None] | None = None,
    **options: Any,
) -> dict[str, Any]:
    """`adapt` (then, with `export`, `models.export_adapted`) in a child process at niceness `nice`.

    Why a child: without a job queue, training runs in a thread of the process that
    asked for it, which may be a web worker; there it would take the worker's GIL, its
    cores and (torch.set_num_threads is per process) its inference threads. A child
    with a lower priority gets only the CPU that serving leaves. `options` are
    `adapt`'s (epochs, lr, max_length, threads, ...); `progress` gets adapt's progress.
    Raises AdaptFailed with the child's error when it fails or dies.
    """
    job = {
        "base": str(base),
        "train_texts": list(train_texts),
        "train_labels": [bool(y) for y in train_labels],
        "val_texts": list(val_texts),
        "val_labels": [bool(y) for y in val_labels],
        "output": str(output),
        "thresholds": dict(thresholds),
        "options": options,
        "export": export,
        "nice": nice,
        "parent": os.getpid(),
    }
    env = dict(os.environ)
    # The child imports this package from where the parent did, whatever its directory.
    here = str(Path(__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (here, env.get("PYTHONPATH")) if p)
    if options.get("threads"):
        # Read by OpenMP when torch loads, before adapt's torch.set_num_threads.
        env["OMP_NUM_THREADS"] = str(options["threads"])
    report = progress or (lambda _p: None)
    command = [sys.executable, "-c", "from models.adapt import child_main; child_main()"]
    with tempfile.TemporaryFile() as stderr:
        child = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr,
            env=env,
            text=True,
            encoding="utf-8",
        )
        result: dict[str, Any] | None = None
        error = ""
        try:
            assert child.stdin is not None and child.stdout is not None
            child.stdin.write(json.dumps(job))
            child.stdin.close()
            for line in child.stdout:
                message = json.loads(line)
                if "progress" in message:
                    report(float(message["progress"]))
                elif "metrics" in message:
                    result = message["metrics"]
                elif "error" in message:
                    error = str(message["error"])
            code = child.wait()
        finally:
            if child.poll() is None:  # the parent failed (e.g. recording progress): stop it
                child.kill()
                child.wait()
        if result is None:
            stderr.seek(0)
            tail = stderr.read()[-1500:].decode("utf-8", "replace").strip()
            raise AdaptFailed(error or f"the training process exited with {code}: {tail}")
    return result


class AdaptFailed(RuntimeError):
    """The training process failed; the message is its error."""


def child_main() -> None:
    """The child of `adapt_in_child`: read the job from stdin, train at low priority, answer on stdout."""
    job = json.loads(sys.stdin.read())
    os.nice(int(job["nice"]))
    # Our answers go through the original stdout; anything a library prints goes to stderr.
    answers = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    parent = int(job["parent"])

    def say(message: Mapping[str, Any]) -> None:
        answers.write(json.dumps(message) + "\n")
        answers.flush()

    def progress(p: float) -> None:
        if os.getppid() != parent:  # whoever asked is gone: no one will read the result
            os._exit(3)
        say({"progress": p})

    try:
        metrics = adapt(
            Path(job["base"]),
            job["train_texts"],
            job["train_labels"],
            job["val_texts"],
            job["val_labels"],
            Path(job["output"]),
            thresholds=job["thresholds"],
            progress=progress,
            **job["options"],
        )
        if job["export"]:
            from models import export_adapted

            metrics["onnx_parity_mae"] = export_adapted(job["output"]).get("export_parity_mae")
    except Exception as exc:
        traceback.print_exc()  # to stderr, whose tail the parent shows if the answer is lost
        say({"error": f"{type(exc).__name__}: {exc}"})
        raise SystemExit(1) from exc
    say({"metrics": metrics})


def read_labels(path: Path) -> tuple[list[str], list[bool]]:
    """A `text,label` CSV (label 0 or 1)."""
    with path.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    return [r["text"] for r in rows], [r["label"].strip() == "1" for r in rows]


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("labels", type=Path, help="text,label CSV in time order (last 20 %% validate)")
    ap.add_argument("--base", type=Path, default=None, help="default: the shipped model")
    ap.add_argument("--output", type=Path, required=True)
    ap.add_argument("--epochs", type=int, default=EPOCHS)
    ap.add_argument("--max-length", type=int, default=MAX_LENGTH)
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--no-probe", action="store_true")
    args = ap.parse_args(argv)
    from models import DEFAULT_MODEL_PATH, calibrated_thresholds

    base = args.base or DEFAULT_MODEL_PATH
    texts, labels = read_labels(args.labels)
    cut = len(texts) - max(1, round(0.2 * len(texts)))
    thresholds = calibrated_thresholds(base)
    metrics = adapt(
        Path(base),
        texts[:cut],
        labels[:cut],
        texts[cut:],
        labels[cut:],
        args.output,
        thresholds=thresholds,
        epochs=args.epochs,
        max_length=args.max_length,
        threads=args.threads or None,
        probe=not args.no_probe,
    )
    print(json.dumps(metrics, indent=2))


if __name__ == "__main__":
    main()
