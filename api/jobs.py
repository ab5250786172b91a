"""The job queue binding: background work as named jobs on Dramatiq, or in-process without a broker.

With `MODERATION_BROKER_URL` (redis://... or amqp://...), jobs are Dramatiq messages
that `flask --app api worker` processes run, and the web processes run no background
work. Without it, the same job functions run in a thread pool of the process that
enqueues them (and the web workers' background thread runs the periodic work, as
`scripts/serve.sh` always has). Job bodies live in `moderation/`; this module only
names them, binds them to the app's services and runs them. Why Dramatiq and not
Celery: docs/scaling.md.

Registering and enqueueing a job of your own (e.g. from create_app):

    jobs(app).register("sites.train_model", lambda site_id: trainer.train(site_id), retries=0)
    jobs(app).enqueue("sites.train_model", site.id)   # arguments must be JSON values
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any, cast

from flask import Flask, current_app

from moderation.clock import utcnow
from moderation.events import DueEvent

_EXTENSION = "moderation.jobs"
_log = logging.getLogger(__name__)

Job = Callable[..., object]


def _broker(url: str, queue: str) -> Any:
    """A Dramatiq broker for a redis:// or amqp:// URL (its default middleware: retries,
    time limits; a message is acknowledged once its job has run)."""
    if url.startswith(("redis://", "rediss://", "unix://")):
        from dramatiq.brokers.redis import RedisBroker

        return RedisBroker(url=url, namespace=queue)
    if url.startswith(("amqp://", "amqps://")):
        from dramatiq.brokers.rabbitmq import RabbitmqBroker

        return RabbitmqBroker(url=url)
    raise SystemExit("MODERATION_BROKER_URL: expected redis://, rediss://, amqp:// or amqps://")


@dataclass(frozen=True)
class Periodic:
    """A job enqueued every `every()` seconds, once across all workers (0: never)."""

    job: str
    every: Callable[[], float]


class Jobs:
    """Named job functions, and where they run: a broker's workers, or a local thread pool."""

    def __init__(self, broker_url: str = "", queue: str = "moderation", threads: int = 4) -> None:
        self.broker_url = broker_url
        self.queue = queue
        self.broker = _broker(broker_url, queue) if broker_url else None
        self.functions: dict[str, Job] = {}
        self.periodic: list[Periodic] = []
        self._threads = threads
        self._pool: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()
        self._running: set[Future[object]] = set()

    @property
    def in_process(self) -> bool:
        """True without a broker: enqueued jobs run in this process's threads."""
        return self.broker is None

    def register(
        self, name: str, function: Job, *, retries: int = 0, time_limit: float = 3600.0
    ) -> None:
        """Make `function` a job called `name`; with a broker, a failed run is retried
        `retries` times (with Dramatiq's backoff) and stopped after `time_limit` seconds."""
        if name in self.functions:
            raise ValueError(f"a job named {name!r} is registered already")
        self.functions[name] = function
        if self.broker is not None:
            import dramatiq

            dramatiq.Actor(
                function,
                broker=self.broker,
                actor_name=name,
                queue_name=self.queue,
                priority=0,
                options={"max_retries": retries, "time_limit": int(time_limit * 1000)},
            )

    def every(self, job: str, seconds: Callable[[], float]) -> None:
        """Enqueue `job` every `seconds()` seconds (run by the worker's scheduler)."""
        self.periodic.append(Periodic(job, seconds))

    def enqueue(self, name: str, *args: Any) -> None:
        """Run job `name` with `args` (JSON values) soon: on a worker, or in a local thread."""
        if name not in self.functions:
            raise KeyError(f"no job named {name!r}")
        if self.broker is not None:
            self.broker.get_actor(name).send(*args)
            return
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self._threads, thread_name_prefix="jobs")
            future = self._pool.submit(self.run, name, *args)
            self._running.add(future)
        future.add_done_callback(self._done)

    def _done(self, future: Future[object]) -> None:
        with self._lock:
            self._running.discard(future)

    def wait_idle(self) -> None:
        """Wait until the local pool runs nothing, including jobs its jobs enqueued."""
        while True:
            with self._lock:
                running = list(self._running)
            if not running:
                return
            wait(running)

    def run(self, name: str, *args: Any) -> object:
        """Run job `name` here and now (in-process; failures are logged, not raised)."""
        try:
            return self.functions[name](*args)
        except Exception:
            _log.exception("job %s failed", name)
            return None

    def depth(self) -> int | None:
        """Messages in the broker's queue, waiting or being worked on (None: no broker)."""
        if self.broker is None:
            return None
        try:
            if hasattr(self.broker, "do_qsize"):  # Redis
                return int(self.broker.do_qsize(self.queue))
            ready, delayed, _dead = self.broker.get_queue_message_counts(self.queue)
            return int(ready) + int(delayed)
        except Exception:  # the broker away: the other figures are still worth a scrape
            _log.warning("could not measure the job queue's depth", exc_info=True)
            return None

    def shutdown(self) -> None:
        """Let the local pool finish what it runs."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)


def install(app: Flask, built: Jobs) -> None:
    app.extensions[_EXTENSION] = built


def jobs(app: Flask | None = None) -> Jobs:
    """The jobs of `app`, or of the app handling the current request or command."""
    return cast(Jobs, (app if app is not None else current_app).extensions[_EXTENSION])


def register_background_jobs(app: Flask) -> None:
    """The service's own jobs: webhook delivery, re-scoring, retention, and their schedule."""
    from api.services import services

    running = services(app)
    queue = jobs(app)
    deliverer = running.deliverer

    def dispatch_webhooks() -> int:
        claimed = deliverer.claim_due(100)
        for event in claimed:
            queue.enqueue("webhooks.deliver", event.id, event.claim)
        return len(claimed)

    def deliver_webhook(event_id: int, claim: str) -> int:
        return deliverer.deliver_and_continue(DueEvent(event_id, "", {}, 0, claim))

    queue.register("webhooks.dispatch", dispatch_webhooks)
    queue.register("webhooks.deliver", deliver_webhook)
    queue.register("rescore.pending", lambda: running.service.rescore_pending(100))
    queue.register("retention.run", lambda: len(running.retention.run()))
    # A chunk that failed (the model or the database away) goes on from its cursor.
    queue.register("backfill.chunk", running.backfill.run_chunk, retries=5)
    cfg = app.config
    queue.every("webhooks.dispatch", lambda: float(cfg["BACKGROUND_INTERVAL"]))
    queue.every("rescore.pending", lambda: float(cfg["RESCORE_INTERVAL"]))
    queue.every("retention.run", lambda: float(cfg["RETENTION_INTERVAL"]))


