"""Gunicorn settings: one worker per core, each with its own model copy and one inference thread.

    gunicorn -c gunicorn.conf.py 'api:create_app()'

No torch work happens in the master: it only migrates the database; every
worker loads and warms the model before it takes traffic.
"""

from __future__ import annotations

import os
import tempfile
from typing import Any

# Set before any worker imports torch, so each worker runs one inference thread.
os.environ.setdefault("OMP_NUM_THREADS", os.environ.get("MODERATION_TORCH_THREADS", "1"))
os.environ.setdefault("MKL_NUM_THREADS", os.environ["OMP_NUM_THREADS"])
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
if "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="moderation-metrics-")


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


bind = os.environ.get("MODERATION_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("MODERATION_WORKERS", _cores()))
# Threads let a worker answer health checks and wait on the database while its
# single inference thread scores; scoring itself is serialised per worker.
worker_class = "gthread"
threads = int(os.environ.get("MODERATION_THREADS", "4"))
timeout = 60
graceful_timeout = 20
keepalive = 5
accesslog = None  # the app writes one JSON line per request
errorlog = "-"
loglevel = os.environ.get("MODERATION_LOG_LEVEL", "info")
capture_output = True


def on_starting(server: Any) -> None:
    """Create or migrate the schema once, in the master, before workers start."""
    from api import create_app

    app = create_app({"PRELOAD_MODEL": False})
    app.extensions["moderation.store"].engine.dispose()
    os.environ["MODERATION_AUTO_MIGRATE"] = "0"


def post_worker_init(worker: Any) -> None:
    """Load and warm the model, then start the re-scoring job, before taking traffic."""
    import resource

    from api import start_background

    app = worker.wsgi
    scorer = app.extensions["moderation.scorer"]
    scorer.load()
    scorer.score(["Warming up the model with a short comment.", "A second, longer one " * 20])
    from moderation.language import detect_language

    detect_language("Warming up language identification too.")  # loads its model (~1 s)
    start_background(app)
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    worker.log.info(
        "worker %s ready: model %s, peak memory %.0f MB",
        worker.pid,
        scorer.model.name if scorer.model else "?",
        rss_mb,
    )


def child_exit(server: Any, worker: Any) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
