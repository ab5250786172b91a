"""Flask CLI: `flask --app api sites|keys|users|db|rescore ...` (`scripts/cli.sh` from any shell).

With `--json`, a command prints one JSON object and nothing else, so it can be piped to `jq`.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import click
from flask import Flask
from flask.cli import AppGroup, with_appcontext

from api.jobs import jobs
from api.services import services
from moderation import migrate
from moderation.audit import Actor
from moderation.backfill import CHUNK_SIZE, BackfillRun, Scope
from moderation.errors import Conflict, DomainError
from moderation.integrations import CORAL_SECRET, ApprovedAnswer
from moderation.security import WeakPassword
from moderation.site_models import (
    MAX_RETRAIN_AFTER,
    MIN_RETRAIN_AFTER,
    ModelState,
    SiteModel,
    parse_labels_csv,
    parse_version,
)
from moderation.sites import Role


def _site_or_fail(ref: str) -> Any:
    site = services().store.sites.get(ref)
    if site is None:
        raise click.ClickException(f"no site with id or name {ref!r}")
    return site


def _echo_json(value: dict[str, Any]) -> None:
    """Print `value` as the command's only output."""
    click.echo(json.dumps(value))


sites_cli = AppGroup("sites", help="Create and list sites.")
keys_cli = AppGroup("keys", help="Create, list and revoke site API keys.")
users_cli = AppGroup("users", help="Create moderators, operators and admins.")
db_cli = AppGroup("db", help="Database schema.")


@sites_cli.command("create")
@click.argument("name")
@click.option("--webhook-url", default=None, help="where decisions are POSTed, signed")
@click.option(
    "--exist-ok",
    is_flag=True,
    help="succeed without a new key when a site of that name exists (for setup scripts)",
)
@click.option("--json", "as_json", is_flag=True, help="print only {site_id, api_key, created}")
def create_site(name: str, webhook_url: str | None, exist_ok: bool, as_json: bool) -> None:
    """Create a site; print its id and a new API key (shown only now)."""
    try:
        site, key = services().store.sites.create(name, webhook_url=webhook_url)
    except Conflict as exc:
        existing = services().store.sites.get(name) if exist_ok else None
        if existing is None:
            raise click.ClickException(str(exc)) from exc
        if as_json:
            _echo_json({"site_id": existing.id, "api_key": None, "created": False})
        else:
            click.echo(
                f"site {existing.name} exists: id {existing.id} (its key was shown when it was "
                f"made; `keys create {existing.name}` makes another)"
            )
        return
    if as_json:
        _echo_json({"site_id": site.id, "api_key": key, "created": True})
        return
    click.echo(f"site {site.name} created: id {site.id}")
    click.echo(f"API key (shown once, store it now): {key}")


@sites_cli.command("list")
def list_sites() -> None:
    """List sites."""
    for site in services().store.sites.all():
        click.echo(f"{site.id}\t{site.name}")


@keys_cli.command("create")
@click.argument("site")
@click.option("--json", "as_json", is_flag=True, help="print only {key_id, api_key}")
def create_key(site: str, as_json: bool) -> None:
    """Create another API key for SITE (id or name), e.g. to rotate keys."""
    key_id, key = services().store.sites.create_key(_site_or_fail(site).id)
    if as_json:
        _echo_json({"key_id": key_id, "api_key": key})
    else:
        click.echo(f"key {key_id} created (shown once, store it now): {key}")


@keys_cli.command("list")
@click.argument("site")
def list_keys(site: str) -> None:
    """List SITE's keys (id, prefix, created, revoked)."""
    for k in services().store.sites.keys(_site_or_fail(site).id):
        revoked = k.revoked_at.isoformat() if k.revoked_at else "active"
        click.echo(f"{k.id}\t{k.prefix}…\t{k.created_at.isoformat()}\t{revoked}")


@keys_cli.command("revoke")
@click.argument("key_id")
def revoke_key(key_id: str) -> None:
    """Revoke a key by its id; requests with it fail at once."""
    if services().store.sites.revoke_key(key_id) is None:
        raise click.ClickException(f"no key with id {key_id!r}")
    click.echo(f"key {key_id} revoked")


