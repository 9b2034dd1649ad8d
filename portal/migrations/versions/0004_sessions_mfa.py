"""Server-side sessions, TOTP second factor with recovery codes, hand-off binding, payroll names per company."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "sessions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("last_seen_at", TZ, nullable=False),
        sa.Column("expires_at", TZ, nullable=False),
        sa.Column("revoked_at", TZ, nullable=True),
        sa.Column("revoked_reason", sa.String(32), nullable=False, server_default=""),
        sa.Column("user_agent", sa.String(300), nullable=False, server_default=""),
        sa.Column("ip", sa.String(64), nullable=False, server_default=""),
        sa.Column("mfa", sa.Boolean, nullable=False, server_default=sa.false()),
    )
    op.create_index("ix_sessions_user_id", "sessions", ["user_id"])
    op.create_table(
        "mfa_recovery_codes",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("code_hash", sa.String(64), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("used_at", TZ, nullable=True),
    )
    op.create_index("ix_mfa_recovery_codes_user_id", "mfa_recovery_codes", ["user_id"])
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("mfa_secret", sa.String(64), nullable=True))
        batch.add_column(sa.Column("mfa_enabled_at", TZ, nullable=True))
        batch.add_column(sa.Column("mfa_last_step", sa.BigInteger, nullable=True))
        batch.add_column(sa.Column("mfa_required", sa.Boolean, nullable=False, server_default=sa.false()))
    with op.batch_alter_table("one_time_tokens") as batch:
        batch.add_column(sa.Column("binding", sa.String(64), nullable=True))
    with op.batch_alter_table("companies") as batch:
        batch.add_column(sa.Column("hide_payroll_names", sa.Boolean, nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("companies") as batch:
        batch.drop_column("hide_payroll_names")
    with op.batch_alter_table("one_time_tokens") as batch:
        batch.drop_column("binding")
    with op.batch_alter_table("users") as batch:
        for name in ("mfa_required", "mfa_last_step", "mfa_enabled_at", "mfa_secret"):
            batch.drop_column(name)
    op.drop_table("mfa_recovery_codes")
    op.drop_table("sessions")
