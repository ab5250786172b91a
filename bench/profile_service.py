"""Profile a live gunicorn worker under load with py-spy: where its CPU goes, every thread.

    python -m bench.profile_service [--seconds 15] [--clients 16]

Starts the service as `bench.serve` does (gunicorn.conf.py, 2 workers, SQLite,
the shipped model), keeps it busy with closed-loop clients posting the bench
corpus, and samples one worker with `py-spy record` (CPU samples only, not idle
waits). Prints each thread's share of the samples, the share of the functions
that matter (the model's forward pass, the request handling inside it), and the
functions with the most samples of their own. `bench.profile_request` profiles
one request in-process; this one sees gunicorn and the inference thread too.
"""

from __future__ import annotations

import argparse
import collections
import random
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

from bench.corpus import corpus
from bench.serve import ROOT, start, stop

WATCHED = (
    "InferenceQueue._serve",
    "OnnxScorer.forward",
    "TransformersScorer.forward",
    "ThreadWorker.handle",
    "Flask.wsgi_app",
    "ModerationService.submit_batch",
    "ModerationService._store_new",
    "CommentRepository.add",
    "SiteRepository.for_key",
    "detect_language",
    "WindowScorer.preprocess",
    "WindowScorer.postprocess",
    "scoring_forms",
    "Response.write",
)


def summarize(raw: str, top: int = 15) -> str:
    """Turn py-spy's raw (collapsed) stacks into thread, inclusive and self shares."""
    total = 0
    threads: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    own: collections.Counter[str] = collections.Counter()
    for line in raw.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        total += n
        frames = stack.split(";")
        threads[frames[0].split(":")[-1].strip() or frames[0]] += n
        own[frames[-1]] += n
        for name in {f.split(" (")[0] for f in frames}:
            inclusive[name] += n
    if not total:
        return "no samples"
    out = [f"{total} samples", "", "| thread | share |", "|---|---|"]
    out += [f"| {t} | {100 * n / total:.1f} % |" for t, n in threads.most_common(6)]
    out += ["", "| function (with what it calls) | share |", "|---|---|"]
    out += [f"| {f} | {100 * inclusive[f] / total:.1f} % |" for f in WATCHED if inclusive[f]]
    out += ["", "| function (own samples) | share |", "|---|---|"]
    out += [f"| {f} | {100 * n / total:.1f} % |" for f, n in own.most_common(top)]
    return "\n".join(out)


def _py_spy() -> str:
    """py-spy from this interpreter's environment, even when that is not on PATH."""
    beside = Path(sys.executable).parent / "py-spy"
    return str(beside) if beside.exists() else "py-spy"


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--seconds", type=float, default=15)
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--model", default=str(ROOT / "models" / "minilm-toxicity"))
    args = ap.parse_args(argv)
    texts = corpus(2000)
    random.Random(3).shuffle(texts)
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        proc, url, key = start("ours", 2, args.model, tmp)
        done = threading.Event()

        def client(i: int) -> None:
            session = requests.Session()
            headers = {"Authorization": f"Bearer {key}"}
            while not done.is_set():
                session.post(f"{url}/v1/comments", json={"text": texts[i % 2000]}, headers=headers)
                i += args.clients

        try:
            workers = subprocess.run(
                ["pgrep", "-P", str(proc.pid)], capture_output=True, text=True, check=True
            ).stdout.split()
            with ThreadPoolExecutor(args.clients) as pool:
                for i in range(args.clients):
                    pool.submit(client, i)
                try:
                    time.sleep(5)  # into steady state
                    out = tmp / "profile.txt"
                    subprocess.run(
                        [
                            _py_spy(),
                            "record",
                            "--pid",
                            workers[0],
                            "--duration",
                            str(int(args.seconds)),
                            "--format",
                            "raw",
                            "--threads",
                            "--nonblocking",
                            "--output",
                            str(out),
                        ],
                        check=True,
                        capture_output=True,
                    )
                finally:
                    done.set()  # else the pool waits on its clients forever
            print(summarize(out.read_text()))
        finally:
            done.set()
            stop(proc)


if __name__ == "__main__":
    main()
