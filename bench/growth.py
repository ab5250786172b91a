"""How cost grows with comment length and with batch size, through the real service.

    python -m bench.growth [--workers 2] [--seconds 20] [--png bench/growth.png]

Lengths of about 16, 64, 256, 1,024 and 4,096 tokens (the long ones are scored
in overlapping windows), and batches of 1 to 100 comments on the batch
endpoint. Each step is a closed loop of concurrent clients for a fixed time;
it prints comments/s and latency percentiles, and writes a PNG plot.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import requests

from bench.corpus import of_tokens
from bench.serve import start, stop

LENGTHS = (16, 64, 256, 1024, 4096)
BATCHES = (1, 10, 50, 100)


def closed_loop(
    url: str, key: str, bodies: list[dict[str, Any]], clients: int, seconds: float, per_request: int
) -> dict[str, float]:
    """`clients` loops posting bodies for `seconds`; comments/s and latency percentiles (ms)."""
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def loop(offset: int) -> None:
        nonlocal errors
        session = requests.Session()
        headers = {"Authorization": f"Bearer {key}"}
        i = offset
        while time.monotonic() < deadline:
            body = bodies[i % len(bodies)]
            i += clients
            path = "/v1/comments/batch" if "comments" in body else "/v1/comments"
            t0 = time.perf_counter()
            r = session.post(url + path, json=body, headers=headers, timeout=120)
            elapsed = time.perf_counter() - t0
            with lock:
                if r.status_code == 201:
                    latencies.append(elapsed)
                else:
                    errors += 1

    started = time.monotonic()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(loop, range(clients)))
    wall = time.monotonic() - started
    q = statistics.quantiles(latencies, n=100) if len(latencies) >= 2 else [0.0] * 99
    return {
        "comments_per_s": len(latencies) * per_request / wall,
        "requests": len(latencies),
        "errors": errors,
        "p50": q[49] * 1000,
        "p99": q[98] * 1000,
    }


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument(
        "--model",
        default=str(Path(__file__).resolve().parent.parent / "models" / "minilm-toxicity"),
    )
    ap.add_argument("--png", type=Path, default=Path("bench/growth.png"))
    args = ap.parse_args(argv)
    by_length: dict[int, dict[str, float]] = {}
    by_batch: dict[int, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        proc, url, key = start("ours", args.workers, args.model, Path(tmp))
        try:
            for n in LENGTHS:
                bodies = [{"text": t} for t in of_tokens(n, 40)]
                by_length[n] = closed_loop(url, key, bodies, args.clients, args.seconds, 1)
                print(f"{n:>5} tokens: {by_length[n]}", flush=True)
            texts = of_tokens(64, 400, seed=5)
            for b in BATCHES:
                bodies = [
                    {"comments": [{"text": t} for t in texts[i : i + b]]}
                    for i in range(0, len(texts) - b + 1, b)
                ]
                by_batch[b] = closed_loop(url, key, bodies, args.clients, args.seconds, b)
                print(f"batch {b:>3}: {by_batch[b]}", flush=True)
        finally:
            stop(proc)

    print(
        f"\n{args.workers} workers, {args.clients} concurrent clients, {args.seconds:.0f} s per step"
    )
    print("| comment length (tokens) | comments/s | p50 ms | p99 ms |")
    print("|---|---|---|---|")
    for n, r in by_length.items():
        print(f"| {n} | {r['comments_per_s']:.1f} | {r['p50']:.0f} | {r['p99']:.0f} |")
    print(
        "\n| batch size (64-token comments) | comments/s | p50 ms per request | p99 ms per request |"
    )
    print("|---|---|---|---|")
    for b, r in by_batch.items():
        print(f"| {b} | {r['comments_per_s']:.1f} | {r['p50']:.0f} | {r['p99']:.0f} |")

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    xs = list(by_length)
    left.loglog(xs, [by_length[n]["comments_per_s"] for n in xs], "o-", label="comments/s")
    left.loglog(xs, [by_length[n]["p50"] for n in xs], "s--", label="p50 latency (ms)")
    left.set_xlabel("comment length (tokens)")
    left.set_title("cost against length")
    left.legend()
    bs = list(by_batch)
    right.plot(bs, [by_batch[b]["comments_per_s"] for b in bs], "o-")
    right.set_xlabel("comments per batch request")
    right.set_ylabel("comments/s")
    right.set_title("batch endpoint throughput")
    fig.tight_layout()
    fig.savefig(args.png, dpi=110)
    print(f"\nplot written to {args.png}")


if __name__ == "__main__":
    main()
