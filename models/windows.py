"""The engine-independent half of a scorer: windows in, probabilities out, no torch.

A scorer tokenizes, cuts long text into overlapping windows, runs its model over
the windows (`forward`, the only part an engine provides) and pools the window
logits into per-text probabilities per category. The torch scorer
(`models.scorer`) and the ONNX Runtime scorer (`models.onnx`) share everything
here, so they window and pool text identically.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from models.labels import CATEGORIES, map_label
from models.names import NAMES_FILE, FirstNames
from models.ngrams import HEAD_FILE, NgramHead

DEFAULT_MAX_LENGTH = 256  # serving window: long text is windowed, never truncated
MAX_LENGTH_CAP = 512
DEFAULT_STRIDE = 64  # tokens shared by neighbouring windows
DEFAULT_BATCH_SIZE = 32
WEIGHT_PATTERNS = ("*.safetensors", "*.bin")

Scores = dict[str, float]


def window_bounds(n_tokens: int, size: int, stride: int) -> list[tuple[int, int]]:
    """Cut `n_tokens` into windows of at most `size` tokens, neighbours sharing `stride`."""
    if n_tokens <= size:
        return [(0, n_tokens)]
    step = max(1, size - stride)
    starts = list(range(0, n_tokens - size, step))
    starts.append(n_tokens - size)  # the last window ends exactly at the text's end
    return [(s, s + size) for s in starts]


def weights_version(path: Path) -> str:
    """Return the first 12 hex digits of the sha256 of the checkpoint's weight files.

    An n-gram head beside the transformer (`models.ngrams`) and a list of first names
    read as one (`models.names`) are part of the weights: they change what the
    checkpoint answers.
    """
    files: list[Path] = []
    for pattern in WEIGHT_PATTERNS:
        files = sorted(p for p in path.glob(pattern) if p.is_file())
        if files:
            break
    if not files:
        raise FileNotFoundError(f"no weights (*.safetensors or *.bin) in {path}")
    files.extend(path / f for f in (HEAD_FILE, NAMES_FILE) if (path / f).is_file())
    digest = hashlib.sha256()
    for f in files:
        with f.open("rb") as fh:
            while chunk := fh.read(1 << 20):
                digest.update(chunk)
    return digest.hexdigest()[:12]


def head(
    id2label: Mapping[Any, Any], num_labels: int, problem_type: str | None
) -> tuple[str, dict[str, list[int]]]:
    """Return the activation ('sigmoid' or 'softmax') and our category -> logit columns."""
    names = {int(i): str(name) for i, name in (id2label or {}).items()}
    columns: dict[str, list[int]] = {}
    benign = 0
    for i in range(num_labels):
        category = map_label(names.get(i, f"LABEL_{i}"))
        if category is None:
            benign += 1
        else:
            columns.setdefault(category, []).append(i)
    if not columns:
        raise ValueError(f"no label of this model maps onto our categories: {names}")
    if problem_type == "single_label_classification":
        activation = "softmax"
    elif problem_type == "multi_label_classification" or num_labels == 1:
        activation = "sigmoid"
    else:
        # An unannotated two-class head with one benign class is toxic / non-toxic.
        activation = "softmax" if num_labels == 2 and benign == 1 else "sigmoid"
    return activation, columns


def special_tokens(full: Sequence[int], bare: Sequence[int]) -> tuple[list[int], list[int]]:
    """What a tokenizer puts before and after a text: `full` is its ids with them, `bare` without."""
    for k in range(len(full) - len(bare) + 1):
        if list(full[k : k + len(bare)]) == list(bare):
            return list(full[:k]), list(full[k + len(bare) :])
    return [], []


def window_length(requested: int | None, positions: Any, declared: Any) -> int:
    """The window length: the request (default 256), capped by the model and its tokenizer."""
    limits = [MAX_LENGTH_CAP]
    if isinstance(positions, int) and positions > 0:
        limits.append(positions)
    if isinstance(declared, int) and 0 < declared < 1_000_000:  # huge = "not set"
        limits.append(declared)
    return min(requested or DEFAULT_MAX_LENGTH, *limits)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return np.exp(-np.logaddexp(0.0, -x))  # no overflow for large |x|


def _softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


class WindowScorer:
    """Tokenize, window, forward (an engine's subclass), pool windows into scores.

    Subclasses set up `_encode` (texts -> token ids without special tokens) and
    `forward` (windows -> one row of logits per window). `finish` mixes in the
    checkpoint's n-gram head, where it has one (`models.ngrams`).
    """

    engine = "none"

    def __init__(
        self,
        *,
        id2label: Mapping[Any, Any],
        num_labels: int,
        problem_type: str | None,
        prefix: list[int],
        suffix: list[int],
        pad_id: int,
        max_length: int,
        name: str = "model",
        version: str = "unversioned",
        stride: int = DEFAULT_STRIDE,
        batch_size: int = DEFAULT_BATCH_SIZE,
        precision: str = "fp32",
    ) -> None:
        self.name = name
        self.version = version
        self.precision = precision
        self.parity_mae: float | None = None  # set when an int8 model was checked at load
        self.text_head: NgramHead | None = None  # mixed into its categories by `finish`
        self.first_names: FirstNames | None = None  # read as one name, by `reading`
        self.batch_size = batch_size
        self.num_labels = num_labels
        self.max_length = max_length
        self.activation, self._columns = head(id2label, num_labels, problem_type)
        self.categories: tuple[str, ...] = tuple(
            c for c in CATEGORIES if c in self._columns or c == "toxicity"
        )
        self._prefix, self._suffix = prefix, suffix
        self.window_size = self.max_length - len(prefix) - len(suffix)
        if self.window_size < 2:
            raise ValueError(f"max_length {self.max_length} leaves no room for text")
        self.stride = max(0, min(stride, self.window_size // 2))
        self._pad_id = pad_id
        self._lock = threading.Lock()

    # -- what an engine provides --------------------------------------------------------

    def _encode(self, texts: list[str]) -> list[list[int]]:
        raise NotImplementedError

    def forward(self, windows: list[list[int]]) -> np.ndarray:
        """Run the model over token windows; return logits, one row per window."""
        raise NotImplementedError

    # -- pipeline steps -------------------------------------------------------------

    def reading(self, texts: Sequence[str]) -> list[str]:
        """The texts as the model reads them: the checkpoint's first names as one name."""
        if self.first_names is None:
            return list(texts)
        return self.first_names.read_all(texts)

    def preprocess(self, texts: Sequence[str]) -> tuple[list[list[int]], list[int]]:
        """Tokenize and cut into windows; return each window's ids and the text it came from."""
        windows: list[list[int]] = []
        owners: list[int] = []
        for i, ids in enumerate(self._encode(self.reading(texts))):
            for begin, end in window_bounds(len(ids), self.window_size, self.stride):
                windows.append(self._prefix + list(ids[begin:end]) + self._suffix)
                owners.append(i)
        return windows, owners

    def token_counts(self, texts: Sequence[str]) -> list[int]:
        """Each text's length in model tokens, special tokens included (before windowing)."""
        extra = len(self._prefix) + len(self._suffix)
        return [len(ids) + extra for ids in self._encode(self.reading(texts))]

    def batches(self, windows: list[list[int]]) -> list[tuple[list[int], np.ndarray, np.ndarray]]:
        """Group windows shortest first, `batch_size` at a time, padded per batch.

        Returns (window indices, input ids, attention mask) per batch, int64 arrays.
        """
        order = sorted(range(len(windows)), key=lambda i: len(windows[i]))
        out = []
        for start in range(0, len(order), self.batch_size):
            idx = order[start : start + self.batch_size]
            width = max(len(windows[i]) for i in idx)
            input_ids = np.full((len(idx), width), self._pad_id, dtype=np.int64)
            attention_mask = np.zeros((len(idx), width), dtype=np.int64)
            for row, i in enumerate(idx):
                input_ids[row, : len(windows[i])] = windows[i]
                attention_mask[row, : len(windows[i])] = 1
            out.append((idx, input_ids, attention_mask))
        return out

    def postprocess(self, logits: Any, owners: list[int], n_texts: int) -> list[Scores]:
        """Turn window logits into per-text probabilities: our categories, max over windows.

        `logits` is one array (rows = windows) or a sequence of rows, as an inference
        queue collects them from several forward passes.
        """
        rows = np.asarray(
            logits if hasattr(logits, "shape") else [np.asarray(r) for r in logits],
            dtype=np.float64,
        ).reshape(len(owners), self.num_labels)
        probs = _softmax(rows) if self.activation == "softmax" else _sigmoid(rows)
        per_category = {}
        for category, cols in self._columns.items():
            # Classes of a softmax head exclude each other, so their probabilities add up.
            part = probs[:, cols]
            per_category[category] = part.sum(1) if self.activation == "softmax" else part.max(1)
        if self.activation == "softmax":
            all_cols = sorted({c for cols in self._columns.values() for c in cols})
            per_category["toxicity"] = np.minimum(probs[:, all_cols].sum(1), 1.0)
        elif "toxicity" not in per_category:
            per_category["toxicity"] = np.stack(list(per_category.values()), 1).max(1)
        table = np.stack([per_category[c] for c in self.categories], 1)
        best = np.full((n_texts, len(self.categories)), -1.0)
        np.maximum.at(best, np.asarray(owners, dtype=np.int64), table)
        return [
            {c: float(v) for c, v in zip(self.categories, row, strict=True)}
            for row in np.clip(best, 0.0, 1.0).tolist()
        ]

    def finish(self, texts: Sequence[str], scores: Sequence[Scores]) -> list[Scores]:
        """The last step, on whole texts: the n-gram head's categories mixed in, if there is one."""
        if self.text_head is None:
            return list(scores)
        return self.text_head.blend(self.reading(texts), scores)

    # -- public API --------------------------------------------------------------------

    def score(self, texts: Sequence[str]) -> list[Scores]:
        """Return each text's probability per category, in input order, as served."""
        return self.finish(texts, self.transformer_scores(texts))

    def transformer_scores(self, texts: Sequence[str]) -> list[Scores]:
        """`score` without the n-gram head: the transformer's own view of each text."""
        if isinstance(texts, str):
            raise TypeError("score() takes a sequence of texts, not one string")
        if not texts:
            return []
        windows, owners = self.preprocess(texts)
        return self.postprocess(self.forward(windows), owners, len(texts))

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(name={self.name!r}, version={self.version!r}, "
            f"engine={self.engine!r}, precision={self.precision!r}, "
            f"max_length={self.max_length})"
        )


def mean_abs_diff(ref: Sequence[Scores], other: Sequence[Scores]) -> float:
    """Return the mean absolute difference of two score lists over their shared categories."""
    diffs = [abs(a[c] - b[c]) for a, b in zip(ref, other, strict=True) for c in a if c in b]
    return sum(diffs) / len(diffs) if diffs else 0.0
