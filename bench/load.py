"""Load benchmark: our service against the naive pipeline baseline, side by side in one run.

    python -m bench.load [--duration 30] [--workers 2] [--model models/minilm-toxicity]

Starts both under gunicorn on loopback with the same number of workers, drives
each with locust (headless, in-process) at several request rates up to
saturation, and prints throughput and p50/p95/p99 latency with every figure as
a ratio to the baseline. Also measures scorer-only throughput (the model with no
HTTP, same number of processes) to show what the web layer costs.
"""

from __future__ import annotations

# isort: off
# locust monkey-patches sockets with gevent: it must be imported before anything else.
from locust import FastHttpUser, constant, constant_throughput, task
from locust.env import Environment

# isort: on
import argparse
import itertools
import json
import multiprocessing
import os
import random
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.corpus import corpus
from bench.serve import start, stop, worker_memory_mb

ROOT = Path(__file__).resolve().parent.parent


def drive(
    url: str, key: str, texts: list[str], users: int, rate: float | None, duration: float
) -> dict[str, float]:
    """Run locust for `duration` s: open-ish loop at `rate` req/s, or closed loop if None."""
    bodies = itertools.cycle([json.dumps({"text": t}) for t in texts])
    headers = {
        "Content-Type": "application/json",
        **({"Authorization": f"Bearer {key}"} if key else {}),
    }

    class Commenter(FastHttpUser):
        """geventhttpclient rather than requests: the generator shares the 2 cores, keep it light."""

        host = url
        network_timeout = 60.0
        connection_timeout = 60.0
        wait_time = constant(0) if rate is None else constant_throughput(rate / users)

        @task
        def post_comment(self) -> None:
            self.client.post(
                "/v1/comments", data=next(bodies), headers=headers, name="/v1/comments"
            )

    env = Environment(user_classes=[Commenter])
    runner = env.create_local_runner()
    runner.start(users, spawn_rate=users)
    time.sleep(2)  # ramp-up excluded from the figures
    env.stats.reset_all()
    start_t = time.monotonic()
    time.sleep(duration)
    elapsed = time.monotonic() - start_t
    s = env.stats.total
    result = {
        "requests": s.num_requests,
        "failures": s.num_failures,
        # Only answered comments count: a failure (error, 429) is not throughput.
        "throughput": (s.num_requests - s.num_failures) / elapsed,
        "p50": s.get_response_time_percentile(0.5) or 0.0,
        "p95": s.get_response_time_percentile(0.95) or 0.0,
        "p99": s.get_response_time_percentile(0.99) or 0.0,
    }
    runner.quit()
    return result


def _score_worker(model: str, texts: list[str], queue: Any) -> None:
    os.environ["OMP_NUM_THREADS"] = "1"
    from models import load_scorer
    from moderation.text import normalize

    scorer = load_scorer(model, fast=True, threads=1)
    scorer.score(texts[:4])
    t0 = time.perf_counter()
    for t in texts:  # one comment per call, as requests arrive
        scorer.score([normalize(t)])
    queue.put(len(texts) / (time.perf_counter() - t0))


def scorer_only(model: str, texts: list[str], workers: int) -> float:
    """Comments/s of the bare scorer (fast path), one process per worker, one comment per call."""
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    procs = [
        ctx.Process(target=_score_worker, args=(model, texts[i::workers], queue))
        for i in range(workers)
    ]
    for p in procs:
        p.start()
    rates = [queue.get() for _ in procs]
    for p in procs:
        p.join()
    return sum(rates)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--duration", type=float, default=30)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--users", type=int, default=32)
    ap.add_argument("--model", default=str(ROOT / "models" / "minilm-toxicity"))
    ap.add_argument("--fractions", default="0.25,0.5,0.75,1.0")
    ap.add_argument("--json", type=Path, help="also write the figures here")
    args = ap.parse_args(argv)
    texts = corpus(2000)
    random.Random(3).shuffle(texts)
    fractions = [float(f) for f in args.fractions.split(",")]
    results: dict[str, Any] = {}
    sat_rate = None
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        for kind in ("ours", "naive"):
            proc, url, key = start(kind, args.workers, args.model, tmp)
            try:
                sat = drive(url, key, texts, args.users, None, args.duration)
                sat_rate = sat_rate or sat["throughput"]
                steps = {
                    f: drive(url, key, texts, args.users, f * sat_rate, args.duration)
                    for f in fractions
                }
                results[kind] = {
                    "saturation": sat,
                    "steps": steps,
                    "memory_mb": worker_memory_mb(proc),
                }
            finally:
                stop(proc)
            print(f"{kind}: saturation {sat['throughput']:.1f} req/s", flush=True)
    bare = scorer_only(args.model, texts[:600], args.workers)
    ours, naive = results["ours"], results["naive"]

    def ratio(a: float, b: float) -> str:
        return f"{a / b:.2f}x" if b else "n/a"

    print(
        f"\nworkers: {args.workers}, corpus: {len(texts)} comments, {args.duration:.0f} s per step"
    )
    print(
        "| rate (req/s) | ours req/s | naive req/s | ratio | ours p50/p95/p99 ms | naive p50/p95/p99 ms | p99 ratio (naive/ours) | ours failures |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for label, o, n in [("saturation", ours["saturation"], naive["saturation"])] + [
        (f"{f:.2f} x sat = {f * (sat_rate or 0):.1f}", ours["steps"][f], naive["steps"][f])
        for f in fractions
    ]:
        print(
            f"| {label} | {o['throughput']:.1f} | {n['throughput']:.1f} | "
            f"{ratio(o['throughput'], n['throughput'])} | {o['p50']:.0f}/{o['p95']:.0f}/{o['p99']:.0f} | "
            f"{n['p50']:.0f}/{n['p95']:.0f}/{n['p99']:.0f} | {ratio(n['p99'], o['p99'])} | "
            f"{o['failures']} |"
        )
    print(
        f"\nscorer only (fast path, {args.workers} processes): {bare:.1f} comments/s; "
        f"service at saturation = {ours['saturation']['throughput'] / bare:.0%} of it"
    )
    print("\n| memory per worker, MB | peak RSS | RSS | PSS | private |\n|---|---|---|---|---|")
    for kind in ("ours", "naive"):
        for i, m in enumerate(results[kind]["memory_mb"]):
            print(
                f"| {kind} worker {i + 1} | {m['peak_rss']:.0f} | {m['rss']:.0f} | "
                f"{m['pss']:.0f} | {m['private']:.0f} |"
            )
    if args.json:
        args.json.write_text(json.dumps({"results": results, "scorer_only": bare}, indent=2))


if __name__ == "__main__":
    main()
