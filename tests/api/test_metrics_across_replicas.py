"""The database's backlog is reported once, not per replica; log lines are JSON naming the instance."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from api.services import services
from moderation import db
from moderation.clock import utcnow
from moderation.webhooks import MAX_ATTEMPTS
from tests.serving import ROOT

BACKLOG_METRICS = {
    "moderation_queue_depth",
    "moderation_webhook_backlog",
    "moderation_webhook_oldest_due_seconds",
    "moderation_rescore_pending",
    "moderation_backfill_remaining",
}


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a Prometheus text page: {(name, sorted labels): value}."""
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def add_outbox(
    app: Any, site_id: str, *, due_in: timedelta, attempts: int, delivered: bool
) -> None:
    now = utcnow()
    with services(app).store.engine.begin() as conn:
        conn.execute(
            db.webhook_outbox.insert().values(
                site_id=site_id,
                event="comment.decided",
                payload={},
                created_at=now - timedelta(hours=1),
                attempts=attempts,
                next_attempt_at=now + due_in,
                delivered_at=now if delivered else None,
            )
        )


@pytest.fixture
def backlog(app: Any, client: Any, auth: dict[str, str], scorer: Any) -> None:
    """Two held comments, one waiting for the model, and webhooks in every state."""
    for text in ("You nitwit.", "What a dunderhead.", "Lovely photos."):
        assert client.post("/v1/comments", json={"text": text}, headers=auth).status_code == 201
    scorer.fail = RuntimeError("model down")
    r = client.post("/v1/comments", json={"text": "Scored later."}, headers=auth)
    assert r.get_json()["scoring_state"] == "pending"  # held as scoring_unavailable
    site = services(app).store.sites.get("daily-bugle")
    add_outbox(app, site.id, due_in=timedelta(minutes=-10), attempts=1, delivered=False)
    add_outbox(app, site.id, due_in=timedelta(minutes=-1), attempts=0, delivered=False)
    add_outbox(app, site.id, due_in=timedelta(minutes=5), attempts=2, delivered=False)
    add_outbox(app, site.id, due_in=timedelta(minutes=-5), attempts=MAX_ATTEMPTS, delivered=False)
    add_outbox(app, site.id, due_in=timedelta(minutes=-30), attempts=1, delivered=True)


def test_the_database_backlog_is_measured_on_both_databases(client: Any, backlog: None) -> None:
    found = samples(client.get("/metrics/database").get_data(as_text=True))
    assert found[("moderation_queue_depth", (("site", "daily-bugle"),))] == 3  # 2 + pending
    assert found[("moderation_webhook_backlog", (("state", "due"),))] == 2
    assert found[("moderation_webhook_backlog", (("state", "waiting"),))] == 1
    assert found[("moderation_webhook_backlog", (("state", "given_up"),))] == 1
    assert 600 <= found[("moderation_webhook_oldest_due_seconds", ())] < 900
    assert found[("moderation_rescore_pending", ())] == 1
    # Only the database's figures there: nothing a replica counts for itself.
    assert {name for name, _ in found} <= BACKLOG_METRICS


def test_an_empty_database_reports_zeros(client: Any) -> None:
    found = samples(client.get("/metrics/database").get_data(as_text=True))
    assert found[("moderation_webhook_backlog", (("state", "due"),))] == 0
    assert found[("moderation_webhook_oldest_due_seconds", ())] == 0
    assert found[("moderation_rescore_pending", ())] == 0


def test_replicas_leave_the_backlog_out_of_their_own_metrics(
    app: Any, client: Any, backlog: None
) -> None:
    # One instance (the default): /metrics has everything, as before.
    names = {name for name, _ in samples(client.get("/metrics").get_data(as_text=True))}
    assert names >= BACKLOG_METRICS
    # Replicas of a shared database: their own request metrics only, so a sum over
    # replicas counts each request once and no held comment more than once.
    app.config["DATABASE_METRICS"] = False
    page = client.get("/metrics").get_data(as_text=True)
    names = {name for name, _ in samples(page)}
    assert not BACKLOG_METRICS & names
    assert "moderation_http_requests_total" in names
    assert "moderation_queue_depth" in client.get("/metrics/database").get_data(as_text=True)


def test_the_setting_comes_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from api import config

    monkeypatch.setenv("MODERATION_DATABASE_METRICS", "0")
    assert config.load(str(tmp_path), {"SECRET_KEY": "k"})["DATABASE_METRICS"] is False


BACKGROUND_FAILS = """
import threading, sys
from gunicorn.config import Config
from api.logs import JsonLogger
JsonLogger(Config())  # what gunicorn.conf.py's logger_class sets up in every process
from api import create_app, start_background
from api.services import services
from tests.fakes import KeywordScorer

app = create_app({"DATABASE_URL": sys.argv[1], "SCORER": KeywordScorer(), "SECRET_KEY": "k",
                  "BACKGROUND_INTERVAL": 0.01, "RETENTION_INTERVAL": 0})
failed = threading.Event()
def deliver_due(*args, **kwargs):
    failed.set()
    raise ConnectionError("receiver unreachable")
services(app).deliverer.deliver_due = deliver_due
start_background(app)
assert failed.wait(60)
app.extensions["moderation.background_stop"].set()
"""


def test_background_errors_are_json_lines_naming_the_instance(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-c", BACKGROUND_FAILS, f"sqlite:///{tmp_path / 'm.db'}"],
        cwd=ROOT,
        env={
            "PATH": "/usr/bin:/bin",
            "MODERATION_INSTANCE_ID": "web-7f9c-2",
            "HOME": str(tmp_path),
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    lines = [json.loads(line) for line in out.stdout.splitlines() if line.strip()]
    failures = [line for line in lines if line["message"] == "background run failed; will retry"]
    assert failures, out.stdout
    first = failures[0]
    assert first["level"] == "error" and first["instance"] == "web-7f9c-2"
    assert "ConnectionError: receiver unreachable" in first["exc"]
    assert first["logger"] == "api" and isinstance(first["pid"], int)
