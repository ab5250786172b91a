"""Nothing lost, nothing duplicated: gunicorn with 2 workers and the real model, on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import requests
import sqlalchemy as sa

from moderation.db import make_engine
from tests.serving import Service, running_service

WORDS = [
    "harbour",
    "ferry",
    "council",
    "budget",
    "library",
    "tram",
    "festival",
    "garden",
    "market",
    "bridge",
]


def text(i: int) -> str:
    """A distinct short comment of our own."""
    return f"Comment {i}: the {WORDS[i % 10]} and the {WORDS[(i // 10) % 10]} need attention."


def post_with_retries(service: Service, key: str, i: int, outcomes: Counter[str]) -> int:
    """Post comment i until it is stored, retrying with the same external_id as a client would."""
    session = requests.Session()
    for _attempt in range(20):
        try:
            r = session.post(
                f"{service.url}/v1/comments",
                timeout=60,
                headers={"Authorization": f"Bearer {key}"},
                json={"text": text(i), "external_id": f"ext-{i}"},
            )
        except requests.RequestException:
            outcomes["connection_error"] += 1
            continue
        outcomes[str(r.status_code)] += 1
        if "database is locked" in r.text:
            outcomes["database_locked"] += 1
        if r.status_code in (200, 201):
            return r.status_code
    return 0


def stored(database_url: str) -> list[str]:
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            return list(conn.execute(sa.text("SELECT external_id FROM comments")).scalars())
    finally:
        engine.dispose()


def test_burst_of_1000_with_retries_and_two_moderators_racing(
    tmp_path: Path, database_url: str
) -> None:
    # The burst is faster than the default per-key limit; limits are tested in test_limits.py.
    unlimited = {"MODERATION_RATE_LIMIT": "1000000/minute"}
    with running_service(
        tmp_path, workers=2, database_url=database_url, extra_env=unlimited
    ) as service:
        site = service.create_site("busy-paper")
        outcomes: Counter[str] = Counter()
        ids = list(range(1000)) + list(range(0, 1000, 10))  # every tenth one is sent twice
        with ThreadPoolExecutor(50) as pool:
            results = list(
                pool.map(lambda i: post_with_retries(service, site["api_key"], i, outcomes), ids)
            )
        assert all(results), outcomes
        rows = stored(database_url)
        assert len(rows) == 1000, outcomes  # exactly 1000 stored: 0 lost, 0 duplicated
        assert set(rows) == {f"ext-{i}" for i in range(1000)}
        assert outcomes["database_locked"] == 0
        assert outcomes["500"] == 0 and outcomes["503"] == 0 and outcomes["429"] == 0, outcomes
        assert outcomes["200"] >= 100  # the repeats answered with the stored comment
        print(
            f"\n[{database_url.split(':')[0]}] 1100 posts (100 repeats) from 50 clients: "
            f"{len(rows)} stored, lost 0, duplicated 0, responses {dict(outcomes)}"
        )

        # Two moderators decide the same 200 held comments at once.
        op = service.create_user("op", "operator", "busy-paper")
        mods = [service.create_user(f"mod{n}", "moderator", "busy-paper") for n in (1, 2)]
        r = requests.put(
            f"{service.url}/v1/sites/busy-paper/policy",
            timeout=10,
            headers={"Authorization": f"Bearer {op['token']}"},
            json={"premoderation": True},
        )
        assert r.status_code == 200
        held = []
        for i in range(200):
            r = requests.post(
                f"{service.url}/v1/comments",
                timeout=60,
                headers={"Authorization": f"Bearer {site['api_key']}"},
                json={"text": text(5000 + i)},
            )
            assert r.json()["status"] == "held"
            held.append(r.json()["id"])
        codes: Counter[int] = Counter()
        lock = threading.Lock()

        def decide_all(token: str) -> None:
            session = requests.Session()
            for cid in held:
                r = session.post(
                    f"{service.url}/v1/comments/{cid}/decision",
                    timeout=60,
                    headers={"Authorization": f"Bearer {token}"},
                    json={"action": "reject", "reason": "spam", "version": 1},
                )
                with lock:
                    codes[r.status_code] += 1

        threads = [threading.Thread(target=decide_all, args=(m["token"],)) for m in mods]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert codes == {200: 200, 409: 200}, codes
        engine = make_engine(database_url)
        with engine.connect() as conn:
            decisions = conn.execute(
                sa.text("SELECT count(*) FROM audit_log WHERE action = 'comment.decision'")
            ).scalar_one()
        engine.dispose()
        assert decisions == 200
        print(f"two moderators x 200 comments: {dict(codes)}, {decisions} decision audit rows")


def test_kill_9_of_a_worker_mid_burst_loses_nothing_acknowledged(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'kill.db'}"
    unlimited = {"MODERATION_RATE_LIMIT": "1000000/minute"}
    with running_service(tmp_path, workers=2, database_url=url, extra_env=unlimited) as service:
        key = service.create_site("crashy")["api_key"]
        acknowledged: list[int] = []
        lock = threading.Lock()

        def once(i: int) -> Any:
            try:
                r = requests.post(
                    f"{service.url}/v1/comments",
                    timeout=60,
                    headers={"Authorization": f"Bearer {key}"},
                    json={"text": text(i), "external_id": f"k-{i}"},
                )
            except requests.RequestException:
                return None  # the killed worker's in-flight requests: not acknowledged
            if r.status_code == 201:
                with lock:
                    acknowledged.append(i)
            return r.status_code

        def killer() -> None:
            while len(acknowledged) < 100:
                time.sleep(0.01)  # wait until the burst is well under way
            os.kill(service.worker_pids()[0], signal.SIGKILL)

        k = threading.Thread(target=killer)
        k.start()
        with ThreadPoolExecutor(20) as pool:
            codes = list(pool.map(once, range(600)))
        k.join()
        assert len(acknowledged) >= 100
        assert 500 not in codes
        rows = set(stored(url))
        missing = [i for i in acknowledged if f"k-{i}" not in rows]
        assert missing == []  # every 201 the client saw is stored
        print(
            f"\nkill -9 mid-burst: {len(acknowledged)} acknowledged, {len(missing)} missing, "
            f"{codes.count(None)} connections cut, {len(rows)} stored"
        )
        # gunicorn replaced the worker: the service still answers.
        assert requests.get(f"{service.url}/readyz", timeout=30).status_code in (200, 503)
