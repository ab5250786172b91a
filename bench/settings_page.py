"""Time the operator's settings page (GET /sites/<site>) on a site with many stored comments.

    python -m bench.settings_page [--comments 20000] [--gets 5]

Comments are written straight into the comments table (synthetic text, random scores,
a fifth of them decided by a moderator), so the figure is the page's own cost: the
measured effect of the live policy, the shadow report, the audit trail. Prints the
first GET and the mean of the later ones: CPU seconds of this process (what the page
costs, whatever else the machine runs) and wall-clock seconds.
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

CATEGORIES = ("toxicity", "severe_toxicity", "insult", "profanity", "threat", "identity_attack")
WORDS = [
    "river",
    "harbour",
    "ferry",
    "council",
    "bridge",
    "timetable",
    "market",
    "library",
    "garden",
    "rain",
    "train",
]


def _rows(site_id: str, n: int, rng: random.Random) -> list[dict[str, object]]:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    rows = []
    for i in range(n):
        text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 60)))
        if i % 50 == 0:
            text += " see https://example.org/x"
        scores = {c: round(rng.random() ** 3, 4) for c in CATEGORIES}
        held = max(scores.values()) >= 0.8
        decided = i % 5 == 0
        status = (
            ("rejected" if rng.random() < 0.6 else "approved")
            if decided
            else ("held" if held else "approved")
        )
        at = start + timedelta(minutes=i)
        reasons = [{"code": "category", "category": "toxicity"}] if held else []
        rows.append(
            {
                "id": f"cmt_bench{i:08d}",
                "site_id": site_id,
                "text": text,
                "status": status,
                "decided_by": "usr_bench" if decided else "auto",
                "scoring_state": "scored",
                "language": "en",
                "scores": scores,
                "reasons": reasons,
                "spans": [],
                "risk": max(scores.values()),
                "version": 2 if decided else 1,
                "created_at": at,
                "updated_at": at,
                "decided_at": at if decided else None,
            }
        )
    return rows


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--comments", type=int, default=20000)
    ap.add_argument("--gets", type=int, default=5)
    args = ap.parse_args(argv)

    from api import create_app
    from moderation import db
    from tests.fakes import KeywordScorer

    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(
            {
                "TESTING": True,
                "DATABASE_URL": f"sqlite:///{Path(tmp) / 'b.db'}",
                "SCORER": KeywordScorer(),
                "MODEL": str(Path(tmp) / "no-checkpoint"),
                "SECRET_KEY": "bench",
                "LOG_REQUESTS": False,
                "RATE_LIMIT_ENABLED": False,
            }
        )
        cli = app.test_cli_runner()
        assert cli.invoke(args=["sites", "create", "bench-site"]).exit_code == 0
        made = cli.invoke(
            args=["users", "create", "op", "--role", "operator", "--site", "bench-site"]
        )
        assert made.exit_code == 0, made.output
        password = "operator password 1"
        set_pw = cli.invoke(
            args=["users", "set-password", "op", "--password-stdin"], input=password
        )
        assert set_pw.exit_code == 0, set_pw.output
        engine = sa.create_engine(app.config["DATABASE_URL"])
        with engine.begin() as conn:
            site_id = conn.execute(sa.select(db.sites.c.id)).scalar_one()
            conn.execute(db.comments.insert(), _rows(site_id, args.comments, random.Random(7)))
        client = app.test_client()
        html = client.get("/signin").get_data(as_text=True)
        token = re.search(r'name="csrf-token" content="([^"]+)"', html)
        assert token
        r = client.post(
            "/signin", data={"csrf_token": token.group(1), "name": "op", "password": password}
        )
        assert r.status_code == 302, r.status_code
        wall, cpu = [], []
        for _ in range(args.gets + 1):
            started, started_cpu = time.perf_counter(), time.process_time()
            r = client.get("/sites/bench-site")
            wall.append(time.perf_counter() - started)
            cpu.append(time.process_time() - started_cpu)
            assert r.status_code == 200, r.status_code
        print(
            f"{args.comments} comments: first GET {cpu[0]:.3f} s CPU ({wall[0]:.3f} s wall), "
            f"later GETs mean {statistics.mean(cpu[1:]):.3f} s CPU "
            f"({statistics.mean(wall[1:]):.3f} s wall; n={args.gets})"
        )


if __name__ == "__main__":
    main()
