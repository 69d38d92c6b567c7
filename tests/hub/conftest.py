"""Hub fixtures: real databases (PostgreSQL and SQLite), migrated once, emptied between tests."""

import asyncio
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

import hub.envelopes.models
import hub.nppos.models  # noqa: F401  (tables on Base.metadata)
from hub.database import Base
from hub.migrate import upgrade_to_head
from hub.settings import async_database_url

#: The machine's PostgreSQL (trust auth). CI starts it; override to point elsewhere.
POSTGRES_ADMIN_URL = os.environ.get(
    "EPHYTO_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)


async def _admin(statement: str) -> None:
    engine = create_async_engine(
        async_database_url(POSTGRES_ADMIN_URL), isolation_level="AUTOCOMMIT"
    )
    try:
        async with engine.connect() as connection:
            await connection.execute(text(statement))
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session, migrated to head."""
    name = f"ephyto_test_{uuid.uuid4().hex[:10]}"
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    base, _, _ = POSTGRES_ADMIN_URL.rpartition("/")
    url = async_database_url(f"{base}/{name}")
    upgrade_to_head(url)
    yield url
    asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    path: Path = tmp_path_factory.mktemp("sqlite") / "hub.db"
    url = f"sqlite+aiosqlite:///{path}"
    upgrade_to_head(url)
    return url


@pytest.fixture(params=["postgresql", "sqlite"])
def database_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """Both backends: the real server, and the embedded default."""
    url: str = request.getfixturevalue(f"{request.param}_url")
    yield url
    asyncio.run(_empty(url))


@pytest.fixture
def postgres_database_url(postgres_url: str) -> Iterator[str]:
    """Only PostgreSQL, for tests whose behaviour does not depend on the backend."""
    yield postgres_url
    asyncio.run(_empty(postgres_url))


async def _empty(url: str) -> None:
    engine = create_async_engine(url)
    try:
        async with engine.begin() as connection:
            for table in reversed(Base.metadata.sorted_tables):
                await connection.execute(table.delete())
    finally:
        await engine.dispose()
