"""Alerts: thresholds client users watch per company, and every time one fired (and when it was e-mailed)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("company_code", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("threshold", sa.String(32), nullable=False, server_default=""),
        sa.Column("ratio_code", sa.String(32), nullable=False, server_default=""),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("deleted_at", TZ, nullable=True),
    )
    op.create_index("ix_alerts_user_id", "alerts", ["user_id"])
    op.create_table(
        "alert_events",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("alert_id", sa.Integer, sa.ForeignKey("alerts.id", ondelete="CASCADE"), nullable=False),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("company_code", sa.String(32), nullable=False),
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("snapshot_id", sa.String(64), nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("recorded_at", TZ, nullable=False),
        sa.Column("sent_at", TZ, nullable=True),
        sa.UniqueConstraint("alert_id", "day", name="uq_alert_events_alert_day"),
    )
    op.create_index("ix_alert_events_alert_id", "alert_events", ["alert_id"])
    op.create_index("ix_alert_events_user_id", "alert_events", ["user_id"])


def downgrade() -> None:
    op.drop_table("alert_events")
    op.drop_table("alerts")
