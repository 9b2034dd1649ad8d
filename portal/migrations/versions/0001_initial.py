"""Initial schema: users, companies, ETL runs and problems, store events."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("username", sa.String(64), nullable=False, unique=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("office_email", sa.String(320), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("password_hash", sa.String(200), nullable=True),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("failed_attempts", sa.Integer, nullable=False),
        sa.Column("max_attempts", sa.Integer, nullable=False),
        sa.Column("locked_at", TZ, nullable=True),
        sa.Column("expires_on", sa.Date, nullable=True),
        sa.Column("tokens_valid_after", TZ, nullable=True),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("last_login_at", TZ, nullable=True),
    )
    op.create_table(
        "companies",
        sa.Column("code", sa.String(32), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("nif", sa.String(16), nullable=False),
        sa.Column("publish_mode", sa.String(16), nullable=False),
        sa.Column("updated_at", TZ, nullable=True),
    )
    op.create_table(
        "etl_runs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("company", sa.String(32), nullable=False),
        sa.Column("trigger", sa.String(16), nullable=False),
        sa.Column("started_at", TZ, nullable=False),
        sa.Column("finished_at", TZ, nullable=True),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("snapshot_id", sa.String(64), nullable=True),
        sa.Column("source_hash", sa.String(64), nullable=True),
        sa.Column("rows_read", sa.Integer, nullable=False),
        sa.Column("rows_accepted", sa.Integer, nullable=False),
        sa.Column("errors", sa.Integer, nullable=False),
        sa.Column("warnings", sa.Integer, nullable=False),
        sa.Column("message", sa.Text, nullable=False),
    )
    op.create_index("ix_etl_runs_company_started", "etl_runs", ["company", "started_at"])
    op.create_table(
        "etl_problems",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("run_id", sa.Integer, sa.ForeignKey("etl_runs.id", ondelete="CASCADE"), nullable=False),
        sa.Column("severity", sa.String(8), nullable=False),
        sa.Column("rule", sa.String(48), nullable=False),
        sa.Column("file", sa.String(300), nullable=False),
        sa.Column("line", sa.Integer, nullable=True),
        sa.Column("entry", sa.String(32), nullable=True),
        sa.Column("message", sa.Text, nullable=False),
    )
    op.create_index("ix_etl_problems_run_id", "etl_problems", ["run_id"])
    op.create_table(
        "store_events",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("at", TZ, nullable=False),
        sa.Column("company", sa.String(32), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("snapshot_id", sa.String(64), nullable=True),
        sa.Column("actor", sa.String(64), nullable=False),
    )
    op.create_index("ix_store_events_company", "store_events", ["company"])


def downgrade() -> None:
    for table in ("store_events", "etl_problems", "etl_runs", "companies", "users"):
        op.drop_table(table)