def schedule_once(app: Flask, now_due: Callable[[str, float], bool]) -> list[str]:
    """Enqueue each periodic job whose time has come; `now_due(job, every)` claims the run."""
    queue = jobs(app)
    started = []
    for periodic in queue.periodic:
        every = periodic.every()
        if every > 0 and now_due(periodic.job, every):
            queue.enqueue(periodic.job)
            started.append(periodic.job)
    return started


def run_worker(app: Flask, threads: int, tick: float = 1.0) -> None:
    """Process jobs from the broker, and enqueue periodic jobs, until SIGTERM or SIGINT.

    The schedule is in the database (`job_schedule`): of all the workers whose
    scheduler looks at a job in the same second, one moves its next run forward and
    enqueues it; the others see it moved. So periodic work runs once, not once per
    worker, and goes on while any worker runs.
    """
    import dramatiq

    from api.services import services

    queue = jobs(app)
    if queue.broker is None:
        raise SystemExit(
            "MODERATION_BROKER_URL is not set: without a broker the web workers run the "
            "background work themselves (scripts/serve.sh), and there is no worker to start."
        )
    store = services(app).store
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    worker = dramatiq.Worker(queue.broker, worker_threads=threads)
    worker.start()
    _log.info("worker started: %d threads, queue %r", threads, queue.queue)
    try:
        while not stop.is_set():
            try:
                schedule_once(app, lambda job, every: store.schedule.take(job, utcnow(), every))
            except Exception:
                _log.exception("scheduling failed; will retry")
            stop.wait(tick)
    finally:
        _log.info("worker stopping: finishing the jobs under way")
        worker.stop(timeout=30_000)
