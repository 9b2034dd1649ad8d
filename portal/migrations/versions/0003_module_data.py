"""Module data kept by the portal: blocked employees, uploaded documents and reads, notification settings and log."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def user_column() -> sa.Column:
    """A user reference (a ForeignKey object can belong to one column only)."""
    return sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)


def upgrade() -> None:
    op.create_table(
        "employee_blocks",
        sa.Column("company_code", sa.String(32), primary_key=True),
        sa.Column("nif", sa.String(16), primary_key=True),
        sa.Column("blocked_by", sa.String(64), nullable=False),
        sa.Column("blocked_at", TZ, nullable=False),
        sa.Column("reason", sa.String(300), nullable=False),
    )
    op.create_table(
        "documents",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("company_code", sa.String(32), nullable=False),
        sa.Column("direction", sa.String(8), nullable=False),
        sa.Column("category", sa.String(16), nullable=False),
        sa.Column("year", sa.Integer, nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("file_name", sa.String(255), nullable=False),
        sa.Column("stored_name", sa.String(64), nullable=False, unique=True),
        sa.Column("media_type", sa.String(100), nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("uploaded_by", sa.String(64), nullable=False),
        sa.Column("uploaded_at", TZ, nullable=False),
        sa.Column("deleted_at", TZ, nullable=True),
    )
    op.create_index("ix_documents_company_code", "documents", ["company_code"])
    op.create_table(
        "document_reads",
        user_column(),
        sa.Column("company_code", sa.String(32), primary_key=True),
        sa.Column("document_key", sa.String(100), primary_key=True),
        sa.Column("read_at", TZ, nullable=False),
    )
    op.create_table(
        "notification_settings",
        user_column(),
        sa.Column("opt_out", sa.Boolean, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
    )
    op.create_table(
        "notifications_sent",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("sent_at", TZ, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("error", sa.Text, nullable=False),
    )
    op.create_index("ix_notifications_sent_user_id", "notifications_sent", ["user_id"])
    op.create_index("ix_notifications_sent_sent_at", "notifications_sent", ["sent_at"])


def downgrade() -> None:
    for table in ("notifications_sent", "notification_settings", "document_reads", "documents", "employee_blocks"):
        op.drop_table(table)
