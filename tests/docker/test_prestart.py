"""The compose prestart step, run for real: `ephyto hub wait-for-db`, `ephyto hub migrate` and
`ephyto gens migrate` as processes against the real PostgreSQL (and RabbitMQ)."""

import asyncio
import os
import shlex
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from hub.migrate import alembic_config
from hub.settings import async_database_url
from tests.docker.conftest import DOCKER_DIR
from tests.hub.conftest import POSTGRES_ADMIN_URL

pytestmark = pytest.mark.postgres

EPHYTO = str(Path(sys.executable).parent / "ephyto")


async def _admin(statement: str) -> None:
    engine = create_async_engine(
        async_database_url(POSTGRES_ADMIN_URL), isolation_level="AUTOCOMMIT"
    )
    try:
        async with engine.connect() as connection:
            await connection.execute(text(statement))
    finally:
        await engine.dispose()


@pytest.fixture
def empty_database() -> Iterator[str]:
    """A new, empty PostgreSQL database, as a fresh deployment has; its plain URL."""
    name = f"ephyto_prestart_{uuid.uuid4().hex[:10]}"
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    base, _, _ = POSTGRES_ADMIN_URL.rpartition("/")
    yield f"{base}/{name}"
    asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def ephyto(
    *arguments: str, env: dict[str, str], timeout: float = 180
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [EPHYTO, *arguments],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def prestart_steps() -> list[list[str]]:
    compose = yaml.safe_load((DOCKER_DIR / "compose.yaml").read_text())
    script = compose["services"]["prestart"]["command"][0]
    return [shlex.split(step)[1:] for step in script.split("&&")]


async def _versions(url: str) -> set[str]:
    engine = create_async_engine(async_database_url(url))
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(text("SELECT version_num FROM alembic_version"))
            return set(rows.scalars())
    finally:
        await engine.dispose()


async def _tables(url: str) -> set[str]:
    engine = create_async_engine(async_database_url(url))
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(
                text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
            )
            return set(rows.scalars())
    finally:
        await engine.dispose()


def test_the_prestart_step_brings_an_empty_database_to_every_head(
    empty_database: str, tmp_path: Path
) -> None:
    gens_url = empty_database  # GeNS keeps its tables apart (its own alembic version table)
    env = {
        "EPHYTO_DATABASE_URL": empty_database,
        "EPHYTO_GENS_DATABASE_URL": gens_url,
        "EPHYTO_BROKER_URL": "amqp://guest:guest@127.0.0.1:5672/",
        "EPHYTO_DATA_DIR": str(tmp_path),
        "EPHYTO_GENS_DATA_DIR": str(tmp_path / "gens"),
        "EPHYTO_LOG_FORMAT": "json",
    }
    outputs = []
    for step in prestart_steps():
        result = ephyto(*step, env=env)
        assert result.returncode == 0, (step, result.stdout, result.stderr)
        outputs.append(result.stdout)
    assert "database: postgresql answers" in outputs[0]
    assert "broker: RabbitMQ accepts connections" in outputs[0]
    heads = set(ScriptDirectory.from_config(alembic_config(empty_database)).get_heads())
    assert len(heads) > 1  # each area's branch from 0001 (operators, routing, signing, ...)
    assert heads <= asyncio.run(_versions(empty_database))
    tables = asyncio.run(_tables(empty_database))
    assert {"envelopes", "operators", "operator_audit", "routing_outbox"} <= tables

    # Run again (every `docker compose up` does): nothing to do, still success.
    for step in prestart_steps():
        assert ephyto(*step, env=env).returncode == 0


def test_wait_for_db_gives_up_with_the_reason(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    started = time.monotonic()
    result = ephyto(
        "hub",
        "wait-for-db",
        "--timeout",
        "3",
        env={
            "EPHYTO_DATABASE_URL": f"postgresql://postgres@127.0.0.1:{closed}/none",
            "EPHYTO_DATA_DIR": str(tmp_path),
        },
        timeout=60,
    )
    assert result.returncode == 1
    assert "not ready after 3 s: database:" in result.stderr
    assert "waiting: database:" in result.stdout
    assert time.monotonic() - started < 30
