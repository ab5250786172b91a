"""Wiring of sites' adapted models: the adapter (models.adapt), the job runner, the loader."""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from moderation.scoring import Scorer
from moderation.site_models import AdaptRequest

log = logging.getLogger(__name__)


class ModelAdapter:
    """Fine-tunes the base checkpoint with `models.adapt`, then exports it to int8 ONNX beside it."""

    def __init__(
        self,
        base: Path,
        *,
        epochs: int,
        max_length: int,
        threads: int | None,
        lr: float = 3e-5,
        export: bool = True,
    ) -> None:
        self.base = Path(base)
        self.epochs = epochs
        self.lr = lr
        self.max_length = max_length
        self.threads = threads
        self.export = export

    def adapt(self, request: AdaptRequest, progress: Callable[[float], None]) -> Mapping[str, Any]:
        from models import export_adapted
        from models.adapt import adapt

        metrics = adapt(
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
            progress=lambda p: progress(0.95 * p),
        )
        if self.export:
            meta = export_adapted(request.output)
            metrics["onnx_parity_mae"] = meta.get("export_parity_mae")
        return metrics


class ThreadJobs:
    """Jobs in one background thread of this process, one at a time, in order.

    The stand-in for a job queue: a job dies with its process (a restarted worker
    marks what it left unfinished as failed, `SiteModelRepository.fail_unfinished`).
    """

    def __init__(self) -> None:
        self._jobs: queue.Queue[tuple[str, Callable[[], None]]] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.idle = threading.Event()
        self.idle.set()

    def submit(self, name: str, job: Callable[[], None]) -> None:
        self.idle.clear()
        self._jobs.put((name, job))
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="jobs", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            name, job = self._jobs.get()
            try:
                job()
            except Exception:
                log.exception("job %s failed", name)
            finally:
                self._jobs.task_done()
                if self._jobs.unfinished_tasks == 0:
                    self.idle.set()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until every submitted job has run; False on timeout."""
        return self.idle.wait(timeout)


class InlineJobs:
    """Run each job at once, in the caller's thread (the CLI's `--wait`, and tests)."""

    def submit(self, name: str, job: Callable[[], None]) -> None:
        job()


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
