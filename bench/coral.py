"""Latency of the Coral External Moderation Phase endpoint under load: p50 / p90 / p99 / max.

    python bench/coral.py [--scorer model|fake] [--seconds 20] [--concurrency 4] [--rate 0]
                          [--workers 2] [--database-url URL]

Coral gives a phase 200 ms by default and treats a slower answer as no answer,
so p99 against that budget is the figure that matters. This starts the service
as it is deployed (gunicorn with gunicorn.conf.py: one worker per core, each
with its own model), makes a site with a Coral secret, and sends signed
requests, byte for byte as Coral does, from `--concurrency` keep-alive clients
for `--seconds`. `--rate N` paces them to N requests/second in all (open
loop); 0 sends as fast as answers come back (closed loop, the worst case).
`--scorer fake` swaps the model for the keyword fake of the tests, isolating
the service's own overhead (HTTP, signature, policy, database).

The load clients run on the same machine as the service and take CPU from it:
figures are pessimistic for a service with cores of its own.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # runnable as `python bench/coral.py`
    sys.path.insert(0, str(ROOT))

from bench.scorer import make_comments  # noqa: E402
from moderation.integrations import coral_signature_header  # noqa: E402

TOXIC_SHARE = 0.2  # a fifth of the comments carry an insult, so holds are exercised too
# Each trips the keyword fake (nitwit, dunderhead, clobber) and the real model alike.
INSULTS = (
    "You nitwit, you are a pathetic moron.",
    "What a dunderhead, shut up you stupid idiot.",
    "I will clobber you and hurt you badly.",
)


def fake_app() -> Any:
    """The app with the keyword fake as its model (gunicorn app factory for --scorer fake)."""
    from api import create_app
    from tests.fakes import KeywordScorer

    return create_app({"SCORER": KeywordScorer()})


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _prepare(env: dict[str, str]) -> tuple[str, str]:
    """Migrate, create a site with a Coral secret; return (site id, secret)."""
    code = (
        "import json, secrets\n"
        "from api import create_app\n"
        "from api.services import services\n"
        "app = create_app({'PRELOAD_MODEL': False})\n"
        "store = services(app).store\n"
        "site, _ = store.sites.create('coral-bench-' + secrets.token_hex(4))\n"
        "secret = 'empsec_' + secrets.token_hex(32)\n"
        "store.coral.set_secret(site.id, secret)\n"
        "print(json.dumps([site.id, secret]))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=ROOT, check=True, capture_output=True, text=True
    )
    site_id, secret = json.loads(out.stdout.strip().splitlines()[-1])
    return site_id, secret


def _wait_ready(port: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)  # polling a starting server: there is no event to wait on
    raise SystemExit(f"the service did not come up on port {port} within {timeout:.0f} s")


def _bodies(n: int, seed: int = 11) -> list[bytes]:
    rng = random.Random(seed)
    texts = make_comments(n, 40, seed)
    bodies = []
    for i, text in enumerate(texts):
        if rng.random() < TOXIC_SHARE:
            text = f"{text} {rng.choice(INSULTS)}"
        request = {
            "action": "NEW",
            "comment": {"body": text, "parentID": None},
            "author": {"id": f"user-{i % 97}", "role": "COMMENTER"},
            "story": {"id": f"story-{i % 13}", "url": f"https://news.example/story-{i % 13}"},
            "site": {"id": "coral-site"},
            "tenantID": "tenant",
            "tenantDomain": "comments.news.example",
        }
        bodies.append(json.dumps(request, indent=2, ensure_ascii=False).encode())
    return bodies


def _client(
    port: int,
    path: str,
    bodies: list[bytes],
    secret: str,
    stop_at: float,
    interval: float,
    latencies: list[float],
    statuses: Counter[int],
    lock: threading.Lock,
    offset: int,
) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    i = offset
    next_send = time.monotonic()
    while time.monotonic() < stop_at:
        if interval:
            next_send += interval
            delay = next_send - time.monotonic()
            if delay > 0:
                time.sleep(delay)  # pacing an open-loop load generator
        body = bodies[i % len(bodies)]
        i += 1
        headers = {
            "Content-Type": "application/json",
            "X-Coral-Signature": coral_signature_header(body, [secret]),
            "User-Agent": "Coral Moderation/bench",
        }
        started = time.perf_counter()
        try:
            conn.request("POST", path, body=body, headers=headers)
            response = conn.getresponse()
            response.read()
            status = response.status
        except OSError:
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            status = 0
        elapsed = time.perf_counter() - started
        with lock:
            latencies.append(elapsed)
            statuses[status] += 1


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Start the service, load it, stop it; return the figures."""
    port = _free_port()
    with tempfile.TemporaryDirectory(prefix="coral-bench-") as tmp:
        env = {
            **os.environ,
            "MODERATION_BIND": f"127.0.0.1:{port}",
            "MODERATION_WORKERS": str(args.workers),
            "MODERATION_INSTANCE_PATH": tmp,
            "MODERATION_DATABASE_URL": args.database_url or f"sqlite:///{tmp}/bench.db",
            # Required with PostgreSQL (one key for every replica); any will do for a run.
            "MODERATION_SECRET_KEY": os.environ.get("MODERATION_SECRET_KEY") or "bench",
            "MODERATION_RATE_LIMIT": "1000000/minute",
            "MODERATION_LOG_REQUESTS": "0",
            "MODERATION_LOG_LEVEL": "warning",
            "PYTHONPATH": str(ROOT),
        }
        if args.model:
            env["MODERATION_MODEL"] = args.model
        site_id, secret = _prepare(env)
        factory = "bench.coral:fake_app()" if args.scorer == "fake" else "api:create_app()"
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", factory],
            cwd=ROOT,
            env=env,
        )
        try:
            _wait_ready(port, timeout=180)
            bodies = _bodies(500)
            path = f"/v1/integrations/coral/{site_id}"
            latencies: list[float] = []
            statuses: Counter[int] = Counter()
            lock = threading.Lock()
            interval = args.concurrency / args.rate if args.rate else 0.0
            # Warm-up, from every client so that every worker gets some: a worker's first
            # requests open database connections and load the language identifier (~1 s).
            warm_until = time.monotonic() + 3.0
            warmers = [
                threading.Thread(
                    target=_client,
                    args=(port, path, bodies, secret, warm_until, 0.0, [], Counter(), lock, n),
                )
                for n in range(max(args.concurrency, args.workers * 2))
            ]
            for t in warmers:
                t.start()
            for t in warmers:
                t.join()
            started = time.monotonic()
            stop_at = started + args.seconds
            threads = [
                threading.Thread(
                    target=_client,
                    args=(
                        port,
                        path,
                        bodies,
                        secret,
                        stop_at,
                        interval,
                        latencies,
                        statuses,
                        lock,
                        n * 37,
                    ),
                )
                for n in range(args.concurrency)
            ]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            wall = time.monotonic() - started
        finally:
            server.terminate()
            server.wait(timeout=30)
    ms = [x * 1000 for x in latencies]
    return {
        "scorer": args.scorer,
        "workers": args.workers,
        "concurrency": args.concurrency,
        "target_rate": args.rate or "closed loop",
        "requests": len(ms),
        "throughput_rps": round(len(ms) / wall, 1),
        "statuses": dict(statuses),
        "p50_ms": round(_percentile(ms, 0.50), 1),
        "p90_ms": round(_percentile(ms, 0.90), 1),
        "p99_ms": round(_percentile(ms, 0.99), 1),
        "max_ms": round(max(ms), 1),
        "mean_ms": round(statistics.fmean(ms), 1),
        "over_200ms": sum(1 for x in ms if x > 200),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scorer", choices=["model", "fake"], default="model")
    parser.add_argument("--model", default="", help="checkpoint folder (default: the shipped one)")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--rate", type=float, default=0.0, help="requests/second in all; 0: max")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--database-url", default="", help="default: a fresh SQLite file")
    print(json.dumps(run(parser.parse_args()), indent=2))


if __name__ == "__main__":
    main()
