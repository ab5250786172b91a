"""Machine-learning models: `load_scorer()` gives the toxicity scorer the service runs.

Importing this package does not import torch; `load_scorer` does, when called.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

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
    path: str | Path | None = None, *, fast: bool | None = None, threads: int | None = None
) -> TransformersScorer:
    """Load a scorer from a checkpoint folder (default: the shipped one); `fast` means int8."""
    import torch

    from models.scorer import TransformersScorer

    if threads is not None:
        torch.set_num_threads(threads)  # process-wide: one inference thread per worker
    if fast is None:
        fast = fast_path_from_env()
    return TransformersScorer.from_pretrained(path or DEFAULT_MODEL_PATH, fast=fast)
