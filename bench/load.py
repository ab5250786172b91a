"""Load benchmark: our service against the naive pipeline baseline, side by side in one run.

    python -m bench.load [--duration 30] [--workers 2] [--ours 2x1,1x2] [--model PATH]
                         [--candidate PATH]

Starts each under gunicorn on loopback (ours in every WORKERSxTHREADS
configuration asked for, the baseline with --workers), drives each with locust
(headless, in-process, FastHttpUser) closed-loop to saturation and then at
fractions of that rate, and prints throughput and p50/p95/p99 latency, with
throughput as a ratio to the baseline's. Also measures scorer-only throughput
(the model with no HTTP, same processes and threads) to show what the web
layer costs, and each worker's memory (peak RSS, RSS, PSS, private).
With `--candidate`, every configuration of ours runs again on that checkpoint in the
same run (the baseline keeps `--model`), to measure what a new checkpoint costs.
"""

from __future__ import annotations

# isort: off
# locust monkey-patches sockets with gevent: it must be imported before anything else.
from locust import FastHttpUser, constant, task
from locust.env import Environment

# isort: on
import argparse
import itertools
import json
import multiprocessing
import os
import random
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.arrivals import poisson_arrivals
from bench.corpus import corpus
from bench.serve import start, stop, worker_memory_mb

ROOT = Path(__file__).resolve().parent.parent


