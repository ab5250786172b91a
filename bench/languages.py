"""What a second model costs: a mixed-language load against English only, side by side in one run.

    python -m bench.languages [--duration 30] [--workers 2] [--users 16] [--mix 0.5]
        [--multilingual PATH] [--json out.json]

Starts our service under gunicorn twice on loopback: with the multilingual model
(MODERATION_MULTILINGUAL_MODEL=PATH, default the shipped models/multilingual-toxicity)
and with it off. Each is driven closed-loop (locust, as bench.load does) with English
comments only; the first also with a mix where --mix of the comments are German,
Spanish, French, Italian or Portuguese (equal shares) and the rest English, the two
loads alternated twice. Prints
throughput and p50/p95/p99 latency of each load, and each worker's memory (peak RSS,
RSS, PSS, private) with one model and with both loaded (gunicorn's workers load both at
start). The comments are generated from sentences of our own (bench.corpus for English).
"""

from __future__ import annotations

# isort: off
from bench.load import drive  # locust first: it monkey-patches sockets with gevent

# isort: on
import argparse
import json
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import requests

from bench.corpus import corpus, mixed
from bench.serve import start, stop, worker_memory_mb

ROOT = Path(__file__).resolve().parent.parent


def _memory(proc: Any) -> dict[str, float]:
    workers = worker_memory_mb(proc)
    keys = ("peak_rss", "rss", "pss", "private")
    return {k: round(sum(w[k] for w in workers) / len(workers), 1) for k in keys}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--duration", type=float, default=30)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--users", type=int, default=16)
    ap.add_argument("--mix", type=float, default=0.5, help="share of non-English comments")
    ap.add_argument("--model", default=str(ROOT / "models" / "minilm-toxicity"))
    ap.add_argument("--multilingual", default=str(ROOT / "models" / "multilingual-toxicity"))
    ap.add_argument("--json", type=Path, help="also write the figures here")
    args = ap.parse_args(argv)

    english = corpus(2000)
    loads = {"english": english, "mixed": mixed(english, args.mix)}
    results: dict[str, Any] = {"args": vars(args) | {"json": str(args.json)}}
    with tempfile.TemporaryDirectory() as tmp:
        for setup, second in (("both models", args.multilingual), ("English model only", "off")):
            folder = Path(tmp) / setup.replace(" ", "-")
            folder.mkdir()
            proc, url, key = start(
                "ours",
                args.workers,
                args.model,
                folder,
                extra_env={"MODERATION_MULTILINGUAL_MODEL": second},
            )
            try:
                ready = requests.get(f"{url}/readyz", timeout=10).json()
                row: dict[str, Any] = {"languages": ready.get("languages")}
                row["memory_mb"] = _memory(proc)
                children = subprocess.run(
                    ["pgrep", "-P", str(proc.pid)], capture_output=True, text=True
                )
                pids = children.stdout.split()
                # Alternated, twice, so that drift on a shared machine shows as a spread.
                order = ("english", "mixed") * 2 if second != "off" else ("english",) * 2
                for i, name in enumerate(order):
                    row[f"{name} {order[: i + 1].count(name)}"] = drive(
                        url, key, loads[name], args.users, None, args.duration, pids
                    )
                row["memory_mb_after"] = _memory(proc)
                results[setup] = row
            finally:
                stop(proc)

    print(f"{args.workers} workers, {args.users} users, closed loop, {args.duration:.0f} s each")
    print(
        f"{'setup':<20} {'load':<10} {'req/s':>7} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'fail':>5}"
    )
    for setup in ("both models", "English model only"):
        for name in ("english 1", "mixed 1", "english 2", "mixed 2"):
            r = results[setup].get(name)
            if r:
                print(
                    f"{setup:<20} {name:<10} {r['throughput']:7.1f} {r['p50']:7.0f} "
                    f"{r['p95']:7.0f} {r['p99']:7.0f} {r['failures']:5d}"
                )
    print("memory per worker, MB (mean over workers): at start -> after the loads")
    for setup in ("both models", "English model only"):
        a, b = results[setup]["memory_mb"], results[setup]["memory_mb_after"]
        print(
            f"  {setup:<20} "
            + ", ".join(
                f"{k} {a[k]:.0f} -> {b[k]:.0f}" for k in ("peak_rss", "rss", "pss", "private")
            )
        )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
