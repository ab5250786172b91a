"""Create or upgrade the database schema with Alembic (the same migrations for SQLite and PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Engine

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def _config(connection: object) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to `revision` (default: the newest)."""
    with engine.execution_options(sqlite_write=True).begin() as conn:
        command.upgrade(_config(conn), revision)


def revision(engine: Engine, message: str) -> None:
    """Autogenerate a new migration from the difference between tables and database."""
    with engine.begin() as conn:
        command.revision(_config(conn), message=message, autogenerate=True)