@users_cli.command("create")
@click.argument("name")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--site", "sites", multiple=True, help="a site (id or name) this person works on")
@click.option("--json", "as_json", is_flag=True, help="print only {user_id, token}")
def create_user(name: str, role: str, sites: tuple[str, ...], as_json: bool) -> None:
    """Create a person and print their API token (shown only now)."""
    site_ids = [_site_or_fail(s).id for s in sites]
    if Role(role) is not Role.ADMIN and not site_ids:
        raise click.ClickException("moderators and operators need at least one --site")
    try:
        user, token = services().store.users.create(name, Role(role), site_ids)
    except Conflict as exc:
        raise click.ClickException(str(exc)) from exc
    if as_json:
        _echo_json({"user_id": user.id, "token": token})
        return
    click.echo(f"{user.role.value} {user.name} created: id {user.id}")
    click.echo(f"API token (shown once, store it now): {token}")


@users_cli.command("set-password")
@click.argument("name")
@click.option(
    "--password-stdin", is_flag=True, help="read the password from the first line of stdin"
)
def set_password(name: str, password_stdin: bool) -> None:
    """Set NAME's password for signing in to the web pages (ends their open sessions).

    At least 12 characters, at most 1,024, and not the user name.
    """
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("New password", hide_input=True, confirmation_prompt=True)
    try:
        user = services().store.users.set_password(name, password)
    except WeakPassword as exc:
        raise click.ClickException(str(exc)) from exc
    if user is None:
        raise click.ClickException(f"no user named {name!r}")
    click.echo(f"password set for {name}")


@db_cli.command("upgrade")
def db_upgrade() -> None:
    """Create or upgrade the schema to the newest migration."""
    migrate.upgrade(services().store.engine)
    click.echo("database schema is up to date")


@click.command("rescore")
@click.option("--limit", default=1000, show_default=True, help="without --all: at most this many")
@click.option("--all", "everything", is_flag=True, help="re-score stored comments (a backfill)")
@click.option("--site", "site_ref", default=None, help="with --all: only this site (id or name)")
@click.option(
    "--since",
    type=click.DateTime(["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S"]),
    default=None,
    help="with --all: only comments made on or after this date (UTC)",
)
@click.option(
    "--model-version",
    default=None,
    help="with --all: only comments whose scores came from this model version",
)
@click.option(
    "--chunk-size", type=click.IntRange(1, 100_000), default=CHUNK_SIZE, show_default=True
)
@click.option("--status", "show_status", is_flag=True, help="show backfill runs and their progress")
@click.option("--wait/--no-wait", default=True, help="with a broker: follow the run until done")
@with_appcontext
def rescore(
    limit: int,
    everything: bool,
    site_ref: str | None,
    since: datetime | None,
    model_version: str | None,
    chunk_size: int,
    show_status: bool,
    wait: bool,
) -> None:
    """Score comments held as scoring_unavailable; with --all, re-score stored comments.

    --all splits the comments in scope into chunks of consecutive ids: with a job queue
    (MODERATION_BROKER_URL) each chunk is a job that any worker takes, else they run here,
    one after another. Running the same command again continues an unfinished run.
    Scores, language and model change; statuses and moderators' decisions never do.
    """
    if show_status:
        _print_runs(services().backfill.status())
        return
    if not everything:
        n = services().service.rescore_pending(limit)
        click.echo(f"re-scored {n} comment(s)")
        return
    scope = Scope(
        site_id=_site_or_fail(site_ref).id if site_ref else None,
        since=since.replace(tzinfo=UTC) if since else None,
        model_version=model_version,
    )
    backfill = services().backfill
    run, created = backfill.start(scope, chunk_size)
    verb = "started" if created else "continuing"
    click.echo(
        f"backfill {run.id} {verb}: {run.comments} comment(s) in {run.chunks} chunk(s) "
        f"of {run.chunk_size}, {run.rescored} done"
    )
    chunks = backfill.open_chunks(run.id)
    queue = jobs()
    started = time.monotonic()
    if queue.in_process:
        for seq in chunks:
            backfill.run_chunk(run.id, seq)
            _progress(services().store.backfills.get(run.id), started)
    else:
        for seq in chunks:
            queue.enqueue("backfill.chunk", run.id, seq)
        click.echo(f"{len(chunks)} chunk job(s) enqueued; `rescore --status` shows progress")
        while wait:
            current = services().store.backfills.get(run.id)
            _progress(current, started)
            if current is None or current.finished_at is not None:
                break
            time.sleep(2)
    final = services().store.backfills.get(run.id)
    if final is not None and final.finished_at is not None:
        click.echo(f"backfill {run.id} finished: {final.rescored} comment(s) re-scored")


