"""Request ids, one JSON log line per request, and Prometheus metrics."""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import time
import uuid
from collections.abc import Callable, Iterator

from flask import Flask, Response, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from api.logs import instance_id
from moderation.backlog import Backlog
from moderation.comments import StoredComment

REQUESTS = Counter(
    "moderation_http_requests_total", "HTTP requests", ["endpoint", "method", "status"]
)
LATENCY = Histogram(
    "moderation_http_request_seconds",
    "HTTP request latency",
    ["endpoint"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10),
)
DECISIONS = Counter("moderation_decisions_total", "Automatic decisions", ["status", "reason"])
SHADOW_MODEL_FAILURES = Counter(
    "moderation_shadow_model_failures_total",
    "Scoring by a site's model version in shadow that failed (the live decision stood)",
)
SCORING = Histogram(
    "moderation_scoring_seconds",
    "Model scoring latency per call",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10),
)

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
log = logging.getLogger("moderation.requests")


def process_memory_mb(pid: int | str = "self") -> dict[str, float]:
    """A process's memory in MB, from /proc (Linux; OSError elsewhere).

    peak_rss: the most it ever had resident (VmHWM), shared pages included;
    rss: resident now; pss: its proportional share (a page shared by n processes
    counts 1/n, so gunicorn workers' pss add up to what they cost together);
    private: pages no other process maps, i.e. what one more worker adds.
    """
    with open(f"/proc/{pid}/status") as f:
        rows = f.read().splitlines()
    with open(f"/proc/{pid}/smaps_rollup") as f:
        rows += f.read().splitlines()[1:]
    kb = {r.split(":")[0]: int(r.split()[1]) for r in rows if r.endswith("kB")}
    return {
        "peak_rss": kb["VmHWM"] / 1024,
        "rss": kb["VmRSS"] / 1024,
        "pss": kb["Pss"] / 1024,
        "private": (kb["Private_Clean"] + kb["Private_Dirty"]) / 1024,
    }


def count_decision(comment: StoredComment) -> None:
    """Count one automatic decision by outcome and by each reason."""
    reasons: set[str] = {r.code.value for r in comment.reasons} or {"none"}
    for reason in reasons:
        DECISIONS.labels(comment.status.value, reason).inc()


def count_shadow_failure(site: object) -> None:
    """Count one failure of a site's model version in shadow (logged where it happened)."""
    SHADOW_MODEL_FAILURES.inc()


def timed_scoring(score: Callable[..., object]) -> Callable[..., object]:
    def wrapper(*args: object, **kwargs: object) -> object:
        start = time.perf_counter()
        try:
            return score(*args, **kwargs)
        finally:
            SCORING.observe(time.perf_counter() - start)

    return wrapper


class DatabaseGauges(Collector):
    """The database's backlog as gauges, measured at each scrape.

    The same numbers whichever replica measures them: export them once (one scrape
    of /metrics/database through the Service), not from every replica's /metrics,
    where a sum over replicas would count each held comment once per replica.
    """

    def __init__(self, measure: Callable[[], Backlog]) -> None:
        self._measure = measure

    def collect(self) -> Iterator[GaugeMetricFamily]:
        backlog = self._measure()
        depth = GaugeMetricFamily(
            "moderation_queue_depth", "Held comments per site", labels=["site"]
        )
        for site, n in sorted(backlog.held.items()):
            depth.add_metric([site], n)
        yield depth
        webhooks = GaugeMetricFamily(
            "moderation_webhook_backlog",
            "Undelivered webhook events: due now, waiting to retry, or given up",
            labels=["state"],
        )
        webhooks.add_metric(["due"], backlog.webhooks_due)
        webhooks.add_metric(["waiting"], backlog.webhooks_waiting)
        webhooks.add_metric(["given_up"], backlog.webhooks_given_up)
        yield webhooks
        if backlog.jobs_queued is not None:
            yield GaugeMetricFamily(
                "moderation_job_queue_depth",
                "Jobs in the job queue's broker, waiting or being run by a worker",
                value=backlog.jobs_queued,
            )
        yield GaugeMetricFamily(
            "moderation_backfill_remaining",
            "Comments unfinished backfill runs (rescore --all) have still to re-score",
            value=backlog.backfill_remaining,
        )
        yield GaugeMetricFamily(
            "moderation_webhook_oldest_due_seconds",
            "How long the oldest due webhook event has waited for delivery",
            value=backlog.oldest_due_seconds,
        )
        yield GaugeMetricFamily(
            "moderation_rescore_pending",
            "Comments held as scoring_unavailable, waiting to be re-scored",
            value=backlog.pending_rescores,
        )


def init_app(app: Flask, backlog: Callable[[], Backlog]) -> None:
    """Wire request ids, logging, /metrics and /metrics/database into the app."""
    if not log.handlers:
        handler = logging.StreamHandler(sys.stdout)
        handler.setFormatter(logging.Formatter("%(message)s"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)
        log.propagate = False

    @app.before_request
    def _start() -> None:
        incoming = request.headers.get("X-Request-Id", "")
        g.request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        g.started = time.perf_counter()

    @app.after_request
    def _finish(response: Response) -> Response:
        request_id = getattr(g, "request_id", None) or uuid.uuid4().hex
        response.headers["X-Request-Id"] = request_id
        elapsed = time.perf_counter() - getattr(g, "started", time.perf_counter())
        endpoint = request.url_rule.rule if request.url_rule else "unmatched"
        if endpoint != "/metrics":
            REQUESTS.labels(endpoint, request.method, str(response.status_code)).inc()
            LATENCY.labels(endpoint).observe(elapsed)
        if app.config["LOG_REQUESTS"]:
            site = getattr(g, "site", None)
            user = getattr(g, "user", None)
            # Never the Authorization header, the body, or query strings (Perspective keys).
            log.info(
                json.dumps(
                    {
                        "ts": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                        "instance": instance_id(),
                        "request_id": request_id,
                        "method": request.method,
                        "path": request.path,
                        "endpoint": endpoint,
                        "status": response.status_code,
                        "duration_ms": round(elapsed * 1000, 2),
                        "site_id": site.id if site else None,
                        "user_id": user.id if user else None,
                    }
                )
            )
        return response

    @app.get("/metrics")
    def metrics() -> Response:
        """This instance's metrics (all its workers, when PROMETHEUS_MULTIPROC_DIR is set).

        With DATABASE_METRICS on (one instance), the database's backlog gauges too.
        """
        registry = CollectorRegistry()
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            from prometheus_client import multiprocess

            multiprocess.MultiProcessCollector(registry)
        else:
            for collector in (REQUESTS, LATENCY, DECISIONS, SCORING, SHADOW_MODEL_FAILURES):
                registry.register(collector)
        if app.config["DATABASE_METRICS"]:
            registry.register(DatabaseGauges(backlog))
        return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)

    @app.get("/metrics/database")
    def database_metrics() -> Response:
        """The database's backlog gauges alone: scrape once for all replicas (any answers)."""
        registry = CollectorRegistry()
        registry.register(DatabaseGauges(backlog))
        return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)
