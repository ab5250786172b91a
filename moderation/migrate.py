"""Create or upgrade the database schema with Alembic (the same migrations for SQLite and PostgreSQL).

Replicas may start together on one database: on PostgreSQL an upgrade holds a
transaction-level advisory lock, so the first migrates while the others wait, then
find the schema current and do nothing (without it, two creating `alembic_version`
at once fail with UniqueViolation on pg_type). On SQLite the upgrade's
`BEGIN IMMEDIATE` transaction serialises them the same way.
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection, Engine

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
# pg_advisory_xact_lock's key: one bigint, the same in every process of every release.
LOCK_KEY = int.from_bytes(b"moderate", "big") >> 1


def _config(connection: object) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


def _lock(conn: Connection) -> None:
    """Wait for, then hold until commit, the migration lock (PostgreSQL; SQLite needs none)."""
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to `revision` (default: the newest), one process at a time."""
    with engine.execution_options(sqlite_write=True).begin() as conn:
        _lock(conn)
        command.upgrade(_config(conn), revision)


def head() -> str:
    """The newest migration's revision id."""
    return str(ScriptDirectory.from_config(_config(None)).get_current_head())


def current(engine: Engine) -> str | None:
    """The database's revision id (None: no schema yet)."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def is_current(engine: Engine) -> bool:
    """Whether the schema is at the newest migration."""
    return current(engine) == head()


def is_behind(engine: Engine) -> bool:
    """Whether this release has migrations the database lacks (no schema at all included).

    False at the newest migration, and for a revision this release does not know: a
    newer release migrated already (its migrations keep the old code working), so an
    old replica restarting during a rolling update may still serve.
    """
    revision = current(engine)
    if revision is None:
        return True
    scripts = ScriptDirectory.from_config(_config(None))
    known = {script.revision for script in scripts.walk_revisions()}
    return revision in known and revision != head()


def revision(engine: Engine, message: str) -> None:
    """Autogenerate a new migration from the difference between tables and database."""
    with engine.begin() as conn:
        command.revision(_config(conn), message=message, autogenerate=True)
