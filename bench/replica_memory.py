"""Memory of one replica: gunicorn's master and each worker with the model loaded, after traffic.

    python -m bench.replica_memory [--workers 2] [--comments 200]

Starts the service as a replica runs it (gunicorn.conf.py, the shipped model, int8 in
ONNX Runtime), posts comments short and long, then prints each process's resident
memory (rss), its proportional share (pss: what the processes cost together) and its
private pages (what one more worker adds), from /proc. Also the installed size of the
packages serving imports against those only training needs, from this virtual env.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from importlib import metadata
from pathlib import Path

import requests

from api.observability import process_memory_mb
from tests.serving import running_service

TEXTS = (
    "Lovely photos of the harbour at dawn.",
    "You are a pathetic idiot and nobody wants you here.",
    "Could someone explain how the new parking fees are calculated? " * 40,
)


def installed_mb(*names: str) -> float:
    """The size on disk of the given distributions' files, in MB."""
    total = 0
    for name in names:
        for f in metadata.distribution(name).files or []:
            path = Path(str(f.locate()))
            if path.is_file():
                total += path.stat().st_size
    return total / 1e6


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--comments", type=int, default=200)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp, running_service(Path(tmp), args.workers) as svc:
        site = svc.create_site("bench")
        auth = {"Authorization": f"Bearer {site['api_key']}"}
        for i in range(args.comments):
            r = requests.post(
                f"{svc.url}/v1/comments",
                json={"text": TEXTS[i % len(TEXTS)]},
                headers=auth,
                timeout=60,
            )
            r.raise_for_status()
        rows = {"master": process_memory_mb(svc.process.pid)}
        for n, pid in enumerate(sorted(svc.worker_pids())):
            rows[f"worker {n + 1}"] = process_memory_mb(pid)
    print(f"{'process':<10} {'peak rss':>9} {'rss':>7} {'pss':>7} {'private':>8}  (MB)")
    for name, m in rows.items():
        print(
            f"{name:<10} {m['peak_rss']:>9.0f} {m['rss']:>7.0f} {m['pss']:>7.0f} "
            f"{m['private']:>8.0f}"
        )
    total = sum(m["pss"] for m in rows.values())
    print(f"replica total (sum of pss): {total:.0f} MB")
    serving = ["onnxruntime", "tokenizers", "numpy"]
    training = ["torch", "transformers", "safetensors", "onnx"]
    sizes = {
        "serving model runtime (onnxruntime, tokenizers, numpy)": installed_mb(*serving),
        "training only (torch, transformers, safetensors, onnx)": installed_mb(*training),
    }
    for what, mb in sizes.items():
        print(f"installed: {what}: {mb:.0f} MB")
    json.dump({"processes": rows, "installed_mb": sizes}, sys.stderr)


if __name__ == "__main__":
    main()
