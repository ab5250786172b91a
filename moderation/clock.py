"""The one clock: every time the domain stores is timezone-aware UTC."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    """Now, in UTC."""
    return datetime.now(UTC)


def aware(value: datetime | None) -> datetime | None:
    """A stored time with its zone: SQLite hands datetimes back naive, and all we store is UTC."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value
