"""Hub fixtures: real databases (PostgreSQL and SQLite), migrated once, emptied between tests."""

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

import hub.envelopes.models
import hub.nppos.models  # noqa: F401  (tables on Base.metadata)
from ephyto_core._pki import IssuedCertificate, create_ca, issue_client_certificate
from hub.database import Base, unit_of_work
from hub.identity.domain import AuthenticatedNppo
from hub.migrate import upgrade_to_head
from hub.runtime import HubRuntime, build_runtime
from hub.settings import HubSettings, async_database_url

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


@pytest.fixture(params=["postgres", "sqlite"])
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


# --------------------------------------------------------------------------- NPPOs and runtime


@dataclass(frozen=True)
class TestPki:
    __test__ = False  # a fixture type, not a test class

    ca: IssuedCertificate
    other_ca: IssuedCertificate
    clients: dict[str, IssuedCertificate]


#: The demo cast: two countries, a third for cc, and a channel that can delegate and forward.
NPPO_CODES = ("AA", "BB", "CC")
CHANNEL_CODE = "XCH"


@pytest.fixture(scope="session")
def test_pki(tmp_path_factory: pytest.TempPathFactory) -> TestPki:
    directory = tmp_path_factory.mktemp("pki")
    ca = create_ca().save(directory, "ca")
    return TestPki(
        ca=ca,
        other_ca=create_ca(common_name="Someone else's CA").save(directory, "other-ca"),
        clients={
            code: issue_client_certificate(ca, nppo_code=code).save(directory, code.lower())
            for code in (*NPPO_CODES, CHANNEL_CODE)
        },
    )


def hub_settings(database_url: str, data_dir: Path) -> HubSettings:
    return HubSettings(
        database_url=database_url,
        data_dir=data_dir,
        # httpx's ASGITransport presents 127.0.0.1: tests pass client certificates the way a
        # trusted TLS-terminating proxy does, through the header (the real TLS path is tested
        # with a real server in test_tls_transport.py and the zeep end-to-end test).
        trusted_proxies=["127.0.0.1/32"],
    )


@pytest.fixture
async def runtime(database_url: str, tmp_path: Path) -> AsyncIterator[HubRuntime]:
    runtime = build_runtime(hub_settings(database_url, tmp_path))
    yield runtime
    await runtime.close()


@pytest.fixture
async def nppos(runtime: HubRuntime, test_pki: TestPki) -> dict[str, AuthenticatedNppo]:
    """AA, BB, CC registered as pull NPPOs and XCH as a channel, each with a client certificate."""
    async with unit_of_work(runtime.sessionmaker) as session:
        for code in (*NPPO_CODES, CHANNEL_CODE):
            await runtime.nppos.register(
                session, code=code, name=f"NPPO {code}", is_channel=code == CHANNEL_CODE
            )
            await runtime.nppos.add_client_certificate(
                session, code=code, certificate=test_pki.clients[code].cert_pem()
            )
    return {
        code: AuthenticatedNppo(
            code=code,
            certificate_fingerprint=test_pki.clients[code].fingerprint,
            is_channel=code == CHANNEL_CODE,
        )
        for code in (*NPPO_CODES, CHANNEL_CODE)
    }
