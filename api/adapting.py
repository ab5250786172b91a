"""Wiring of sites' adapted models: the adapter (models.adapt), their job, the loader."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from api.jobs import Jobs
from moderation.scoring import Scorer
from moderation.site_models import AdaptRequest

log = logging.getLogger(__name__)


class ModelAdapter:
    """Fine-tunes the base checkpoint with `models.adapt`, then exports it to int8 ONNX beside it.

    Both run in a child process at niceness `nice` with `threads` torch threads
    (models.adapt.adapt_in_child), whoever runs the job: a web worker's job thread
    without a broker, or a `flask --app api worker` process. So serving keeps its
    cores, its GIL and its own torch threads while a site's model trains.
    """

    def __init__(
        self,
        base: Path,
        *,
        epochs: int,
        max_length: int,
        threads: int | None,
        lr: float = 3e-5,
        export: bool = True,
        nice: int = 19,
    ) -> None:
        self.base = Path(base)
        self.epochs = epochs
        self.lr = lr
        self.max_length = max_length
        self.threads = threads
        self.export = export
        self.nice = nice

    def adapt(self, request: AdaptRequest, progress: Callable[[float], None]) -> Mapping[str, Any]:
        from models.adapt import adapt_in_child

        return adapt_in_child(
            self.base,
            request.train_texts,
            request.train_labels,
            request.val_texts,
            request.val_labels,
            request.output,
            thresholds=request.thresholds,
            epochs=self.epochs,
            lr=self.lr,
            max_length=self.max_length,
            threads=self.threads,
            nice=self.nice,
            export=self.export,
            progress=lambda p: progress(0.95 * p),
        )


TRAIN_JOB = "site_models.train"
# The periodic look for sites whose new labels call for a new version (SiteModels.retrain).
RETRAIN_JOB = "site_models.retrain"


class QueuedTraining:
    """Training as the job `site_models.train` of the job queue (api/jobs.py).

    With MODERATION_BROKER_URL a `flask --app api worker` process runs it, away from
    the web workers; without, a thread of the process that asked.
    """

    def __init__(self, queue: Jobs) -> None:
        self.queue = queue

    @property
    def in_process(self) -> bool:
        return self.queue.in_process

    def train_later(self, site_id: str, version: int, train: Callable[[str, int], None]) -> None:
        self.queue.enqueue(TRAIN_JOB, site_id, version)


class InlineTraining:
    """Train at once, in the caller's thread (tests and the benchmark)."""

    in_process = True

    def train_later(self, site_id: str, version: int, train: Callable[[str, int], None]) -> None:
        train(site_id, version)


def site_model_loader(
    root: Path, base_name: str, cfg: Mapping[str, Any]
) -> Callable[[str], Scorer]:
    """Load a site's model by its key ("SITE_ID/vN") from ROOT/SITE_ID/vN."""

    def load(key: str) -> Scorer:
        from models import load_adapted

        site_id, _, version = key.partition("/")
        return load_adapted(
            Path(root) / site_id / version,
            name=f"{base_name}@{site_id}",
            version=version,
            fast=cfg["FAST_PATH"],
            engine=cfg["FAST_ENGINE"],
            threads=cfg["TORCH_THREADS"],
            batch_size=cfg["BATCH_SIZE"],
        )

    return load
