"""What the domain needs from a toxicity model, and how it copes when the model fails."""

from __future__ import annotations

import concurrent.futures
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from moderation.comments import ModelInfo
from moderation.language import primary_language


@runtime_checkable
class Scorer(Protocol):
    """A toxicity model: a probability per category for each text (long texts windowed)."""

    name: str
    version: str
    categories: tuple[str, ...]

    def score(self, texts: Sequence[str]) -> list[dict[str, float]]: ...


@runtime_checkable
class WindowedScorer(Scorer, Protocol):
    """A scorer whose work can be cut into model windows and batched across callers.

    `preprocess` (tokenize, window) runs on the caller's thread; `forward` runs the
    model over windows from any number of calls and returns one row per window;
    `postprocess` turns one call's rows back into per-text scores.
    """

    def preprocess(self, texts: Sequence[str]) -> tuple[list[list[int]], list[int]]: ...

    def forward(self, windows: list[list[int]]) -> Sequence[Any]: ...

    def postprocess(self, rows: Any, owners: list[int], n_texts: int) -> list[dict[str, float]]: ...


class ScoringUnavailable(Exception):
    """The model raised, timed out or is not loaded: hold the comment and score it later."""


DEFAULT_BATCH_TOKENS = 512
# At most this share of a forward pass's tokens may be padding. Padding costs as
# much as text, and batching saves little: ONNX Runtime int8 runs one 64-token
# window as fast per comment as 32 together. Grouping reader comments of mixed
# lengths eight to a pass cut throughput to a third (bench: 110 -> 33 comments/s).
MAX_PADDING = 0.2
# How fast waiting raises a call's priority, in tokens per second: a 1,000-token
# comment that has waited half a second goes before a fresh 16-token one.
AGING_TOKENS_PER_SECOND = 2000.0


@dataclass(eq=False)
class _Call:
    """One score() call waiting for the inference thread: its units of work and their results."""

    units: list[Any]  # model windows (token ids), or for a plain scorer the whole text list
    sizes: list[int]  # cost of each unit in tokens
    enqueued: float
    future: concurrent.futures.Future[list[Any]] = field(default_factory=concurrent.futures.Future)
    owners: list[int] = field(default_factory=list)  # text index of each window
    n_texts: int = 0
    rows: list[Any] = field(init=False)  # one per unit, filled as passes finish
    taken: int = 0  # units handed to the model so far (they run in order)
    done: int = 0

    def __post_init__(self) -> None:
        self.rows = [None] * len(self.units)

    def remaining(self) -> int:
        return sum(self.sizes[self.taken :])


