"""Profile the request path of POST /v1/comments in-process (pyinstrument), real model.

    python -m bench.profile_request [--model models/minilm-toxicity] [--n 300]

Shows where a request's time goes: HTTP handling, auth, validation,
normalization, language identification, scoring, the database write.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

from api.services import services
from bench.corpus import corpus


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument(
        "--model",
        default=str(Path(__file__).resolve().parent.parent / "models" / "minilm-toxicity"),
    )
    ap.add_argument("--n", type=int, default=300)
    args = ap.parse_args(argv)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    from pyinstrument import Profiler

    from api import create_app

    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(
            {
                "DATABASE_URL": f"sqlite:///{Path(tmp) / 'p.db'}",
                "MODEL": args.model,
                "LOG_REQUESTS": False,
                "RATE_LIMIT_ENABLED": False,
                "SECRET_KEY": "p",
                "TORCH_THREADS": 1,
            }
        )
        _, key = services(app).store.sites.create("profile")
        client = app.test_client()
        headers = {"Authorization": f"Bearer {key}"}
        texts = corpus(args.n)
        client.post("/v1/comments", json={"text": "warm up"}, headers=headers)
        profiler = Profiler(interval=0.0005)
        profiler.start()
        for t in texts:
            client.post("/v1/comments", json={"text": t}, headers=headers)
        profiler.stop()
        print(profiler.output_text(unicode=False, color=False, show_all=False))


if __name__ == "__main__":
    main()
