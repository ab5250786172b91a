"""job queue: per-row webhook claims, re-scoring claims, the periodic schedule, backfill runs

A webhook event is claimed with a token of its own (claim_token): only the
claimer that holds it records the attempt, and a claim whose lease ran out is
taken over with a new token, so a late worker cannot deliver it again. A
comment waiting for re-scoring is claimed for a lease (scoring_claim_expires_at)
before it is scored, so two workers never score it twice. job_schedule makes
periodic work run once across every worker; backfill_runs and backfill_chunks
split a re-score of stored comments into id ranges that workers share.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 12:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

Timestamp = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("webhook_outbox") as batch:
        batch.add_column(sa.Column("claim_token", sa.String(32), nullable=True))
    with op.batch_alter_table("comments") as batch:
        batch.add_column(sa.Column("scoring_claim_expires_at", Timestamp, nullable=True))
    op.create_table(
        "job_schedule",
        sa.Column("name", sa.String(60), nullable=False),
        sa.Column("next_run_at", Timestamp, nullable=False),
        sa.Column("last_run_at", Timestamp, nullable=True),
        sa.PrimaryKeyConstraint("name", name="pk_job_schedule"),
    )
    op.create_table(
        "backfill_runs",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("site_id", sa.String(40), nullable=True),
        sa.Column("since", Timestamp, nullable=True),
        sa.Column("model_version", sa.String(64), nullable=True),
        sa.Column("chunk_size", sa.Integer(), nullable=False),
        sa.Column("comments", sa.Integer(), nullable=False),
        sa.Column("finished_at", Timestamp, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_backfill_runs"),
    )
    op.create_table(
        "backfill_chunks",
        sa.Column("run_id", sa.String(40), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("first_id", sa.String(40), nullable=False),
        sa.Column("last_id", sa.String(40), nullable=False),
        sa.Column("comments", sa.Integer(), nullable=False),
        sa.Column("done", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("cursor", sa.String(40), nullable=True),
        sa.Column("claim_token", sa.String(32), nullable=True),
        sa.Column("claim_expires_at", Timestamp, nullable=True),
        sa.Column("finished_at", Timestamp, nullable=True),
        sa.ForeignKeyConstraint(
            ["run_id"], ["backfill_runs.id"], name="fk_backfill_chunks_run_id_backfill_runs"
        ),
        sa.PrimaryKeyConstraint("run_id", "seq", name="pk_backfill_chunks"),
    )


def downgrade() -> None:
    op.drop_table("backfill_chunks")
    op.drop_table("backfill_runs")
    op.drop_table("job_schedule")
    with op.batch_alter_table("comments") as batch:
        batch.drop_column("scoring_claim_expires_at")
    with op.batch_alter_table("webhook_outbox") as batch:
        batch.drop_column("claim_token")
