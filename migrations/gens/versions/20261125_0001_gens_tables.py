"""GeNS tables: tenants, users, login sessions, certificates, attachments, audit log.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from generic_national_system.database import UtcDateTime

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "gens_tenants",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("country_code", sa.String(length=2), nullable=False),
        sa.Column("languages", sa.String(length=32), nullable=False),
        sa.Column("default_language", sa.String(length=2), nullable=False),
        sa.Column("place_of_issue", sa.String(length=200), nullable=True),
        sa.Column("hub_client_cert_path", sa.String(length=500), nullable=True),
        sa.Column("hub_client_key_path", sa.String(length=500), nullable=True),
        sa.Column("hub_client_cert_pem", sa.Text(), nullable=True),
        sa.Column("hub_client_key_sealed", sa.Text(), nullable=True),
        sa.Column("signing_cert_pem", sa.Text(), nullable=True),
        sa.Column("signing_key_sealed", sa.Text(), nullable=True),
        sa.Column("logo", sa.LargeBinary(), nullable=True),
        sa.Column("logo_media_type", sa.String(length=40), nullable=True),
        sa.Column("next_sequence", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gens_tenants")),
        sa.UniqueConstraint("code", name=op.f("uq_gens_tenants_code")),
    )
    op.create_table(
        "gens_certificates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=40), nullable=False),
        sa.Column("type_code", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("import_country", sa.String(length=2), nullable=True),
        sa.Column("consignee_name", sa.String(length=200), nullable=True),
        sa.Column("review_comment", sa.Text(), nullable=True),
        sa.Column("content", sa.LargeBinary(), nullable=True),
        sa.Column("findings", sa.JSON(), nullable=True),
        sa.Column("issued_at", UtcDateTime(), nullable=True),
        sa.Column("issued_by", sa.String(length=64), nullable=True),
        sa.Column("hub_delivery_number", sa.String(length=40), nullable=True),
        sa.Column("hub_tracking", sa.String(length=40), nullable=True),
        sa.Column("hub_message", sa.Text(), nullable=True),
        sa.Column("sent_at", UtcDateTime(), nullable=True),
        sa.Column("replaces_id", sa.Integer(), nullable=True),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["replaces_id"],
            ["gens_certificates.id"],
            name=op.f("fk_gens_certificates_replaces_id_gens_certificates"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["gens_tenants.id"],
            name=op.f("fk_gens_certificates_tenant_id_gens_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gens_certificates")),
        sa.UniqueConstraint(
            "tenant_id", "number", name=op.f("uq_gens_certificates_tenant_id_number")
        ),
    )
    op.create_index(
        op.f("ix_gens_certificates_state"), "gens_certificates", ["state"], unique=False
    )
    op.create_index(
        op.f("ix_gens_certificates_tenant_id"), "gens_certificates", ["tenant_id"], unique=False
    )
    op.create_table(
        "gens_users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("full_name", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("language", sa.String(length=2), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", UtcDateTime(), nullable=True),
        sa.Column("last_login_at", UtcDateTime(), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["gens_tenants.id"],
            name=op.f("fk_gens_users_tenant_id_gens_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gens_users")),
        sa.UniqueConstraint("username", name=op.f("uq_gens_users_username")),
    )
    op.create_table(
        "gens_attachments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("certificate_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("media_type", sa.String(length=100), nullable=False),
        sa.Column("description", sa.String(length=500), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["certificate_id"],
            ["gens_certificates.id"],
            name=op.f("fk_gens_attachments_certificate_id_gens_certificates"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gens_attachments")),
    )
    op.create_index(
        op.f("ix_gens_attachments_certificate_id"),
        "gens_attachments",
        ["certificate_id"],
        unique=False,
    )
    op.create_table(
        "gens_audit_log",
        sa.Column("id", BigId, nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("certificate_id", sa.Integer(), nullable=True),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("from_state", sa.String(length=32), nullable=True),
        sa.Column("to_state", sa.String(length=32), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["certificate_id"],
            ["gens_certificates.id"],
            name=op.f("fk_gens_audit_log_certificate_id_gens_certificates"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["gens_tenants.id"],
            name=op.f("fk_gens_audit_log_tenant_id_gens_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gens_audit_log")),
    )
    op.create_index(
        op.f("ix_gens_audit_log_certificate_id"), "gens_audit_log", ["certificate_id"], unique=False
    )
    op.create_index(
        op.f("ix_gens_audit_log_tenant_id"), "gens_audit_log", ["tenant_id"], unique=False
    )
    op.create_table(
        "gens_login_sessions",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("expires_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["gens_users.id"],
            name=op.f("fk_gens_login_sessions_user_id_gens_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_gens_login_sessions")),
    )
    op.create_index(
        op.f("ix_gens_login_sessions_user_id"), "gens_login_sessions", ["user_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_gens_login_sessions_user_id"), table_name="gens_login_sessions")
    op.drop_table("gens_login_sessions")
    op.drop_index(op.f("ix_gens_audit_log_tenant_id"), table_name="gens_audit_log")
    op.drop_index(op.f("ix_gens_audit_log_certificate_id"), table_name="gens_audit_log")
    op.drop_table("gens_audit_log")
    op.drop_index(op.f("ix_gens_attachments_certificate_id"), table_name="gens_attachments")
    op.drop_table("gens_attachments")
    op.drop_table("gens_users")
    op.drop_index(op.f("ix_gens_certificates_tenant_id"), table_name="gens_certificates")
    op.drop_index(op.f("ix_gens_certificates_state"), table_name="gens_certificates")
    op.drop_table("gens_certificates")
    op.drop_table("gens_tenants")