def _progress(run: BackfillRun | None, started: float) -> None:
    if run is None:
        return
    seconds = max(time.monotonic() - started, 1e-9)
    click.echo(
        f"  {run.rescored}/{run.comments} ({run.percent:.1f} %), "
        f"chunks {run.chunks_finished}/{run.chunks}, {seconds:.0f} s"
    )


def _print_runs(runs: list[BackfillRun]) -> None:
    if not runs:
        click.echo("no backfill runs")
        return
    for run in runs:
        scope = (
            ", ".join(
                f"{k} {v}"
                for k, v in (
                    ("site", run.scope.site_id),
                    ("since", run.scope.since.date().isoformat() if run.scope.since else None),
                    ("model version", run.scope.model_version),
                )
                if v
            )
            or "every comment"
        )
        state = f"finished {run.finished_at.isoformat()}" if run.finished_at else "running"
        click.echo(
            f"{run.id}\t{run.created_at.isoformat()}\t{scope}\t{run.rescored}/{run.comments} "
            f"({run.percent:.1f} %)\tchunks {run.chunks_finished}/{run.chunks}\t{state}"
        )


@click.command("deliver-webhooks")
def deliver_webhooks() -> None:
    """Deliver due webhook events now (workers also do this every few seconds)."""
    n = services().deliverer.deliver_due(500)
    click.echo(f"delivered {n} event(s)")


@click.command("worker")
@click.option(
    "--threads",
    type=click.IntRange(1, 256),
    default=None,
    help="jobs run at once (default MODERATION_WORKER_THREADS, 8)",
)
@with_appcontext
def worker(threads: int | None) -> None:
    """Run background jobs from the job queue (MODERATION_BROKER_URL) until stopped.

    Webhook delivery, re-scoring, retention and backfill chunks; it also enqueues the
    periodic jobs, once across all workers. Stop it with SIGTERM: jobs under way finish.
    """
    from flask import current_app

    from api.jobs import run_worker
    from api.logs import json_handler

    root = logging.getLogger()
    if not root.handlers:
        root.addHandler(json_handler())
    for ours in ("api", "moderation", "models", "dramatiq"):
        logging.getLogger(ours).setLevel(logging.INFO)
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    run_worker(app, threads or app.config["WORKER_THREADS"])


coral_cli = AppGroup("coral", help="Coral Talk's External Moderation Phase: secret and answers.")

_DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def _duration(value: str) -> timedelta:
    """Parse 0, 90s, 10m, 1h or 1d."""
    value = value.strip().lower()
    unit = _DURATION_UNITS.get(value[-1:]) if value else None
    number = value[:-1] if unit else value
    if not number.isdigit():
        raise click.BadParameter(f"{value!r}: use 0, 90s, 10m, 1h or 1d")
    return timedelta(seconds=int(number) * (unit or 1))


@coral_cli.command("secret")
@click.argument("site")
@click.option("--secret-stdin", is_flag=True, help="read the secret from the first line of stdin")
@click.option(
    "--keep-previous",
    default="1h",
    show_default=True,
    help="how long the secret it replaces is still accepted (0, 90s, 10m, 1h, 1d)",
)
def coral_secret(site: str, secret_stdin: bool, keep_previous: str) -> None:
    """Set or rotate the signing secret (empsec_...) Coral shows for SITE's phase."""
    current = _site_or_fail(site)
    keep = _duration(keep_previous)
    if secret_stdin:
        secret = sys.stdin.readline().strip()
    else:
        secret = click.prompt("Signing secret from Coral", hide_input=True).strip()
    if not CORAL_SECRET.fullmatch(secret):
        raise click.ClickException("that is not a Coral signing secret (empsec_ followed by hex)")
    phase = services().store.coral.set_secret(current.id, secret, previous_valid_for=keep)
    click.echo(
        f"Coral secret set for {current.name}; phase URL path: /v1/integrations/coral/{current.id}"
    )
    if phase.previous_expires_at is not None:
        click.echo(f"the previous secret is accepted until {phase.previous_expires_at.isoformat()}")


