"""a site's stored model settings: promote a winning candidate by itself, retrain on new labels

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 17:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

Timestamp = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "site_model_settings",
        sa.Column("site_id", sa.String(40), nullable=False),
        sa.Column("auto_promote", sa.Boolean(), nullable=False),
        sa.Column("retrain_after_labels", sa.Integer(), nullable=True),
        sa.Column("updated_at", Timestamp, nullable=False),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_site_model_settings_site_id_sites")
        ),
        sa.PrimaryKeyConstraint("site_id", name=op.f("pk_site_model_settings")),
    )


def downgrade() -> None:
    op.drop_table("site_model_settings")
