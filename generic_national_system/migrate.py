"""Run the GeNS Alembic migrations (`migrations/gens`) from code: CLI, demo and tests."""

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations" / "gens"


def alembic_config(sqlalchemy_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", sqlalchemy_url)
    config.set_main_option("file_template", "%%(year)d%%(month).2d%%(day).2d_%%(rev)s_%%(slug)s")
    return config


def upgrade_to_head(sqlalchemy_url: str) -> None:
    """Bring the database to the newest GeNS schema. Synchronous: env.py runs its own loop."""
    command.upgrade(alembic_config(sqlalchemy_url), "head")


async def upgrade_to_head_async(sqlalchemy_url: str) -> None:
    await asyncio.to_thread(upgrade_to_head, sqlalchemy_url)
