"""a site's model version in shadow, and its scores and decisions on live comments

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 16:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

Timestamp = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("sites") as batch:
        batch.add_column(sa.Column("shadow_model_version", sa.Integer(), nullable=True))
    op.create_table(
        "model_shadow_scores",
        sa.Column("comment_id", sa.String(40), nullable=False),
        sa.Column("site_id", sa.String(40), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("scores", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.ForeignKeyConstraint(
            ["comment_id"], ["comments.id"], name=op.f("fk_model_shadow_scores_comment_id_comments")
        ),
        sa.PrimaryKeyConstraint("comment_id", "version", name=op.f("pk_model_shadow_scores")),
    )
    op.create_index(
        "ix_model_shadow_scores_site_version", "model_shadow_scores", ["site_id", "version"]
    )


def downgrade() -> None:
    op.drop_index("ix_model_shadow_scores_site_version", table_name="model_shadow_scores")
    op.drop_table("model_shadow_scores")
    with op.batch_alter_table("sites") as batch:
        batch.drop_column("shadow_model_version")