class InferenceQueue:
    """The one inference thread of a process, scheduling calls shortest-remaining-first.

    Each call is cut into model windows. Each step the thread runs one forward pass
    over the waiting windows that fit in `batch_tokens` padded tokens, taking calls
    in order of the tokens they have left (less the tokens their waiting has earned
    them, so a long comment cannot starve). Concurrent comments of about the same
    length share one forward pass (a window joins a pass only while padding stays
    within MAX_PADDING of its tokens), and a long comment runs a few windows at a
    time, so the short comments that arrive meanwhile are not stuck behind all of it. A plain scorer
    (no windows) runs one whole call per step, the shortest first.

    One thread because the model is the bottleneck: more threads only contend for
    the same cores. A forward pass that hangs keeps the thread, so later calls time
    out too until it returns: they are held and re-scored later.
    """

    def __init__(
        self,
        scorer: Scorer,
        batch_tokens: int = DEFAULT_BATCH_TOKENS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.scorer = scorer
        self.windowed = isinstance(scorer, WindowedScorer)
        self.batch_tokens = max(1, batch_tokens)
        self._clock = clock
        self._calls: list[_Call] = []
        self._cond = threading.Condition()
        self._thread = threading.Thread(target=self._serve, name="inference", daemon=True)
        self._thread.start()

    def submit(self, texts: list[str]) -> _Call:
        """Queue a call (tokenized here, on the caller's thread); its future gets the rows."""
        if self.windowed:
            windows, owners = self.scorer.preprocess(texts)  # type: ignore[attr-defined]
            # Shortest windows first within the call. A comment's sentences (its spans,
            # or a long comment's dilution pass) differ in length: in text order nearly
            # every one would open a pass of its own under the padding rule, and each
            # pass has a fixed cost (measured: 16 sentences of 16 tokens cost 1.4 ms
            # each together, 2.4 ms each alone). Scores do not depend on window order.
            order = sorted(range(len(windows)), key=lambda i: len(windows[i]))
            units = [windows[i] for i in order]
            call = _Call(units, [len(w) for w in units], self._clock())
            call.owners, call.n_texts = [owners[i] for i in order], len(texts)
        else:
            size = sum(len(t) for t in texts) // 4 + 1  # about 4 characters a token
            call = _Call([texts], [size], self._clock())
        with self._cond:
            self._calls.append(call)
            self._cond.notify()
        return call

    def result(self, call: _Call, timeout: float) -> list[dict[str, float]]:
        """Wait for a call's scores; on timeout its unstarted windows are dropped."""
        try:
            rows = call.future.result(timeout=timeout)
        except concurrent.futures.TimeoutError:
            call.future.cancel()
            raise
        if not self.windowed:
            return list(rows[0])
        return self.scorer.postprocess(rows, call.owners, call.n_texts)  # type: ignore[attr-defined]

    def _take(self) -> list[tuple[_Call, int]]:
        """Pick the next forward pass: (call, unit) pairs, highest priority first."""
        now = self._clock()
        self._calls = [c for c in self._calls if not c.future.cancelled()]
        order = sorted(
            (c for c in self._calls if c.taken < len(c.units)),
            key=lambda c: c.remaining() - AGING_TOKENS_PER_SECOND * (now - c.enqueued),
        )
        if not self.windowed:
            return [(order[0], 0)] if order else []
        batch: list[tuple[_Call, int]] = []
        width = tokens = 0
        for call in order:
            while call.taken < len(call.units):
                size = call.sizes[call.taken]
                padded = (len(batch) + 1) * max(width, size)
                if batch and (
                    padded > self.batch_tokens or tokens + size < (1 - MAX_PADDING) * padded
                ):
                    return batch
                batch.append((call, call.taken))
                width = max(width, size)
                tokens += size
                call.taken += 1
        return batch

    def _serve(self) -> None:
        while True:
            with self._cond:
                batch = self._take()
                while not batch:
                    self._cond.wait()
                    batch = self._take()
            try:
                if self.windowed:
                    rows = self.scorer.forward([c.units[i] for c, i in batch])  # type: ignore[attr-defined]
                else:
                    rows = [self.scorer.score(batch[0][0].units[0])]
            except Exception as exc:  # handed to the callers waiting on this pass
                with self._cond:
                    for call in {c for c, _ in batch}:
                        self._calls.remove(call)
                        _settle(call.future, exc=exc)
                continue
            with self._cond:
                for (call, i), row in zip(batch, rows, strict=True):
                    call.rows[i] = row
                    call.done += 1
                    if call.done == len(call.units):
                        self._calls.remove(call)
                        _settle(call.future, rows=call.rows)


def _settle(
    future: concurrent.futures.Future[list[Any]],
    rows: list[Any] | None = None,
    exc: Exception | None = None,
) -> None:
    """Complete a future unless its caller already gave up on it."""
    try:
        if exc is not None:
            future.set_exception(exc)
        else:
            future.set_result(rows if rows is not None else [])
    except concurrent.futures.InvalidStateError:
        pass  # cancelled after its caller timed out


class GuardedScorer:
    """Score through the process's inference queue with a deadline; failures become ScoringUnavailable."""

    def __init__(
        self,
        load: Callable[[], Scorer],
        timeout: float,
        batch_tokens: int = DEFAULT_BATCH_TOKENS,
    ) -> None:
        self._load = load
        self._queue: InferenceQueue | None = None
        self._lock = threading.Lock()
        self._timeout = timeout
        self._batch_tokens = batch_tokens

    @property
    def loaded(self) -> bool:
        return self._queue is not None

    def load(self) -> Scorer:
        """Load the model once (thread-safe); loading errors surface as ScoringUnavailable."""
        if self._queue is None:
            with self._lock:
                if self._queue is None:
                    try:
                        scorer = self._load()
                    except Exception as exc:  # any loading failure means "no model"
                        raise ScoringUnavailable(f"model failed to load: {exc}") from exc
                    self._queue = InferenceQueue(scorer, self._batch_tokens)
        return self._queue.scorer

    @property
    def model(self) -> ModelInfo | None:
        scorer = self._queue.scorer if self._queue else None
        return ModelInfo(scorer.name, scorer.version) if scorer else None

    def score(self, texts: Sequence[str]) -> list[dict[str, float]]:
        """Score texts, or raise ScoringUnavailable."""
        self.load()
        assert self._queue is not None
        if not texts:
            return []
        try:
            call = self._queue.submit(list(texts))
            result = self._queue.result(call, self._timeout)
        except concurrent.futures.TimeoutError as exc:
            raise ScoringUnavailable(f"scoring took longer than {self._timeout}s") from exc
        except ScoringUnavailable:
            raise
        except Exception as exc:
            raise ScoringUnavailable(f"scoring failed: {type(exc).__name__}: {exc}") from exc
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


class LanguageScorers:
    """The scorer for each comment's language: a second model's languages, the default for the rest.

    English, text with no language and every language no second model reads go to
    `default`; each code in `routed` (ISO 639-1, "de") to its scorer. Each scorer is a
    GuardedScorer with its own inference queue and model.
    """

    def __init__(
        self, default: GuardedScorer, routed: Mapping[str, GuardedScorer] | None = None
    ) -> None:
        self.default = default
        self.routed = dict(routed or {})

    @property
    def languages(self) -> tuple[str, ...]:
        """The languages a second model reads, sorted."""
        return tuple(sorted(self.routed))

    def for_language(self, language: str | None) -> GuardedScorer:
        """The scorer that reads `language` ("de-AT" goes where "de" does)."""
        return self.routed.get(primary_language(language or ""), self.default)

    def distinct(self) -> list[GuardedScorer]:
        """Each scorer once, the default first (to load or warm them)."""
        out = [self.default]
        for scorer in self.routed.values():
            if all(scorer is not s for s in out):
                out.append(scorer)
        return out
