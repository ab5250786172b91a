"""reports, author actions, comment revisions; when reports flagged a comment and when it was edited

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 08:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

Timestamp = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("comments") as batch:
        batch.add_column(sa.Column("flagged_at", Timestamp, nullable=True))
        batch.add_column(sa.Column("edited_at", Timestamp, nullable=True))
    op.create_table(
        "reports",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("site_id", sa.String(40), nullable=False),
        sa.Column("comment_id", sa.String(40), nullable=False),
        sa.Column("reporter_id", sa.String(200), nullable=False),
        sa.Column("reason", sa.String(20), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("weight", sa.Float(), nullable=False),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.ForeignKeyConstraint(
            ["comment_id"], ["comments.id"], name=op.f("fk_reports_comment_id_comments")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reports")),
        sa.UniqueConstraint("comment_id", "reporter_id", name="uq_reports_comment_reporter"),
    )
    op.create_index("ix_reports_reporter", "reports", ["site_id", "reporter_id"])
    op.create_table(
        "author_actions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("site_id", sa.String(40), nullable=False),
        sa.Column("author_id", sa.String(200), nullable=False),
        sa.Column("action", sa.String(20), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("expires_at", Timestamp, nullable=True),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_author_actions_site_id_sites")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_author_actions")),
    )
    op.create_index("ix_author_actions_author", "author_actions", ["site_id", "author_id"])
    op.create_table(
        "comment_revisions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("comment_id", sa.String(40), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("scores", sa.JSON(), nullable=False),
        sa.Column("written_at", Timestamp, nullable=False),
        sa.Column("replaced_at", Timestamp, nullable=False),
        sa.ForeignKeyConstraint(
            ["comment_id"], ["comments.id"], name=op.f("fk_comment_revisions_comment_id_comments")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_comment_revisions")),
    )
    op.create_index(op.f("ix_comment_revisions_comment_id"), "comment_revisions", ["comment_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_comment_revisions_comment_id"), table_name="comment_revisions")
    op.drop_table("comment_revisions")
    op.drop_index("ix_author_actions_author", table_name="author_actions")
    op.drop_table("author_actions")
    op.drop_index("ix_reports_reporter", table_name="reports")
    op.drop_table("reports")
    with op.batch_alter_table("comments") as batch:
        batch.drop_column("edited_at")
        batch.drop_column("flagged_at")
