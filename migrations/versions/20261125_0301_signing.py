"""Signatures and trust: envelope seals, delivery receipts, the evidence chain and its signed
checkpoints, and each NPPO's content-signature policy.

Revision ID: 0301_signing
Revises: 0001
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from hub.database import UtcDateTime

revision: str = "0301_signing"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("nppos") as batch:
        # Existing NPPOs get the default: unsigned content passes, a bad signature does not.
        batch.add_column(
            sa.Column(
                "content_signature", sa.String(8), nullable=False, server_default="optional"
            )
        )
    for table in ("envelope_seals", "delivery_receipts"):
        op.create_table(
            table,
            sa.Column("envelope_id", BigId, nullable=False, autoincrement=False),
            sa.Column("document", sa.LargeBinary(), nullable=False),
            sa.Column("created_at", UtcDateTime(), nullable=False),
            sa.PrimaryKeyConstraint("envelope_id", name=f"pk_{table}"),
            sa.ForeignKeyConstraint(
                ["envelope_id"],
                ["envelopes.id"],
                name=f"fk_{table}_envelope_id_envelopes",
                ondelete="CASCADE",
            ),
        )
    op.create_table(
        "evidence_entries",
        sa.Column("seq", BigId, nullable=False, autoincrement=False),
        sa.Column("event_id", BigId, nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_evidence_entries"),
        sa.UniqueConstraint("event_id", name="uq_evidence_entries_event_id"),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["envelope_events.id"],
            name="fk_evidence_entries_event_id_envelope_events",
        ),
    )
    op.create_table(
        "evidence_checkpoints",
        sa.Column("id", BigId, nullable=False),
        sa.Column("seq", BigId, nullable=False),
        sa.Column("head_hash", sa.String(64), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("document", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_evidence_checkpoints"),
    )
    op.create_index("ix_evidence_checkpoints_seq", "evidence_checkpoints", ["seq"])


def downgrade() -> None:
    op.drop_index("ix_evidence_checkpoints_seq", table_name="evidence_checkpoints")
    op.drop_table("evidence_checkpoints")
    op.drop_table("evidence_entries")
    op.drop_table("delivery_receipts")
    op.drop_table("envelope_seals")
    with op.batch_alter_table("nppos") as batch:
        batch.drop_column("content_signature")
