"""Gunicorn settings: one worker per core, each with its own model copy and one inference thread.

    gunicorn -c gunicorn.conf.py 'api:create_app()'

No model work happens in the master: it migrates the database (under a lock, so
replicas starting together on one PostgreSQL database take turns), or, with
MODERATION_AUTO_MIGRATE=0, waits for `flask --app api db upgrade` to have run; it
makes sure the int8 ONNX export exists (a child process makes it); every worker
loads and warms the model before it takes traffic.
"""

from __future__ import annotations

import os
import socket
import tempfile
from typing import Any

# Set before any worker loads a model, so each worker runs one inference thread.
os.environ.setdefault("OMP_NUM_THREADS", os.environ.get("MODERATION_TORCH_THREADS", "1"))
os.environ.setdefault("MKL_NUM_THREADS", os.environ["OMP_NUM_THREADS"])
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
if "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="moderation-metrics-")

# Every line this instance logs names it; its workers inherit the master's name.
os.environ.setdefault("MODERATION_INSTANCE_ID", f"{socket.gethostname()}-{os.getpid()}")

# After the environment above: importing api reads PROMETHEUS_MULTIPROC_DIR.
from api import config as _config

bind = os.environ.get("MODERATION_BIND", "127.0.0.1:8000")
# One per CPU the container may use (its cgroup quota), not one per core of the host.
workers = int(os.environ.get("MODERATION_WORKERS", _config.available_cores()))
# One control socket per instance (gunicornc -s PATH), not gunicorn's one per user.
control_socket = os.environ.get("MODERATION_CONTROL_SOCKET") or _config.control_socket(
    os.environ.get("MODERATION_INSTANCE_PATH")
    or os.path.join(os.path.dirname(os.path.abspath(__file__)), "instance"),
    bind,
)
# Threads let a worker answer health checks and wait on the database while its
# single inference thread scores; scoring itself is serialised per worker.
worker_class = "gthread"
threads = int(os.environ.get("MODERATION_THREADS", "4"))
timeout = 60
graceful_timeout = 20
# No keep-alive: a gthread worker keeps every connection it accepted, so a client
# (or proxy) holding a few persistent connections can pin all its traffic on one
# worker while the others idle (measured: 1.1 of 2 cores busy at "saturation",
# half the throughput). Closing after each answer lets every request go to
# whichever worker accepts first. A proxy in front keeps its own client side alive.
keepalive = 0
accesslog = None  # the app writes one JSON line per request
errorlog = "-"
# gunicorn's own lines, and every logger's (background job failures included), as JSON
# lines naming the instance, like the request lines.
logger_class = "api.logs.JsonLogger"
loglevel = os.environ.get("MODERATION_LOG_LEVEL", "info")
capture_output = True


def on_starting(server: Any) -> None:
    """Migrate the schema once, and get the model runtime ready once, in the master.

    `models.prepare` makes the ONNX int8 export if there is none yet (in a child
    process; once per model version) and imports code that is safe to share
    across a fork (no model, tensors or thread pools): the workers forked from the
    master share those pages instead of each importing its own copy. gc.freeze() keeps the workers' garbage
    collector from touching, and so copying, the objects they share.
    """
    import gc

    from api import create_app, model_path, multilingual_path
    from api.services import services
    from models import prepare

    app = create_app({"PRELOAD_MODEL": False})
    engine = services(app).store.engine
    if not app.config["AUTO_MIGRATE"]:
        _wait_for_migrations(server, engine)
    engine.dispose()
    os.environ["MODERATION_AUTO_MIGRATE"] = "0"
    server.log.info("preparing the model runtime (a first start exports the model, ~10 s)")
    runtime = prepare(
        model_path(app.config), fast=app.config["FAST_PATH"], engine=app.config["FAST_ENGINE"]
    )
    server.log.info("model runtime: %s", runtime)
    second = multilingual_path(app.config)
    if second is not None:
        runtime = prepare(second, fast=app.config["FAST_PATH"], engine=app.config["FAST_ENGINE"])
        server.log.info("multilingual model %s runtime: %s", second, runtime)
    gc.freeze()


def _wait_for_migrations(server: Any, engine: Any) -> None:
    """With MODERATION_AUTO_MIGRATE=0: wait for the schema to be migrated, or exit saying why.

    The migration is its own step (a Job, a one-shot service) that may still be running
    when replicas start; MODERATION_MIGRATE_WAIT seconds (default 300) is how long they wait.
    """
    import time

    from moderation import migrate

    deadline = time.monotonic() + float(os.environ.get("MODERATION_MIGRATE_WAIT", "300"))
    while migrate.is_behind(engine):
        message = (
            f"the database schema is at {migrate.current(engine) or 'nothing'}; this release "
            f"needs {migrate.head()}: run `flask --app api db upgrade` "
            "(MODERATION_AUTO_MIGRATE=0 leaves it to that step)"
        )
        if time.monotonic() > deadline:
            raise SystemExit(message)
        server.log.warning("waiting: %s", message)
        time.sleep(2)


def post_worker_init(worker: Any) -> None:
    """Load and warm the models, then start the re-scoring job, before taking traffic.

    The multilingual model too, when one is served: loaded on the first German comment
    instead, it would cost that request a few seconds and the worker its memory at an
    unforeseen moment under load (docs/performance.md measures both).
    """
    from api import start_background
    from api.observability import process_memory_mb
    from api.services import services
    from moderation.language import detect_language

    # Language identification first: its model file unpacks through ~100 MB for a
    # moment (~1 s), which then stays below the models' memory instead of atop it.
    detect_language("Warming up language identification.")
    _release_freed_memory()
    app = worker.wsgi
    scorer = services(app).scorer
    for each in services(app).service.scorers.distinct():
        each.load()
        each.score(["Warming up the model with a short comment.", "A second, longer one " * 20])
    _release_freed_memory()
    start_background(app)
    try:
        memory = process_memory_mb()
    except OSError:  # no /proc
        memory = {"peak_rss": float("nan"), "private": float("nan")}
    worker.log.info(
        "worker %s ready: model %s (%s %s), peak RSS %.0f MB, private %.0f MB",
        worker.pid,
        " + ".join(
            s.model.name if s.model else "?" for s in services(app).service.scorers.distinct()
        ),
        getattr(scorer.load(), "engine", "?"),
        getattr(scorer.load(), "precision", "?"),
        memory["peak_rss"],
        memory["private"],
    )


def _release_freed_memory() -> None:
    """Give the loader's freed buffers back to the OS (glibc keeps them otherwise)."""
    import contextlib
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("c")
    if name:
        with contextlib.suppress(OSError, AttributeError):  # not glibc
            ctypes.CDLL(name).malloc_trim(0)


def child_exit(server: Any, worker: Any) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
