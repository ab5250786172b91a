"""Alembic environment: runs against the connection handed in by moderation.migrate."""

from __future__ import annotations

from alembic import context

from moderation.db import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise SystemExit("run migrations with `flask --app api db upgrade`")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
