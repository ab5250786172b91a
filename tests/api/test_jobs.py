"""The job binding without a broker, and the schedule that runs periodic jobs once across workers."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest

from api.jobs import Jobs, jobs, schedule_once
from api.services import services
from moderation.clock import utcnow


def test_without_a_broker_an_enqueued_job_runs_in_a_thread_of_this_process(
    caplog: pytest.LogCaptureFixture,
) -> None:
    queue = Jobs()
    assert queue.in_process and queue.depth() is None
    ran = threading.Event()
    got: list[Any] = []

    def job(site_id: str, n: int) -> None:
        got.append((site_id, n, threading.current_thread().name))
        ran.set()

    queue.register("sites.train_model", job)
    queue.register("always.fails", lambda: 1 / 0)
    with pytest.raises(ValueError, match="registered already"):
        queue.register("sites.train_model", job)
    with pytest.raises(KeyError):
        queue.enqueue("no.such.job")
    queue.enqueue("sites.train_model", "site_1", 3)
    assert ran.wait(30)
    assert got[0][:2] == ("site_1", 3) and got[0][2].startswith("jobs")
    queue.enqueue("always.fails")
    queue.shutdown()
    assert "job always.fails failed" in caplog.text


def test_a_periodic_job_is_taken_by_one_of_many_workers_per_period(app: Any) -> None:
    schedule = services(app).store.schedule
    now = utcnow()
    results: list[bool] = []
    start = threading.Barrier(4)

    def worker() -> None:
        start.wait(10)
        results.append(schedule.take("webhooks.dispatch", now, 5.0))

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [False, False, False, True]  # the row did not exist: one made it
    assert schedule.take("webhooks.dispatch", now + timedelta(seconds=4), 5.0) is False
    assert [schedule.take("webhooks.dispatch", now + timedelta(seconds=5), 5.0) for _ in "ab"] == [
        True,
        False,
    ]


def test_the_scheduler_enqueues_each_due_periodic_job_once(app: Any) -> None:
    queue = jobs(app)
    assert {p.job for p in queue.periodic} == {
        "webhooks.dispatch",
        "rescore.pending",
        "retention.run",
        "site_models.retrain",
    }
    app.config["RETENTION_INTERVAL"] = 0  # 0: never
    schedule = services(app).store.schedule
    enqueued: list[str] = []
    queue.enqueue = lambda name, *args: enqueued.append(name)  # type: ignore[method-assign]
    now = utcnow()
    for _ in range(3):  # three workers' schedulers in the same second
        schedule_once(app, lambda job, every: schedule.take(job, now, every))
    assert sorted(enqueued) == ["rescore.pending", "site_models.retrain", "webhooks.dispatch"]


def test_the_worker_command_needs_a_broker(app: Any) -> None:
    out = app.test_cli_runner().invoke(args=["worker"])
    assert out.exit_code != 0
    assert "MODERATION_BROKER_URL is not set" in str(out.exception) + out.output


def test_the_job_queue_depth_is_in_the_database_metrics_once_a_broker_is_set(
    app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    queue = jobs(app)
    monkeypatch.setattr(queue, "depth", lambda: 12)
    body = app.test_client().get("/metrics/database").get_data(as_text=True)
    assert "moderation_job_queue_depth 12.0" in body
