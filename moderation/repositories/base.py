"""The database the repositories share: short write transactions, reads on their own connection."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from sqlalchemy.engine import Engine


class Database:
    """An engine and the one way to open a transaction on it.

    A repository method that changes several tables (a comment, its audit entry, its
    webhook event) does it inside one `write()`; the helpers that take a connection
    (`AuditLog.append`, `Outbox.add`) join the caller's transaction.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._writer = engine.execution_options(sqlite_write=True)

    @contextmanager
    def write(self) -> Iterator[sa.Connection]:
        """One write transaction (BEGIN IMMEDIATE on SQLite), committed when the block ends."""
        with self._writer.begin() as conn:
            yield conn

    @contextmanager
    def read(self) -> Iterator[sa.Connection]:
        """A connection for reading."""
        with self.engine.connect() as conn:
            yield conn

    def ping(self) -> None:
        """Raise if the database cannot be reached."""
        with self.engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
