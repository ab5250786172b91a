"""What the domain needs from a toxicity model, and how it copes when the model fails."""

from __future__ import annotations

import concurrent.futures
import threading
import time
from collections import OrderedDict
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
    `postprocess` turns one call's rows back into per-text scores, and `finish`
    completes them from the whole texts (a text-level head; often a no-op).
    """

    def preprocess(self, texts: Sequence[str]) -> tuple[list[list[int]], list[int]]: ...

    def forward(self, windows: list[list[int]]) -> Sequence[Any]: ...

    def postprocess(self, rows: Any, owners: list[int], n_texts: int) -> list[dict[str, float]]: ...

    def finish(
        self, texts: Sequence[str], scores: Sequence[dict[str, float]]
    ) -> list[dict[str, float]]: ...


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
    scorer: Scorer  # the model this call runs on (the base model, or a site's adapted one)
    future: concurrent.futures.Future[list[Any]] = field(default_factory=concurrent.futures.Future)
    owners: list[int] = field(default_factory=list)  # text index of each window
    texts: list[str] = field(default_factory=list)  # a windowed call's texts, for `finish`
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
        self.scorer = scorer  # the default model; a call may name another (a site's own)
        self.windowed = isinstance(scorer, WindowedScorer)
        self.batch_tokens = max(1, batch_tokens)
        self._clock = clock
        self._calls: list[_Call] = []
        self._cond = threading.Condition()
        self._thread = threading.Thread(target=self._serve, name="inference", daemon=True)
        self._thread.start()

    def submit(self, texts: list[str], scorer: Scorer | None = None) -> _Call:
        """Queue a call (tokenized here, on the caller's thread); its future gets the rows.

        `scorer`: the model to run it on (default: the queue's own). A forward pass only
        ever holds windows of one model; models take turns by the same priority.
        """
        scorer = scorer or self.scorer
        if isinstance(scorer, WindowedScorer):
            windows, owners = scorer.preprocess(texts)
            # Shortest windows first within the call. A comment's sentences (its spans,
            # or a long comment's dilution pass) differ in length: in text order nearly
            # every one would open a pass of its own under the padding rule, and each
            # pass has a fixed cost (measured: 16 sentences of 16 tokens cost 1.4 ms
            # each together, 2.4 ms each alone). Scores do not depend on window order.
            order = sorted(range(len(windows)), key=lambda i: len(windows[i]))
            units = [windows[i] for i in order]
            call = _Call(units, [len(w) for w in units], self._clock(), scorer)
            call.owners, call.n_texts = [owners[i] for i in order], len(texts)
            call.texts = texts
        else:
            size = sum(len(t) for t in texts) // 4 + 1  # about 4 characters a token
            call = _Call([texts], [size], self._clock(), scorer)
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
        if not isinstance(call.scorer, WindowedScorer):
            return list(rows[0])
        return call.scorer.finish(
            call.texts, call.scorer.postprocess(rows, call.owners, call.n_texts)
        )

    def _take(self) -> list[tuple[_Call, int]]:
        """Pick the next forward pass: (call, unit) pairs, highest priority first."""
        now = self._clock()
        self._calls = [c for c in self._calls if not c.future.cancelled()]
        order = sorted(
            (c for c in self._calls if c.taken < len(c.units)),
            key=lambda c: c.remaining() - AGING_TOKENS_PER_SECOND * (now - c.enqueued),
        )
        if not order:
            return []
        model = order[0].scorer
        if not isinstance(model, WindowedScorer):
            return [(order[0], 0)]
        batch: list[tuple[_Call, int]] = []
        width = tokens = 0
        for call in order:
            if call.scorer is not model:
                continue
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
            model = batch[0][0].scorer
            try:
                if isinstance(model, WindowedScorer):
                    rows = model.forward([c.units[i] for c, i in batch])
                else:
                    rows = [model.score(batch[0][0].units[0])]
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


class SiteModelCache:
    """Sites' adapted models loaded in this process: at most `capacity`, least recently used out.

    `load(key)` loads one (key: what `model_key` names, e.g. "SITE_ID/v3"). Loading
    happens once per key under a lock of its own, so the base model keeps scoring while
    a site's model loads. A model evicted while a call still runs on it is freed when
    that call ends.
    """

    def __init__(self, load: Callable[[str], Scorer], capacity: int) -> None:
        self._load = load
        self.capacity = max(0, capacity)
        self._loaded: OrderedDict[str, Scorer] = OrderedDict()
        self._lock = threading.Lock()
        self._loading: dict[str, threading.Lock] = {}
        self.loads = 0  # how many times a model was loaded (evictions make reloads)

    def keys(self) -> list[str]:
        """The loaded models, least recently used first."""
        with self._lock:
            return list(self._loaded)

    def get(self, key: str) -> Scorer:
        """The model for `key`, loading it (and evicting the least recently used) if needed."""
        with self._lock:
            if key in self._loaded:
                self._loaded.move_to_end(key)
                return self._loaded[key]
            gate = self._loading.setdefault(key, threading.Lock())
        with gate:
            with self._lock:
                if key in self._loaded:
                    self._loaded.move_to_end(key)
                    return self._loaded[key]
            scorer = self._load(key)
            with self._lock:
                self.loads += 1
                self._loading.pop(key, None)
                if self.capacity == 0:
                    return scorer
                self._loaded[key] = scorer
                while len(self._loaded) > self.capacity:
                    self._loaded.popitem(last=False)
            return scorer


def model_key(site_id: str, version: int | None) -> str | None:
    """The key of a site's adapted model version (None: the base model serves the site)."""
    return None if version is None else site_model_key(site_id, version)


def site_model_key(site_id: str, version: int) -> str:
    """The key of one version of a site's adapted model: SITE_ID/vN."""
    return f"{site_id}/v{version}"


class GuardedScorer:
    """Score through the process's inference queue with a deadline; failures become ScoringUnavailable.

    With `sites` (a `SiteModelCache`), a call may name a site's adapted model by its
    key; it runs on the same queue (one inference thread per process) as the base model.
    """

    def __init__(
        self,
        load: Callable[[], Scorer],
        timeout: float,
        batch_tokens: int = DEFAULT_BATCH_TOKENS,
        sites: SiteModelCache | None = None,
    ) -> None:
        self._load = load
        self._queue: InferenceQueue | None = None
        self._lock = threading.Lock()
        self._timeout = timeout
        self._batch_tokens = batch_tokens
        self.sites = sites
        self._views: dict[str, SiteModelScorer] = {}

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

    def _site_scorer(self, key: str) -> Scorer:
        if self.sites is None:
            raise ScoringUnavailable(f"no site models are served here (asked for {key})")
        try:
            return self.sites.get(key)
        except Exception as exc:
            raise ScoringUnavailable(f"site model {key} failed to load: {exc}") from exc

    @property
    def model(self) -> ModelInfo | None:
        scorer = self._queue.scorer if self._queue else None
        return ModelInfo(scorer.name, scorer.version) if scorer else None

    def site_view(self, key: str) -> SiteModelScorer:
        """The site model `key` names, as a scorer of its own (the same object for one key)."""
        with self._lock:
            view = self._views.get(key)
            if view is None:
                view = self._views[key] = SiteModelScorer(self, key)
            return view

    def model_for(self, key: str | None) -> ModelInfo | None:
        """What scores a call naming `key`: the site's model, or the base model for None."""
        if key is None:
            return self.model
        try:
            scorer = self._site_scorer(key)
        except ScoringUnavailable:
            return None  # it scored a moment ago; unloadable now, so nothing to name
        return ModelInfo(scorer.name, scorer.version)

    def score(self, texts: Sequence[str], model: str | None = None) -> list[dict[str, float]]:
        """Score texts (on the site model `model` names, else the base model), or raise ScoringUnavailable."""
        self.load()
        assert self._queue is not None
        if not texts:
            return []
        scorer = self._site_scorer(model) if model is not None else None
        try:
            call = self._queue.submit(list(texts), scorer)
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


class SiteModelScorer:
    """A site's adapted model seen as a scorer: calls go through its GuardedScorer, naming it."""

    def __init__(self, guarded: GuardedScorer, key: str) -> None:
        self.guarded = guarded
        self.key = key

    def score(self, texts: Sequence[str]) -> list[dict[str, float]]:
        """Score on the site's model, or raise ScoringUnavailable."""
        return self.guarded.score(texts, model=self.key)

    @property
    def model(self) -> ModelInfo | None:
        return self.guarded.model_for(self.key)


# What scores a group of texts: a model's GuardedScorer, or a site's adapted model.
AnyScorer = GuardedScorer | SiteModelScorer


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
