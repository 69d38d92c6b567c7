"""Routing: a partial index for the relay's first claim (rows never published).

Revision ID: 0202_outbox_unpublished
Revises: 0201_routing
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0202_outbox_unpublished"
down_revision: str | None = "0201_routing"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_routing_outbox_unpublished",
        "routing_outbox",
        ["id"],
        sqlite_where=sa.text("published_at IS NULL"),
        postgresql_where=sa.text("published_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_routing_outbox_unpublished", table_name="routing_outbox")