@coral_cli.command("approved-answer")
@click.argument("site")
@click.argument("answer", type=click.Choice(["204", "APPROVED"]))
def coral_approved_answer(site: str, answer: str) -> None:
    """Answer approvals with 204 (Coral's other phases run) or {"status": "APPROVED"}."""
    current = _site_or_fail(site)
    choice = ApprovedAnswer.NO_CONTENT if answer == "204" else ApprovedAnswer.STATUS
    if services().store.coral.set_approved_answer(current.id, choice) is None:
        raise click.ClickException(f"set a Coral secret for {current.name} first")
    click.echo(f"approvals for {current.name} are answered with {answer}")


@coral_cli.command("show")
@click.argument("site")
def coral_show(site: str) -> None:
    """Show SITE's Coral settings (never the secrets)."""
    current = _site_or_fail(site)
    phase = services().store.coral.get(current.id)
    if phase is None:
        click.echo(f"{current.name}: no Coral secret set")
        return
    answer = "204" if phase.approved_answer is ApprovedAnswer.NO_CONTENT else "APPROVED"
    click.echo(f"phase URL path: /v1/integrations/coral/{current.id}")
    click.echo(f"secret set {phase.updated_at.isoformat()}; approvals answered with {answer}")
    if phase.previous_secret and phase.previous_expires_at:
        click.echo(f"previous secret accepted until {phase.previous_expires_at.isoformat()}")


retention_cli = AppGroup(
    "retention", help="Remove what sites keep no longer (workers do it hourly)."
)


@retention_cli.command("run")
@click.option("--site", "site_ref", default=None, help="only this site (id or name)")
def run_retention(site_ref: str | None) -> None:
    """Apply every site's retention policy now; print what was removed."""
    job = services().retention
    sites = [_site_or_fail(site_ref)] if site_ref else None
    by_id = {s.id: s.name for s in services().store.sites.all()}
    for run in job.run(sites):
        removed = ", ".join(f"{n} {what.replace('_', ' ')}" for what, n in run.as_dict().items())
        click.echo(f"{by_id.get(run.site_id, run.site_id)}: removed {removed}")


authors_cli = AppGroup("authors", help="A reader's data on a site: export it, erase it.")


@authors_cli.command("export")
@click.argument("site")
@click.argument("author_id")
def export_author(site: str, author_id: str) -> None:
    """Print everything stored about AUTHOR_ID on SITE as JSON (what the API's export answers)."""
    from api.review_schemas import AuthorExportSchema

    rights = services().rights
    record = rights.export(_site_or_fail(site).id, author_id, actor=Actor.CLI)
    click.echo(json.dumps(AuthorExportSchema().dump(record), indent=2, ensure_ascii=False))


@authors_cli.command("erase")
@click.argument("site")
@click.argument("author_id")
@click.option("--yes", is_flag=True, help="do not ask for confirmation")
def erase_author(site: str, author_id: str, yes: bool) -> None:
    """Erase AUTHOR_ID's comments and every copy of their data on SITE (cannot be undone)."""
    current = _site_or_fail(site)
    if not yes:
        click.confirm(f"Erase everything stored about {author_id!r} on {current.name}?", abort=True)
    erasure = services().rights.erase(current.id, author_id, actor=Actor.CLI)
    click.echo(
        f"erased {erasure.comments} comment(s) and {erasure.labels} label(s) of {author_id!r} "
        f"on {current.name}; {erasure.audit_entries_scrubbed} audit entr(y/ies) lost their notes"
    )


models_cli = AppGroup("models", help="Sites' adapted models: labels, training, promotion.")


def _model_json(model: SiteModel) -> dict[str, Any]:
    return {
        "version": model.tag,
        "state": model.state.value,
        "progress": round(model.progress, 3),
        "error": model.error,
        "metrics": dict(model.metrics),
    }


def _domain(call: Any) -> Any:
    """Run `call`; a refusal of the domain becomes the command's error message (exit 1)."""
    try:
        return call()
    except DomainError as exc:
        raise click.ClickException(exc.message) from exc


