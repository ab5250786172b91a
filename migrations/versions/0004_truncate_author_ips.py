"""truncate the authors' IP addresses stored before they were protected (IPv4 /24, IPv6 /48)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 21:40:00

What is stored from now on follows MODERATION_AUTHOR_IP; addresses stored
before in plain text are truncated, whatever that setting (a keyed hash would
need the running app's secret, and truncating is what the default keeps).
"""

from __future__ import annotations

import ipaddress

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_comments = sa.table("comments", sa.column("id", sa.String), sa.column("author_ip", sa.String))


def _truncated(value: str) -> str | None:
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        # Already a network or a hash, or something that never was an address.
        return value if "/" in value or len(value) == 64 else None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    prefix = 24 if address.version == 4 else 48
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))


def upgrade() -> None:
    conn = op.get_bind()
    rows = conn.execute(
        sa.select(_comments.c.id, _comments.c.author_ip).where(_comments.c.author_ip.is_not(None))
    ).all()
    for row in rows:
        kept = _truncated(row.author_ip)
        if kept != row.author_ip:
            conn.execute(_comments.update().where(_comments.c.id == row.id).values(author_ip=kept))


def downgrade() -> None:
    pass  # what was truncated cannot be restored
