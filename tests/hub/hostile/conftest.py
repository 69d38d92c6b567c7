"""The hostile-input suite's hub, and the table of cases and outcomes printed after the run.

The table is printed by `pytest_terminal_summary`, so it appears in every run that includes this
folder, CI's included, whatever `-r`/`-s` options are given.
"""

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI

from hub.app import create_app
from hub.database import unit_of_work
from hub.migrate import upgrade_to_head
from hub.runtime import HubRuntime, build_runtime
from hub.settings import async_database_url
from tests.hub import conftest as hub_fixtures
from tests.hub.hostile.harness import RECORDS, HostileHub, RecordingServer, Secrets, aa_signer
from tests.hub.hostile.report import outcome_table


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not RECORDS:
        return
    terminalreporter.write_sep("=", f"hostile input: {len(RECORDS)} cases and their outcomes")
    for line in outcome_table(RECORDS):
        terminalreporter.write_line(line)


@pytest.fixture(scope="package")
def recording_server() -> Iterator[RecordingServer]:
    with RecordingServer() as server:
        yield server


@pytest.fixture(scope="package")
def secrets(tmp_path_factory: pytest.TempPathFactory) -> Secrets:
    return Secrets.create(tmp_path_factory.mktemp("secrets"))


async def _hub(url: str, data_dir: Path, pki: hub_fixtures.TestPki) -> tuple[HubRuntime, FastAPI]:
    runtime = build_runtime(hub_fixtures.hub_settings(url, data_dir))
    async with unit_of_work(runtime.sessionmaker) as session:
        for code in (*hub_fixtures.NPPO_CODES, hub_fixtures.CHANNEL_CODE):
            await runtime.nppos.register(
                session,
                code=code,
                name=f"NPPO {code}",
                is_channel=code == hub_fixtures.CHANNEL_CODE,
            )
            await runtime.nppos.add_client_certificate(
                session, code=code, certificate=pki.clients[code].cert_pem()
            )
        await runtime.nppos.add_signing_certificate(
            session, code="AA", certificate=aa_signer(pki).cert_pem()
        )
    return runtime, create_app(runtime=runtime)


@pytest.fixture(scope="package")
def hostile_postgres_url() -> Iterator[str]:
    """A PostgreSQL database of the corpus' own: the shared test database is emptied after
    every function-scoped test, which would take the corpus' NPPOs with it."""
    name = f"ephyto_hostile_{uuid.uuid4().hex[:10]}"
    asyncio.run(hub_fixtures._admin(f'CREATE DATABASE "{name}"'))
    base, _, _ = hub_fixtures.POSTGRES_ADMIN_URL.rpartition("/")
    url = async_database_url(f"{base}/{name}")
    upgrade_to_head(url)
    yield url
    asyncio.run(hub_fixtures._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="package")
async def hostile_hub(
    hostile_postgres_url: str,
    tmp_path_factory: pytest.TempPathFactory,
    test_pki: hub_fixtures.TestPki,
) -> AsyncIterator[HostileHub]:
    """One hub on PostgreSQL for the whole corpus: each case measures the rows it left, so cases
    need no empty database, only an unchanged one."""
    runtime, app = await _hub(
        hostile_postgres_url, tmp_path_factory.mktemp("hostile-hub"), test_pki
    )
    hub = HostileHub(runtime=runtime, app=app, pki=test_pki, backend="postgres")
    try:
        yield hub
    finally:
        await hub.close()
        await runtime.close()


@pytest.fixture
async def fresh_hub(
    database_url: str, tmp_path: Path, test_pki: hub_fixtures.TestPki
) -> AsyncIterator[HostileHub]:
    """A hub on an empty database of each backend, for cases whose outcome could depend on it
    (free text that one database stores and the other refuses)."""
    runtime, app = await _hub(database_url, tmp_path, test_pki)
    backend = "postgres" if database_url.startswith("postgresql") else "sqlite"
    hub = HostileHub(runtime=runtime, app=app, pki=test_pki, backend=backend)
    try:
        yield hub
    finally:
        await hub.close()
        await runtime.close()
