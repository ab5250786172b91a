"""Backfill throughput with one and with two worker processes, side by side in one run.

    python -m bench.backfill [--comments 2000] [--chunk-size 100] [--broker redis://127.0.0.1:6379/14]

Stores `--comments` comments (scored by a stand-in model, as if before a model
change) in a fresh SQLite file, then for 1 and 2 processes of the real
`flask --app api worker` (one job thread each, the shipped model, int8 in ONNX
Runtime, loaded before the clock starts) runs `rescore --all` over all of them
and prints re-scored comments per second, and the ratio. Each worker process
uses one core for the model; with fewer free cores than workers the ratio shows it.
"""

from __future__ import annotations

import argparse
import os
import secrets
import tempfile
import time
from pathlib import Path

import redis
from flask import Flask

from api import create_app
from api.jobs import jobs
from api.services import services
from moderation.backfill import Scope
from moderation.comments import NewComment
from tests.fakes import KeywordScorer
from tests.serving import worker_processes

TEXTS = (
    "Thanks for the thorough report on the harbour works, number {i}.",
    "What a daft idea from the council, reader {i} says, absolutely clueless.",
    "I disagree with the columnist, but the figures in paragraph {i} are useful.",
    "You are an idiot if you believe this, commenter {i}.",
)


def worker_env(database: str, broker: str, queue: str, folder: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MODERATION_")}
    env.update(
        MODERATION_DATABASE_URL=database,
        MODERATION_BROKER_URL=broker,
        MODERATION_JOB_QUEUE=queue,
        MODERATION_SECRET_KEY="bench",
        MODERATION_INSTANCE_PATH=str(folder / "instance"),
        MODERATION_WORKER_THREADS="1",
        MODERATION_PRELOAD_MODEL="1",
        MODERATION_RETENTION_INTERVAL="0",
        MODERATION_MODEL_CACHE=os.environ.get("MODERATION_MODEL_CACHE", str(folder / "cache")),
        HF_HUB_OFFLINE="1",
    )
    return env


def measure(app: Flask, env: dict[str, str], processes: int, chunk_size: int, log: Path) -> float:
    """Comments per second of one backfill over every stored comment with `processes` workers."""
    with worker_processes(env, processes, log):  # each loaded its model before the clock
        deadline = time.monotonic() + 600
        backfill = services(app).backfill
        run, _ = backfill.start(Scope(), chunk_size)
        started = time.perf_counter()
        for seq in backfill.open_chunks(run.id):
            jobs(app).enqueue("backfill.chunk", run.id, seq)
        while True:
            current = services(app).store.backfills.get(run.id)
            if current is not None and current.finished_at is not None:
                break
            if time.monotonic() > deadline + 1800:
                raise SystemExit(f"the backfill did not finish; see {log}")
            time.sleep(0.2)
        return current.rescored / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--comments", type=int, default=2000)
    parser.add_argument("--chunk-size", type=int, default=100)
    parser.add_argument("--broker", default="redis://127.0.0.1:6379/14")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-backfill-"))
    database = f"sqlite:///{folder / 'bench.db'}"
    queue = "bench-backfill-" + secrets.token_hex(3)
    app = create_app(
        {
            "DATABASE_URL": database,
            "BROKER_URL": args.broker,
            "JOB_QUEUE": queue,
            "SCORER": KeywordScorer(),
            "MODEL": str(folder / "no-checkpoint"),
            "SECRET_KEY": "bench",
            "LOG_REQUESTS": False,
        }
    )
    site, _ = services(app).store.sites.create("bench-paper")
    comments = [NewComment(TEXTS[i % len(TEXTS)].format(i=i)) for i in range(args.comments)]
    for start in range(0, len(comments), 100):
        services(app).service.submit_batch(site, comments[start : start + 100])
    env = worker_env(database, args.broker, queue, folder)
    log = folder / "workers.log"
    rates = {n: measure(app, env, n, args.chunk_size, log) for n in (1, 2)}
    client = redis.Redis.from_url(args.broker)
    for key in client.scan_iter(f"{queue}:*"):
        client.delete(key)
    print(
        f"{args.comments} comments, chunks of {args.chunk_size}, the shipped model int8 "
        f"(ONNX Runtime), {os.cpu_count()} CPUs"
    )
    print(f"{'worker processes':<18}{'comments/s':>12}")
    for n, rate in rates.items():
        print(f"{n:<18}{rate:>12.1f}")
    print(f"two against one: {rates[2] / rates[1]:.2f}x")


if __name__ == "__main__":
    main()
