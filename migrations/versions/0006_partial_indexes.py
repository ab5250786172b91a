"""partial indexes: due webhook events, held comments (no full scans at a million rows)

The delivery claim (every worker, every few seconds) reads undelivered events by
next_attempt_at; the metrics scrape counts held comments per site. Both scanned the
whole table; these indexes hold only the rows those queries want (both databases
support partial indexes).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

UNDELIVERED = sa.text("delivered_at IS NULL")
HELD = sa.text("status = 'held'")


def upgrade() -> None:
    op.create_index(
        "ix_webhook_outbox_due",
        "webhook_outbox",
        ["next_attempt_at", "id"],
        postgresql_where=UNDELIVERED,
        sqlite_where=UNDELIVERED,
    )
    op.create_index(
        "ix_comments_held",
        "comments",
        ["site_id"],
        postgresql_where=HELD,
        sqlite_where=HELD,
    )


def downgrade() -> None:
    op.drop_index("ix_comments_held", table_name="comments")
    op.drop_index("ix_webhook_outbox_due", table_name="webhook_outbox")