def _cpu_seconds(pid: int | str) -> float:
    """User + system CPU time a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def drive(
    url: str,
    key: str,
    texts: list[str],
    users: int,
    rate: float | None,
    duration: float,
    server_pids: list[str] | None = None,
) -> dict[str, float]:
    """Run locust for `duration` s: Poisson arrivals at `rate` req/s, or closed loop if None."""
    bodies = itertools.cycle([json.dumps({"text": t}) for t in texts])
    rng = random.Random(11)
    headers = {
        "Content-Type": "application/json",
        **({"Authorization": f"Bearer {key}"} if key else {}),
    }

    class Commenter(FastHttpUser):
        """geventhttpclient rather than requests: the generator shares the 2 cores, keep it light."""

        host = url
        network_timeout = 60.0
        connection_timeout = 60.0
        wait_time = constant(0) if rate is None else poisson_arrivals(rate / users, rng)

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
    pids = server_pids or []
    cpu_before = [_cpu_seconds(p) for p in pids], _cpu_seconds("self")
    start_t = time.monotonic()
    time.sleep(duration)
    elapsed = time.monotonic() - start_t
    cpu_after = [_cpu_seconds(p) for p in pids], _cpu_seconds("self")
    s = env.stats.total
    result = {
        "requests": s.num_requests,
        "failures": s.num_failures,
        # Only answered comments count: a failure (error, 429) is not throughput.
        "throughput": (s.num_requests - s.num_failures) / elapsed,
        "p50": s.get_response_time_percentile(0.5) or 0.0,
        "p95": s.get_response_time_percentile(0.95) or 0.0,
        "p99": s.get_response_time_percentile(0.99) or 0.0,
        # CPU used during the measurement, in cores: the server's workers, and this
        # process (the load generator), which shares the same cores.
        "server_cores": (sum(cpu_after[0]) - sum(cpu_before[0])) / elapsed,
        "generator_cores": (cpu_after[1] - cpu_before[1]) / elapsed,
    }
    runner.quit()
    return result


def _score_worker(model: str, texts: list[str], threads: int, queue: Any) -> None:
    os.environ["OMP_NUM_THREADS"] = str(threads)
    from models import load_scorer
    from moderation.text import normalize

    scorer = load_scorer(model, fast=True, threads=threads)
    scorer.score(texts[:4])
    t0 = time.perf_counter()
    for t in texts:  # one comment per call, as requests arrive
        scorer.score([normalize(t)])
    queue.put(len(texts) / (time.perf_counter() - t0))


def scorer_only(model: str, texts: list[str], workers: int, threads: int = 1) -> float:
    """Comments/s of the bare scorer (fast path), one process per worker, one comment per call."""
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    procs = [
        ctx.Process(target=_score_worker, args=(model, texts[i::workers], threads, queue))
        for i in range(workers)
    ]
    for p in procs:
        p.start()
    rates = [queue.get() for _ in procs]
    for p in procs:
        p.join()
    return sum(rates)


def _config(spec: str) -> tuple[int, int, int | None]:
    """WORKERSxTHREADS[+LONG]: e.g. 2x1+1 is 2 workers, 1 thread, and 1 for long passes too.

    Without +LONG, long passes get the service's default (MODERATION_LONG_PASS_THREADS).
    """
    spec, _, long_threads = spec.partition("+")
    workers, _, threads = spec.partition("x")
    return int(workers), int(threads or 1), int(long_threads) if long_threads else None


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--duration", type=float, default=30)
    ap.add_argument("--workers", type=int, default=2, help="gunicorn workers of the baseline")
    ap.add_argument(
        "--ours",
        default="2x1",
        help="our configurations, WORKERSxTHREADS[+LONG] (inference threads per worker; LONG: "
        "threads for passes of 256+ tokens, default the service's), comma-separated; "
        "e.g. 2x1,1x2 measures both side by side",
    )
    ap.add_argument("--users", type=int, default=32)
    ap.add_argument("--model", default=str(ROOT / "models" / "minilm-toxicity"))
    ap.add_argument(
        "--candidate",
        help="another checkpoint: each of our configurations runs on it too, named by its folder",
    )
    ap.add_argument("--fractions", default="0.25,0.5,0.75,1.0")
    ap.add_argument("--json", type=Path, help="also write the figures here")
    args = ap.parse_args(argv)
    texts = corpus(2000)
    random.Random(3).shuffle(texts)
    fractions = [float(f) for f in args.fractions.split(",")]
    configs = [_config(c) for c in args.ours.split(",")]
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        models = [args.model] + ([args.candidate] if args.candidate else [])
        runs = [
            (
                f"ours {w}x{t}" + (f"+{lt}" if lt else "") + (f" ({Path(m).name})" if n else ""),
                "ours",
                m,
                w,
                t,
                lt,
            )
            for n, m in enumerate(models)
            for w, t, lt in configs
        ]
        runs.append(("naive", "naive", args.model, args.workers, 1, None))
        for i, (name, kind, model, workers, threads, long_threads) in enumerate(runs):
            own = tmp / f"run{i}"  # a database and instance folder of its own
            own.mkdir()
            proc, url, key = start(
                kind, workers, model, own, threads=threads, long_threads=long_threads
            )
            try:
                pids = subprocess.run(
                    ["pgrep", "-P", str(proc.pid)], capture_output=True, text=True
                ).stdout.split()
                sat = drive(url, key, texts, args.users, None, args.duration, pids)
                # Each system's steps are fractions of its own saturation rate.
                steps = {
                    f: drive(
                        url, key, texts, args.users, f * sat["throughput"], args.duration, pids
                    )
                    for f in fractions
                }
                results[name] = {
                    "saturation": sat,
                    "steps": steps,
                    "memory_mb": worker_memory_mb(proc),
                    "scorer_only": scorer_only(model, texts[:600], workers, threads)
                    if kind == "ours"
                    else None,
                }
            finally:
                stop(proc)
            print(f"{name}: saturation {sat['throughput']:.1f} req/s", flush=True)
    naive = results["naive"]

    def ratio(a: float, b: float) -> str:
        return f"{a / b:.2f}x" if b else "n/a"

    def ms(r: dict[str, float]) -> str:
        return f"{r['p50']:.0f} / {r['p95']:.0f} / {r['p99']:.0f}"

    print(
        f"\ncorpus: {len(texts)} comments, {args.duration:.0f} s per step, {args.users} users; "
        f"naive: {args.workers} workers, torch fp32 pipeline"
    )
    print(
        "| system | load | req/s | x naive at saturation | p50 / p95 / p99 ms | failures "
        "| CPU cores: server / load generator |\n|---|---|---|---|---|---|---|"
    )
    for name, r in results.items():
        rows = [("saturation (closed loop)", r["saturation"])]
        rows += [
            (f"{f:.2f} x its saturation = {f * r['saturation']['throughput']:.1f} req/s", s)
            for f, s in r["steps"].items()
        ]
        for label, m in rows:
            vs = ratio(m["throughput"], naive["saturation"]["throughput"])
            print(
                f"| {name} | {label} | {m['throughput']:.1f} | {vs} | {ms(m)} | {m['failures']} "
                f"| {m['server_cores']:.2f} / {m['generator_cores']:.2f} |"
            )
    for name, r in results.items():
        if r["scorer_only"]:
            print(
                f"\n{name}: scorer only (fast path, same processes and threads, one comment a "
                f"call): {r['scorer_only']:.1f} comments/s; the service at saturation is "
                f"{r['saturation']['throughput'] / r['scorer_only']:.0%} of it"
            )
    print("\n| memory per worker, MB | peak RSS | RSS | PSS | private |\n|---|---|---|---|---|")
    for name, r in results.items():
        for i, m in enumerate(r["memory_mb"]):
            print(
                f"| {name} worker {i + 1} | {m['peak_rss']:.0f} | {m['rss']:.0f} | "
                f"{m['pss']:.0f} | {m['private']:.0f} |"
            )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
