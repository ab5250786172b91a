"""The HTTP face: create_app() wires configuration, storage, the scorer and the blueprints."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Flask, request
from flask.typing import ResponseReturnValue

from api import adapting, cli, config, errors, inbound, jobs, observability
from api.services import Services, install, services
from moderation import migrate
from moderation.backfill import Backfill
from moderation.clock import utcnow
from moderation.db import make_engine
from moderation.language import detect_language
from moderation.policy import FALLBACK_THRESHOLDS, LanguageRule, Policy
from moderation.privacy import AddressPolicy, AddressStorage, ReadersRights
from moderation.repositories import Repositories
from moderation.retention import Retention, RetentionJob
from moderation.review import Review
from moderation.scoring import GuardedScorer, Scorer, SiteModelCache
from moderation.service import ModerationService
from moderation.site_models import SiteModels
from moderation.standing import AuthorStandings
from moderation.throttle import (
    MemoryFailureCounts,
    RedisFailureCounts,
    SignInLimits,
    SignInThrottle,
)
from moderation.tuning import HeldUnder
from moderation.webhooks import MAX_ATTEMPTS, Deliverer, http_post

_JSON_METHODS = {"POST", "PUT", "PATCH"}
# Endpoints whose body may be left out (all fields have defaults, or there is none).
_OPTIONAL_BODY = {
    "queue.Claim",
    "queue.Undo",
    "coral.CoralPhaseView",  # Coral: signature first
    "site_models.Models",
    "site_models.Promote",
    "site_models.Rollback",
    "site_models.ModelShadow",
}
# Endpoints whose body is CSV (imported labels): text/csv, not JSON.
_CSV_BODY = {"site_models.Labels"}


def model_path(cfg: Mapping[str, Any]) -> Path:
    if cfg["MODEL"]:
        return Path(cfg["MODEL"])
    from models import DEFAULT_MODEL_PATH  # a path constant: importing it loads no torch

    return Path(DEFAULT_MODEL_PATH)


# MODERATION_MULTILINGUAL_MODEL values that turn the second model off.
MULTILINGUAL_OFF = ("off", "none", "0", "false")
# The languages a multilingual checkpoint reads when its thresholds.json does not list them.
MULTILINGUAL_LANGUAGES = ("de", "es", "fr", "it", "pt")


def multilingual_path(cfg: Mapping[str, Any]) -> Path | None:
    """The multilingual checkpoint to serve, or None (switched off, or none shipped)."""
    setting = str(cfg["MULTILINGUAL_MODEL"]).strip()
    if setting.lower() in MULTILINGUAL_OFF:
        return None
    if setting:
        return Path(setting)
    shipped = model_path({"MODEL": ""}).parent / "multilingual-toxicity"
    return shipped if (shipped / "config.json").exists() else None


def _calibration(path: Path) -> dict[str, Any]:
    calibrated = path / "thresholds.json"
    return json.loads(calibrated.read_text()) if calibrated.exists() else {}


def multilingual_languages(path: Path) -> tuple[str, ...]:
    """The languages a multilingual checkpoint serves: those its calibration lists."""
    listed = _calibration(path).get("languages")
    return tuple(sorted(listed)) if listed else MULTILINGUAL_LANGUAGES


def default_policy(model_path: Path, multilingual: Path | None = None) -> Policy:
    """The policy new sites start with: thresholds calibrated for the models, if they ship them.

    English takes the English model's thresholds; each language of the multilingual
    model is scored, on the thresholds calibrated for that language (else the
    multilingual model's overall ones, else the fallback).
    """
    thresholds = dict(FALLBACK_THRESHOLDS)
    thresholds.update(_calibration(model_path).get("thresholds") or {})
    languages = {}
    if multilingual is not None:
        calibration = _calibration(multilingual)
        overall = {**FALLBACK_THRESHOLDS, **(calibration.get("thresholds") or {})}
        per_language = calibration.get("languages") or {}
        for code in multilingual_languages(multilingual):
            own = (per_language.get(code) or {}).get("thresholds") or {}
            languages[code] = LanguageRule(thresholds={**overall, **own})
    return Policy(thresholds=thresholds, languages=languages)


def _scorer_loader(cfg: Mapping[str, Any], path: Path | None = None) -> Any:
    def load() -> Scorer:
        from models import load_scorer

        return load_scorer(
            path or cfg["MODEL"] or None,
            fast=cfg["FAST_PATH"],
            engine=cfg["FAST_ENGINE"],
            threads=cfg["TORCH_THREADS"],
            batch_size=cfg["BATCH_SIZE"],
            # 0: two threads where this process may run on two cores or more.
            long_pass_threads=cfg["LONG_PASS_THREADS"] or min(2, config.available_cores()),
        )

    return load


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app. test_config may also carry objects: SCORER (a Scorer) replaces the model."""
    app = Flask(__name__, instance_path=os.environ.get("MODERATION_INSTANCE_PATH") or None)
    app.config.update(config.load(app.instance_path, test_config))
    app.config.update(
        API_TITLE="Comment moderation API",
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/",
        OPENAPI_JSON_PATH="openapi.json",
    )
    app.json.sort_keys = False  # type: ignore[attr-defined]  # fields in the documented order
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)

    engine = make_engine(app.config["DATABASE_URL"])
    if app.config["AUTO_MIGRATE"]:
        migrate.upgrade(engine)
    multilingual = multilingual_path(app.config)
    store = Repositories(engine, default_policy(model_path(app.config), multilingual))

    injected = app.config.get("SCORER")
    load = (lambda: injected) if injected is not None else _scorer_loader(app.config)
    site_models_dir = Path(app.config["SITE_MODELS_DIR"] or Path(app.instance_path) / "site-models")
    scorer = GuardedScorer(
        load,
        timeout=app.config["SCORING_TIMEOUT"],
        batch_tokens=app.config["BATCH_TOKENS"],
        sites=SiteModelCache(
            app.config.get("SITE_MODEL_LOADER")
            or adapting.site_model_loader(site_models_dir, model_path(app.config).name, app.config),
            max(1, app.config["SITE_MODELS_MAX"]),
        ),
    )
    scorer.score = observability.timed_scoring(scorer.score)  # type: ignore[method-assign,assignment]
    # The multilingual model: its own scorer and inference queue, loaded on first use
    # (PRELOAD_MODEL, and gunicorn's workers, load it at start). SCORER_MULTILINGUAL
    # (tests) replaces it as SCORER replaces the English one.
    language_scorers: dict[str, GuardedScorer] = {}
    if multilingual is not None:
        injected_second = app.config.get("SCORER_MULTILINGUAL")
        if injected_second is None and not (multilingual / "config.json").exists():
            # Said at start, not as every German comment held scoring_unavailable.
            raise SystemExit(
                f"MODERATION_MULTILINGUAL_MODEL: no checkpoint at {multilingual} "
                "(a folder with config.json; 'off' for none)"
            )
        second = GuardedScorer(
            (lambda: injected_second)
            if injected_second is not None
            else _scorer_loader(app.config, multilingual),
            timeout=app.config["SCORING_TIMEOUT"],
            batch_tokens=app.config["BATCH_TOKENS"],
        )
        second.score = observability.timed_scoring(second.score)  # type: ignore[method-assign,assignment]
        language_scorers = dict.fromkeys(multilingual_languages(multilingual), second)
    service = ModerationService(
        store,
        scorer,
        detect_language=detect_language,
        email_pepper=app.config["SECRET_KEY"],
        on_decision=observability.count_decision,
        on_shadow_failure=observability.count_shadow_failure,
        addresses=AddressPolicy(AddressStorage(app.config["AUTHOR_IP"]), app.config["SECRET_KEY"]),
        language_scorers=language_scorers,
    )
    post = app.config.get("WEBHOOK_POST") or http_post(timeout=app.config["WEBHOOK_TIMEOUT"])
    failure_counts = (
        RedisFailureCounts.from_url(app.config["REDIS_URL"])
        if app.config["REDIS_URL"]
        else MemoryFailureCounts()
    )
    signin_limits = SignInLimits(
        account_failures=app.config["SIGNIN_ACCOUNT_FAILURES"],
        address_failures=app.config["SIGNIN_ADDRESS_FAILURES"],
        window=timedelta(minutes=app.config["SIGNIN_LOCKOUT_MINUTES"]),
    )
    background = jobs.Jobs(app.config["BROKER_URL"], app.config["JOB_QUEUE"])
    install(
        app,
        Services(
            store=store,
            scorer=scorer,
            service=service,
            review=Review(store),
            deliverer=Deliverer(
                store,
                post,
                timeout=app.config["WEBHOOK_TIMEOUT"],
                per_site=app.config["WEBHOOK_CONCURRENCY"],
            ),
            rights=ReadersRights(store),
            retention=RetentionJob(
                store,
                Retention(
                    comment_text_days=app.config["RETENTION_DAYS"] or None,
                    webhook_days=app.config["WEBHOOK_RETENTION_DAYS"] or None,
                ),
                max_webhook_attempts=MAX_ATTEMPTS,
                clock=utcnow,
            ),
            signin_throttle=SignInThrottle(failure_counts, signin_limits),
            held_under=HeldUnder(),
            standings=AuthorStandings(store),
            backfill=Backfill(store, service),
            site_models=SiteModels(
                store,
                app.config.get("ADAPTER")
                or adapting.ModelAdapter(
                    model_path(app.config),
                    epochs=app.config["ADAPT_EPOCHS"],
                    lr=app.config["ADAPT_LR"],
                    max_length=app.config["ADAPT_MAX_LENGTH"],
                    threads=config.adapt_threads(app.config),
                    nice=app.config["ADAPT_NICE"],
                ),
                app.config.get("JOBS") or adapting.QueuedTraining(background),
                site_models_dir,
            ),
        ),
    )

    jobs.install(app, background)
    jobs.register_background_jobs(app)
    # A site's model trains for minutes: no retry (a failure is recorded on the version).
    background.register(
        adapting.TRAIN_JOB, services(app).site_models.train, retries=0, time_limit=4 * 3600.0
    )
    # Sites that opted in retrain on their new labels: one look across all workers per period.
    background.register(
        adapting.RETRAIN_JOB, lambda: len(services(app).site_models.retrain()), retries=0
    )
    background.every(adapting.RETRAIN_JOB, lambda: float(app.config["RETRAIN_INTERVAL"]))

    api = errors.ApiWithErrors(
        app,
        spec_kwargs={
            "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
            "security": [{"bearer": []}],
        },
    )
    app.extensions["moderation.api"] = api
    from api import authors, comments, docs, health, queue, site_models, sites, web

    api.register_blueprint(comments.blp)
    api.register_blueprint(queue.blp)
    api.register_blueprint(sites.blp)
    api.register_blueprint(authors.blp)
    api.register_blueprint(site_models.blp)
    app.register_blueprint(health.blp)
    app.register_blueprint(docs.blp)
    web.register(app)
    errors.register(app)
    observability.init_app(
        app,
        lambda: replace(
            store.backlog.measure(utcnow(), MAX_ATTEMPTS),
            jobs_queued=background.depth(),
            backfill_remaining=store.backfills.remaining(),
        ),
    )
    cli.register(app)
    from api import coral, limits, perspective

    app.register_blueprint(perspective.blp)
    api.register_blueprint(coral.blp)
    limits.init_app(app, per_key=(comments.blp, perspective.blp), coral=coral.blp)

    @app.before_request
    def _no_automatic_options() -> ResponseReturnValue | None:
        # The API serves backends and same-origin pages: no CORS preflight to answer, so
        # OPTIONS is not an operation, and the Allow header lists only documented methods.
        if request.method == "OPTIONS" and request.url_rule is not None:
            allowed = sorted((request.url_rule.methods or set()) - {"OPTIONS"})
            return errors.error_response(
                405,
                "The method is not allowed for the requested URL.",
                headers={"Allow": ", ".join(allowed)},
            )
        return None

    @app.before_request
    def _require_json() -> ResponseReturnValue | None:
        if request.url_rule is None:
            return None  # unrouted: the 404 or 405 says more than a body complaint would
        if request.endpoint in _CSV_BODY and request.method in _JSON_METHODS:
            if request.mimetype != "text/csv":
                return errors.error_response(
                    415, "Send the labels as CSV with 'Content-Type: text/csv'."
                )
            if not request.content_length and not request.headers.get("Transfer-Encoding"):
                return errors.error_response(
                    422, "This request needs a CSV body.", details={"_schema": ["Missing body."]}
                )
            return None
        if (
            request.method in _JSON_METHODS
            and request.path.startswith("/v1/")  # not /v1alpha1: Perspective answers as Google
            and request.content_length != 0
            and not request.is_json
            and (request.content_length or request.headers.get("Transfer-Encoding"))
        ):
            return errors.error_response(
                415, "Send the body as JSON with 'Content-Type: application/json'."
            )
        if (
            request.method in _JSON_METHODS
            and request.path.startswith("/v1/")
            and request.endpoint not in _OPTIONAL_BODY
            and not request.content_length
            and not request.headers.get("Transfer-Encoding")
        ):
            # Without this an empty PUT would validate as "change nothing" and succeed.
            return errors.error_response(
                422, "This request needs a JSON body.", details={"_schema": ["Missing body."]}
            )
        return None

    inbound.init_app(app)
    if app.config["PRELOAD_MODEL"]:
        for each in service.scorers.distinct():
            each.load()
    return app


