"""Migrations run safely when replicas start together (real PostgreSQL, real SQLite file)."""

from __future__ import annotations

import multiprocessing
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from moderation import migrate
from moderation.db import make_engine
from tests.conftest import PG_URL

STARTS = 3  # the race lost 3 times out of 3 before the lock: each round a fresh database


@pytest.fixture
def fresh_pg_schemas() -> Iterator[list[str]]:
    """Empty PostgreSQL schemas, one per round, dropped afterwards."""
    names = ["t_" + secrets.token_hex(6) for _ in range(STARTS)]
    admin = make_engine(PG_URL)
    with admin.begin() as conn:
        for name in names:
            conn.execute(sa.text(f"CREATE SCHEMA {name}"))
    yield [f"{PG_URL}?options=-csearch_path%3D{name}" for name in names]
    with admin.begin() as conn:
        for name in names:
            conn.execute(sa.text(f"DROP SCHEMA {name} CASCADE"))
    admin.dispose()


def _replica(url: str, start: Any, errors: Any) -> None:
    """One replica's start-up: connect, wait for the others, migrate."""
    engine = make_engine(url)
    with engine.connect():
        pass  # connected already, so every replica reaches the migration together
    start.wait()
    try:
        migrate.upgrade(engine)
    except Exception as exc:
        errors.put(f"{type(exc).__name__}: {exc}")
    finally:
        engine.dispose()


def _upgrade_together(url: str, replicas: int) -> list[str]:
    """Run `replicas` processes upgrading one fresh database at the same moment; their errors."""
    ctx = multiprocessing.get_context("fork")
    start, errors = ctx.Barrier(replicas), ctx.SimpleQueue()
    processes = [ctx.Process(target=_replica, args=(url, start, errors)) for _ in range(replicas)]
    for p in processes:
        p.start()
    for p in processes:
        p.join(120)
    assert [p.exitcode for p in processes] == [0] * replicas
    found = []
    while not errors.empty():
        found.append(errors.get())
    return found


def test_replicas_migrating_a_fresh_postgresql_database_together_all_succeed(
    fresh_pg_schemas: list[str],
) -> None:
    for url in fresh_pg_schemas:
        errors = _upgrade_together(url, replicas=4)
        assert errors == []
        engine = make_engine(url)
        assert migrate.is_current(engine)
        with engine.connect() as conn:
            versions = conn.execute(sa.text("SELECT version_num FROM alembic_version")).all()
        assert versions == [(migrate.head(),)]
        engine.dispose()


def test_replicas_migrating_a_fresh_sqlite_file_together_all_succeed(tmp_path: Path) -> None:
    for n in range(STARTS):
        url = f"sqlite:///{tmp_path / f'fresh{n}.db'}"
        assert _upgrade_together(url, replicas=4) == []
        engine = make_engine(url)
        assert migrate.is_current(engine)
        engine.dispose()


def test_is_current_says_whether_the_schema_needs_an_upgrade(fresh_pg_schemas: list[str]) -> None:
    engine = make_engine(fresh_pg_schemas[0])
    assert not migrate.is_current(engine)  # empty
    migrate.upgrade(engine, "0004")
    assert not migrate.is_current(engine)  # behind
    migrate.upgrade(engine)
    assert migrate.is_current(engine)
    engine.dispose()
