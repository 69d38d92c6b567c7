"""GeNS import side: received envelopes (certificates and country responses) with the hub's
seal; sent certificates keep their destination and seal; audit entries about received ones.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 12:28:49.648948
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from generic_national_system.database import UtcDateTime

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "gens_received",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("hub_delivery_number", sa.String(length=40), nullable=False),
        sa.Column("from_code", sa.String(length=16), nullable=False),
        sa.Column("to_code", sa.String(length=16), nullable=False),
        sa.Column("certificate_type", sa.Integer(), nullable=False),
        sa.Column("certificate_status", sa.Integer(), nullable=False),
        sa.Column("nppo_certificate_number", sa.String(length=100), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("content_sha256", sa.String(length=64), nullable=False),
        sa.Column("received_at", UtcDateTime(), nullable=False),
        sa.Column("received_by", sa.String(length=64), nullable=False),
        sa.Column("seal", sa.LargeBinary(), nullable=True),
        sa.Column("seal_cert_pem", sa.Text(), nullable=True),
        sa.Column("seal_verified", sa.Boolean(), nullable=False),
        sa.Column("seal_problem", sa.Text(), nullable=True),
        sa.Column("sealed_at", UtcDateTime(), nullable=True),
        sa.Column("content_signature", sa.String(length=16), nullable=False),
        sa.Column("content_signature_detail", sa.Text(), nullable=True),
        sa.Column("readable", sa.Boolean(), nullable=False),
        sa.Column("read_problem", sa.Text(), nullable=True),
        sa.Column("findings", sa.JSON(), nullable=True),
        sa.Column("export_country", sa.String(length=2), nullable=True),
        sa.Column("import_country", sa.String(length=2), nullable=True),
        sa.Column("consignor_name", sa.String(length=200), nullable=True),
        sa.Column("commodity", sa.String(length=200), nullable=True),
        sa.Column("issued_at", UtcDateTime(), nullable=True),
        sa.Column("response_status", sa.Integer(), nullable=True),
        sa.Column("response_reason", sa.Text(), nullable=True),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("acknowledged_by", sa.String(length=64), nullable=True),
        sa.Column("acknowledged_at", UtcDateTime(), nullable=True),
        sa.Column("acknowledgement_message", sa.Text(), nullable=True),
        sa.Column("decision", sa.String(length=16), nullable=True),
        sa.Column("decision_reason", sa.Text(), nullable=True),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("decided_at", UtcDateTime(), nullable=True),
        sa.Column("decision_delivery_number", sa.String(length=40), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["gens_tenants.id"],
            name=op.f("fk_gens_received_tenant_id_gens_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gens_received")),
        sa.UniqueConstraint(
            "tenant_id",
            "hub_delivery_number",
            name=op.f("uq_gens_received_tenant_id_hub_delivery_number"),
        ),
    )
    with op.batch_alter_table("gens_received", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_gens_received_export_country"), ["export_country"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_gens_received_nppo_certificate_number"),
            ["nppo_certificate_number"],
            unique=False,
        )
        batch_op.create_index(batch_op.f("ix_gens_received_state"), ["state"], unique=False)
        batch_op.create_index(batch_op.f("ix_gens_received_tenant_id"), ["tenant_id"], unique=False)

    with op.batch_alter_table("gens_audit_log", schema=None) as batch_op:
        batch_op.add_column(sa.Column("received_id", sa.Integer(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_gens_audit_log_received_id"), ["received_id"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_gens_audit_log_received_id_gens_received"),
            "gens_received",
            ["received_id"],
            ["id"],
            ondelete="CASCADE",
        )

    with op.batch_alter_table("gens_certificates", schema=None) as batch_op:
        batch_op.add_column(sa.Column("destination_code", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("hub_seal", sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column("hub_seal_cert_pem", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("hub_seal_verified", sa.Boolean(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("gens_certificates", schema=None) as batch_op:
        batch_op.drop_column("hub_seal_verified")
        batch_op.drop_column("hub_seal_cert_pem")
        batch_op.drop_column("hub_seal")
        batch_op.drop_column("destination_code")

    with op.batch_alter_table("gens_audit_log", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_gens_audit_log_received_id_gens_received"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_gens_audit_log_received_id"))
        batch_op.drop_column("received_id")

    with op.batch_alter_table("gens_received", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_gens_received_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_gens_received_state"))
        batch_op.drop_index(batch_op.f("ix_gens_received_nppo_certificate_number"))
        batch_op.drop_index(batch_op.f("ix_gens_received_export_country"))

    op.drop_table("gens_received")
