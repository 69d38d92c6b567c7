"""NPPO registry, envelopes, their content and history.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from hub.database import UtcDateTime

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "nppos",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("code", sa.String(16), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("is_channel", sa.Boolean(), nullable=False),
        sa.Column("can_send", sa.Boolean(), nullable=False),
        sa.Column("can_receive", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("delivery_mode", sa.String(8), nullable=False),
        sa.Column("push_url", sa.String(500), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_nppos"),
        sa.UniqueConstraint("code", name="uq_nppos_code"),
    )
    op.create_table(
        "allowed_documents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("nppo_id", sa.Integer(), nullable=False),
        sa.Column("certificate_type", sa.Integer(), nullable=False),
        sa.Column("certificate_status", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_allowed_documents"),
        sa.ForeignKeyConstraint(
            ["nppo_id"], ["nppos.id"], name="fk_allowed_documents_nppo_id_nppos", ondelete="CASCADE"
        ),
        sa.UniqueConstraint(
            "nppo_id",
            "certificate_type",
            "certificate_status",
            name="uq_allowed_documents_pair",
        ),
    )
    op.create_table(
        "channel_rules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("nppo_id", sa.Integer(), nullable=False),
        sa.Column("rule_type", sa.String(8), nullable=False),
        sa.Column("certificate_type", sa.Integer(), nullable=False),
        sa.Column("certificate_status", sa.Integer(), nullable=False),
        sa.Column("country_code", sa.String(16), nullable=False),
        sa.Column("direction", sa.String(3), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_channel_rules"),
        sa.ForeignKeyConstraint(
            ["nppo_id"], ["nppos.id"], name="fk_channel_rules_nppo_id_nppos", ondelete="CASCADE"
        ),
    )
    for table in ("client_certificates", "signing_certificates"):
        extra = (
            [
                sa.Column("revoked_at", UtcDateTime(), nullable=True),
                sa.Column("revocation_reason", sa.Text(), nullable=True),
            ]
            if table == "client_certificates"
            else []
        )
        op.create_table(
            table,
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("nppo_id", sa.Integer(), nullable=False),
            sa.Column("fingerprint_sha256", sa.String(64), nullable=False),
            sa.Column("subject", sa.Text(), nullable=False),
            sa.Column("not_before", UtcDateTime(), nullable=False),
            sa.Column("not_after", UtcDateTime(), nullable=False),
            *extra,
            sa.Column("der", sa.LargeBinary(), nullable=False),
            sa.Column("created_at", UtcDateTime(), nullable=False),
            sa.PrimaryKeyConstraint("id", name=f"pk_{table}"),
            sa.ForeignKeyConstraint(
                ["nppo_id"], ["nppos.id"], name=f"fk_{table}_nppo_id_nppos", ondelete="CASCADE"
            ),
            sa.UniqueConstraint("fingerprint_sha256", name=f"uq_{table}_fingerprint_sha256"),
        )
    op.create_table(
        "envelope_contents",
        sa.Column("id", BigId, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_envelope_contents"),
        sa.UniqueConstraint("sha256", name="uq_envelope_contents_sha256"),
    )
    op.create_table(
        "envelopes",
        sa.Column("id", BigId, nullable=False),
        sa.Column("hub_delivery_number", sa.String(40), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("from_code", sa.String(16), nullable=False),
        sa.Column("to_code", sa.String(16), nullable=False),
        sa.Column("box_code", sa.String(16), nullable=False),
        sa.Column("certificate_type", sa.Integer(), nullable=False),
        sa.Column("certificate_status", sa.Integer(), nullable=False),
        sa.Column("nppo_certificate_number", sa.String(200), nullable=False),
        sa.Column("tracking_state", sa.String(24), nullable=False),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("content_id", BigId, nullable=False),
        sa.Column("content_sha256", sa.String(64), nullable=False),
        sa.Column("original_id", BigId, nullable=True),
        sa.Column("copy_reason", sa.String(20), nullable=True),
        sa.Column("withdrawn_by", sa.String(40), nullable=True),
        sa.Column("replaced_by", sa.String(40), nullable=True),
        sa.Column("replaces_certificate_number", sa.String(200), nullable=True),
        sa.Column("pull_count", sa.Integer(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.Column("finished_at", UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_envelopes"),
        sa.UniqueConstraint("hub_delivery_number", name="uq_envelopes_hub_delivery_number"),
        sa.ForeignKeyConstraint(
            ["content_id"], ["envelope_contents.id"], name="fk_envelopes_content_id_envelope_contents"
        ),
        sa.ForeignKeyConstraint(
            ["original_id"], ["envelopes.id"], name="fk_envelopes_original_id_envelopes"
        ),
    )
    op.create_index(
        "uq_envelopes_submission",
        "envelopes",
        [
            "kind",
            "from_code",
            "to_code",
            "nppo_certificate_number",
            "certificate_status",
            "content_sha256",
        ],
        unique=True,
        sqlite_where=sa.text("original_id IS NULL"),
        postgresql_where=sa.text("original_id IS NULL"),
    )
    op.create_index("ix_envelopes_box_state", "envelopes", ["box_code", "tracking_state", "id"])
    op.create_index("ix_envelopes_sender_state", "envelopes", ["from_code", "tracking_state", "id"])
    op.create_index(
        "ix_envelopes_certificate", "envelopes", ["from_code", "nppo_certificate_number"]
    )
    op.create_table(
        "envelope_events",
        sa.Column("id", BigId, nullable=False),
        sa.Column("envelope_id", BigId, nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("event", sa.String(32), nullable=False),
        sa.Column("tracking_state", sa.String(24), nullable=True),
        sa.Column("actor", sa.String(40), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_envelope_events"),
        sa.ForeignKeyConstraint(
            ["envelope_id"],
            ["envelopes.id"],
            name="fk_envelope_events_envelope_id_envelopes",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_envelope_events_envelope", "envelope_events", ["envelope_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_envelope_events_envelope", table_name="envelope_events")
    op.drop_table("envelope_events")
    for index in (
        "ix_envelopes_certificate",
        "ix_envelopes_sender_state",
        "ix_envelopes_box_state",
        "uq_envelopes_submission",
    ):
        op.drop_index(index, table_name="envelopes")
    op.drop_table("envelopes")
    op.drop_table("envelope_contents")
    op.drop_table("signing_certificates")
    op.drop_table("client_certificates")
    op.drop_table("channel_rules")
    op.drop_table("allowed_documents")
    op.drop_table("nppos")
