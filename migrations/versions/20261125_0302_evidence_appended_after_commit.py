"""The evidence chain is appended after commit, in batches: each event notes its link.

``envelope_events.chain_seq`` is the ``seq`` of the event's evidence link, empty while the event
waits for the chainer; a partial index finds the waiting ones without scanning the history.
Events chained before this revision get their link's ``seq``.

Revision ID: 0302_evidence_after_commit
Revises: 0301_signing
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0302_evidence_after_commit"
down_revision: str | None = "0301_signing"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.add_column("envelope_events", sa.Column("chain_seq", BigId, nullable=True))
    op.execute(
        "UPDATE envelope_events SET chain_seq = (SELECT evidence_entries.seq "
        "FROM evidence_entries WHERE evidence_entries.event_id = envelope_events.id)"
    )
    op.create_index(
        "ix_envelope_events_unchained",
        "envelope_events",
        ["id"],
        sqlite_where=sa.text("chain_seq IS NULL"),
        postgresql_where=sa.text("chain_seq IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_envelope_events_unchained", table_name="envelope_events")
    with op.batch_alter_table("envelope_events") as batch:
        batch.drop_column("chain_seq")
