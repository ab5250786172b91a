"""Celery against Dramatiq on Redis: enqueue and run no-op jobs, side by side in one run.

    python -m bench.job_queues [--jobs 2000] [--threads 8] [--broker redis://127.0.0.1:6379/15]

For each library: a worker process with `--threads` threads (acknowledging a job after
it ran: Celery's acks_late, Dramatiq's default), then `--jobs` no-op jobs sent from
this process as fast as it can. Each job pushes (time it started - time it was sent)
to a Redis list; the run ends when every job has reported. Printed per library:
enqueue rate (jobs/s sent), throughput (jobs/s from the first send to the last run)
and the latency from send to start (median, p90, p99). How this project chose its
queue from these figures: docs/scaling.md.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from typing import Any

import redis

RESULTS = "bench-job-queues:latency"
QUEUE = "bench-job-queues"


def dramatiq_app(url: str) -> Any:
    import dramatiq
    from dramatiq.brokers.redis import RedisBroker

    broker = RedisBroker(url=url, namespace="bench-job-queues-dramatiq")
    dramatiq.set_broker(broker)
    store = redis.Redis.from_url(url)

    @dramatiq.actor(queue_name=QUEUE, max_retries=0)
    def noop(sent_at: float) -> None:
        store.rpush(RESULTS, time.time() - sent_at)

    return broker, noop


def celery_app(url: str) -> Any:
    from celery import Celery

    app = Celery("bench", broker=url)
    app.conf.update(
        task_acks_late=True,
        task_default_queue=QUEUE,
        worker_hijack_root_logger=False,
        broker_connection_retry_on_startup=True,
    )
    store = redis.Redis.from_url(url)

    @app.task(name="noop")
    def noop(sent_at: float) -> None:
        store.rpush(RESULTS, time.time() - sent_at)

    return app, noop


def worker(library: str, url: str, threads: int) -> None:
    """Run a worker of `library` until killed."""
    if library == "dramatiq":
        import dramatiq

        broker, _ = dramatiq_app(url)
        running = dramatiq.Worker(broker, worker_threads=threads)
        running.start()
        while True:
            time.sleep(3600)
    app, _ = celery_app(url)
    app.worker_main(
        ["worker", "--pool=threads", f"--concurrency={threads}", "--loglevel=WARNING", "-Q", QUEUE]
    )


def run(library: str, url: str, jobs: int, threads: int) -> dict[str, float]:
    store = redis.Redis.from_url(url)
    store.flushdb()
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench.job_queues", "--worker", library, "--broker", url,
         "--threads", str(threads)]
    )  # fmt: skip
    try:
        send = dramatiq_app(url)[1].send if library == "dramatiq" else celery_app(url)[1].delay
        send(time.time())  # the worker is up once this one job has run
        deadline = time.monotonic() + 120
        while store.llen(RESULTS) < 1:
            if time.monotonic() > deadline or proc.poll() is not None:
                raise SystemExit(f"{library}: the worker did not start")
            time.sleep(0.05)
        store.delete(RESULTS)
        started = time.perf_counter()
        for _ in range(jobs):
            send(time.time())
        sent = time.perf_counter()
        while store.llen(RESULTS) < jobs:
            if time.monotonic() > deadline + 600:
                raise SystemExit(f"{library}: {store.llen(RESULTS)} of {jobs} jobs ran")
            time.sleep(0.01)
        finished = time.perf_counter()
        latencies = sorted(float(x) * 1000 for x in store.lrange(RESULTS, 0, -1))
    finally:
        proc.terminate()
        proc.wait(30)
    q = statistics.quantiles(latencies, n=100)
    return {
        "enqueue/s": jobs / (sent - started),
        "jobs/s": jobs / (finished - started),
        "p50 ms": q[49],
        "p90 ms": q[89],
        "p99 ms": q[98],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--broker", default="redis://127.0.0.1:6379/15")
    parser.add_argument("--worker", choices=["celery", "dramatiq"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.broker, args.threads)
        return
    import celery
    import dramatiq

    versions = {"celery": celery.__version__, "dramatiq": dramatiq.__version__}
    results = {lib: run(lib, args.broker, args.jobs, args.threads) for lib in versions}
    redis.Redis.from_url(args.broker).flushdb()
    print(f"{args.jobs} no-op jobs, a worker of {args.threads} threads, Redis {args.broker}")
    columns = list(next(iter(results.values())))
    print(f"{'library':<16}" + "".join(f"{c:>12}" for c in columns))
    for lib, figures in results.items():
        name = f"{lib} {versions[lib]}"
        print(f"{name:<16}" + "".join(f"{figures[c]:>12.1f}" for c in columns))


if __name__ == "__main__":
    main()
