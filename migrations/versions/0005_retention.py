"""retention: per-site policy, when a comment's text was removed, indexes for the retention job

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 22:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sites") as batch:
        batch.add_column(sa.Column("retention", sa.JSON(), nullable=True))
    with op.batch_alter_table("comments") as batch:
        batch.add_column(sa.Column("redacted_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_index("ix_comments_decided", ["site_id", "decided_at"])
    op.create_index("ix_webhook_outbox_delivered", "webhook_outbox", ["site_id", "delivered_at"])
    op.create_index(op.f("ix_webhook_attempts_outbox_id"), "webhook_attempts", ["outbox_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_webhook_attempts_outbox_id"), table_name="webhook_attempts")
    op.drop_index("ix_webhook_outbox_delivered", table_name="webhook_outbox")
    with op.batch_alter_table("comments") as batch:
        batch.drop_index("ix_comments_decided")
        batch.drop_column("redacted_at")
    with op.batch_alter_table("sites") as batch:
        batch.drop_column("retention")
