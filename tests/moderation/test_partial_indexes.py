"""Migration 0006's partial indexes: present on both databases and chosen by their planners."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command

from moderation import db, migrate
from moderation.clock import utcnow
from moderation.db import make_engine
from moderation.webhooks import MAX_ATTEMPTS

DELIVERED, DUE = 3000, 5
HELD, APPROVED = 5, 3000


@pytest.fixture
def engine(database_url: str) -> Iterator[sa.Engine]:
    engine = make_engine(database_url)
    migrate.upgrade(engine)
    yield engine
    engine.dispose()


def index_sql(engine: sa.Engine, name: str) -> str:
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            # This test's own schema: other test runs share the database with theirs.
            found = (
                "SELECT indexdef FROM pg_indexes "
                "WHERE indexname = :name AND schemaname = current_schema()"
            )
        else:
            found = "SELECT sql FROM sqlite_master WHERE type = 'index' AND name = :name"
        return str(conn.execute(sa.text(found), {"name": name}).scalar_one())


def plan(engine: sa.Engine, query: Any) -> str:
    """The planner's plan for `query`, as text."""
    compiled = query.compile(engine, compile_kwargs={"literal_binds": True})
    explain = "EXPLAIN" if engine.dialect.name == "postgresql" else "EXPLAIN QUERY PLAN"
    with engine.connect() as conn:
        rows = conn.execute(sa.text(f"{explain} {compiled}")).all()
    return "\n".join(" ".join(str(v) for v in row) for row in rows)


def fill(engine: sa.Engine) -> None:
    """Many delivered events and approved comments, few due events and held comments."""
    now = utcnow()
    outbox = [
        {
            "site_id": "s1",
            "event": "comment.decided",
            "payload": {},
            "created_at": now,
            "attempts": 1,
            "next_attempt_at": now - timedelta(minutes=i % 50),
            "delivered_at": now if i >= DUE else None,
        }
        for i in range(DELIVERED + DUE)
    ]
    comment = {
        "site_id": "s1",
        "text": "t",
        "decided_by": "auto",
        "scoring_state": "scored",
        "scores": {},
        "reasons": [],
        "spans": [],
        "risk": 0.1,
        "version": 1,
        "created_at": now,
        "updated_at": now,
    }
    comments = [
        {**comment, "id": f"c{i}", "status": "held" if i < HELD else "approved"}
        for i in range(HELD + APPROVED)
    ]
    with engine.execution_options(sqlite_write=True).begin() as conn:
        conn.execute(
            db.sites.insert().values(
                id="s1", name="s1", policy={}, webhook_secret="x", created_at=now
            )
        )
        conn.execute(db.webhook_outbox.insert(), outbox)
        conn.execute(db.comments.insert(), comments)
    with engine.connect() as conn:
        conn.execute(sa.text("ANALYZE"))
        conn.commit()


def plain(sql: str) -> str:
    """Index SQL without quotes, brackets and PostgreSQL's casts, in lower case."""
    for noise in ('"', "(", ")", "::text"):
        sql = sql.replace(noise, "")
    return sql.lower()


def test_the_indexes_are_partial_on_both_databases(engine: sa.Engine) -> None:
    due = plain(index_sql(engine, "ix_webhook_outbox_due"))
    assert "next_attempt_at, id where delivered_at is null" in due
    held = plain(index_sql(engine, "ix_comments_held"))
    assert "site_id where status = 'held'" in held


def test_the_webhook_claim_and_the_held_count_use_them(engine: sa.Engine) -> None:
    fill(engine)
    o, c = db.webhook_outbox.c, db.comments.c
    # The delivery claim's query (moderation.repositories.outbox.Outbox.claim_due).
    claim = (
        sa.select(o.id)
        .where(o.delivered_at.is_(None), o.next_attempt_at <= utcnow(), o.attempts < MAX_ATTEMPTS)
        .order_by(o.next_attempt_at, o.id)
        .limit(50)
    )
    assert "ix_webhook_outbox_due" in plan(engine, claim)
    # The queue depth of /metrics/database (moderation.repositories.backlog.BacklogCounts.measure).
    held = sa.select(c.site_id, sa.func.count()).where(c.status == "held").group_by(c.site_id)
    assert "ix_comments_held" in plan(engine, held)


def test_0006_downgrades_and_upgrades_again(engine: sa.Engine) -> None:
    with engine.execution_options(sqlite_write=True).begin() as conn:
        command.downgrade(migrate._config(conn), "0005")
    assert migrate.current(engine) == "0005"
    with engine.connect() as conn:
        names = {i["name"] for i in sa.inspect(conn).get_indexes("webhook_outbox")}
    assert "ix_webhook_outbox_due" not in names
    migrate.upgrade(engine)
    assert migrate.is_current(engine)