@models_cli.command("import-labels")
@click.argument("site")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="print only {imported}")
def import_labels(site: str, file: Path, as_json: bool) -> None:
    """Import labels for SITE from a CSV of text,label (label 0 or 1): all rows or none."""
    current = _site_or_fail(site)
    try:
        content = file.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise click.ClickException("The CSV is not valid UTF-8.") from exc
    rows = _domain(lambda: parse_labels_csv(content))
    n = services().site_models.import_labels(current, rows, actor=Actor.CLI)
    if as_json:
        _echo_json({"imported": n})
    else:
        click.echo(f"imported {n} label(s) for {current.name}")


@models_cli.command("adapt")
@click.argument("site")
@click.option("--wait", is_flag=True, help="wait until it is trained and print its metrics")
@click.option(
    "--auto-promote/--no-auto-promote",
    default=None,
    help="serve it if it beats the base model (default: the site's setting, `models settings`)",
)
@click.option("--json", "as_json", is_flag=True, help="last line: {version, state, metrics}")
def adapt(site: str, wait: bool, auto_promote: bool | None, as_json: bool) -> None:
    """Train a new version of SITE's model on its labels (at least 200, both kinds)."""
    current = _site_or_fail(site)
    svc = services().site_models
    model = _domain(lambda: svc.request(current, Actor.CLI, auto_promote=auto_promote))
    in_process = bool(getattr(svc.jobs, "in_process", True))
    if not wait and not in_process:
        if as_json:
            _echo_json(_model_json(model))
        else:
            click.echo(f"{model.tag} queued for {current.name}")
        return
    if not wait:
        click.echo("no job queue is configured: training here, in this process", err=True)
    shown = -1.0
    while True:
        model = svc.version(current, model.version)
        if model.state not in (ModelState.QUEUED, ModelState.TRAINING):
            break
        if model.progress - shown >= 0.05:
            shown = model.progress
            click.echo(f"{model.tag} {model.state.value} {model.progress:.0%}", err=True)
        time.sleep(1.0)
    if as_json:
        _echo_json(_model_json(model))
    else:
        click.echo(f"{model.tag} {model.state.value}")
        click.echo(json.dumps(dict(model.metrics), indent=2) if model.metrics else model.error)
    if model.state is ModelState.FAILED:
        sys.exit(1)


@models_cli.command("settings")
@click.argument("site")
@click.option(
    "--auto-promote/--no-auto-promote",
    default=None,
    help="serve a new version by itself when it beats the base model by its interval",
)
@click.option(
    "--retrain-after-labels",
    type=click.IntRange(MIN_RETRAIN_AFTER, MAX_RETRAIN_AFTER),
    default=None,
    metavar="N",
    help="train a new version by itself once N labels arrived since the newest one's training",
)
@click.option("--never", is_flag=True, help="retrain only when asked (the default)")
@click.option("--json", "as_json", is_flag=True, help="print only the settings as JSON")
def model_settings(
    site: str,
    auto_promote: bool | None,
    retrain_after_labels: int | None,
    never: bool,
    as_json: bool,
) -> None:
    """Show SITE's model settings, or change those given (audited)."""
    current = _site_or_fail(site)
    if never and retrain_after_labels is not None:
        raise click.UsageError("--retrain-after-labels and --never exclude each other")
    changes: dict[str, Any] = {}
    if auto_promote is not None:
        changes["auto_promote"] = auto_promote
    if retrain_after_labels is not None or never:
        changes["retrain_after_labels"] = retrain_after_labels
    svc = services().site_models
    settings = _domain(
        lambda: (
            svc.change_settings(current, changes, Actor.CLI) if changes else svc.settings(current)
        )
    )
    if as_json:
        _echo_json(settings.as_dict())
        return
    n = settings.retrain_after_labels
    click.echo(
        f"{current.name}: auto-promote {'on' if settings.auto_promote else 'off'}; "
        + (f"retrain after {n} new labels" if n is not None else "retrain only when asked")
    )


@models_cli.command("list")
@click.argument("site")
def list_models(site: str) -> None:
    """List SITE's model versions (newest first) and which one serves."""
    current = _site_or_fail(site)
    for m in services().site_models.versions(current):
        auc = ((m.metrics.get("roc_auc") or {}).get("candidate") or {}).get("value")
        click.echo(f"{m.tag}\t{m.state.value}\t{m.progress:.0%}\tROC-AUC {auc}")


