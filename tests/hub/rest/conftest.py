"""The real hub app over the real databases, called as registered NPPOs through the proxy path.

httpx's ASGITransport presents the client address 127.0.0.1, which the settings trust as a
TLS-terminating proxy, so each NPPO's client certificate travels URL-encoded in X-Client-Cert,
exactly as nginx's `$ssl_client_escaped_cert` sends it.
"""

from collections.abc import AsyncIterator, Callable
from urllib.parse import quote

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from ephyto_core._pki import IssuedCertificate
from hub.app import create_app
from hub.database import Base
from hub.identity.domain import AuthenticatedNppo
from hub.runtime import HubRuntime
from tests.hub import conftest as hub_fixtures

ClientFactory = Callable[..., httpx.AsyncClient]


def certificate_header(certificate: IssuedCertificate) -> dict[str, str]:
    return {"X-Client-Cert": quote(certificate.cert_pem().decode("ascii"))}


@pytest.fixture
def app(runtime: HubRuntime) -> FastAPI:
    return create_app(runtime=runtime)


@pytest.fixture
async def client_as(
    app: FastAPI, test_pki: hub_fixtures.TestPki, nppos: dict[str, AuthenticatedNppo]
) -> AsyncIterator[ClientFactory]:
    """`client_as("AA")`: a client presenting AA's certificate; `client_as(None)` presents none,
    `client_as(certificate=...)` presents the one given."""
    opened: list[httpx.AsyncClient] = []

    def open_client(
        code: str | None = None,
        *,
        certificate: IssuedCertificate | None = None,
        raise_app_exceptions: bool = True,
    ) -> httpx.AsyncClient:
        chosen = certificate or (test_pki.clients[code] if code else None)
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app, raise_app_exceptions=raise_app_exceptions),
            base_url="http://hub.test/api/v1",
            headers=certificate_header(chosen) if chosen else {},
        )
        opened.append(client)
        return client

    yield open_client
    for client in opened:
        await client.aclose()


async def count_rows(runtime: HubRuntime) -> dict[str, int]:
    """Rows per table: proof that a refused request left nothing behind."""
    async with runtime.sessionmaker() as session:
        return {
            table.name: (
                await session.execute(select(func.count()).select_from(table))
            ).scalar_one()
            for table in Base.metadata.sorted_tables
        }


def assert_problem(
    response: httpx.Response, status: int, code: str, *, field: str | None = None
) -> dict[str, object]:
    """The response is an RFC 9457 problem with this status, code and (if given) field."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem: dict[str, object] = response.json()
    assert problem["status"] == status
    assert problem["code"] == code
    assert problem["type"] == f"urn:ephyto:problem:{code}"
    assert isinstance(problem["title"], str) and problem["title"]
    assert isinstance(problem["detail"], str) and problem["detail"]
    if field is not None:
        assert problem.get("field") == field, problem
    return problem
