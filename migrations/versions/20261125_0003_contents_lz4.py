"""Certificate contents compressed with LZ4 instead of PostgreSQL's default pglz.

Every accepted envelope stores its content (~40 KB of XML, up to 16 MB with attachments) once.
Measured on the project machine with a 41 KB certificate: pglz costs 0.65 ms of backend CPU per
insert and keeps 10.2 KiB; LZ4 0.19 ms and 6.2 KiB (stored uncompressed: 0.26 ms, 42.6 KiB).
Applies to values written from now on; PostgreSQL built without LZ4 keeps pglz. SQLite: nothing.

Revision ID: 0003_contents_lz4
Revises: 0001
Create Date: 2026-11-25
"""

from collections.abc import Sequence

from alembic import op
from sqlalchemy import text

revision: str = "0003_contents_lz4"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _has_lz4() -> bool:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return False
    values = bind.execute(
        text("SELECT enumvals FROM pg_settings WHERE name = 'default_toast_compression'")
    ).scalar()
    return bool(values) and "lz4" in values


def upgrade() -> None:
    if _has_lz4():
        op.execute("ALTER TABLE envelope_contents ALTER COLUMN data SET COMPRESSION lz4")


def downgrade() -> None:
    if _has_lz4():
        op.execute("ALTER TABLE envelope_contents ALTER COLUMN data SET COMPRESSION pglz")
