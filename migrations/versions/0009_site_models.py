"""site-adapted models: their versions, and the one serving each site

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 12:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

Timestamp = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("sites") as batch:
        batch.add_column(sa.Column("model_version", sa.Integer(), nullable=True))
    op.create_table(
        "site_models",
        sa.Column("site_id", sa.String(40), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("requested_by", sa.String(200), nullable=False),
        sa.Column("labels", sa.Integer(), nullable=False),
        sa.Column("progress", sa.Float(), nullable=False),
        sa.Column("metrics", sa.JSON(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("path", sa.String(2000), nullable=True),
        sa.Column("auto_promote", sa.Boolean(), nullable=False),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("started_at", Timestamp, nullable=True),
        sa.Column("finished_at", Timestamp, nullable=True),
        sa.Column("promoted_at", Timestamp, nullable=True),
        sa.Column("previous_version", sa.Integer(), nullable=True),
        sa.Column("previous_thresholds", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_site_models_site_id_sites")
        ),
        sa.PrimaryKeyConstraint("site_id", "version", name=op.f("pk_site_models")),
    )


def downgrade() -> None:
    op.drop_table("site_models")
    with op.batch_alter_table("sites") as batch:
        batch.drop_column("model_version")
