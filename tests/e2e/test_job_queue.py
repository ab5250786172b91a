"""The job queue for real: `flask --app api worker` processes on Redis (and RabbitMQ), the real app."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import redis

from api import create_app
from api.services import services
from moderation.comments import NewComment, Status
from moderation.review import Action, DecisionIn, RejectReason
from moderation.sites import Role
from tests.fakes import KeywordScorer
from tests.serving import ROOT, worker_processes

REDIS = os.environ.get("MODERATION_TEST_REDIS", "redis://127.0.0.1:6379/0")
RABBITMQ = os.environ.get("MODERATION_TEST_RABBITMQ", "amqp://guest:guest@127.0.0.1:5672/")


class Receiver:
    """A webhook receiver on a free loopback port answering 200 after 1 to 2 s (varying)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.bodies: list[dict[str, Any]] = []
        received = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                # The receiver's own latency, 1.0 to 2.0 s by the event's number.
                time.sleep(1 + int(body["id"].removeprefix("evt_")) % 11 / 10)
                with received.lock:
                    received.bodies.append(body)
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        class Server(ThreadingHTTPServer):
            request_queue_size = 64  # the default backlog, 5, is below the 16 POSTs under way

        self.server = Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()


def wait_for(condition: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.2)


def worker_env(database_url: str, broker: str, queue: str, tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MODERATION_")}
    env.update(
        MODERATION_DATABASE_URL=database_url,
        MODERATION_BROKER_URL=broker,
        MODERATION_JOB_QUEUE=queue,
        MODERATION_SECRET_KEY="job-queue-test",
        MODERATION_INSTANCE_PATH=str(tmp_path / "instance"),
        MODERATION_BACKGROUND_INTERVAL="0.5",
        # Far above the receiver's 1-2 s: a POST timing out on a loaded machine is a failed
        # attempt the receiver may still have taken, so delivered again (at least once).
        MODERATION_WEBHOOK_TIMEOUT="30",
        MODERATION_WEBHOOK_CONCURRENCY="16",
        MODERATION_WORKER_THREADS="16",
        MODERATION_RETENTION_INTERVAL="0",
        MODERATION_MODEL_CACHE=os.environ.get("MODERATION_MODEL_CACHE", ""),
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
    )
    return env


@pytest.fixture
def queue_name() -> Iterator[str]:
    """A queue (and Redis key prefix) of this test's own; its keys removed afterwards."""
    name = "test-" + secrets.token_hex(4)
    yield name
    client = redis.Redis.from_url(REDIS)
    for key in client.scan_iter(f"{name}:*"):
        client.delete(key)


def web_app(database_url: str, broker: str, queue: str, tmp_path: Path) -> Any:
    return create_app(
        {
            "DATABASE_URL": database_url,
            "BROKER_URL": broker,
            "JOB_QUEUE": queue,
            "SCORER": KeywordScorer(),
            "MODEL": str(tmp_path / "no-checkpoint"),
            "SECRET_KEY": "job-queue-test",
            "LOG_REQUESTS": False,
        }
    )


@pytest.mark.parametrize("broker", [REDIS, RABBITMQ], ids=["redis", "rabbitmq"])
def test_200_decisions_with_slow_receivers_are_delivered_once_by_two_workers(
    database_url: str, queue_name: str, tmp_path: Path, broker: str
) -> None:
    app = web_app(database_url, broker, queue_name, tmp_path)
    assert services(app).service is not None
    from api import start_background

    assert start_background(app) is None  # with a broker, the web process runs no jobs
    receiver = Receiver()
    store = services(app).store
    sites = [store.sites.create(f"paper-{n}", webhook_url=receiver.url)[0] for n in range(2)]
    moderator, _ = store.users.create("mia", Role.MODERATOR, [s.id for s in sites])
    comments = []
    for i in range(200):
        site = sites[i % 2]
        submitted = services(app).service.submit(site, NewComment(f"You nitwit, number {i}."))
        assert submitted.comment.status is Status.HELD
        comments.append(submitted.comment)
    # The held events went out with the comments; these 200 decisions are the ones counted.
    with store.db.write() as conn:
        conn.exec_driver_sql("UPDATE webhook_outbox SET delivered_at = created_at")
    for c in comments:
        action = Action.REJECT if c.id[-1] in "01234567" else Action.APPROVE
        reason = RejectReason.ABUSIVE if action is Action.REJECT else None
        services(app).review.decide(moderator, DecisionIn(c.id, action, c.version, reason))

    def events() -> list[Any]:
        return [e for s in sites for e in store.outbox.recent(s.id, 1000)]

    try:
        with worker_processes(
            worker_env(database_url, broker, queue_name, tmp_path),
            2,
            tmp_path / "workers.log",
            wait=0,
        ):
            wait_for(
                lambda: sum(e.delivered_at is not None for e in events()) == 400,
                240,
                "every event delivered",
            )
    finally:
        receiver.close()
    log = (tmp_path / "workers.log").read_text()
    decided = [e for e in events() if e.event != "comment.held"]
    assert len(decided) == 200
    ids = Counter(b["id"] for b in receiver.bodies)
    assert sorted(ids) == sorted(e.id for e in decided), log[-3000:]  # every event delivered
    retried = [(e.id, [a.error for a in e.history]) for e in decided if e.attempts != 1]
    assert set(ids.values()) == {1}, retried  # none twice
    assert not retried, (retried, log[-3000:])  # counted exactly: one attempt each
    assert all(len(e.history) == 1 for e in decided)
    assert "worker started: 16 threads" in log


def test_a_backfill_over_two_worker_processes_rescores_each_comment_once_with_the_real_model(
    database_url: str, queue_name: str, tmp_path: Path
) -> None:
    # Comments scored by an older model ("keyword-fake" version "test"), a few decided.
    app = web_app(database_url, REDIS, queue_name, tmp_path)
    store = services(app).store
    site, _ = store.sites.create("harbour-news")
    moderator, _ = store.users.create("mia", Role.MODERATOR, [site.id])
    comments = [
        services(app).service.submit(site, NewComment(text)).comment
        for i in range(120)
        for text in [f"You nitwit, said reader {i}." if i % 4 == 0 else f"Lovely photo {i}."]
    ]
    decided = {}
    for c in comments[:40]:
        action = Action.REJECT if c.status is Status.HELD else Action.APPROVE
        reason = RejectReason.ABUSIVE if action is Action.REJECT else None
        decided[c.id] = services(app).review.decide(
            moderator, DecisionIn(c.id, action, c.version, reason)
        )
    before = {c.id: store.comments.get(c.id) for c in comments}
    env = worker_env(database_url, REDIS, queue_name, tmp_path)
    env["MODERATION_WORKER_THREADS"] = "2"
    with worker_processes(env, 2, tmp_path / "workers.log", wait=0):
        out = subprocess.run(
            [sys.executable, "-m", "flask", "--app", "api", "rescore", "--all",
             "--model-version", "test", "--chunk-size", "10"],
            env=env, cwd=ROOT, capture_output=True, text=True, timeout=600,
        )  # fmt: skip
    log = (tmp_path / "workers.log").read_text()
    assert out.returncode == 0, out.stderr + log[-3000:]
    assert (
        "120 comment(s) in 12 chunk(s)" in out.stdout and "12 chunk job(s) enqueued" in out.stdout
    )
    assert "finished: 120 comment(s) re-scored" in out.stdout
    [run] = store.backfills.recent()
    assert run.finished_at is not None and run.rescored == 120 and run.chunks_finished == 12
    for c in comments:
        old, new = before[c.id], store.comments.get(c.id)
        assert old is not None and new is not None and new.model is not None
        assert new.model.version != "test"  # the real model's scores now
        assert (new.status, new.decided_by, new.version) == (
            old.status,
            old.decided_by,
            old.version,
        )
    status = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "api", "rescore", "--status"],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert f"{run.id}\t" in status.stdout and "120/120 (100.0 %)" in status.stdout
