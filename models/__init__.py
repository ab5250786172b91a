"""Machine-learning models: `load_scorer()` gives the toxicity scorer the service runs.

Importing this package does not import torch; `load_scorer` does, when called.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from models.labels import CATEGORIES

if TYPE_CHECKING:
    from models.scorer import TransformersScorer

__all__ = ["CATEGORIES", "DEFAULT_MODEL_PATH", "FAST_PATH_ENV", "load_scorer"]

DEFAULT_MODEL_PATH = Path(__file__).resolve().parent / "minilm-toxicity"
FAST_PATH_ENV = "MODERATION_FAST_PATH"

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def fast_path_from_env() -> bool:
    """Return whether MODERATION_FAST_PATH asks for the int8 path (unset means no)."""
    value = os.environ.get(FAST_PATH_ENV, "").strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(f"{FAST_PATH_ENV} must be 1 or 0, not {value!r}")


def load_scorer(
    path: str | Path | None = None,
    *,
    fast: bool | None = None,
    threads: int | None = None,
    verify: bool = True,
    batch_size: int | None = None,
) -> TransformersScorer:
    """Load a scorer from a checkpoint folder (default: the shipped one).

    `fast` selects the int8 model; with `verify` (the default) it serves only if
    it agrees with fp32 on PARITY_TEXTS, else the fp32 model is returned.
    `batch_size` caps the windows per forward pass, and so peak activation memory.
    """
    import torch

    from models.scorer import TransformersScorer

    if threads is not None:
        torch.set_num_threads(threads)  # process-wide: one inference thread per worker
    if fast is None:
        fast = fast_path_from_env()
    path = path or DEFAULT_MODEL_PATH
    options: dict[str, Any] = {"batch_size": batch_size} if batch_size else {}
    if not fast:
        return TransformersScorer.from_pretrained(path, **options)
    if not verify:
        return TransformersScorer.from_pretrained(path, fast=True, **options)
    return _verified_fast(path, options)


# Comments of our own, benign and toxic, short and long: the int8 model must agree with
# the fp32 one on them before it is allowed to serve.
PARITY_TEXTS = (
    "Thanks for the update on the bridge repairs.",
    "I disagree with the council's decision, but the article explains it well.",
    "You are a pathetic idiot and nobody wants you here.",
    "Shut up, you worthless piece of garbage.",
    "I will find where you live and make you pay for this.",
    "People like you from that country are all criminals.",
    "What the hell is wrong with this damn schedule?",
    "Lovely photos of the harbour at dawn.",
    "This is the dumbest thing I have read all year, and the writer should be ashamed.",
    "Could someone explain how the new parking fees are calculated? " * 6,
)
PARITY_LIMIT = 0.02  # mean absolute difference of probabilities


def _verified_fast(path: str | Path, options: dict[str, Any]) -> TransformersScorer:
    """The int8 scorer if it matches fp32 within PARITY_LIMIT on PARITY_TEXTS, else fp32.

    One model in memory: the fp32 model scores PARITY_TEXTS, is quantized in place
    and scores them again. Only when that fails is fp32 loaded a second time.
    """
    import logging

    from models.scorer import TransformersScorer, mean_abs_diff

    scorer = TransformersScorer.from_pretrained(path, **options)
    reference = scorer.score(PARITY_TEXTS)
    scorer.quantize()
    mae = mean_abs_diff(reference, scorer.score(PARITY_TEXTS))
    if mae > PARITY_LIMIT:
        logging.getLogger(__name__).warning(
            "int8 scorer differs from fp32 by %.4f (limit %.2f): serving fp32", mae, PARITY_LIMIT
        )
        scorer = TransformersScorer.from_pretrained(path, **options)
    scorer.parity_mae = mae
    return scorer
