"""What the domain needs from a toxicity model, and how it copes when the model fails."""

from __future__ import annotations

import concurrent.futures
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

from moderation.comments import ModelInfo


@runtime_checkable
class Scorer(Protocol):
    """A toxicity model: a probability per category for each text (long texts windowed)."""

    name: str
    version: str
    categories: tuple[str, ...]

    def score(self, texts: Sequence[str]) -> list[dict[str, float]]: ...


class ScoringUnavailable(Exception):
    """The model raised, timed out or is not loaded: hold the comment and score it later."""


class GuardedScorer:
    """Run a scorer on one inference thread with a deadline, turning failures into ScoringUnavailable.

    One thread per process because the model is the bottleneck: more threads only
    contend for the same cores. A scorer that hangs keeps its thread, so later
    calls time out too until it returns, which is the behaviour we want: hold and
    re-score later rather than pile up requests.
    """

    def __init__(self, load: Callable[[], Scorer], timeout: float) -> None:
        self._load = load
        self._scorer: Scorer | None = None
        self._lock = threading.Lock()
        self._timeout = timeout
        self._pool = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="inference")

    @property
    def loaded(self) -> bool:
        return self._scorer is not None

    def load(self) -> Scorer:
        """Load the model once (thread-safe); loading errors surface as ScoringUnavailable."""
        if self._scorer is None:
            with self._lock:
                if self._scorer is None:
                    try:
                        self._scorer = self._load()
                    except Exception as exc:  # any loading failure means "no model"
                        raise ScoringUnavailable(f"model failed to load: {exc}") from exc
        return self._scorer

    @property
    def model(self) -> ModelInfo | None:
        return ModelInfo(self._scorer.name, self._scorer.version) if self._scorer else None

    def _call(self, fn: Callable[[], Any]) -> Any:
        future = self._pool.submit(fn)
        try:
            return future.result(timeout=self._timeout)
        except concurrent.futures.TimeoutError as exc:
            raise ScoringUnavailable(f"scoring took longer than {self._timeout}s") from exc
        except ScoringUnavailable:
            raise
        except Exception as exc:
            raise ScoringUnavailable(f"scoring failed: {type(exc).__name__}: {exc}") from exc

    def score(self, texts: Sequence[str]) -> list[dict[str, float]]:
        """Score texts, or raise ScoringUnavailable."""
        scorer = self.load()
        result = self._call(lambda: scorer.score(list(texts)))
        if len(result) != len(texts):
            raise ScoringUnavailable("scorer returned the wrong number of results")
        return [_clean(r) for r in result]


def _clean(scores: Mapping[str, Any]) -> dict[str, float]:
    out = {}
    for k, v in scores.items():
        f = float(v)
        if f != f:  # NaN from a broken model must not reach the policy
            raise ScoringUnavailable(f"scorer returned NaN for {k}")
        out[k] = min(1.0, max(0.0, f))
    return out
