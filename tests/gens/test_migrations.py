"""GeNS's migrations: its own branch of tables, reversible, and equal to the models."""

from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from generic_national_system.database import Base
from generic_national_system.migrate import alembic_config, upgrade_to_head


def test_upgrade_creates_only_gens_tables_matching_the_models_and_downgrade_removes_them(
    tmp_path: Path,
) -> None:
    path = tmp_path / "gens.db"
    upgrade_to_head(f"sqlite+aiosqlite:///{path}")
    engine = create_engine(f"sqlite:///{path}")
    try:
        tables = set(inspect(engine).get_table_names())
        assert tables == {table.name for table in Base.metadata.sorted_tables} | {
            "gens_alembic_version"
        }
        assert all(name.startswith("gens_") for name in tables)
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"version_table": "gens_alembic_version", "compare_type": True}
            )
            differences = compare_metadata(context, Base.metadata)
        assert differences == []

        command.downgrade(alembic_config(f"sqlite+aiosqlite:///{path}"), "base")
        assert set(inspect(engine).get_table_names()) == {"gens_alembic_version"}
    finally:
        engine.dispose()
