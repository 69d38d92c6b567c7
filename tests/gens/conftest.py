"""GeNS fixtures: GeNS on PostgreSQL and SQLite, talking to the REAL hub app in-process.

The hub runs on its embedded default (SQLite; its own tests cover PostgreSQL) with KE, NL and PE
registered. GeNS reaches it through httpx.ASGITransport, presenting each tenant's client
certificate in X-Client-Cert, which the hub trusts from 127.0.0.1 as from a TLS-terminating proxy.
GeNS's own database is fresh per session (PostgreSQL) and emptied after every test.
"""

import asyncio
import os
import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

import hub.envelopes.models
import hub.nppos.models  # noqa: F401  (the hub's tables on its Base.metadata)
from ephyto_core._pki import IssuedCertificate, create_ca, issue_client_certificate
from generic_national_system.accounts import service as accounts
from generic_national_system.accounts.models import User
from generic_national_system.accounts.passwords import hash_password
from generic_national_system.accounts.roles import Role
from generic_national_system.accounts.secrets import seal
from generic_national_system.app import create_app as create_gens_app
from generic_national_system.database import Base as GensBase
from generic_national_system.database import unit_of_work
from generic_national_system.migrate import upgrade_to_head as gens_upgrade
from generic_national_system.models import register_models
from generic_national_system.runtime import GensRuntime, build_runtime
from generic_national_system.settings import GensSettings, async_database_url
from hub.app import create_app as create_hub_app
from hub.database import Base as HubBase
from hub.database import unit_of_work as hub_unit_of_work
from hub.migrate import upgrade_to_head as hub_upgrade
from hub.runtime import HubRuntime
from hub.runtime import build_runtime as build_hub_runtime
from hub.settings import HubSettings

register_models()

POSTGRES_ADMIN_URL = os.environ.get(
    "EPHYTO_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
SECRET = "a-test-secret-that-is-long-enough-0123456789"
PASSWORD = "correct horse battery"
HUB_BASE = "http://hub.test/api/v1"
#: Real country codes: a certificate's countries must be in the ISO 3166 code list.
NPPO_CODES = ("KE", "NL", "PE")


# --------------------------------------------------------------------------- databases


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
def gens_postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this session, at the newest GeNS migration."""
    name = f"gens_test_{uuid.uuid4().hex[:10]}"
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    base, _, _ = POSTGRES_ADMIN_URL.rpartition("/")
    url = async_database_url(f"{base}/{name}")
    gens_upgrade(url)
    yield url
    asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def gens_sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('gens') / 'gens.db'}"
    gens_upgrade(url)
    return url


@pytest.fixture(params=["postgres", "sqlite"])
def gens_database_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """GeNS on both backends: the real server, and the embedded default."""
    url: str = request.getfixturevalue(f"gens_{request.param}_url")
    yield url
    asyncio.run(_empty(url, GensBase))


@pytest.fixture
def gens_sqlite_only(gens_sqlite_url: str) -> Iterator[str]:
    """For page-level checks whose behaviour does not depend on the database."""
    yield gens_sqlite_url
    asyncio.run(_empty(gens_sqlite_url, GensBase))


@pytest.fixture(scope="session")
def hub_database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('hub') / 'hub.db'}"
    hub_upgrade(url)
    return url


async def _empty(url: str, base: Any) -> None:
    engine = create_async_engine(url)
    try:
        async with engine.begin() as connection:
            for table in reversed(base.metadata.sorted_tables):
                await connection.execute(table.delete())
    finally:
        await engine.dispose()


# --------------------------------------------------------------------------- the hub


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> dict[str, IssuedCertificate]:
    """Client certificates for the NPPOs from one development CA."""
    ca = create_ca()
    directory = tmp_path_factory.mktemp("pki")
    return {
        code: issue_client_certificate(ca, nppo_code=code).save(directory, code.lower())
        for code in NPPO_CODES
    }


@pytest.fixture
async def hub_runtime(
    hub_database_url: str, tmp_path: Path, pki: dict[str, IssuedCertificate]
) -> AsyncIterator[HubRuntime]:
    settings = HubSettings(
        database_url=hub_database_url, data_dir=tmp_path / "hub", trusted_proxies=["127.0.0.1/32"]
    )
    runtime = build_hub_runtime(settings)
    async with hub_unit_of_work(runtime.sessionmaker) as session:
        for code in NPPO_CODES:
            await runtime.nppos.register(session, code=code, name=f"NPPO {code}")
            await runtime.nppos.add_client_certificate(
                session, code=code, certificate=pki[code].cert_pem()
            )
    yield runtime
    await runtime.close()
    await _empty(hub_database_url, HubBase)


@pytest.fixture
def hub_app(hub_runtime: HubRuntime) -> FastAPI:
    return create_hub_app(runtime=hub_runtime)


@pytest.fixture
async def hub_as(
    hub_app: FastAPI, pki: dict[str, IssuedCertificate]
) -> AsyncIterator[Callable[[str], httpx.AsyncClient]]:
    """`hub_as("NL")`: the hub's REST API as the NPPO NL (e.g. the importer checking its box)."""
    from urllib.parse import quote

    opened: list[httpx.AsyncClient] = []

    def open_client(code: str) -> httpx.AsyncClient:
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=hub_app),
            base_url=HUB_BASE,
            headers={"X-Client-Cert": quote(pki[code].cert_pem().decode("ascii"))},
        )
        opened.append(client)
        return client

    yield open_client
    for client in opened:
        await client.aclose()


