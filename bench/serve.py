"""Start our service or the naive baseline under gunicorn on loopback, for benchmarks.

No locust here: its gevent monkey-patching must stay out of benchmarks that use threads.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _base_env() -> dict[str, str]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "MODERATION_LOG_REQUESTS": "0"}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    return env


def ours_env(
    tmp: Path,
    model: str,
    workers: int = 2,
    threads: int = 1,
    extra_env: dict[str, str] | None = None,
) -> dict[str, str]:
    """The environment of our service on a fresh SQLite file in `tmp` (also for its CLI)."""
    env = _base_env()
    env.update(
        MODERATION_WORKERS=str(workers),
        MODERATION_TORCH_THREADS=str(threads),
        OMP_NUM_THREADS=str(threads),
        MODERATION_INSTANCE_PATH=str(tmp / "instance"),
        MODERATION_MODEL=model,
        MODERATION_DATABASE_URL=f"sqlite:///{tmp / 'bench.db'}",
        MODERATION_BACKGROUND_INTERVAL="0",
        # One key sends everything here: the per-key limit would measure 429s, not work.
        MODERATION_RATE_LIMIT_ENABLED="0",
    )
    env.update(extra_env or {})
    return env


def cli(env: dict[str, str], *args: str) -> Any:
    """Run `flask --app api ARGS...` (with --json among them) and return its last line, parsed."""
    out = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "api", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    if out.returncode != 0:
        raise SystemExit(f"flask {' '.join(args)} failed:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.splitlines()[-1])


def start(
    kind: str,
    workers: int,
    model: str,
    tmp: Path,
    threads: int = 1,
    long_threads: int | None = None,
    extra_env: dict[str, str] | None = None,
) -> tuple[subprocess.Popen[bytes], str, str]:
    """Start `ours` or `naive` under gunicorn; returns the process, base URL and an API key.

    `threads` is torch's intra-op threads per worker (ours only; the baseline keeps 1);
    `long_threads` ONNX Runtime's threads for passes of 256+ tokens (ours only; None:
    the service's default). `extra_env`: more settings for ours (MODERATION_*).
    """
    port = _free_port()
    key = ""
    if kind == "ours":
        env = ours_env(tmp, model, workers, threads, extra_env)
        env["MODERATION_BIND"] = f"127.0.0.1:{port}"
        key = cli(env, "sites", "create", "bench", "--json")["api_key"]
        if long_threads is not None:
            env["MODERATION_LONG_PASS_THREADS"] = str(long_threads)
        cmd = [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "api:create_app()"]
    else:
        env = _base_env()
        env["NAIVE_MODEL"] = model
        cmd = [
            sys.executable,
            "-m",
            "gunicorn",
            "-c",
            "bench/gunicorn_naive.py",
            "-w",
            str(workers),
            "-k",
            "gthread",
            "--threads",
            "4",
            "-b",
            f"127.0.0.1:{port}",
            "bench.naive_app:create_app()",
        ]
    with open(tmp / f"{kind}.log", "wb") as log:
        proc = subprocess.Popen(
            cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log, start_new_session=True
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 300
    hits = 0
    while hits < 4 * workers:
        if proc.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"{kind} did not start:\n{(tmp / f'{kind}.log').read_text()[-2000:]}")
        try:
            hits += requests.get(f"{url}/readyz", timeout=2).status_code == 200
        except requests.RequestException:  # not listening yet, or still loading the model
            time.sleep(0.5)
    return proc, url, key


def stop(proc: subprocess.Popen[bytes]) -> None:
    os.killpg(proc.pid, signal.SIGTERM)
    proc.wait(30)


def worker_memory_mb(proc: subprocess.Popen[bytes]) -> list[dict[str, float]]:
    """Each gunicorn worker's memory in MB (see api.observability.process_memory_mb)."""
    from api.observability import process_memory_mb

    out = subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True, text=True)
    return [process_memory_mb(pid) for pid in out.stdout.split()]
