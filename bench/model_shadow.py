"""What a site's model version in shadow costs that site's requests (not a CI test).

    python -m bench.model_shadow [--comments 200] [--round 10] [--no-export]

Through the service in this process (create_app, a fresh SQLite file, the shipped
model on its default fast path): a copy of the shipped checkpoint stands in for a
site's adapted version (same architecture, so the same cost), exported to int8 ONNX
as training exports one. Two sites get the same comments of bench.corpus, one at a
time through POST /v1/comments: `plain` with nothing in shadow, `shadowed` with v1
in shadow. They take turns in rounds of ROUND comments, so both see the same load on
a shared machine. Prints requests/s and median and p90 latency for each, and the
ratio, as one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--comments", type=int, default=200, help="comments posted to each site")
    ap.add_argument("--round", type=int, default=10, help="comments per turn")
    ap.add_argument("--no-export", action="store_true", help="serve the candidate with torch")
    args = ap.parse_args(argv)

    from api import create_app, model_path
    from api.services import services
    from bench.corpus import corpus
    from models import export_adapted

    work = Path(tempfile.mkdtemp(prefix="model-shadow-"))
    app = create_app(
        {
            "DATABASE_URL": f"sqlite:///{work / 'bench.db'}",
            "SECRET_KEY": "bench",
            "LOG_REQUESTS": False,
            "BACKGROUND_INTERVAL": 0,
            "SITE_MODELS_DIR": str(work / "site-models"),
            "SCORING_TIMEOUT": 60.0,
        }
    )
    store = services(app).store
    _, plain_key = store.sites.create("plain")
    shadowed, shadowed_key = store.sites.create("shadowed")
    folder = work / "site-models" / shadowed.id / "v1"
    shutil.copytree(model_path(app.config), folder)
    if not args.no_export:
        export_adapted(folder)
    v1 = store.site_models.create(shadowed.id, requested_by="bench", labels=0, auto_promote=False)
    store.site_models.finish(shadowed.id, v1.version, path=str(folder), metrics={})
    store.site_models.start_shadow(shadowed.id, v1.version, actor="bench")

    client = app.test_client()
    texts = corpus(args.comments, seed=13)
    timings: dict[str, list[float]] = {"plain": [], "shadowed": []}
    keys = {"plain": plain_key, "shadowed": shadowed_key}
    # Warm both models (the candidate loads on the shadowed site's first comment).
    for name in keys:
        client.post(
            "/v1/comments",
            json={"text": "Warming up."},
            headers={"Authorization": f"Bearer {keys[name]}"},
        )
    warm_rows = len(store.model_shadow.comparisons(shadowed.id, v1.version))
    load_before = os.getloadavg()
    for start in range(0, len(texts), args.round):
        for name in ("plain", "shadowed"):
            for text in texts[start : start + args.round]:
                began = time.perf_counter()
                r = client.post(
                    "/v1/comments",
                    json={"text": text},
                    headers={"Authorization": f"Bearer {keys[name]}"},
                )
                timings[name].append(time.perf_counter() - began)
                assert r.status_code == 201, r.get_json()
    shadow_rows = len(store.model_shadow.comparisons(shadowed.id, v1.version)) - warm_rows
    out: dict[str, Any] = {"comments": len(texts), "candidate_scored": shadow_rows}
    for name, values in timings.items():
        out[name] = {
            "requests_per_s": round(len(values) / sum(values), 2),
            "median_ms": round(1000 * statistics.median(values), 1),
            "p90_ms": round(1000 * _quantile(values, 0.9), 1),
        }
    out["shadowed_over_plain_rps"] = round(
        out["shadowed"]["requests_per_s"] / out["plain"]["requests_per_s"], 3
    )
    out["load_average"] = {"before": load_before[0], "after": os.getloadavg()[0]}
    out["candidate_engine"] = "torch" if args.no_export else "onnx int8 export (if parity holds)"
    print(json.dumps(out))
    services(app).store.engine.dispose()
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