def start_background(app: Flask) -> threading.Thread | None:
    """Deliver due webhooks, re-score comments whose scoring failed and apply retention.

    Without a job queue broker, every worker runs one thread; they cannot
    double-process a row: comments to re-score and webhook rows are claimed first,
    and a retention run removes only what is still there (the first run comes a
    tick after start, then every RETENTION_INTERVAL). With a broker
    (MODERATION_BROKER_URL) this starts nothing: `flask --app api worker` processes
    run that work as jobs (api/jobs.py).
    """
    interval = float(app.config["BACKGROUND_INTERVAL"])
    if interval <= 0 or not jobs.jobs(app).in_process:
        return None
    stop = threading.Event()
    running = services(app)
    # Deliveries to different receivers at once: one slow receiver does not hold up the rest.
    deliveries = ThreadPoolExecutor(4, thread_name_prefix="webhooks")

    def every(seconds: float) -> int:
        return max(1, round(seconds / interval))

    def run() -> None:
        ticks = 0
        while not stop.wait(interval):
            ticks += 1
            try:
                running.deliverer.deliver_due(run=deliveries.map)
                if ticks % every(app.config["RESCORE_INTERVAL"]) == 0:
                    running.service.rescore_pending(100)
                retention = float(app.config["RETENTION_INTERVAL"])
                if retention > 0 and (ticks == 1 or ticks % every(retention) == 0):
                    running.retention.run()
                retrain = float(app.config["RETRAIN_INTERVAL"])
                # Once per period across all web workers (the schedule is in the database);
                # the job runs in the jobs' thread pool, its training in a child process.
                if retrain > 0 and running.store.schedule.take(
                    adapting.RETRAIN_JOB, utcnow(), retrain
                ):
                    jobs.jobs(app).enqueue(adapting.RETRAIN_JOB)
            except Exception:
                app.logger.exception("background run failed; will retry")

    thread = threading.Thread(target=run, name="background", daemon=True)
    thread.start()
    app.extensions["moderation.background_stop"] = stop
    return thread
