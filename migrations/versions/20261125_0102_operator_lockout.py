"""Operator sign-in lockout: wrong passwords in a row, and until when the account is locked.

Revision ID: 0102_operator_lockout
Revises: 0101_operators
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from hub.database import UtcDateTime

revision: str = "0102_operator_lockout"
down_revision: str | None = "0101_operators"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("operators") as table:
        table.add_column(
            sa.Column("failed_logins", sa.Integer(), nullable=False, server_default="0")
        )
        table.add_column(sa.Column("locked_until", UtcDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("operators") as table:
        table.drop_column("locked_until")
        table.drop_column("failed_logins")
