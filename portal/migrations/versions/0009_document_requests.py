"""Document requests: the firm asks a company for documents (a checklist with due dates), the client uploads to it."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "document_requests",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("company_code", sa.String(32), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("note", sa.Text, nullable=False, server_default=""),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("closed_at", TZ, nullable=True),
        sa.Column("closed_by", sa.String(64), nullable=True),
    )
    op.create_index("ix_document_requests_company_code", "document_requests", ["company_code"])
    op.create_table(
        "request_items",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("request_id", sa.Integer, sa.ForeignKey("document_requests.id", ondelete="CASCADE"), nullable=False),
        sa.Column("label", sa.String(200), nullable=False),
        sa.Column("due_date", sa.Date, nullable=False),
        sa.Column("state", sa.String(12), nullable=False, server_default="pendiente"),
        sa.Column("reason", sa.Text, nullable=False, server_default=""),
        sa.Column("document_id", sa.Integer, sa.ForeignKey("documents.id", ondelete="SET NULL"), nullable=True),
        sa.Column("delivered_at", TZ, nullable=True),
        sa.Column("delivered_by", sa.String(64), nullable=True),
        sa.Column("reviewed_at", TZ, nullable=True),
        sa.Column("reviewed_by", sa.String(64), nullable=True),
    )
    op.create_index("ix_request_items_request_id", "request_items", ["request_id"])


def downgrade() -> None:
    op.drop_table("request_items")
    op.drop_table("document_requests")
