"""Initial schema: users, companies, ETL runs and problems, store events."""

from __future__ import annotations

from alembic import op

from portal.db import metadata

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TABLES = ("users", "companies", "etl_runs", "etl_problems", "store_events")


def upgrade() -> None:
    bind = op.get_bind()
    metadata.create_all(bind, tables=[metadata.tables[name] for name in TABLES])


def downgrade() -> None:
    bind = op.get_bind()
    metadata.drop_all(bind, tables=[metadata.tables[name] for name in reversed(TABLES)])
