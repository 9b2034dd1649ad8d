"""Mail outbox: every e-mail the portal sends is recorded; one the SMTP server did not take waits and is retried."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0004"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "mail_outbox",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("recipient", sa.String(320), nullable=False),
        sa.Column("subject", sa.String(300), nullable=False),
        sa.Column("reply_to", sa.String(320), nullable=False, server_default=""),
        sa.Column("body", sa.Text, nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_error", sa.Text, nullable=False, server_default=""),
        sa.Column("next_attempt_at", TZ, nullable=True),
        sa.Column("claimed_until", TZ, nullable=True),
        sa.Column("expires_at", TZ, nullable=True),
        sa.Column("sent_at", TZ, nullable=True),
    )
    op.create_index("ix_mail_outbox_created_at", "mail_outbox", ["created_at"])
    op.create_index("ix_mail_outbox_status", "mail_outbox", ["status"])


def downgrade() -> None:
    op.drop_table("mail_outbox")
