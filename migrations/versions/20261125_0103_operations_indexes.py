"""Indexes for the scrape-time gauges and the console: what waits in each box, what finished lately.

Measured (EXPLAIN ANALYZE, PostgreSQL 15, 1,000,000 envelopes of which 1,000 waiting and 86,400
finished in the last day, on a 2-core machine busy with a test run): what waits per box 925 ms ->
13 ms, delivered per box in the last hour 921 ms -> 8 ms (sequential scans before: the existing
box/state index leads with the box); final states of the last day 185 ms. A whole /metrics
snapshot went from ~2 s (with an all-time count by state, since dropped) to 230-310 ms.

Revision ID: 0103_operations_indexes
Revises: 0102_operator_lockout
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0103_operations_indexes"
down_revision: str | None = "0102_operator_lockout"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_PENDING = sa.text("tracking_state = 'PendingDelivery'")
_FINISHED = sa.text("finished_at IS NOT NULL")


def upgrade() -> None:
    op.create_index(
        "ix_envelopes_pending_box",
        "envelopes",
        ["box_code", "created_at"],
        postgresql_where=_PENDING,
        sqlite_where=_PENDING,
    )
    op.create_index(
        "ix_envelopes_finished_at",
        "envelopes",
        ["finished_at", "tracking_state", "box_code"],
        postgresql_where=_FINISHED,
        sqlite_where=_FINISHED,
    )


def downgrade() -> None:
    op.drop_index("ix_envelopes_finished_at", table_name="envelopes")
    op.drop_index("ix_envelopes_pending_box", table_name="envelopes")
