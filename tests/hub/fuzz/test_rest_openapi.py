"""The REST face fuzzed from its own OpenAPI document (Schemathesis), in-process over ASGI.

Every operation gets generated requests (valid and invalid by the schema) as an authenticated
NPPO; no answer may be a server error, and every documented answer must match its schema.
The number of examples is bounded so the whole run stays within CI's budget (~20 s here).
"""

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from hub.app import create_app
from hub.database import unit_of_work
from hub.runtime import build_runtime
from tests.hub import conftest as hub_fixtures
from tests.hub.rest.payloads import certificate_xml

ASGIApp = Any


class AsProxiedClient:
    """Presents each request as coming from 127.0.0.1, the trusted TLS proxy of the settings,
    the way httpx's ASGITransport does in the other REST tests (Schemathesis says
    "testclient", which is no address)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            scope = {**scope, "client": ("127.0.0.1", 50000)}
        await self.app(scope, receive, send)


async def _register_and_send(settings: Any, pki: hub_fixtures.TestPki) -> None:
    """NPPOs AA and BB, and one envelope waiting in BB's box, so reads find something."""
    runtime = build_runtime(settings)
    try:
        async with unit_of_work(runtime.sessionmaker) as session:
            for code in ("AA", "BB"):
                await runtime.nppos.register(session, code=code, name=f"NPPO {code}")
                await runtime.nppos.add_client_certificate(
                    session, code=code, certificate=pki.clients[code].cert_pem()
                )
        async with unit_of_work(runtime.sessionmaker) as session:
            from hub.envelopes.domain import EnvelopeHeader
            from hub.identity.domain import AuthenticatedNppo

            await runtime.envelopes.deliver(
                session,
                caller=AuthenticatedNppo(code="AA", certificate_fingerprint="-"),
                header=EnvelopeHeader(
                    from_code="AA",
                    to_code="BB",
                    certificate_type=851,
                    certificate_status=70,
                    nppo_certificate_number="FUZZ-1",
                ),
                content=certificate_xml("FUZZ-1"),
                validate_first=True,
            )
    finally:
        await runtime.close()


@pytest.fixture(scope="module")
def rest_schema(
    sqlite_url: str, tmp_path_factory: pytest.TempPathFactory, test_pki: hub_fixtures.TestPki
) -> Iterator[Any]:
    data_dir: Path = tmp_path_factory.mktemp("fuzz-hub")
    settings = hub_fixtures.hub_settings(sqlite_url, data_dir)
    asyncio.run(hub_fixtures._empty(sqlite_url))
    asyncio.run(_register_and_send(settings, test_pki))
    # This runtime lives in Schemathesis' own event loop thread, where the app runs.
    app = AsProxiedClient(create_app(settings))
    yield schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)
    from schemathesis.python.asgi import shutdown_lifespans

    shutdown_lifespans()  # closes the runtime (engine) in that loop, through the app's lifespan
    asyncio.run(hub_fixtures._empty(sqlite_url))


@pytest.fixture(scope="module")
def as_bb(test_pki: hub_fixtures.TestPki) -> dict[str, str]:
    return {"X-Client-Cert": quote(test_pki.clients["BB"].cert_pem().decode())}


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
FUZZ_SETTINGS = settings(
    max_examples=8,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


def test_rest_face_answers_generated_requests_without_server_errors(
    rest_schema: Any, as_bb: dict[str, str]
) -> None:
    # One Hypothesis run per operation (Schemathesis' own pytest loader does not run under
    # pytest 9), every failure collected with the operation it came from.
    failures: list[str] = []
    operations = [result.ok() for result in rest_schema.get_all_operations()]
    assert len(operations) >= 10, [o.label for o in operations]
    for operation in operations:

        @FUZZ_SETTINGS
        @given(case=operation.as_strategy())
        def fuzz(case: schemathesis.Case) -> None:
            case.call_and_validate(headers=as_bb, checks=CHECKS)

        try:
            fuzz()
        except Exception as failure:
            failures.append(f"{operation.label}: {failure}")
    assert not failures, "\n\n".join(failures)
