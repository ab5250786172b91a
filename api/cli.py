"""Flask CLI: `flask --app api sites|keys|users|db|rescore ...`."""

from __future__ import annotations

import json
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from moderation import migrate
from moderation.sites import Role
from moderation.store import Conflict, SqlStore


def _store() -> SqlStore:
    return current_app.extensions["moderation.store"]


def _site_or_fail(ref: str) -> Any:
    site = _store().get_site(ref)
    if site is None:
        raise click.ClickException(f"no site with id or name {ref!r}")
    return site


sites_cli = AppGroup("sites", help="Create and list sites.")
keys_cli = AppGroup("keys", help="Create, list and revoke site API keys.")
users_cli = AppGroup("users", help="Create moderators, operators and admins.")
db_cli = AppGroup("db", help="Database schema.")


@sites_cli.command("create")
@click.argument("name")
@click.option("--webhook-url", default=None, help="where decisions are POSTed, signed")
@click.option("--json", "as_json", is_flag=True, help="last line: {site_id, api_key}")
def create_site(name: str, webhook_url: str | None, as_json: bool) -> None:
    """Create a site; print its id and a new API key (shown only now)."""
    try:
        site, key = _store().create_site(name, webhook_url=webhook_url)
    except Conflict as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"site {site.name} created: id {site.id}")
    click.echo(f"API key (shown once, store it now): {key}")
    if as_json:
        click.echo(json.dumps({"site_id": site.id, "api_key": key}))


@sites_cli.command("list")
def list_sites() -> None:
    """List sites."""
    for site in _store().list_sites():
        click.echo(f"{site.id}\t{site.name}")


@keys_cli.command("create")
@click.argument("site")
@click.option("--json", "as_json", is_flag=True, help="last line: {key_id, api_key}")
def create_key(site: str, as_json: bool) -> None:
    """Create another API key for SITE (id or name), e.g. to rotate keys."""
    key_id, key = _store().create_api_key(_site_or_fail(site).id)
    click.echo(f"key {key_id} created (shown once, store it now): {key}")
    if as_json:
        click.echo(json.dumps({"key_id": key_id, "api_key": key}))


@keys_cli.command("list")
@click.argument("site")
def list_keys(site: str) -> None:
    """List SITE's keys (id, prefix, created, revoked)."""
    for k in _store().list_api_keys(_site_or_fail(site).id):
        revoked = k.revoked_at.isoformat() if k.revoked_at else "active"
        click.echo(f"{k.id}\t{k.prefix}…\t{k.created_at.isoformat()}\t{revoked}")


@keys_cli.command("revoke")
@click.argument("key_id")
def revoke_key(key_id: str) -> None:
    """Revoke a key by its id; requests with it fail at once."""
    if _store().revoke_api_key(key_id) is None:
        raise click.ClickException(f"no key with id {key_id!r}")
    click.echo(f"key {key_id} revoked")


@users_cli.command("create")
@click.argument("name")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--site", "sites", multiple=True, help="a site (id or name) this person works on")
@click.option("--json", "as_json", is_flag=True, help="last line: {user_id, token}")
def create_user(name: str, role: str, sites: tuple[str, ...], as_json: bool) -> None:
    """Create a person and print their API token (shown only now)."""
    site_ids = [_site_or_fail(s).id for s in sites]
    if Role(role) is not Role.ADMIN and not site_ids:
        raise click.ClickException("moderators and operators need at least one --site")
    try:
        user, token = _store().create_user(name, Role(role), site_ids)
    except Conflict as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"{user.role.value} {user.name} created: id {user.id}")
    click.echo(f"API token (shown once, store it now): {token}")
    if as_json:
        click.echo(json.dumps({"user_id": user.id, "token": token}))


@db_cli.command("upgrade")
def db_upgrade() -> None:
    """Create or upgrade the schema to the newest migration."""
    migrate.upgrade(_store().engine)
    click.echo("database schema is up to date")


@click.command("rescore")
@click.option("--limit", default=1000, show_default=True)
def rescore(limit: int) -> None:
    """Score comments held as scoring_unavailable (moderators' decisions are kept)."""
    n = current_app.extensions["moderation.service"].rescore_pending(limit)
    click.echo(f"re-scored {n} comment(s)")


@click.command("deliver-webhooks")
def deliver_webhooks() -> None:
    """Deliver due webhook events now (workers also do this every few seconds)."""
    n = current_app.extensions["moderation.deliverer"].deliver_due(500)
    click.echo(f"delivered {n} event(s)")


def register(app: Flask) -> None:
    for command in (sites_cli, keys_cli, users_cli, db_cli, rescore, deliver_webhooks):
        app.cli.add_command(command)