@models_cli.command("promote")
@click.argument("site")
@click.argument("version")
@click.option("--keep-thresholds", is_flag=True, help="do not recalibrate the thresholds")
@click.option("--json", "as_json", is_flag=True)
def promote(site: str, version: str, keep_thresholds: bool, as_json: bool) -> None:
    """Serve VERSION of SITE's model (the toxicity threshold recalibrated, unless told not to)."""
    current = _site_or_fail(site)
    svc = services().site_models
    model = _domain(
        lambda: svc.promote(
            current, parse_version(version), Actor.CLI, recalibrate=not keep_thresholds
        )
    )
    if as_json:
        _echo_json(_model_json(model))
    else:
        click.echo(f"{model.tag} serves {current.name}")


@models_cli.command("rollback")
@click.argument("site")
def rollback(site: str) -> None:
    """Serve what served SITE before its current model version."""
    current = _site_or_fail(site)
    restored = _domain(lambda: services().site_models.rollback(current, Actor.CLI))
    click.echo(f"{restored.tag if restored else 'the base model'} serves {current.name}")


@models_cli.command("shadow")
@click.argument("site")
@click.argument("version")
@click.option("--stop", is_flag=True, help="stop running VERSION in shadow")
def shadow(site: str, version: str, stop: bool) -> None:
    """Run VERSION of SITE's model in shadow: it scores new comments too, never acted on."""
    current = _site_or_fail(site)
    svc = services().site_models
    number = _domain(lambda: parse_version(version))
    if stop:
        _domain(lambda: svc.stop_shadow(current, number, Actor.CLI))
        click.echo(f"v{number} no longer in shadow on {current.name}")
    else:
        _domain(lambda: svc.shadow(current, number, Actor.CLI))
        click.echo(f"v{number} in shadow on {current.name}: it scores new comments, never acted on")


@models_cli.command("shadow-report")
@click.argument("site")
@click.argument("version")
@click.option("--json", "as_json", is_flag=True, help="the report as JSON (as the API answers)")
def shadow_report(site: str, version: str, as_json: bool) -> None:
    """Live model against VERSION on SITE's comments it scored in shadow, and against moderators."""
    current = _site_or_fail(site)
    number = _domain(lambda: parse_version(version))
    report = _domain(lambda: services().site_models.shadow_report(current, number))
    if as_json:
        _echo_json(report)
        return
    m, mods = report["matrix"], report["moderators"]
    click.echo(
        f"{report['version']} {'in shadow' if report['in_shadow'] else 'not in shadow'}: "
        f"{report['comments']} comment(s), agreement {report['agreement']}"
    )
    click.echo("                 candidate approve  candidate hold")
    click.echo(
        f"live approve     {m['live_approve_candidate_approve']:>17}  "
        f"{m['live_approve_candidate_hold']:>14}"
    )
    click.echo(
        f"live hold        {m['live_hold_candidate_approve']:>17}  {m['live_hold_candidate_hold']:>14}"
    )
    auc = mods["roc_auc"]
    click.echo(
        f"moderators decided {mods['labelled']} ({mods['toxic']} toxic): live right on "
        f"{mods['live_agreed']}, candidate on {mods['candidate_agreed']}; "
        f"ROC-AUC live {auc['live']} candidate {auc['candidate']}"
    )
    rec = report["recalibration"]
    if rec.get("toxicity"):
        t = rec["toxicity"]
        click.echo(
            f"promotion would set toxicity {t['current']} -> {t['proposed']} (from {rec['source']})"
        )
    for ex in report["examples"]:
        click.echo(
            f"  live {'hold' if ex['live']['held'] else 'approve'} / candidate "
            f"{'hold' if ex['candidate']['held'] else 'approve'} / moderators "
            f"{ex['moderators'] or '-'}: {ex['text'][:100]!r}"
        )


def register(app: Flask) -> None:
    for command in (sites_cli, keys_cli, users_cli, db_cli, rescore, deliver_webhooks, worker):
        app.cli.add_command(command)
    app.cli.add_command(coral_cli)
    app.cli.add_command(authors_cli)
    app.cli.add_command(retention_cli)
    app.cli.add_command(models_cli)