# --------------------------------------------------------------------------- GeNS


def gens_settings(database_url: str, data_dir: Path, **overrides: Any) -> GensSettings:
    values: dict[str, Any] = {
        "database_url": database_url,
        "data_dir": data_dir,
        "secret_key": SECRET,
        "secure_cookies": False,  # the test transport is plain http://
        "hub_url": HUB_BASE,
        "hub_client_cert_header": "X-Client-Cert",
    }
    return GensSettings(**{**values, **overrides})


@pytest.fixture
async def gens_runtime(
    gens_database_url: str, tmp_path: Path, hub_app: FastAPI
) -> AsyncIterator[GensRuntime]:
    runtime = build_runtime(
        gens_settings(gens_database_url, tmp_path / "gens"),
        hub_transport=httpx.ASGITransport(app=hub_app),
    )
    yield runtime
    await runtime.close()


@pytest.fixture
def gens_app(gens_runtime: GensRuntime) -> FastAPI:
    return create_gens_app(runtime=gens_runtime)


@dataclass(frozen=True)
class TenantUsers:
    code: str
    #: role -> username; every password is PASSWORD.
    users: dict[Role, str]


@pytest.fixture(scope="session")
def password_hash() -> str:
    # Argon2 at its defaults takes ~0.4 s here; hashing once keeps eight users per test cheap.
    # Creating users through the service (and the admin pages) is tested on its own.
    return hash_password(PASSWORD)


@pytest.fixture
async def tenants(
    gens_runtime: GensRuntime, pki: dict[str, IssuedCertificate], password_hash: str
) -> dict[str, TenantUsers]:
    """GeNS tenants KE (English users) and PE (Spanish users), each with its hub certificate
    stored and one user per role (username `<code>-<role>`, password PASSWORD)."""
    created: dict[str, TenantUsers] = {}
    async with unit_of_work(gens_runtime.sessionmaker) as session:
        for code, language in (("KE", "en"), ("PE", "es")):
            tenant = await accounts.create_tenant(
                session, code=code, name=f"NPPO of {code}", place_of_issue=f"{code} City"
            )
            tenant.hub_client_cert_pem = pki[code].cert_pem().decode("ascii")
            tenant.hub_client_key_sealed = seal(pki[code].key_pem(), secret_key=SECRET)
            users = {}
            for role in Role:
                username = f"{code.lower()}-{role.value}"
                session.add(
                    User(
                        tenant_id=tenant.id,
                        username=username,
                        full_name=f"{role.value.title()} of {code}",
                        role=role.value,
                        language=language,
                        password_hash=password_hash,
                    )
                )
                users[role] = username
            created[code] = TenantUsers(code=code, users=users)
    return created


_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


class Browser:
    """A person at a browser: follows pages, sends the forms they show (with their token)."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def get(self, path: str) -> httpx.Response:
        return await self.client.get(path)

    async def submit(
        self, page: str, fields: dict[str, str], *, action: str | None = None, **kwargs: Any
    ) -> httpx.Response:
        """Open `page`, then post `fields` with the page's CSRF token to `action` (or `page`)."""
        shown = await self.client.get(page)
        assert shown.status_code == 200, (page, shown.status_code, shown.text[:500])
        token = csrf_token(shown.text)
        return await self.client.post(
            action or page, data={**fields, "csrf_token": token}, **kwargs
        )

    async def sign_in(self, username: str, password: str = PASSWORD) -> httpx.Response:
        return await self.submit("/login", {"username": username, "password": password})


def csrf_token(html: str) -> str:
    found = _CSRF.search(html)
    assert found, "the page has no form token"
    return found.group(1)


BrowserFactory = Callable[..., Awaitable[Browser]]


@pytest.fixture
async def browser(gens_app: FastAPI) -> AsyncIterator[BrowserFactory]:
    """`await browser()` a fresh browser; `await browser("ke-officer")` one signed in."""
    opened: list[httpx.AsyncClient] = []

    async def open_browser(username: str | None = None) -> Browser:
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=gens_app), base_url="http://gens.test"
        )
        opened.append(client)
        person = Browser(client)
        if username is not None:
            response = await person.sign_in(username)
            assert response.status_code == 303, response.text[:500]
        return person

    yield open_browser
    for client in opened:
        await client.aclose()
