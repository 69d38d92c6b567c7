"""Alembic environment for GeNS: its own tables (gens_*) and its own version table.

Separate from the hub's migrations so GeNS can live in its own database or share one with a hub
(the version table `gens_alembic_version` keeps the two histories apart).
"""

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

from generic_national_system.database import Base, create_engine
from generic_national_system.models import register_models
from generic_national_system.settings import GensSettings

VERSION_TABLE = "gens_alembic_version"

register_models()
target_metadata = Base.metadata


def _url() -> str:
    configured = context.config.get_main_option("sqlalchemy.url")
    return configured or GensSettings().sqlalchemy_url


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        version_table=VERSION_TABLE,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite cannot ALTER most things
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_online() -> None:
    engine = create_engine(_url())
    async with engine.connect() as connection:
        await connection.run_sync(_run)
    await engine.dispose()


if context.is_offline_mode():
    context.configure(
        url=_url(),
        target_metadata=target_metadata,
        version_table=VERSION_TABLE,
        literal_binds=True,
    )
    with context.begin_transaction():
        context.run_migrations()
else:
    asyncio.run(_run_online())
