"""Alembic environment: runs migrations over the hub's async engine (SQLite or PostgreSQL)."""

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

import hub.envelopes.models
import hub.nppos.models  # noqa: F401  (register the tables on Base.metadata)
from hub.database import Base, create_engine
from hub.settings import HubSettings

target_metadata = Base.metadata


def _url() -> str:
    configured = context.config.get_main_option("sqlalchemy.url")
    return configured or HubSettings().sqlalchemy_url


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
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
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    asyncio.run(_run_online())
