"""Run the Alembic migrations from code (the CLI, the demo and the test fixtures use this)."""

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(sqlalchemy_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", sqlalchemy_url)
    return config


def upgrade_to_head(sqlalchemy_url: str) -> None:
    """Bring the database to the newest schema. Synchronous: env.py runs its own event loop."""
    # "heads": each area adds its migrations as its own branch from 0001 (0101 operators,
    # 0201 routing, ...), so several heads are normal and all of them are applied.
    command.upgrade(alembic_config(sqlalchemy_url), "heads")


async def upgrade_to_head_async(sqlalchemy_url: str) -> None:
    # env.py calls asyncio.run(); run it in a worker thread, away from the caller's loop.
    await asyncio.to_thread(upgrade_to_head, sqlalchemy_url)
