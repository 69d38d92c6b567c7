"""Routing: the transactional outbox, the push schedule and circuits, envelopes.routed_at.

Revision ID: 0201_routing
Revises: 0001
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from hub.database import UtcDateTime

revision: str = "0201_routing"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("envelopes") as batch:
        batch.add_column(sa.Column("routed_at", UtcDateTime(), nullable=True))
    # Envelopes accepted before routing existed are in their boxes already.
    op.execute("UPDATE envelopes SET routed_at = created_at")
    op.create_table(
        "routing_outbox",
        sa.Column("id", BigId, nullable=False),
        sa.Column("envelope_id", BigId, nullable=False),
        sa.Column("hub_delivery_number", sa.String(40), nullable=False),
        sa.Column("box_code", sa.String(16), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("published_at", UtcDateTime(), nullable=True),
        sa.Column("publish_count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_routing_outbox"),
        sa.ForeignKeyConstraint(
            ["envelope_id"],
            ["envelopes.id"],
            name="fk_routing_outbox_envelope_id_envelopes",
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint("hub_delivery_number", name="uq_routing_outbox_hub_delivery_number"),
    )
    op.create_index("ix_routing_outbox_published", "routing_outbox", ["published_at", "id"])
    op.create_table(
        "push_deliveries",
        sa.Column("id", BigId, nullable=False),
        sa.Column("envelope_id", BigId, nullable=False),
        sa.Column("hub_delivery_number", sa.String(40), nullable=False),
        sa.Column("box_code", sa.String(16), nullable=False),
        sa.Column("state", sa.String(8), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("due_at", UtcDateTime(), nullable=False),
        sa.Column("leased_until", UtcDateTime(), nullable=True),
        sa.Column("lease_token", sa.String(32), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("finished_at", UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_push_deliveries"),
        sa.ForeignKeyConstraint(
            ["envelope_id"],
            ["envelopes.id"],
            name="fk_push_deliveries_envelope_id_envelopes",
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint("envelope_id", name="uq_push_deliveries_envelope_id"),
        sa.UniqueConstraint("hub_delivery_number", name="uq_push_deliveries_hub_delivery_number"),
    )
    op.create_index(
        "ix_push_deliveries_due",
        "push_deliveries",
        ["box_code", "due_at"],
        sqlite_where=sa.text("state = 'due'"),
        postgresql_where=sa.text("state = 'due'"),
    )
    op.create_table(
        "push_circuits",
        sa.Column("box_code", sa.String(16), nullable=False),
        sa.Column("consecutive_failures", sa.Integer(), nullable=False),
        sa.Column("opened_until", UtcDateTime(), nullable=True),
        sa.Column("times_opened", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("box_code", name="pk_push_circuits"),
    )


def downgrade() -> None:
    op.drop_table("push_circuits")
    op.drop_index("ix_push_deliveries_due", table_name="push_deliveries")
    op.drop_table("push_deliveries")
    op.drop_index("ix_routing_outbox_published", table_name="routing_outbox")
    op.drop_table("routing_outbox")
    with op.batch_alter_table("envelopes") as batch:
        batch.drop_column("routed_at")
