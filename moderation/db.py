"""Database tables and engine setup: SQLite (WAL, busy timeout, immediate writes) or PostgreSQL."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

Timestamp = sa.DateTime(timezone=True)

sites = sa.Table(
    "sites",
    metadata,
    sa.Column("id", sa.String(40), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False, unique=True),
    sa.Column("policy", sa.JSON, nullable=False),
    sa.Column("shadow_policy", sa.JSON, nullable=True),
    sa.Column("webhook_url", sa.String(2000), nullable=True),
    sa.Column("webhook_secret", sa.String(200), nullable=False),
    sa.Column("policy_version", sa.Integer, nullable=False, server_default="1"),
    sa.Column("created_at", Timestamp, nullable=False),
    # How long this site keeps what it no longer needs; null: the installation's defaults.
    sa.Column("retention", sa.JSON, nullable=True),
    # The version of the site's adapted model that scores its comments; null: the base model.
    sa.Column("model_version", sa.Integer, nullable=True),
    # A version of its adapted model scoring its comments in shadow (never acted on); null: none.
    sa.Column("shadow_model_version", sa.Integer, nullable=True),
)

api_keys = sa.Table(
    "api_keys",
    metadata,
    sa.Column("id", sa.String(40), primary_key=True),
    sa.Column("site_id", sa.String(40), sa.ForeignKey("sites.id"), nullable=False, index=True),
    sa.Column("key_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("prefix", sa.String(16), nullable=False),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("revoked_at", Timestamp, nullable=True),
)

users = sa.Table(
    "users",
    metadata,
    sa.Column("id", sa.String(40), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False, unique=True),
    sa.Column("role", sa.String(20), nullable=False),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("password_hash", sa.String(300), nullable=True),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("disabled_at", Timestamp, nullable=True),
)

user_sites = sa.Table(
    "user_sites",
    metadata,
    sa.Column("user_id", sa.String(40), sa.ForeignKey("users.id"), primary_key=True),
    sa.Column("site_id", sa.String(40), sa.ForeignKey("sites.id"), primary_key=True),
)

comments = sa.Table(
    "comments",
    metadata,
    sa.Column("id", sa.String(40), primary_key=True),
    sa.Column("site_id", sa.String(40), sa.ForeignKey("sites.id"), nullable=False),
    sa.Column("external_id", sa.String(200), nullable=True),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("author_id", sa.String(200), nullable=True),
    sa.Column("author_name", sa.String(200), nullable=True),
    sa.Column("author_email_hash", sa.String(64), nullable=True),
    sa.Column("author_ip", sa.String(64), nullable=True),
    sa.Column("article_id", sa.String(200), nullable=True),
    sa.Column("article_url", sa.String(2000), nullable=True),
    sa.Column("article_title", sa.String(500), nullable=True),
    sa.Column("parent_id", sa.String(200), nullable=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("decided_by", sa.String(80), nullable=False),
    sa.Column("scoring_state", sa.String(16), nullable=False),
    sa.Column("language", sa.String(8), nullable=True),
    sa.Column("scores", sa.JSON, nullable=False),
    sa.Column("reasons", sa.JSON, nullable=False),
    sa.Column("spans", sa.JSON, nullable=False),
    sa.Column("model_name", sa.String(200), nullable=True),
    sa.Column("model_version", sa.String(64), nullable=True),
    sa.Column("risk", sa.Float, nullable=False),
    sa.Column("shadow_status", sa.String(16), nullable=True),
    sa.Column("shadow_reasons", sa.JSON, nullable=True),
    sa.Column("decision_reason", sa.String(40), nullable=True),
    sa.Column("decision_note", sa.Text, nullable=True),
    sa.Column("decided_at", Timestamp, nullable=True),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("claimed_by", sa.String(40), nullable=True),
    sa.Column("claim_expires_at", Timestamp, nullable=True),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("updated_at", Timestamp, nullable=False),
    # When the retention job removed the text (and the author's name, e-mail hash, address).
    sa.Column("redacted_at", Timestamp, nullable=True),
    # When readers' reports reached the threshold (cleared by a moderator's decision).
    sa.Column("flagged_at", Timestamp, nullable=True),
    sa.Column("edited_at", Timestamp, nullable=True),
    # A re-scoring worker's claim on a comment waiting for the model (no other scores it).
    sa.Column("scoring_claim_expires_at", Timestamp, nullable=True),
    sa.UniqueConstraint("site_id", "external_id", name="uq_comments_site_external"),
    sa.Index("ix_comments_queue", "site_id", "status", "risk"),
    sa.Index("ix_comments_scoring", "scoring_state"),
    sa.Index("ix_comments_author", "site_id", "author_id"),
    sa.Index("ix_comments_created", "site_id", "created_at"),
    sa.Index("ix_comments_decided", "site_id", "decided_at"),
    # Only held comments: counting the queue per site reads these rows, not the table.
    sa.Index(
        "ix_comments_held",
        "site_id",
        postgresql_where=sa.text("status = 'held'"),
        sqlite_where=sa.text("status = 'held'"),
    ),
)

audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("site_id", sa.String(40), nullable=True, index=True),
    sa.Column("comment_id", sa.String(40), nullable=True, index=True),
    sa.Column("actor", sa.String(200), nullable=False),
    sa.Column("action", sa.String(60), nullable=False),
    sa.Column("before", sa.JSON, nullable=True),
    sa.Column("after", sa.JSON, nullable=True),
    sa.Column("created_at", Timestamp, nullable=False),
)

webhook_outbox = sa.Table(
    "webhook_outbox",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("site_id", sa.String(40), nullable=False, index=True),
    sa.Column("event", sa.String(60), nullable=False),
    sa.Column("payload", sa.JSON, nullable=False),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("next_attempt_at", Timestamp, nullable=False),
    sa.Column("delivered_at", Timestamp, nullable=True),
    sa.Column("last_error", sa.Text, nullable=True),
    # The claim of the delivery under way (its lease is next_attempt_at); None: unclaimed.
    sa.Column("claim_token", sa.String(32), nullable=True),
    sa.Index("ix_webhook_outbox_delivered", "site_id", "delivered_at"),
    # Only undelivered events, in the order the delivery claim takes them.
    sa.Index(
        "ix_webhook_outbox_due",
        "next_attempt_at",
        "id",
        postgresql_where=sa.text("delivered_at IS NULL"),
        sqlite_where=sa.text("delivered_at IS NULL"),
    ),
)


webhook_attempts = sa.Table(
    "webhook_attempts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column(
        "outbox_id", sa.Integer, sa.ForeignKey("webhook_outbox.id"), nullable=False, index=True
    ),
    sa.Column("site_id", sa.String(40), nullable=False, index=True),
    sa.Column("attempted_at", Timestamp, nullable=False),
    sa.Column("status_code", sa.Integer, nullable=True),
    sa.Column("error", sa.Text, nullable=True),
    sa.Column("duration_ms", sa.Float, nullable=False),
)

feedback = sa.Table(
    "feedback",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("site_id", sa.String(40), sa.ForeignKey("sites.id"), nullable=False, index=True),
    sa.Column("comment_id", sa.String(40), nullable=True),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("attribute", sa.String(60), nullable=False),
    sa.Column("score", sa.Float, nullable=False),
    sa.Column("source", sa.String(40), nullable=False),
    sa.Column("created_at", Timestamp, nullable=False),
)


# Coral Talk's External Moderation Phase, per site: the signing secret Coral
# shows its admin (kept in clear: verifying an HMAC needs the key itself), the
# one it replaces while a rotation is under way, and how approvals are answered.
coral_phases = sa.Table(
    "coral_phases",
    metadata,
    sa.Column("site_id", sa.String(40), sa.ForeignKey("sites.id"), primary_key=True),
    sa.Column("secret", sa.String(200), nullable=False),
    sa.Column("previous_secret", sa.String(200), nullable=True),
    sa.Column("previous_expires_at", Timestamp, nullable=True),
    sa.Column("approved_answer", sa.String(16), nullable=False, server_default="no_content"),
    sa.Column("updated_at", Timestamp, nullable=False),
)


# Readers' reports: one per reader and comment; `weight` is what the report counted for
# when it was made (moderation.reports.reporter_weight).
reports = sa.Table(
    "reports",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("site_id", sa.String(40), nullable=False),
    sa.Column("comment_id", sa.String(40), sa.ForeignKey("comments.id"), nullable=False),
    sa.Column("reporter_id", sa.String(200), nullable=False),
    sa.Column("reason", sa.String(20), nullable=False),
    sa.Column("note", sa.Text, nullable=True),
    sa.Column("weight", sa.Float, nullable=False),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.UniqueConstraint("comment_id", "reporter_id", name="uq_reports_comment_reporter"),
    sa.Index("ix_reports_reporter", "site_id", "reporter_id"),
)

# Moderators' actions on an author of a site (ban, premoderate, trust, clear), newest last.
author_actions = sa.Table(
    "author_actions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("site_id", sa.String(40), sa.ForeignKey("sites.id"), nullable=False),
    sa.Column("author_id", sa.String(200), nullable=False),
    sa.Column("action", sa.String(20), nullable=False),
    sa.Column("note", sa.Text, nullable=True),
    sa.Column("expires_at", Timestamp, nullable=True),
    sa.Column("actor", sa.String(200), nullable=False),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Index("ix_author_actions_author", "site_id", "author_id"),
)

# A comment's earlier texts, one row per edit, for moderators.
comment_revisions = sa.Table(
    "comment_revisions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column(
        "comment_id", sa.String(40), sa.ForeignKey("comments.id"), nullable=False, index=True
    ),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("reasons", sa.JSON, nullable=False),
    sa.Column("scores", sa.JSON, nullable=False),
    sa.Column("written_at", Timestamp, nullable=False),
    sa.Column("replaced_at", Timestamp, nullable=False),
)

# Periodic jobs (webhook delivery, re-scoring, retention): one row each; a worker that
# moves next_run_at forward (an atomic UPDATE) is the one that enqueues the run.
job_schedule = sa.Table(
    "job_schedule",
    metadata,
    sa.Column("name", sa.String(60), primary_key=True),
    sa.Column("next_run_at", Timestamp, nullable=False),
    sa.Column("last_run_at", Timestamp, nullable=True),
)

# A re-score of stored comments (`flask --app api rescore --all`), split into id ranges.
backfill_runs = sa.Table(
    "backfill_runs",
    metadata,
    sa.Column("id", sa.String(40), primary_key=True),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("site_id", sa.String(40), nullable=True),
    sa.Column("since", Timestamp, nullable=True),
    sa.Column("model_version", sa.String(64), nullable=True),
    sa.Column("chunk_size", sa.Integer, nullable=False),
    sa.Column("comments", sa.Integer, nullable=False),
    sa.Column("finished_at", Timestamp, nullable=True),
)

# One id range of a run: `cursor` (the last comment id done) moves in the transaction that
# stores the re-scored comments, so a chunk taken over after a crash goes on from there.
backfill_chunks = sa.Table(
    "backfill_chunks",
    metadata,
    sa.Column("run_id", sa.String(40), sa.ForeignKey("backfill_runs.id"), primary_key=True),
    sa.Column("seq", sa.Integer, primary_key=True),
    sa.Column("first_id", sa.String(40), nullable=False),
    sa.Column("last_id", sa.String(40), nullable=False),
    sa.Column("comments", sa.Integer, nullable=False),
    sa.Column("done", sa.Integer, nullable=False, server_default="0"),
    sa.Column("cursor", sa.String(40), nullable=True),
    sa.Column("claim_token", sa.String(32), nullable=True),
    sa.Column("claim_expires_at", Timestamp, nullable=True),
    sa.Column("finished_at", Timestamp, nullable=True),
)


# Versions of sites' adapted models (moderation.site_models): state, progress, metrics.
site_models = sa.Table(
    "site_models",
    metadata,
    sa.Column("site_id", sa.String(40), sa.ForeignKey("sites.id"), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("requested_by", sa.String(200), nullable=False),
    sa.Column("labels", sa.Integer, nullable=False),
    sa.Column("progress", sa.Float, nullable=False),
    sa.Column("metrics", sa.JSON, nullable=False),
    sa.Column("error", sa.Text, nullable=True),
    sa.Column("path", sa.String(2000), nullable=True),
    sa.Column("auto_promote", sa.Boolean, nullable=False),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("started_at", Timestamp, nullable=True),
    sa.Column("finished_at", Timestamp, nullable=True),
    sa.Column("promoted_at", Timestamp, nullable=True),
    # What served before this version's promotion, and the thresholds then (for rollback).
    sa.Column("previous_version", sa.Integer, nullable=True),
    sa.Column("previous_thresholds", sa.JSON, nullable=True),
)

# A site's own model settings (moderation.site_models.ModelSettings); no row: the defaults.
site_model_settings = sa.Table(
    "site_model_settings",
    metadata,
    sa.Column("site_id", sa.String(40), sa.ForeignKey("sites.id"), primary_key=True),
    # Serve a version the site's periodic retraining or an operator's request trained, by
    # itself, when it beats the base model by its interval (a request may say otherwise).
    sa.Column("auto_promote", sa.Boolean, nullable=False),
    # Retrain once this many labels arrived since the newest version's training; null: never.
    sa.Column("retrain_after_labels", sa.Integer, nullable=True),
    sa.Column("updated_at", Timestamp, nullable=False),
)

# What a site's model version in shadow scored and would have decided, per live comment.
model_shadow_scores = sa.Table(
    "model_shadow_scores",
    metadata,
    sa.Column("comment_id", sa.String(40), sa.ForeignKey("comments.id"), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("site_id", sa.String(40), nullable=False),
    sa.Column("scores", sa.JSON, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("reasons", sa.JSON, nullable=False),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Index("ix_model_shadow_scores_site_version", "site_id", "version"),
)


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine; SQLite gets WAL, a busy timeout and BEGIN IMMEDIATE for writes.

    Use `engine.execution_options(sqlite_write=True)` for a connection whose
    transaction will write: SQLite then takes the write lock at BEGIN, so two
    writers queue on the busy timeout instead of failing with "database is
    locked" when a read transaction tries to upgrade.
    """
    if url.startswith("sqlite"):
        engine = sa.create_engine(url, connect_args={"timeout": 30}, **kwargs)

        @sa.event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None  # we issue BEGIN ourselves, below
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        @sa.event.listens_for(engine, "begin")
        def _on_begin(conn: sa.Connection) -> None:
            write = conn.get_execution_options().get("sqlite_write", False)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return sa.create_engine(url, pool_pre_ping=True, **kwargs)
