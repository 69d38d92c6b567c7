"""The registry's change token: a new random value whenever a registry table changes.

Hub processes keep a snapshot of the registry and rebuild it when this token differs from the one
it was built from (hub/nppos/registry.py). Triggers, not application code, change the token, so
that every writer counts: the registry service, the operators' console, a hand-written SQL fix.

SQLite: row triggers (it has no statement triggers and no TRUNCATE). A later migration that
alters one of these tables with ``batch_alter_table`` recreates it there and loses its triggers:
such a migration must create them again (``create_sqlite_triggers`` below), which the test of
this revision would catch.

Revision ID: 0401_registry_version
Revises: 0301_signing
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0401_registry_version"
down_revision: str | None = "0301_signing"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = (
    "nppos",
    "allowed_documents",
    "channel_rules",
    "client_certificates",
    "signing_certificates",
)
FUNCTION = "ephyto_registry_changed"


def upgrade() -> None:
    op.create_table(
        "registry_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_registry_version"),
        sa.CheckConstraint("id = 1", name="ck_registry_version_one_row"),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("INSERT INTO registry_version (id, token) VALUES (1, md5(random()::text))")
        op.execute(
            f"""
            CREATE FUNCTION {FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                UPDATE registry_version
                   SET token = md5(random()::text || clock_timestamp()::text)
                 WHERE id = 1;
                RETURN NULL;
            END $$
            """
        )
        for table in TABLES:
            op.execute(
                f"CREATE TRIGGER {table}_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
                f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION {FUNCTION}()"
            )
    else:
        op.execute("INSERT INTO registry_version (id, token) VALUES (1, hex(randomblob(16)))")
        for table in TABLES:
            create_sqlite_triggers(table)


def create_sqlite_triggers(table: str) -> None:
    for operation in ("INSERT", "UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER {table}_{operation.lower()}d AFTER {operation} ON {table} "
            "BEGIN UPDATE registry_version SET token = hex(randomblob(16)) WHERE id = 1; END"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in TABLES:
            op.execute(f"DROP TRIGGER {table}_changed ON {table}")
        op.execute(f"DROP FUNCTION {FUNCTION}()")
    else:
        for table in TABLES:
            for operation in ("inserted", "updated", "deleted"):
                op.execute(f"DROP TRIGGER {table}_{operation}")
    op.drop_table("registry_version")
