"""Per company: whether its clients see the reconciliations page «Cuadres» (staff decide; off by default)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("companies") as batch:
        batch.add_column(sa.Column("show_reconciliations", sa.Boolean, nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("companies") as batch:
        batch.drop_column("show_reconciliations")
