"""Other sites' latency while a site's model trains: p50 / p99 before, during and after.

    python -m bench.adapt_p99 ../shared/data/insults-kaggle2012-train.csv \
        [--adapt 2600] [--trigger api|cli] [--broker redis://127.0.0.1:6379/9]

Starts the service as the README does (gunicorn, one worker per core, a fresh SQLite
file, the shipped model), measures its capacity closed loop for another site's
comments (bench.load's synthetic corpus), then drives that site open loop (Poisson
arrivals) at `--fraction` of it for the whole run. After a baseline window it starts
the training of a first site's model on ADAPT comments of the source, imported as
the site's labels (never written anywhere but a temporary folder):

- `--trigger api` (default): `POST /v1/sites/{site}/models` as an operator, the way
  the operator page does it. Without `--broker` the job runs in the gunicorn worker
  that took the request (no job queue configured: one machine, one command).
- `--trigger cli`: `flask --app api models adapt SITE --wait --json`.
- `--broker URL`: with a job queue; a `flask --app api worker` process runs the job.

Prints the other site's p50 / p95 / p99 for the baseline window, the whole training
and a window after it, their ratios to the baseline, and p99 per minute of training,
with the training's wall time and settings (niceness, threads) and the load average.
"""

from __future__ import annotations

# isort: off
# locust monkey-patches sockets with gevent: it must be imported before anything else.
from locust import FastHttpUser, task
from locust.env import Environment

# isort: on
import argparse
import csv
import itertools
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import numpy as np
import requests

from bench.arrivals import poisson_arrivals
from bench.corpus import corpus
from bench.load import drive
from bench.serve import ROOT, cli, ours_env, start, stop
from tests.serving import worker_processes

TRAINED_SITE = "news-site"


class OpenLoop:
    """Locust users posting the other site's comments with Poisson arrivals at `rate` req/s.

    Every answer is kept with the time it came, so any window's percentiles are exact.
    """

    def __init__(self, url: str, key: str, texts: list[str], rate: float, users: int) -> None:
        bodies = itertools.cycle([json.dumps({"text": t}) for t in texts])
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {key}"}
        rng = random.Random(11)

        class OtherSite(FastHttpUser):
            host = url
            network_timeout = 60.0
            connection_timeout = 60.0
            wait_time = poisson_arrivals(rate / users, rng)

            @task
            def post_comment(self) -> None:
                self.client.post(
                    "/v1/comments", data=next(bodies), headers=headers, name="/v1/comments"
                )

        self.answers: list[tuple[float, float, bool]] = []  # (when, ms, ok)
        self.env = Environment(user_classes=[OtherSite])
        self.env.events.request.add_listener(self._answered)
        self.runner = self.env.create_local_runner()
        self.runner.start(users, spawn_rate=users)

    def _answered(self, response_time: float, exception: Any = None, **_: Any) -> None:
        self.answers.append((time.monotonic(), float(response_time), exception is None))

    def window(self, start: float, end: float) -> dict[str, float]:
        """Figures of the answers that came between `start` and `end` (monotonic seconds)."""
        ms = np.array([m for t, m, ok in self.answers if start <= t < end and ok])
        failures = sum(1 for t, _, ok in self.answers if start <= t < end and not ok)
        p50, p95, p99 = np.percentile(ms, [50, 95, 99]) if len(ms) else (0.0, 0.0, 0.0)
        return {
            "seconds": round(end - start, 1),
            "answered": len(ms),
            "failures": failures,
            "req_per_s": round(len(ms) / (end - start), 1),
            "p50": round(float(p50), 1),
            "p95": round(float(p95), 1),
            "p99": round(float(p99), 1),
            "max": round(float(ms.max()), 1) if len(ms) else 0.0,
        }

    def stop(self) -> None:
        self.runner.quit()


def _write_labels(source: Path, n: int, seed: int, out: Path) -> int:
    """The first N comments of the source (shuffled with SEED) as a text,label CSV at OUT."""
    from models.data import load_kaggle

    data = load_kaggle(source)
    order = list(range(len(data.texts)))
    random.Random(seed).shuffle(order)
    with out.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["text", "label"])
        w.writerows((data.texts[i], int(data.labels[i, 0])) for i in order[:n])
    return min(n, len(order))


def _train(args: argparse.Namespace, env: dict[str, str], url: str, log: Path) -> dict[str, Any]:
    """Start the training as asked and wait for it; its last state, as `models adapt --json`."""
    if args.trigger == "cli":
        with log.open("ab") as err:
            command = ["models", "adapt", TRAINED_SITE, "--wait", "--json"]
            proc = subprocess.Popen(
                [sys.executable, "-m", "flask", "--app", "api", *command],
                env=env,
                cwd=ROOT,
                stdout=subprocess.PIPE,
                stderr=err,
            )
            out, _ = proc.communicate(timeout=args.timeout)
        return dict(json.loads(out.decode().splitlines()[-1]))
    token = cli(
        env, "users", "create", "bench-op", "--role", "operator", "--site", TRAINED_SITE, "--json"
    )
    headers = {"Authorization": f"Bearer {token['token']}"}
    r = requests.post(f"{url}/v1/sites/{TRAINED_SITE}/models", json={}, headers=headers, timeout=60)
    assert r.status_code == 202, r.text
    version = r.json()["version"]
    deadline = time.monotonic() + args.timeout
    while time.monotonic() < deadline:
        time.sleep(2)
        r = requests.get(f"{url}/v1/sites/{TRAINED_SITE}/models/{version}", headers=headers)
        model = r.json()
        if model["state"] not in ("queued", "training"):
            return dict(model)
    raise SystemExit(f"the training did not finish in {args.timeout} s")


def _server_pids(proc: subprocess.Popen[bytes]) -> list[str]:
    out = subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True, text=True)
    return out.stdout.split()


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("source", type=Path, help="Kaggle 2012 insults train CSV")
    ap.add_argument("--adapt", type=int, default=2600, help="labelled comments to train on")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--trigger", choices=("api", "cli"), default="api")
    ap.add_argument("--broker", default="", help="MODERATION_BROKER_URL: train on a worker")
    ap.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    ap.add_argument("--capacity", type=float, default=20, help="seconds of closed loop")
    ap.add_argument("--fraction", type=float, default=0.5, help="of capacity, open loop")
    ap.add_argument("--baseline", type=float, default=60, help="seconds before training")
    ap.add_argument("--after", type=float, default=30, help="seconds after training")
    ap.add_argument("--users", type=int, default=64)
    ap.add_argument("--timeout", type=float, default=3600, help="seconds the training may take")
    ap.add_argument("--model", default=str(ROOT / "models" / "minilm-toxicity"))
    ap.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="another MODERATION_ setting for every process, e.g. ADAPT_NICE=0",
    )
    ap.add_argument("--json", type=Path, help="also write the figures here")
    args = ap.parse_args(argv)
    texts = corpus(2000)
    random.Random(3).shuffle(texts)
    extra = {f"MODERATION_{k}": v for k, _, v in (s.partition("=") for s in args.set)}
    if args.broker:
        extra["MODERATION_BROKER_URL"] = args.broker
        extra["MODERATION_JOB_QUEUE"] = f"adapt-p99-{os.getpid()}"
    with tempfile.TemporaryDirectory(prefix="adapt-p99-") as tmp_dir, ExitStack() as stack:
        tmp = Path(tmp_dir)
        env = ours_env(tmp, args.model, args.workers, 1, extra)
        labels = tmp / "labels.csv"
        n = _write_labels(args.source, args.adapt, args.seed, labels)
        cli(env, "sites", "create", TRAINED_SITE, "--json")
        cli(env, "models", "import-labels", TRAINED_SITE, str(labels), "--json")
        labels.unlink()  # in the database now; the texts stay in this temporary folder only
        proc, url, key = start("ours", args.workers, args.model, tmp, threads=1, extra_env=extra)
        stack.callback(stop, proc)
        if args.broker:
            stack.enter_context(worker_processes(env, 1, tmp / "worker.log"))
        pids = _server_pids(proc)
        capacity = drive(url, key, texts, 32, None, args.capacity, pids)["throughput"]
        rate = args.fraction * capacity
        print(f"capacity {capacity:.1f} req/s; open loop at {rate:.1f} req/s", flush=True)
        load = OpenLoop(url, key, texts, rate, args.users)
        stack.callback(load.stop)
        time.sleep(10)  # the users' schedules settle, the closed loop's backlog drains
        loadavg: dict[str, tuple[float, ...]] = {}
        t0 = time.monotonic()
        time.sleep(args.baseline)
        t1 = time.monotonic()
        loadavg["before training"] = os.getloadavg()
        model = _train(args, env, url, tmp / "train.log")
        t2 = time.monotonic()
        loadavg["end of training"] = os.getloadavg()
        time.sleep(args.after)
        t3 = time.monotonic()
        loadavg["end"] = os.getloadavg()
        windows = {
            "baseline": load.window(t0, t1),
            "training": load.window(t1, t2),
            "after": load.window(t2, t3),
        }
        minutes = [load.window(s, min(s + 60, t2)) for s in np.arange(t1, t2, 60.0)]
    metrics = model.get("metrics") or {}
    result = {
        "trigger": args.trigger + (" (worker via broker)" if args.broker else ""),
        "labels": n,
        "capacity_req_per_s": round(capacity, 1),
        "open_loop_req_per_s": round(rate, 1),
        "training": {
            "state": model["state"],
            "error": model.get("error"),
            "wall_s": round(t2 - t1, 1),
            "seconds": metrics.get("seconds"),
            "settings": metrics.get("settings"),
            "roc_auc": metrics.get("roc_auc"),
        },
        "windows": windows,
        "training_minutes": minutes,
        "loadavg": loadavg,
    }
    print(json.dumps(result))
    base = windows["baseline"]

    def ratio(a: float, b: float) -> str:
        return f"{a / b:.2f}x" if b else "n/a"

    settings = metrics.get("settings") or {}
    print(
        f"\ncapacity {capacity:.1f} req/s closed loop; the other site at {rate:.1f} req/s "
        f"open loop; {n} labels; training ({result['trigger']}) {model['state']} in "
        f"{t2 - t1:.0f} s wall (nice {settings.get('nice')}, {settings.get('threads')} "
        f"thread(s)); load average {', '.join(f'{k} {v[0]:.2f}' for k, v in loadavg.items())}"
    )
    print(
        "| other site's requests | window s | answered | req/s | failures | p50 ms | p95 ms "
        "| p99 ms | max ms | p50 / p99 vs baseline |\n|---|---|---|---|---|---|---|---|---|---|"
    )
    for name, w in windows.items():
        print(
            f"| {name} | {w['seconds']:.0f} | {w['answered']} | {w['req_per_s']} | "
            f"{w['failures']} | {w['p50']:.0f} | {w['p95']:.0f} | {w['p99']:.0f} | "
            f"{w['max']:.0f} | {ratio(w['p50'], base['p50'])} / {ratio(w['p99'], base['p99'])} |"
        )
    print("p99 ms per minute of training: " + ", ".join(f"{w['p99']:.0f}" for w in minutes))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
